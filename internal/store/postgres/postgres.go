// Package postgres keeps aitrail's logs in a PostgreSQL database, for
// several gateway nodes sharing one store, or an operator who already runs
// PostgreSQL. It is tested with PostgreSQL 15.
//
// Durability rests on PostgreSQL's default synchronous_commit=on: a commit
// returns once its WAL is flushed to disk (and, with synchronous standbys
// configured, to them), so a completed append survives a crash of the
// database server. Open refuses a session where synchronous_commit is off,
// since commits would then be acknowledged before they are durable; "local",
// "remote_write" and "remote_apply" are accepted.
//
// Writers of one log are serialised across processes and nodes: every
// append transaction locks the log's row in the logs table
// (SELECT ... FOR UPDATE) before it reads the head. This relies on READ
// COMMITTED isolation, in which each statement sees what was committed
// before it began, so that the head read after the lock is granted is the
// previous writer's; Open sets it as the connections' default whatever the
// server's default_transaction_isolation. Open migrates the schema to the
// newest version (sqlstore.Migration) under an advisory lock, so nodes may
// start together.
//
// The DSN is a libpq connection string or URL, as accepted by pgx (for
// example postgres://aitrail@db.example:5432/aitrail?sslmode=verify-full).
// The tables are created in the first schema of the search_path, which the
// DSN may set (search_path=aitrail). Connections go directly to PostgreSQL
// or through a session-mode pooler: pgx caches prepared statements per
// connection, which a transaction-mode pooler breaks.
//
// Unlike SQLite, PostgreSQL's TEXT holds only valid UTF-8 without NUL bytes:
// an append whose records have any other string in a text field (actor,
// model, ...) fails as a whole, and nothing of it is written.
package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aitrail/aitrail/internal/pgdb"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlstore"
)

// Store is a store.Store kept in a PostgreSQL database. It is safe for
// concurrent use, also by several processes on one database.
type Store struct {
	*sqlstore.Store
}

var _ store.Store = (*Store)(nil)

// migrations are SQLite's (package sqlite), version for version, table for
// table and column for column: BIGINT for integers, BYTEA for blobs.
// Versions 1 to 6 are the schemas released before versioned migrations (6,
// the fleet's tables, has no counterpart in SQLite); a new version is
// appended, as one element.
var migrations = []sqlstore.Migration{
	{Name: "records, bodies, tree hashes, keys and sessions", Mark: "records", Statements: []string{
		`CREATE TABLE IF NOT EXISTS logs (log_id TEXT PRIMARY KEY)`,
		`CREATE TABLE IF NOT EXISTS records (
  log_id TEXT NOT NULL, seq BIGINT NOT NULL, version BIGINT NOT NULL, time_ns BIGINT NOT NULL,
  kind TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, session TEXT NOT NULL, reason TEXT NOT NULL,
  client_ip TEXT NOT NULL, correlation_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
  model_digest TEXT NOT NULL, params BYTEA NOT NULL, stream BIGINT NOT NULL, status TEXT NOT NULL,
  upstream_status BIGINT NOT NULL, done_reason TEXT NOT NULL, request_seq BIGINT NOT NULL,
  tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL, latency_us BIGINT NOT NULL, ttft_us BIGINT NOT NULL,
  nonce BYTEA NOT NULL, raw_hash BYTEA NOT NULL, raw_len BIGINT NOT NULL, body_hash BYTEA NOT NULL,
  detail BYTEA NOT NULL, prev_hash BYTEA NOT NULL, entry_hash BYTEA NOT NULL,
  PRIMARY KEY (log_id, seq))`,
		`CREATE INDEX IF NOT EXISTS records_actor ON records (actor, time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_session ON records (session, time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_time ON records (time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_request ON records (log_id, request_seq)`,
		`CREATE TABLE IF NOT EXISTS bodies (log_id TEXT NOT NULL, seq BIGINT NOT NULL, content BYTEA NOT NULL,
  PRIMARY KEY (log_id, seq))`,
		`CREATE TABLE IF NOT EXISTS tree (log_id TEXT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
  PRIMARY KEY (log_id, idx))`,
		`CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, hash BYTEA NOT NULL, actor TEXT NOT NULL,
  role TEXT NOT NULL, created_ns BIGINT NOT NULL, created_by TEXT NOT NULL, revoked_ns BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, actor TEXT NOT NULL, reason TEXT NOT NULL,
  created_ns BIGINT NOT NULL)`,
	}},
	{Name: "signed checkpoints", Mark: "checkpoints", Statements: []string{
		`CREATE TABLE IF NOT EXISTS checkpoints (log_id TEXT NOT NULL, size BIGINT NOT NULL, time_ns BIGINT NOT NULL,
  note BYTEA NOT NULL, PRIMARY KEY (log_id, size))`,
	}},
	{Name: "PII index", Mark: "pii_index", Statements: []string{
		`CREATE TABLE IF NOT EXISTS pii_index (log_id TEXT NOT NULL, seq BIGINT NOT NULL, type TEXT NOT NULL, mac BYTEA NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS pii_index_mac ON pii_index (mac)`,
		`CREATE INDEX IF NOT EXISTS pii_index_record ON pii_index (log_id, seq)`,
	}},
	{Name: "commitments to bodies before redaction (clear_hash)", Mark: "records.clear_hash", Statements: []string{
		// The column goes where a new database has it: the table is rebuilt.
		`CREATE TABLE records_v4 (
  log_id TEXT NOT NULL, seq BIGINT NOT NULL, version BIGINT NOT NULL, time_ns BIGINT NOT NULL,
  kind TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, session TEXT NOT NULL, reason TEXT NOT NULL,
  client_ip TEXT NOT NULL, correlation_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
  model_digest TEXT NOT NULL, params BYTEA NOT NULL, stream BIGINT NOT NULL, status TEXT NOT NULL,
  upstream_status BIGINT NOT NULL, done_reason TEXT NOT NULL, request_seq BIGINT NOT NULL,
  tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL, latency_us BIGINT NOT NULL, ttft_us BIGINT NOT NULL,
  nonce BYTEA NOT NULL, raw_hash BYTEA NOT NULL, raw_len BIGINT NOT NULL, body_hash BYTEA NOT NULL, clear_hash BYTEA NOT NULL,
  detail BYTEA NOT NULL, prev_hash BYTEA NOT NULL, entry_hash BYTEA NOT NULL,
  PRIMARY KEY (log_id, seq))`,
		`INSERT INTO records_v4 SELECT log_id, seq, version, time_ns, kind, actor, role, session, reason, client_ip, correlation_id, endpoint, model, model_digest, params, stream, status, upstream_status, done_reason, request_seq, tokens_in, tokens_out, latency_us, ttft_us, nonce, raw_hash, raw_len, body_hash, ''::BYTEA, detail, prev_hash, entry_hash FROM records`,
		`DROP TABLE records`,
		`ALTER TABLE records_v4 RENAME TO records`,
		`ALTER TABLE records RENAME CONSTRAINT records_v4_pkey TO records_pkey`,
		`CREATE INDEX IF NOT EXISTS records_actor ON records (actor, time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_session ON records (session, time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_time ON records (time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_request ON records (log_id, request_seq)`,
	}},
	{Name: "legal holds, retention marks, log bases", Mark: "log_bases", Statements: []string{
		`CREATE TABLE IF NOT EXISTS holds (id TEXT PRIMARY KEY, reason TEXT NOT NULL, actor TEXT NOT NULL,
  session TEXT NOT NULL, model TEXT NOT NULL, since_ns BIGINT NOT NULL, until_ns BIGINT NOT NULL, text TEXT NOT NULL,
  expires_ns BIGINT NOT NULL, created_ns BIGINT NOT NULL, created_by TEXT NOT NULL,
  released_ns BIGINT NOT NULL, released_by TEXT NOT NULL, release_reason TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS retention_marks (log_id TEXT NOT NULL, layer TEXT NOT NULL, next_seq BIGINT NOT NULL,
  policy TEXT NOT NULL, PRIMARY KEY (log_id, layer))`,
		`CREATE TABLE IF NOT EXISTS retention_deferred (log_id TEXT NOT NULL, layer TEXT NOT NULL, seq BIGINT NOT NULL,
  due_ns BIGINT NOT NULL, PRIMARY KEY (log_id, layer, seq))`,
		`CREATE INDEX IF NOT EXISTS retention_deferred_due ON retention_deferred (log_id, layer, due_ns)`,
		`CREATE TABLE IF NOT EXISTS log_bases (log_id TEXT PRIMARY KEY, size BIGINT NOT NULL, head BYTEA NOT NULL,
  time_ns BIGINT NOT NULL, checkpoint BYTEA NOT NULL)`,
	}},
	{Name: "the fleet: node leases, log keys, fleet keys and checkpoints", Mark: "node_leases", Statements: []string{
		// The fleet's tables (package fleet): PostgreSQL only, since only
		// several gateways on one database make a fleet.
		`CREATE TABLE IF NOT EXISTS node_leases (node TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ns BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS log_keys (log_id TEXT PRIMARY KEY, verifier_key TEXT NOT NULL, recorded_ns BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS fleet_keys (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS fleet_checkpoints (time_ns BIGINT NOT NULL, signer TEXT NOT NULL, note BYTEA NOT NULL,
  PRIMARY KEY (signer, time_ns))`,
	}},
	{Name: "unanswered requests kept as they come and go (start-up independent of the log's length)", Statements: []string{
		`CREATE TABLE unanswered (log_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (log_id, seq))`,
	}, Run: sqlstore.FillUnanswered},
}

// lockLog serialises the writers of one log; sqlstore has inserted the row
// (ON CONFLICT DO NOTHING) earlier in the same transaction.
const lockLog = `SELECT log_id FROM logs WHERE log_id = $1 FOR UPDATE`

// migrationLock is the pg_advisory_xact_lock key taken while migrating the
// schema: gateways starting together migrate one after the other (the
// later ones find nothing left to do), since concurrent CREATE TABLE IF
// NOT EXISTS of one table can fail.
const migrationLock = 0x61697472_61696c00 // "aitrail\x00"

// maxConns is the pool size: enough for a gateway's concurrent readers
// (search, verify, authentication) beside the ledger's single writer, few
// enough that a handful of nodes stays well under PostgreSQL's default
// max_connections of 100.
const maxConns = 16

// Open connects to the PostgreSQL database named by dsn and migrates its
// schema to the newest version. Close releases its connections.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, sqlstore.Options{})
}

// OpenWith connects to the PostgreSQL database named by dsn as o says.
func OpenWith(ctx context.Context, dsn string, o sqlstore.Options) (*Store, error) {
	db, where, err := pgdb.Open(ctx, dsn, "aitrail", maxConns)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	s := &Store{sqlstore.New(db, sqlstore.Dialect{Name: "postgres", Migrations: migrations, LockLog: lockLog,
		MigrationLock: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrationLock),
		HasTable:      `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`,
		HasColumn:     `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
	})}
	if err := s.Start(ctx, o); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	return s, nil
}

// tables are the names of the tables the migrations create.
var tables = func() []string {
	var out []string
	for _, m := range migrations {
		for _, stmt := range m.Statements {
			if rest, ok := strings.CutPrefix(stmt, "CREATE TABLE "); ok {
				rest, _ = strings.CutPrefix(rest, "IF NOT EXISTS ")
				name, _, _ := strings.Cut(rest, " ")
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
			} else if f := strings.Fields(stmt); len(f) == 6 && f[0] == "ALTER" && f[3] == "RENAME" && f[4] == "TO" {
				// A table rebuilt under a new name and renamed back.
				out = slices.DeleteFunc(out, func(n string) bool { return n == f[2] })
			}
		}
	}
	return append(out, "schema_version")
}()

// Space implements store.Store: the size on disk of aitrail's tables in the
// current schema, with their indexes and TOAST data. Free is 0: the space
// that autovacuum marks free stays in the tables' files for reuse.
func (s *Store) Space(ctx context.Context) (store.Space, error) {
	ps := make([]string, len(tables))
	args := make([]any, len(tables))
	for i, t := range tables {
		ps[i], args[i] = "$"+strconv.Itoa(i+1), t
	}
	var n int64
	err := s.DB().QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT
FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
WHERE ns.nspname = current_schema() AND c.relkind = 'r' AND c.relname IN (`+strings.Join(ps, ",")+`)`, args...).Scan(&n)
	if err != nil {
		return store.Space{}, fmt.Errorf("measure the database: %w", err)
	}
	return store.Space{Bytes: n}, nil
}

// Compact implements store.Store: it does nothing. PostgreSQL's autovacuum
// makes the space of deleted rows reusable by itself; giving it back to the
// file system would take a VACUUM FULL, which locks the tables it rewrites
// (appends included) for as long as it runs, so that is left to an
// operator's maintenance window.
func (s *Store) Compact(ctx context.Context, pages int) (int64, error) { return 0, nil }

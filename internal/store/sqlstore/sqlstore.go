// Package sqlstore implements store.Store over database/sql. The sqlite and
// postgres packages supply the connection, the schema and the few
// statements that differ, and add Space and Compact, which each database
// does its own way; the queries here use $N placeholders, which both
// databases accept when each first appears in increasing order.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Dialect holds what differs between databases.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres").
	Name string
	// Migrations are the versions of the schema, oldest first (see
	// Migration): Migrate runs those a database lacks.
	Migrations []Migration
	// MigrationLock, if set, is run first in Migrate's transaction, to
	// serialise migrations across processes (PostgreSQL's advisory lock).
	// SQLite needs none: its write transaction is exclusive already.
	MigrationLock string
	// HasTable counts the tables named $1, and HasColumn the columns
	// named $2 of table $1, in the store's schema.
	HasTable, HasColumn string
	// LockLog, if set, is run at the start of every append transaction with
	// the log id as $1, to serialise writers of that log (PostgreSQL's
	// SELECT ... FOR UPDATE). SQLite needs none: its write transactions
	// are exclusive already.
	LockLog string
	// OneWriter makes the Store let one write of this process at a time
	// reach the database (see WriteLock). SQLite wants it.
	OneWriter bool
}

// Store implements store.Store over a *sql.DB, all but Space and Compact,
// which the backends add.
type Store struct {
	db *sql.DB
	d  Dialect

	// Statements of the hot path, prepared once by Prepare, outside any
	// transaction (SQLite spends more time parsing SQL than running these;
	// preparing inside a transaction could wait for a pooled connection
	// that is itself waiting for that transaction's lock).
	stmts map[string]*sql.Stmt
	logs  sync.Map // log ids known to be registered
	// pruned maps a log id to the seq before which PruneBefore deleted
	// every record, for this Store's next call.
	pruned sync.Map
	// prunedTree maps a log id to the base and the tree index before
	// which PruneTree deleted every hash not kept for that base.
	prunedTree sync.Map
	// writer holds a token while a write is under way (OneWriter only).
	writer chan struct{}
}

// The hot path's statements.
const (
	sqlHead       = `SELECT seq, time_ns, entry_hash FROM records WHERE log_id = $1 ORDER BY seq DESC LIMIT 1`
	sqlReadHash   = `SELECT hash FROM tree WHERE log_id = $1 AND idx = $2`
	sqlInsertBody = `INSERT INTO bodies (log_id, seq, content) VALUES ($1, $2, $3)`
	sqlInsertTree = `INSERT INTO tree (log_id, idx, hash) VALUES ($1, $2, $3)`
	sqlRegister   = `INSERT INTO logs (log_id) VALUES ($1) ON CONFLICT DO NOTHING`
	sqlInsertPII  = `INSERT INTO pii_index (log_id, seq, type, mac) VALUES ($1, $2, $3, $4)`
	sqlKey        = `SELECT ` + keyColumns + ` FROM api_keys WHERE id = $1`
	sqlPending    = `INSERT INTO unanswered (log_id, seq) VALUES ($1, $2)`
	sqlAnswered   = `DELETE FROM unanswered WHERE log_id = $1 AND seq = $2`
)

// New returns a Store over db. Its transactions must take the write lock at
// BEGIN (SQLite's _txlock=immediate) or the dialect must have LockLog. Call
// Migrate, or Prepare once the schema exists, before using it.
func New(db *sql.DB, d Dialect) *Store {
	s := &Store{db: db, d: d}
	if d.OneWriter {
		s.writer = make(chan struct{}, 1)
	}
	return s
}

// WriteLock waits until no other write of this Store is under way and
// returns the function that ends this one; every write of the Store takes
// it, and so must any write a backend makes on DB. Without OneWriter it
// waits for nothing.
//
// SQLite lets one connection write at a time. One that finds the database
// locked sleeps in SQLite's busy handler (1, 2, 5, 10 ms and more) and
// tries again, so a gateway append that met a purge's or a checkpoint's
// write would wait several milliseconds past its end. Waiting here
// instead, it starts the moment the other write ends. Writers in other
// processes (an aitrail command run beside serve) still meet the busy
// handler.
func (s *Store) WriteLock(ctx context.Context) (unlock func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs a write statement outside a transaction, under WriteLock.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	unlock, err := s.WriteLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.db.ExecContext(ctx, query, args...)
}

// beginWrite begins a write transaction under WriteLock; the caller calls
// unlock once the transaction is over (committed or rolled back).
func (s *Store) beginWrite(ctx context.Context) (tx *sql.Tx, unlock func(), err error) {
	unlock, err = s.WriteLock(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return tx, unlock, nil
}

// DB returns the underlying database, for backend-specific maintenance.
func (s *Store) DB() *sql.DB { return s.db }

// Prepare prepares the statements of the hot path. It must be called once,
// after the schema exists and before the store is used; Migrate calls it.
func (s *Store) Prepare(ctx context.Context) error {
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{sqlHead, sqlReadHash, insertRecord, sqlInsertBody, sqlInsertTree, sqlRegister, sqlKey, sqlInsertPII, sqlPending, sqlAnswered} {
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: prepare %q: %w", s.d.Name, q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier returns tx, or the database when tx is nil.
func (s *Store) querier(tx *sql.Tx) querier {
	if tx != nil {
		return tx
	}
	return s.db
}

// stmt returns the prepared statement for q, bound to tx when tx is not nil.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	st, ok := s.stmts[q]
	if !ok {
		return nil, fmt.Errorf("%s store used before Prepare", s.d.Name)
	}
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	return s.db.Close()
}

const recordColumns = `log_id, seq, version, time_ns, kind, actor, role, session, reason,
client_ip, correlation_id, endpoint, model, model_digest, params, stream, status,
upstream_status, done_reason, request_seq, tokens_in, tokens_out, latency_us, ttft_us,
nonce, raw_hash, raw_len, body_hash, clear_hash, detail, prev_hash, entry_hash`

const insertRecord = `INSERT INTO records (` + recordColumns + `) VALUES
($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32)`

type appendTx struct {
	s     *Store
	tx    *sql.Tx
	logID string
}

func (t *appendTx) Head(ctx context.Context) (store.Head, error) {
	return t.s.head(ctx, t.tx, t.logID)
}

func (t *appendTx) ReadHashes(ctx context.Context, indexes []int64) ([]record.Hash, error) {
	return t.s.readHashes(ctx, t.tx, t.logID, indexes)
}

func (s *Store) head(ctx context.Context, tx *sql.Tx, logID string) (store.Head, error) {
	h := store.Head{Seq: -1}
	st, err := s.stmt(ctx, tx, sqlHead)
	if err != nil {
		return h, err
	}
	var entry []byte
	err = st.QueryRowContext(ctx, logID).Scan(&h.Seq, &h.Time, &entry)
	if errors.Is(err, sql.ErrNoRows) {
		// A log pruned to its end keeps no record: its last one is the
		// base's, which the next record links to.
		b, err := s.base(ctx, s.querier(tx), logID)
		if err != nil {
			return store.Head{Seq: -1}, err
		}
		return store.Head{Seq: b.Size - 1, Time: b.Time, EntryHash: b.Head}, nil
	}
	if err != nil {
		return h, fmt.Errorf("read head of log %q: %w", logID, err)
	}
	copy(h.EntryHash[:], entry)
	return h, nil
}

func (s *Store) readHashes(ctx context.Context, tx *sql.Tx, logID string, indexes []int64) ([]record.Hash, error) {
	st, err := s.stmt(ctx, tx, sqlReadHash)
	if err != nil {
		return nil, err
	}
	out := make([]record.Hash, len(indexes))
	for i, idx := range indexes {
		var b []byte
		err := st.QueryRowContext(ctx, logID, idx).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("tree hash %d of log %q: %w", idx, logID, store.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("read tree hash %d of log %q: %w", idx, logID, err)
		}
		if len(b) != len(out[i]) {
			return nil, fmt.Errorf("tree hash %d of log %q has %d bytes", idx, logID, len(b))
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, logID string, build func(context.Context, store.AppendTx) (*store.Batch, error)) (err error) {
	tx, unlock, err := s.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("begin append: %w", err)
	}
	defer unlock()
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, known := s.logs.Load(logID); !known {
		if _, err := tx.ExecContext(ctx, sqlRegister, logID); err != nil {
			return fmt.Errorf("register log %q: %w", logID, err)
		}
	}
	if s.d.LockLog != "" {
		if _, err := tx.ExecContext(ctx, s.d.LockLog, logID); err != nil {
			return fmt.Errorf("lock log %q: %w", logID, err)
		}
	}
	b, err := build(ctx, &appendTx{s: s, tx: tx, logID: logID})
	if err != nil {
		return err
	}
	if err := s.insertBatch(ctx, tx, logID, b); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit append: %w", err)
	}
	s.logs.Store(logID, true)
	return nil
}

func (s *Store) insertBatch(ctx context.Context, tx *sql.Tx, logID string, b *store.Batch) error {
	if len(b.Records) > 0 {
		st, err := s.stmt(ctx, tx, insertRecord)
		if err != nil {
			return err
		}
		for i, r := range b.Records {
			var entry record.Hash
			if len(b.EntryHashes) == len(b.Records) {
				entry = b.EntryHashes[i]
			} else {
				entry = record.EntryHash(r)
			}
			if _, err := st.ExecContext(ctx, recordArgs(r, entry)...); err != nil {
				return fmt.Errorf("insert record %d: %w", r.Seq, err)
			}
		}
	}
	if err := s.trackAnswers(ctx, tx, logID, b.Records); err != nil {
		return err
	}
	if len(b.Bodies) > 0 {
		st, err := s.stmt(ctx, tx, sqlInsertBody)
		if err != nil {
			return err
		}
		for _, body := range b.Bodies {
			if _, err := st.ExecContext(ctx, logID, body.Seq, body.Content); err != nil {
				return fmt.Errorf("insert body %d: %w", body.Seq, err)
			}
		}
	}
	if len(b.PII) > 0 {
		st, err := s.stmt(ctx, tx, sqlInsertPII)
		if err != nil {
			return err
		}
		for _, p := range b.PII {
			if _, err := st.ExecContext(ctx, logID, p.Seq, p.Type, p.MAC[:]); err != nil {
				return fmt.Errorf("index record %d: %w", p.Seq, err)
			}
		}
	}
	if len(b.Hashes) > 0 {
		st, err := s.stmt(ctx, tx, sqlInsertTree)
		if err != nil {
			return err
		}
		for _, h := range b.Hashes {
			if _, err := st.ExecContext(ctx, logID, h.Index, h.Hash[:]); err != nil {
				return fmt.Errorf("insert tree hash %d: %w", h.Index, err)
			}
		}
	}
	return nil
}

// trackAnswers keeps the unanswered table, in the transaction that writes
// recs: a pending request (one forwarded, whose outcome is still to come)
// enters it, and leaves it with the response or interrupted event that
// answers it. So Unanswered reads as many rows as there are calls in flight
// (or cut short by a crash), however long the log.
func (s *Store) trackAnswers(ctx context.Context, tx *sql.Tx, logID string, recs []*record.Record) error {
	var pending, answered *sql.Stmt
	for _, r := range recs {
		var err error
		switch {
		case (r.Kind == record.KindRequest || r.Kind == record.KindAdmin) && r.Status == record.StatusPending:
			if pending == nil {
				if pending, err = s.stmt(ctx, tx, sqlPending); err != nil {
					return err
				}
			}
			_, err = pending.ExecContext(ctx, logID, r.Seq)
		case r.Kind == record.KindResponse || r.Kind == record.KindInterrupted || r.Kind == record.KindUnrecordedOutcome:
			if answered == nil {
				if answered, err = s.stmt(ctx, tx, sqlAnswered); err != nil {
					return err
				}
			}
			_, err = answered.ExecContext(ctx, logID, r.RequestSeq)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("track the answer of record %d: %w", r.Seq, err)
		}
	}
	return nil
}

func recordArgs(r *record.Record, entry record.Hash) []any {
	stream := 0
	if r.Stream {
		stream = 1
	}
	return []any{
		r.LogID, r.Seq, r.Version, r.Time, r.Kind, r.Actor, r.Role, r.Session, r.Reason,
		r.ClientIP, r.CorrelationID, r.Endpoint, r.Model, r.ModelDigest, nonNil(r.Params), stream, r.Status,
		r.UpstreamStatus, r.DoneReason, r.RequestSeq, r.TokensIn, r.TokensOut, r.LatencyUS, r.TTFTUS,
		r.Nonce[:], optHash(r.RawHash), r.RawLen, optHash(r.BodyHash), optHash(r.ClearHash), nonNil(r.Detail), r.PrevHash[:], entry[:],
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func optHash(h record.Hash) []byte {
	if h.IsZero() {
		return []byte{}
	}
	return h[:]
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (*record.Record, record.Hash, error) {
	r := new(record.Record)
	var stream int64
	var nonce, raw, body, clear, prev, entry []byte
	err := sc.Scan(&r.LogID, &r.Seq, &r.Version, &r.Time, &r.Kind, &r.Actor, &r.Role, &r.Session, &r.Reason,
		&r.ClientIP, &r.CorrelationID, &r.Endpoint, &r.Model, &r.ModelDigest, &r.Params, &stream, &r.Status,
		&r.UpstreamStatus, &r.DoneReason, &r.RequestSeq, &r.TokensIn, &r.TokensOut, &r.LatencyUS, &r.TTFTUS,
		&nonce, &raw, &r.RawLen, &body, &clear, &r.Detail, &prev, &entry)
	if err != nil {
		return nil, record.Hash{}, err
	}
	// Stored values are copied as they are, even malformed, so that the
	// verifier sees tampering instead of a read error.
	r.Stream = stream != 0
	copy(r.Nonce[:], nonce)
	copy(r.RawHash[:], raw)
	copy(r.BodyHash[:], body)
	copy(r.ClearHash[:], clear)
	copy(r.PrevHash[:], prev)
	if len(r.Params) == 0 {
		r.Params = nil
	}
	if len(r.Detail) == 0 {
		r.Detail = nil
	}
	var eh record.Hash
	copy(eh[:], entry)
	if stream > 1 || len(nonce) != 16 || (len(raw) != 0 && len(raw) != 32) || (len(body) != 0 && len(body) != 32) || (len(clear) != 0 && len(clear) != 32) || len(prev) != 32 || len(entry) != 32 {
		// Make the damage visible: a malformed column never equals what
		// was sealed, and verification reports the record.
		r.Kind = r.Kind + "\x00malformed"
	}
	return r, eh, nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, logID string) (store.Head, error) {
	return s.head(ctx, nil, logID)
}

// Scan implements store.Store.
func (s *Store) Scan(ctx context.Context, logID string, from int64, fn func(*record.Record, record.Hash) error) error {
	return s.scanPages(ctx, "scan log "+strconv.Quote(logID), logID, from,
		`SELECT `+recordColumns+` FROM records WHERE log_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
		func(rows *sql.Rows) (int64, error) {
			r, eh, err := scanRecord(rows)
			if err != nil {
				return 0, err
			}
			return r.Seq, fn(r, eh)
		})
}

// scanPages runs q, which takes the log id ($1), a first seq ($2) and a page
// size ($3) and orders by seq, page after page until a short page. row
// handles one row and returns its seq; its error ends the scan as is.
func (s *Store) scanPages(ctx context.Context, what, logID string, from int64, q string, row func(*sql.Rows) (int64, error)) error {
	const page = 2000
	next := from
	for {
		rows, err := s.db.QueryContext(ctx, q, logID, next, page)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n := 0
		for rows.Next() {
			seq, err := row(rows)
			if err != nil {
				rows.Close()
				return err
			}
			n++
			next = seq + 1
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n < page {
			return nil
		}
	}
}

// Search implements store.Store.
func (s *Store) Search(ctx context.Context, f store.Filter) ([]*record.Record, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.LogID != "" {
		where = append(where, "log_id = "+arg(f.LogID))
	}
	if len(f.Kinds) > 0 {
		var ps []string
		for _, k := range f.Kinds {
			ps = append(ps, arg(k))
		}
		where = append(where, "kind IN ("+strings.Join(ps, ",")+")")
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if f.Session != "" {
		where = append(where, "session = "+arg(f.Session))
	}
	if f.Model != "" {
		where = append(where, "model = "+arg(f.Model))
	}
	if f.Since != 0 {
		where = append(where, "time_ns >= "+arg(f.Since))
	}
	if f.Until != 0 {
		where = append(where, "time_ns < "+arg(f.Until))
	}
	for _, set := range []struct {
		col  string
		vals []int64
	}{{"request_seq", f.RequestSeqs}, {"seq", f.Seqs}} {
		if set.vals == nil {
			continue
		}
		if len(set.vals) == 0 {
			return nil, nil
		}
		var ps []string
		for _, v := range set.vals {
			ps = append(ps, arg(v))
		}
		where = append(where, set.col+" IN ("+strings.Join(ps, ",")+")")
	}
	q := `SELECT ` + recordColumns + ` FROM records`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY log_id, seq"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search records: %w", err)
	}
	defer rows.Close()
	var out []*record.Record
	for rows.Next() {
		r, _, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("search records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search records: %w", err)
	}
	return out, nil
}

// Body implements store.Store.
func (s *Store) Body(ctx context.Context, logID string, seq int64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT content FROM bodies WHERE log_id = $1 AND seq = $2`, logID, seq).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("body of record %d: %w", seq, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read body of record %d: %w", seq, err)
	}
	return b, nil
}

// ReadHashes implements store.Store.
func (s *Store) ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error) {
	return s.readHashes(ctx, nil, logID, indexes)
}

// Unanswered implements store.Store. It reads the unanswered table
// (trackAnswers), never the records: its cost is that of the calls left
// pending, not of the log's length, whatever the query planner knows.
func (s *Store) Unanswered(ctx context.Context, logID string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, QueryUnanswered, logID)
	if err != nil {
		return nil, fmt.Errorf("find unanswered requests: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("find unanswered requests: %w", err)
		}
		out = append(out, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find unanswered requests: %w", err)
	}
	return out, nil
}

// QueryUnanswered is the query of Unanswered: a log's unanswered requests
// ($1 the log id). It is exported for the backends' tests of its plan.
const QueryUnanswered = `SELECT seq FROM unanswered WHERE log_id = $1 ORDER BY seq`

// Logs implements store.Store.
func (s *Store) Logs(ctx context.Context) ([]string, error) {
	return logIDs(ctx, s.db)
}

// CreateKey implements store.Store.
func (s *Store) CreateKey(ctx context.Context, k store.Key) error {
	_, err := s.exec(ctx, `INSERT INTO api_keys (id, hash, actor, role, created_ns, created_by, revoked_ns)
VALUES ($1, $2, $3, $4, $5, $6, 0)`, k.ID, k.Hash[:], k.Actor, k.Role, k.CreatedAt, k.CreatedBy)
	if err != nil {
		return fmt.Errorf("store key %s: %w", k.ID, err)
	}
	return nil
}

const keyColumns = `id, hash, actor, role, created_ns, created_by, revoked_ns`

func scanKey(sc scanner) (store.Key, error) {
	var k store.Key
	var h []byte
	if err := sc.Scan(&k.ID, &h, &k.Actor, &k.Role, &k.CreatedAt, &k.CreatedBy, &k.RevokedAt); err != nil {
		return k, err
	}
	copy(k.Hash[:], h)
	return k, nil
}

// Key implements store.Store.
func (s *Store) Key(ctx context.Context, id string) (store.Key, error) {
	st, err := s.stmt(ctx, nil, sqlKey)
	if err != nil {
		return store.Key{}, err
	}
	k, err := scanKey(st.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("key %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("read key %s: %w", id, err)
	}
	return k, nil
}

// Keys implements store.Store.
func (s *Store) Keys(ctx context.Context) ([]store.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements store.Store.
func (s *Store) RevokeKey(ctx context.Context, id string, at int64) error {
	res, err := s.exec(ctx, `UPDATE api_keys SET revoked_ns = CASE WHEN revoked_ns = 0 THEN $1 ELSE revoked_ns END WHERE id = $2`, at, id)
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("key %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// CreateSession implements store.Store.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	_, err := s.exec(ctx, `INSERT INTO sessions (id, actor, reason, created_ns) VALUES ($1, $2, $3, $4)`,
		ss.ID, ss.Actor, ss.Reason, ss.CreatedAt)
	if err != nil {
		return fmt.Errorf("store session %s: %w", ss.ID, err)
	}
	return nil
}

// Session implements store.Store.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	var ss store.Session
	err := s.db.QueryRowContext(ctx, `SELECT id, actor, reason, created_ns FROM sessions WHERE id = $1`, id).
		Scan(&ss.ID, &ss.Actor, &ss.Reason, &ss.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, fmt.Errorf("session %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("read session %s: %w", id, err)
	}
	return ss, nil
}

// ScanBodies implements store.Store.
func (s *Store) ScanBodies(ctx context.Context, logID string, from int64, fn func(int64, []byte) error) error {
	return s.scanPages(ctx, "scan bodies of log "+strconv.Quote(logID), logID, from,
		`SELECT seq, content FROM bodies WHERE log_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
		func(rows *sql.Rows) (int64, error) {
			var seq int64
			var b []byte
			if err := rows.Scan(&seq, &b); err != nil {
				return 0, err
			}
			return seq, fn(seq, b)
		})
}

// AddCheckpoint implements store.Store.
func (s *Store) AddCheckpoint(ctx context.Context, logID string, c store.Checkpoint) error {
	_, err := s.exec(ctx, `INSERT INTO checkpoints (log_id, size, time_ns, note) VALUES ($1, $2, $3, $4)`,
		logID, c.Size, c.Time, c.Note)
	if err != nil {
		return fmt.Errorf("store checkpoint %d of log %q: %w", c.Size, logID, err)
	}
	return nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, logID string, from int64) ([]store.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT size, time_ns, note FROM checkpoints WHERE log_id = $1 AND size >= $2 ORDER BY size`, logID, from)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints of log %q: %w", logID, err)
	}
	defer rows.Close()
	var out []store.Checkpoint
	for rows.Next() {
		var c store.Checkpoint
		if err := rows.Scan(&c.Size, &c.Time, &c.Note); err != nil {
			return nil, fmt.Errorf("read checkpoints of log %q: %w", logID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteBodies implements store.Store.
func (s *Store) DeleteBodies(ctx context.Context, logID string, seqs []int64) (int64, error) {
	return s.deleteBySeq(ctx, "bodies", logID, seqs)
}

// FindPII implements store.Store.
func (s *Store) FindPII(ctx context.Context, typ string, mac record.Hash) ([]store.PIIRef, error) {
	q, args := `SELECT log_id, seq, type FROM pii_index WHERE mac = $1`, []any{mac[:]}
	if typ != "" {
		q, args = q+` AND type = $2`, append(args, typ)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY log_id, seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("search the PII index: %w", err)
	}
	defer rows.Close()
	var out []store.PIIRef
	for rows.Next() {
		var r store.PIIRef
		if err := rows.Scan(&r.LogID, &r.Seq, &r.Type); err != nil {
			return nil, fmt.Errorf("search the PII index: %w", err)
		}
		if n := len(out); n > 0 && out[n-1] == r {
			continue // a value found twice in one record
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeletePII implements store.Store.
func (s *Store) DeletePII(ctx context.Context, logID string, seqs []int64) (int64, error) {
	return s.deleteBySeq(ctx, "pii_index", logID, seqs)
}

// deleteBySeq deletes the rows of table for the given records of a log.
func (s *Store) deleteBySeq(ctx context.Context, table, logID string, seqs []int64) (int64, error) {
	unlock, err := s.WriteLock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	n, err := execIn(ctx, s.db, `DELETE FROM `+table+` WHERE log_id = $1 AND seq IN (%s)`, []any{logID}, seqs)
	if err != nil {
		return n, fmt.Errorf("delete from %s of log %q: %w", table, logID, err)
	}
	return n, nil
}

// maxIn is the most values one statement lists, well under the databases'
// parameter limits (32766 for SQLite, 65535 for PostgreSQL).
const maxIn = 500

// execIn runs query, whose %s is the placeholder list of an IN, once for
// every chunk of vals (none if vals is empty), with args before the
// chunk's values, and returns the rows affected in all.
func execIn(ctx context.Context, q querier, query string, args []any, vals []int64) (int64, error) {
	var n int64
	for len(vals) > 0 {
		chunk := vals[:min(len(vals), maxIn)]
		vals = vals[len(chunk):]
		a := append(make([]any, 0, len(args)+len(chunk)), args...)
		ps := make([]string, len(chunk))
		for i, v := range chunk {
			a = append(a, v)
			ps[i] = "$" + strconv.Itoa(len(a))
		}
		res, err := q.ExecContext(ctx, fmt.Sprintf(query, strings.Join(ps, ",")), a...)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

package vault

import (
	"context"
	"fmt"

	"github.com/aitrail/aitrail/internal/pgdb"
)

// postgresSchema is sqliteSchema with BIGINT for integers and BYTEA for
// blobs. log_id sorts bytewise (COLLATE "C"), as in SQLite and Go, so that
// every transaction that locks several records can lock them in one order
// (see SQLStorage.Put).
var postgresSchema = []string{
	`CREATE TABLE IF NOT EXISTS vault_keys (
  log_id TEXT COLLATE "C" NOT NULL, nonce BYTEA NOT NULL, key_id TEXT NOT NULL, wrapped_dek BYTEA,
  expires_ns BIGINT NOT NULL, created_ns BIGINT NOT NULL, shredded_ns BIGINT NOT NULL,
  PRIMARY KEY (log_id, nonce))`,
	`CREATE INDEX IF NOT EXISTS vault_keys_expires ON vault_keys (expires_ns) WHERE shredded_ns = 0`,
	`CREATE TABLE IF NOT EXISTS vault_entries (
  log_id TEXT COLLATE "C" NOT NULL, nonce BYTEA NOT NULL, part TEXT NOT NULL, sealed BYTEA NOT NULL,
  PRIMARY KEY (log_id, nonce, part),
  FOREIGN KEY (log_id, nonce) REFERENCES vault_keys (log_id, nonce))`,
}

// postgresMigrationLock is the pg_advisory_xact_lock key taken while
// creating the schema ("aitrailv"): concurrent CREATE TABLE IF NOT EXISTS
// of one table can fail.
const postgresMigrationLock = 0x61697472_61696c76

// postgresMaxConns is the pool size: a vault sees about as many concurrent
// calls as the gateway serves; few enough that a handful of nodes stays
// well under PostgreSQL's default max_connections of 100 beside the audit
// store's pools.
const postgresMaxConns = 8

// OpenPostgres connects to the PostgreSQL database named by dsn (a libpq
// connection string or URL, as accepted by pgx) and creates the vault's
// tables, vault_keys and vault_entries, in the first schema of the
// search_path if they are missing.
//
// Give the vault a database, or at least a schema and a role, of its own:
// the audit log's readers (auditors, its backups) should not be able to
// read the vault's tables. Commits are durable with PostgreSQL's default
// synchronous_commit=on; OpenPostgres refuses a session where it is off.
// Transactions run at READ COMMITTED, which the row locking of Put and
// Shred relies on. PostgreSQL has no secure_delete: see the package
// documentation for what a shred leaves behind on this backend.
func OpenPostgres(ctx context.Context, dsn string) (*SQLStorage, error) {
	db, where, err := pgdb.Open(ctx, dsn, "aitrail-vault", postgresMaxConns)
	if err != nil {
		return nil, fmt.Errorf("open postgres vault %s: %w", where, err)
	}
	if err := pgdb.Migrate(ctx, db, postgresMigrationLock, postgresSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres vault %s: %w", where, err)
	}
	return &SQLStorage{db: db, name: "postgres"}, nil
}

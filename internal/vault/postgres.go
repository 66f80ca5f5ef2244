package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
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

// Pool sizes: a vault sees about as many concurrent calls as the gateway
// serves; few enough that a handful of nodes stays well under PostgreSQL's
// default max_connections of 100 beside the audit store's pools.
const (
	postgresMaxConns        = 8
	postgresConnMaxIdleTime = 5 * time.Minute
	postgresConnMaxLifetime = time.Hour
)

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
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors do not repeat the password.
		return nil, fmt.Errorf("open postgres vault: %w", err)
	}
	where := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "aitrail-vault"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	db.SetConnMaxIdleTime(postgresConnMaxIdleTime)
	db.SetConnMaxLifetime(postgresConnMaxLifetime)
	if err := preparePostgres(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres vault %s: %w", where, err)
	}
	return &SQLStorage{db: db, name: "postgres"}, nil
}

// preparePostgres refuses settings under which commits are not durable and
// creates the schema, in one transaction, under an advisory lock so that
// nodes starting together do not race.
func preparePostgres(ctx context.Context, db *sql.DB) (err error) {
	var sync string
	if err := db.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sync); err != nil {
		return err
	}
	if sync == "off" {
		return errors.New("synchronous_commit is off, so commits would be acknowledged before they are durable: set it to on for the vault's role or database")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres vault schema: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(postgresMigrationLock)); err != nil {
		return fmt.Errorf("postgres vault schema: lock: %w", err)
	}
	for _, stmt := range postgresSchema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("postgres vault schema: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres vault schema: %w", err)
	}
	return nil
}

// Package pgdb opens PostgreSQL databases the way every aitrail store needs
// them: transactions at READ COMMITTED (the row locks that serialise
// appenders rely on it), commits durable when acknowledged
// (synchronous_commit on; Open refuses a session where it is off), a
// bounded pool, and schemas created under an advisory lock so that nodes
// starting together do not race. It uses pgx through database/sql.
package pgdb

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

// Open connects to the database named by dsn (a URL or libpq string) with
// a pool of at most maxConns connections, and checks that commits are
// durable. where names the database for messages, without the password.
func Open(ctx context.Context, dsn, app string, maxConns int) (db *sql.DB, where string, err error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, "", err // pgx's parse errors do not repeat the password
	}
	where = net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = app
	}
	db = stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	var sync string
	if err := db.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sync); err != nil {
		db.Close()
		return nil, where, err
	}
	if sync == "off" {
		db.Close()
		return nil, where, errors.New("synchronous_commit is off, so commits would be acknowledged before they are durable: set it to on for aitrail's role or database")
	}
	return db, where, nil
}

// Migrate runs the schema statements in one transaction, holding the
// advisory lock lockID.
func Migrate(ctx context.Context, db *sql.DB, lockID int64, schema []string) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID); err != nil {
		return fmt.Errorf("schema: lock: %w", err)
	}
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	return nil
}

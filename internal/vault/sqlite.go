package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aitrail/aitrail/internal/store/sqlite"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS vault_keys (
  log_id TEXT NOT NULL, nonce BLOB NOT NULL, key_id TEXT NOT NULL, wrapped_dek BLOB,
  expires_ns INTEGER NOT NULL, created_ns INTEGER NOT NULL, shredded_ns INTEGER NOT NULL,
  PRIMARY KEY (log_id, nonce)) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS vault_keys_expires ON vault_keys (expires_ns) WHERE shredded_ns = 0`,
	// A rowid table: parts are kilobytes, and WITHOUT ROWID suits small rows.
	`CREATE TABLE IF NOT EXISTS vault_entries (
  log_id TEXT NOT NULL, nonce BLOB NOT NULL, part TEXT NOT NULL, sealed BLOB NOT NULL,
  PRIMARY KEY (log_id, nonce, part),
  FOREIGN KEY (log_id, nonce) REFERENCES vault_keys (log_id, nonce))`,
}

// sqliteCheckpointEvery is how often the write-ahead log is copied into the
// database file, in the background, as package sqlite does for the audit
// log: otherwise SQLite does it inside the commit that crosses 1000 pages,
// adding a database fsync to some caller's Seal.
const sqliteCheckpointEvery = time.Second

// OpenSQLite opens (creating if needed) the vault's SQLite database at path,
// which must not be the audit database: the raw bodies are kept apart from
// the log, to be backed up, retained and access-controlled on their own.
// A new file is created with mode 0600 (SQLite gives its -wal and -shm files
// the same mode).
//
// The database runs in WAL mode with synchronous=FULL: a Seal that returned
// has been fsynced. Write transactions take the write lock at BEGIN, which
// serialises writers, also across processes. secure_delete is on, so that
// SQLite overwrites with zeros what it deletes (a shredded data key, the
// parts of a shredded record, a data key replaced by Rotate) instead of
// leaving the bytes in free space; and after every Shred the write-ahead
// log, which still holds the pages as they were before, is checkpointed
// and truncated. See the package documentation for what this does not
// cover.
func OpenSQLite(ctx context.Context, path string) (*SQLStorage, error) {
	if err := sqlite.CreatePrivate(path); err != nil {
		return nil, fmt.Errorf("open vault: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)",
		"foreign_keys(ON)", "secure_delete(ON)", "wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := prepareSQLite(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open vault %s: %w", path, err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(sqliteCheckpointEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// PASSIVE never blocks writers; what it cannot copy now,
				// it copies next time.
				db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return &SQLStorage{
		db:   db,
		name: "sqlite",
		afterShred: func(ctx context.Context) {
			// Copy the shredded pages into the database file and empty the
			// WAL, whose older frames still hold the data keys. It waits
			// (busy_timeout) for readers to move on; should it still find
			// them, the frames are overwritten as the WAL is reused.
			db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		},
		close: func() {
			close(stop)
			<-done
		},
	}, nil
}

// prepareSQLite checks the database's settings and creates the schema.
func prepareSQLite(ctx context.Context, db *sql.DB) error {
	var audit int
	if err := db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'`).Scan(&audit); err != nil {
		return err
	}
	if audit != 0 {
		return errors.New("this is an audit database (it has a records table); the vault needs a database file of its own")
	}
	var secure int
	if err := db.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&secure); err != nil {
		return err
	}
	if secure != 1 {
		return fmt.Errorf("secure_delete is %d, want 1", secure)
	}
	for _, stmt := range sqliteSchema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlite vault schema: %w", err)
		}
	}
	return nil
}

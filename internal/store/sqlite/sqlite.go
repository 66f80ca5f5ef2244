// Package sqlite keeps aitrail's log in an embedded SQLite database, the
// default for a single gateway.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// append has been fsynced: it survives a crash of the process and of the
// machine. Write transactions take the database's write lock at BEGIN, which
// serialises appenders across processes (serve, and the CLI's key
// commands). It uses modernc.org/sqlite, a translation of SQLite to pure Go,
// so the aitrail binary stays static and needs no C toolchain.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/aitrail/aitrail/internal/store/sqlstore"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a store.Store kept in one SQLite file.
type Store struct {
	*sqlstore.Store
	stop chan struct{}
	done chan struct{}
}

// checkpointEvery is how often the WAL is copied into the database file.
// SQLite would otherwise do it inside the commit that crosses 1000 pages,
// adding a database fsync to some caller's append.
const checkpointEvery = time.Second

var schema = []string{
	`CREATE TABLE IF NOT EXISTS logs (log_id TEXT PRIMARY KEY)`,
	`CREATE TABLE IF NOT EXISTS records (
  log_id TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, time_ns INTEGER NOT NULL,
  kind TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, session TEXT NOT NULL, reason TEXT NOT NULL,
  client_ip TEXT NOT NULL, correlation_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
  model_digest TEXT NOT NULL, params BLOB NOT NULL, stream INTEGER NOT NULL, status TEXT NOT NULL,
  upstream_status INTEGER NOT NULL, done_reason TEXT NOT NULL, request_seq INTEGER NOT NULL,
  tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, latency_us INTEGER NOT NULL, ttft_us INTEGER NOT NULL,
  nonce BLOB NOT NULL, raw_hash BLOB NOT NULL, raw_len INTEGER NOT NULL, body_hash BLOB NOT NULL, clear_hash BLOB NOT NULL,
  detail BLOB NOT NULL, prev_hash BLOB NOT NULL, entry_hash BLOB NOT NULL,
  PRIMARY KEY (log_id, seq)) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS records_actor ON records (actor, time_ns)`,
	`CREATE INDEX IF NOT EXISTS records_session ON records (session, time_ns)`,
	`CREATE INDEX IF NOT EXISTS records_time ON records (time_ns)`,
	`CREATE INDEX IF NOT EXISTS records_request ON records (log_id, request_seq)`,
	`CREATE TABLE IF NOT EXISTS bodies (log_id TEXT NOT NULL, seq INTEGER NOT NULL, content BLOB NOT NULL,
  PRIMARY KEY (log_id, seq)) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS tree (log_id TEXT NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (log_id, idx)) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, hash BLOB NOT NULL, actor TEXT NOT NULL,
  role TEXT NOT NULL, created_ns INTEGER NOT NULL, created_by TEXT NOT NULL, revoked_ns INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, actor TEXT NOT NULL, reason TEXT NOT NULL,
  created_ns INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS checkpoints (log_id TEXT NOT NULL, size INTEGER NOT NULL, time_ns INTEGER NOT NULL,
  note BLOB NOT NULL, PRIMARY KEY (log_id, size)) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS pii_index (log_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, mac BLOB NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS pii_index_mac ON pii_index (mac)`,
	`CREATE INDEX IF NOT EXISTS pii_index_record ON pii_index (log_id, seq)`,
}

// Open opens (creating if needed) the SQLite database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)", "foreign_keys(ON)", "wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{Store: sqlstore.New(db, sqlstore.Dialect{Name: "sqlite", Schema: schema}),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	go s.checkpointWAL()
	return s, nil
}

// checkpointWAL copies the WAL into the database in the background until
// Close. PASSIVE never blocks writers; what it cannot copy yet, it copies
// the next time.
func (s *Store) checkpointWAL() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.DB().Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// Close stops the background checkpoints and closes the database (SQLite
// checkpoints the WAL when its last connection closes).
func (s *Store) Close() error {
	close(s.stop)
	<-s.done
	return s.Store.Close()
}

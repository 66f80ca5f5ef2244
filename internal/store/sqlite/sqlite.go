// Package sqlite keeps aitrail's log in an embedded SQLite database, the
// default for a single gateway.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// append has been fsynced: it survives a crash of the process and of the
// machine. Write transactions take the database's write lock at BEGIN, which
// serialises appenders across processes (serve, and the CLI's key
// commands). It uses modernc.org/sqlite, a translation of SQLite to pure Go,
// so the aitrail binary stays static and needs no C toolchain.
//
// A new database uses incremental auto-vacuum: the pages that deletions
// free stay in the file, reused by later writes, until Compact gives them
// back to the file system a few megabytes at a time.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlstore"

	modernc "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is a store.Store kept in one SQLite file.
type Store struct {
	*sqlstore.Store
	path string
	stop chan struct{}
	done chan struct{}
	// restarted is the WAL's length in frames at the last RESTART: until
	// a commit adds to it, there is nothing to restart.
	restarted atomic.Int64
	// id is the database file's identity when opened; replaced is set
	// once the file at path is another or none (see checkFile).
	id       fileID
	replaced atomic.Pointer[error]
}

var _ store.Store = (*Store)(nil)

// checkpointEvery is how often the WAL is copied into the database file.
// SQLite would otherwise do it inside the commit that crosses 1000 pages,
// adding a database fsync to some caller's append.
const checkpointEvery = time.Second

// migrations are the versions of the schema (see sqlstore.Migration).
// Versions 1 to 5 are the schemas released before versioned migrations,
// statement for statement; 6 is PostgreSQL's fleet tables, which SQLite
// does not have, so that a version means the same in both; a new version
// is appended, as one element.
var migrations = []sqlstore.Migration{
	{Name: "records, bodies, tree hashes, keys and sessions", Mark: "records", Statements: []string{
		`CREATE TABLE IF NOT EXISTS logs (log_id TEXT PRIMARY KEY)`,
		`CREATE TABLE IF NOT EXISTS records (
  log_id TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, time_ns INTEGER NOT NULL,
  kind TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, session TEXT NOT NULL, reason TEXT NOT NULL,
  client_ip TEXT NOT NULL, correlation_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
  model_digest TEXT NOT NULL, params BLOB NOT NULL, stream INTEGER NOT NULL, status TEXT NOT NULL,
  upstream_status INTEGER NOT NULL, done_reason TEXT NOT NULL, request_seq INTEGER NOT NULL,
  tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, latency_us INTEGER NOT NULL, ttft_us INTEGER NOT NULL,
  nonce BLOB NOT NULL, raw_hash BLOB NOT NULL, raw_len INTEGER NOT NULL, body_hash BLOB NOT NULL,
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
	}},
	{Name: "signed checkpoints", Mark: "checkpoints", Statements: []string{
		`CREATE TABLE IF NOT EXISTS checkpoints (log_id TEXT NOT NULL, size INTEGER NOT NULL, time_ns INTEGER NOT NULL,
  note BLOB NOT NULL, PRIMARY KEY (log_id, size)) WITHOUT ROWID`,
	}},
	{Name: "PII index", Mark: "pii_index", Statements: []string{
		`CREATE TABLE IF NOT EXISTS pii_index (log_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, mac BLOB NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS pii_index_mac ON pii_index (mac)`,
		`CREATE INDEX IF NOT EXISTS pii_index_record ON pii_index (log_id, seq)`,
	}},
	{Name: "commitments to bodies before redaction (clear_hash)", Mark: "records.clear_hash", Statements: []string{
		// The column goes where a new database has it: the table is rebuilt.
		`CREATE TABLE records_v4 (
  log_id TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, time_ns INTEGER NOT NULL,
  kind TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, session TEXT NOT NULL, reason TEXT NOT NULL,
  client_ip TEXT NOT NULL, correlation_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
  model_digest TEXT NOT NULL, params BLOB NOT NULL, stream INTEGER NOT NULL, status TEXT NOT NULL,
  upstream_status INTEGER NOT NULL, done_reason TEXT NOT NULL, request_seq INTEGER NOT NULL,
  tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, latency_us INTEGER NOT NULL, ttft_us INTEGER NOT NULL,
  nonce BLOB NOT NULL, raw_hash BLOB NOT NULL, raw_len INTEGER NOT NULL, body_hash BLOB NOT NULL, clear_hash BLOB NOT NULL,
  detail BLOB NOT NULL, prev_hash BLOB NOT NULL, entry_hash BLOB NOT NULL,
  PRIMARY KEY (log_id, seq)) WITHOUT ROWID`,
		`INSERT INTO records_v4 SELECT log_id, seq, version, time_ns, kind, actor, role, session, reason, client_ip, correlation_id, endpoint, model, model_digest, params, stream, status, upstream_status, done_reason, request_seq, tokens_in, tokens_out, latency_us, ttft_us, nonce, raw_hash, raw_len, body_hash, x'', detail, prev_hash, entry_hash FROM records`,
		`DROP TABLE records`,
		`ALTER TABLE records_v4 RENAME TO records`,
		`CREATE INDEX IF NOT EXISTS records_actor ON records (actor, time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_session ON records (session, time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_time ON records (time_ns)`,
		`CREATE INDEX IF NOT EXISTS records_request ON records (log_id, request_seq)`,
	}},
	{Name: "legal holds, retention marks, log bases", Mark: "log_bases", Statements: []string{
		`CREATE TABLE IF NOT EXISTS holds (id TEXT PRIMARY KEY, reason TEXT NOT NULL, actor TEXT NOT NULL,
  session TEXT NOT NULL, model TEXT NOT NULL, since_ns INTEGER NOT NULL, until_ns INTEGER NOT NULL, text TEXT NOT NULL,
  expires_ns INTEGER NOT NULL, created_ns INTEGER NOT NULL, created_by TEXT NOT NULL,
  released_ns INTEGER NOT NULL, released_by TEXT NOT NULL, release_reason TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS retention_marks (log_id TEXT NOT NULL, layer TEXT NOT NULL, next_seq INTEGER NOT NULL,
  policy TEXT NOT NULL, PRIMARY KEY (log_id, layer)) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS retention_deferred (log_id TEXT NOT NULL, layer TEXT NOT NULL, seq INTEGER NOT NULL,
  due_ns INTEGER NOT NULL, PRIMARY KEY (log_id, layer, seq)) WITHOUT ROWID`,
		`CREATE INDEX IF NOT EXISTS retention_deferred_due ON retention_deferred (log_id, layer, due_ns)`,
		`CREATE TABLE IF NOT EXISTS log_bases (log_id TEXT PRIMARY KEY, size INTEGER NOT NULL, head BLOB NOT NULL,
  time_ns INTEGER NOT NULL, checkpoint BLOB NOT NULL)`,
	}},
	{Name: "the fleet's tables (PostgreSQL only: nothing to do in SQLite)"},
	{Name: "unanswered requests kept as they come and go (start-up independent of the log's length)", Statements: []string{
		`CREATE TABLE unanswered (log_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (log_id, seq)) WITHOUT ROWID`,
	}, Run: sqlstore.FillUnanswered},
}

// Open opens (creating if needed) the SQLite database at path, and
// migrates its schema to the newest version.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, sqlstore.Options{})
}

// OpenWith opens the SQLite database at path as o says.
func OpenWith(ctx context.Context, path string, o sqlstore.Options) (*Store, error) {
	q := url.Values{}
	// The driver sets busy_timeout first, then auto_vacuum, then the
	// _pragma list. auto_vacuum=INCREMENTAL keeps the pages a new database
	// frees on a free list that Compact gives back to the file system; it
	// takes effect only before the file is first written (journal_mode
	// does), and an older database keeps its own setting. busy_timeout
	// comes before it, since reading the setting can wait for another
	// connection's lock.
	q.Set("_busy_timeout", "30000")
	q.Set("_auto_vacuum", "INCREMENTAL")
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "wal_autocheckpoint(0)", "analysis_limit(1000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	if err := CreatePrivate(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
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
	s := &Store{Store: sqlstore.New(db, sqlstore.Dialect{Name: "sqlite", Migrations: migrations, OneWriter: true,
		HasTable:  `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = $1`,
		HasColumn: `SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2`,
	}), path: path, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.Start(ctx, o); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !o.NoMigrate {
		// Statistics for the query planner, made where missing or stale
		// (on a few rows of each index: analysis_limit), so that no query
		// depends on the planner guessing right without them.
		if err := s.optimize(ctx, "0x10002"); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	if s.id, err = statID(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	go s.checkpointWAL()
	return s, nil
}

// optimizeEvery is how often the planner's statistics are brought up to
// date while the database is open, as SQLite advises for long-lived
// connections.
const optimizeEvery = time.Hour

// checkpointWAL copies the WAL into the database in the background until
// Close, and has the WAL start again from its beginning whenever it can
// (see checkpoint). It also keeps the planner's statistics current.
func (s *Store) checkpointWAL() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	lastOptimize := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.checkFile()
			s.checkpoint(context.Background(), "RESTART")
			if time.Since(lastOptimize) >= optimizeEvery {
				s.optimize(context.Background(), "")
				lastOptimize = time.Now()
			}
		}
	}
}

// optimize runs PRAGMA optimize with the given mask ("" for the default),
// under the write lock, since it may write the statistics. Each index is
// analysed on at most analysis_limit rows, which bounds its cost on a
// large log to milliseconds.
func (s *Store) optimize(ctx context.Context, mask string) error {
	unlock, err := s.WriteLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	q := `PRAGMA optimize`
	if mask != "" {
		q += "=" + mask
	}
	if _, err := s.DB().ExecContext(ctx, q); err != nil {
		return fmt.Errorf("update the planner's statistics: %w", err)
	}
	return nil
}

// Close stops the background checkpoints, brings the planner's
// statistics up to date and closes the database (SQLite checkpoints the
// WAL when its last connection closes).
func (s *Store) Close() error {
	close(s.stop)
	<-s.done
	s.optimize(context.Background(), "") // statistics are an aid: a failure costs nothing now
	return s.Store.Close()
}

// Space implements store.Store: the pages of the database, with the WAL
// file beside it, and of those the pages on the free list.
func (s *Store) Space(ctx context.Context) (store.Space, error) {
	var pages, free, size int64
	db := s.DB()
	for _, p := range []struct {
		pragma string
		v      *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.v); err != nil {
			return store.Space{}, fmt.Errorf("measure %s: %s: %w", s.path, p.pragma, err)
		}
	}
	sp := store.Space{Bytes: pages * size, Free: free * size}
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		sp.Bytes += fi.Size()
	}
	return sp, nil
}

// Compact implements store.Store: one incremental vacuum of up to pages
// pages, a write like any other. Once no free page is left it empties the
// write-ahead log. aitrail creates its databases with
// auto_vacuum=INCREMENTAL; one created without keeps its free pages (for
// reuse) until an operator runs VACUUM.
func (s *Store) Compact(ctx context.Context, pages int) (int64, error) {
	if pages <= 0 {
		return 0, fmt.Errorf("compact %s: pages %d, want at least 1", s.path, pages)
	}
	db := s.DB()
	var mode, free int64
	if err := db.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return 0, fmt.Errorf("compact %s: %w", s.path, err)
	}
	const incremental = 2
	if mode == incremental {
		if err := db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return 0, fmt.Errorf("compact %s: %w", s.path, err)
		}
	}
	if free == 0 {
		return 0, s.truncateWAL(ctx)
	}
	freed, err := s.vacuum(ctx, pages)
	if err != nil {
		return 0, fmt.Errorf("compact %s: %w", s.path, err)
	}
	if freed <= 0 {
		// Nothing given back: the next purge will go on.
		return 0, s.truncateWAL(ctx)
	}
	return freed, nil
}

// vacuum gives up to pages free pages back under the write lock and
// returns how many it gave back.
func (s *Store) vacuum(ctx context.Context, pages int) (freed int64, err error) {
	unlock, err := s.WriteLock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var before, after int64
	if err := s.DB().QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&before); err != nil {
		return 0, err
	}
	if _, err := s.DB().ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, pages)); err != nil {
		return 0, err
	}
	if err := s.DB().QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&after); err != nil {
		return 0, err
	}
	return before - after, nil
}

// truncateWAL copies the write-ahead log into the database and empties
// it, unless a reader is using it.
func (s *Store) truncateWAL(ctx context.Context) error {
	if err := s.checkpoint(ctx, "TRUNCATE"); err != nil {
		return fmt.Errorf("compact %s: %w", s.path, err)
	}
	return nil
}

// checkpoint copies the write-ahead log into the database, then, if it
// copied all of it, runs a checkpoint of mode: RESTART, so that the next
// commit writes the WAL from its beginning again, or TRUNCATE, which also
// gives its space back to the file system.
//
// Without RESTART the WAL would only start again when a commit happened
// to find it wholly copied and no reader in it, which under steady traffic
// is seldom: it grew to hundreds of megabytes during a large purge, and
// commits that extend a file cost more than commits that overwrite one.
//
// A PASSIVE checkpoint, which lets writers go on, copies the frames first.
// RESTART and TRUNCATE hold off every writer while they run, so they run
// only if the PASSIVE copied every frame (little is left to copy), and
// under the write lock, so that appends wait for them in Go rather than in
// SQLite's busy handler. The lock is taken before the connection, as every
// writer does.
func (s *Store) checkpoint(ctx context.Context, mode string) error {
	busy, log, done, err := s.checkpointOnce(ctx, "PASSIVE")
	if err != nil || busy != 0 || done < log {
		return err
	}
	if mode == "RESTART" && (log == 0 || log == s.restarted.Load()) {
		return nil // nothing written since the last restart
	}
	unlock, err := s.WriteLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	busy, log, _, err = s.checkpointOnce(ctx, mode)
	if err == nil && busy == 0 && mode == "RESTART" {
		s.restarted.Store(log)
	}
	return err
}

// checkpointOnce runs one checkpoint of mode on a connection that does
// not wait for readers or writers (a busy checkpoint reports it in its
// first column; that is no failure), and returns its three columns.
func (s *Store) checkpointOnce(ctx context.Context, mode string) (busy, log, done int64, err error) {
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer conn.Close()
	var timeout int64
	if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		// The connection goes back to the pool: restore its patience,
		// even if ctx has ended, or keep it out of the pool.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, timeout)); rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, rerr)
		}
	}()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return 0, 0, 0, err
	}
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done)
	if isBusy(err) {
		return 1, 0, 0, nil
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return busy, log, done, nil
}

func isBusy(err error) bool {
	var e *modernc.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

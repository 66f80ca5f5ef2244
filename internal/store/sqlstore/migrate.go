package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/store"
)

// A Migration is one version of a schema: the statements that take a
// database from the version before it to this one. Version n of a schema is
// its n-th migration (counting from 1); a new version is a new migration
// appended to the backend's list, never an edit of one that was released.
type Migration struct {
	// Name says what the version brings, for aitrail migrate and the log.
	Name string
	// Statements are run in order, in the transaction of the migration.
	Statements []string
	// Run, if set, is run after them in the same transaction: for work
	// that one statement cannot do, or not with progress to report.
	Run func(ctx context.Context, tx *sql.Tx) error
	// Mark names what a database from before the schema_version table has
	// if it was made at this version or later: a table ("log_bases") or a
	// column ("records.clear_hash"). Only versions released before that
	// table existed have one; it finds the version of such a database.
	Mark string
}

// ErrSchemaTooNew is returned (wrapped in a *SchemaTooNewError) when a
// database was migrated by a newer aitrail than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this aitrail")

// A SchemaTooNewError says that a database's schema is newer than the
// newest this binary knows.
type SchemaTooNewError struct {
	Backend         string
	Version, Newest int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("the %s database has schema version %d, newer than this aitrail knows (%d): it was upgraded by a newer aitrail",
		e.Backend, e.Version, e.Newest)
}

func (e *SchemaTooNewError) Unwrap() error { return ErrSchemaTooNew }

// A SchemaStatus is where a database's schema stands.
type SchemaStatus struct {
	Version int      // the database's version (0: no schema yet)
	Target  int      // the newest version this binary knows
	Pending []string // the names of the migrations from Version to Target
}

// FillUnanswered fills a new unanswered table from the records of a
// database from before it (trackAnswers keeps it from then on): the pending
// requests of every log without a response or an interrupted event. It
// reads each log once, in order, a range of the primary key at a time (so
// no plan depends on statistics), adding the range's pending requests and
// removing those its answers answer (an answer always comes after its
// request), and reports its progress to the logger of ctx.
func FillUnanswered(ctx context.Context, tx *sql.Tx) error {
	ids, err := logIDs(ctx, tx)
	if err != nil {
		return err
	}
	chunk := fillChunk
	log := store.Logger(ctx)
	for _, id := range ids {
		var lo, hi int64
		err := tx.QueryRowContext(ctx, `SELECT seq FROM records WHERE log_id = $1 ORDER BY seq LIMIT 1`, id).Scan(&lo)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err == nil {
			err = tx.QueryRowContext(ctx, `SELECT seq FROM records WHERE log_id = $1 ORDER BY seq DESC LIMIT 1`, id).Scan(&hi)
		}
		if err != nil {
			return fmt.Errorf("find the records of log %q: %w", id, err)
		}
		start := time.Now()
		for from := lo; from <= hi; from += chunk {
			to := from + chunk
			if _, err := tx.ExecContext(ctx, `INSERT INTO unanswered (log_id, seq) SELECT log_id, seq FROM records
WHERE log_id = $1 AND seq >= $2 AND seq < $3 AND kind IN ('model.request', 'model.admin') AND status = 'pending'`, id, from, to); err != nil {
				return fmt.Errorf("find the pending requests of log %q: %w", id, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM unanswered WHERE log_id = $1 AND seq IN (SELECT request_seq FROM records
WHERE log_id = $1 AND seq >= $2 AND seq < $3 AND kind IN ('model.response', 'interaction.interrupted'))`, id, from, to); err != nil {
				return fmt.Errorf("find the answers of log %q: %w", id, err)
			}
			if hi-lo >= chunk {
				log.Info("aitrail: migration: finding the calls left unanswered", "log", id,
					"records", fmt.Sprintf("%d of %d", min(to, hi+1)-lo, hi+1-lo), "elapsed", time.Since(start).Round(time.Second))
			}
		}
	}
	return nil
}

// fillChunk is how many records FillUnanswered reads at a time, and
// reports progress after.
var fillChunk int64 = 100_000

// logIDs returns the ids of the logs a database holds.
func logIDs(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT log_id FROM logs ORDER BY log_id`)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list logs: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// createVersionTable is the one statement every backend runs before its
// migrations: the schema's version, one row, whose absence in a database
// with tables means a database from before versioned migrations.
const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)`

// Options change how a backend opens a database.
type Options struct {
	// NoMigrate opens the database with its schema as it is, for
	// aitrail migrate: if it is not the newest, the store serves only
	// SchemaStatus, Migrate and Close.
	NoMigrate bool
}

// Start readies a store just opened: it migrates the schema (or with
// NoMigrate, checks whether it is current) and prepares the statements.
func (s *Store) Start(ctx context.Context, o Options) error {
	if !o.NoMigrate {
		return s.Migrate(ctx)
	}
	st, err := s.SchemaStatus(ctx)
	if err != nil || st.Version != st.Target {
		return nil // only SchemaStatus, Migrate and Close are of use
	}
	return s.Prepare(ctx)
}

// SchemaStatus reads the database's schema version, without changing
// anything (it may create the empty schema_version table).
func (s *Store) SchemaStatus(ctx context.Context) (SchemaStatus, error) {
	v, err := s.version(ctx, s.db)
	if err != nil {
		return SchemaStatus{}, fmt.Errorf("%s schema: %w", s.d.Name, err)
	}
	st := SchemaStatus{Version: v, Target: len(s.d.Migrations)}
	for i := v; i < len(s.d.Migrations); i++ {
		st.Pending = append(st.Pending, s.d.Migrations[i].Name)
	}
	if v > st.Target {
		return st, &SchemaTooNewError{Backend: s.d.Name, Version: v, Newest: st.Target}
	}
	return st, nil
}

// Migrate brings the schema to the newest version, running the migrations
// it lacks in one transaction (under the dialect's MigrationLock, so that
// gateways starting together migrate once), then calls Prepare. It refuses
// a database newer than this binary with a *SchemaTooNewError. It reports
// each migration it runs to the logger of ctx (store.WithLogger).
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.Prepare(ctx)
}

func (s *Store) migrate(ctx context.Context) (err error) {
	what := s.d.Name + " schema"
	tx, unlock, err := s.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer unlock()
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if s.d.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.MigrationLock); err != nil {
			return fmt.Errorf("%s: lock: %w", what, err)
		}
	}
	if _, err := tx.ExecContext(ctx, createVersionTable); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	cur, err := s.version(ctx, tx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	newest := len(s.d.Migrations)
	if cur > newest {
		return &SchemaTooNewError{Backend: s.d.Name, Version: cur, Newest: newest}
	}
	if cur == newest {
		return tx.Rollback() // nothing to do; the version table may be new, and may wait
	}
	log := store.Logger(ctx)
	if cur > 0 {
		log.Info("aitrail: migrating the database schema", "backend", s.d.Name, "from", cur, "to", newest)
	}
	for v := cur + 1; v <= newest; v++ {
		m := s.d.Migrations[v-1]
		start := time.Now()
		if cur > 0 {
			log.Info("aitrail: migration", "version", v, "name", m.Name)
		}
		for _, stmt := range m.Statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: migration %d (%s): %w", what, v, m.Name, err)
			}
		}
		if m.Run != nil {
			if err := m.Run(ctx, tx); err != nil {
				return fmt.Errorf("%s: migration %d (%s): %w", what, v, m.Name, err)
			}
		}
		if d := time.Since(start); cur > 0 && d > time.Second {
			log.Info("aitrail: migration done", "version", v, "took", d.Round(time.Millisecond))
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = $1 WHERE id = 1`, newest)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (id, version) VALUES (1, $1)`, newest); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if cur > 0 {
		log.Info("aitrail: database schema migrated", "backend", s.d.Name, "version", newest)
	}
	return nil
}

// version returns the schema version of the database: the one recorded,
// or for a database from before schema_version, the newest migration whose
// Mark it has (0 for an empty database).
func (s *Store) version(ctx context.Context, q querier) (int, error) {
	has, err := s.hasTable(ctx, q, "schema_version")
	if err != nil {
		return 0, err
	}
	if has {
		var v int
		err := q.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&v)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("read the schema version: %w", err)
		}
	}
	for v := len(s.d.Migrations); v >= 1; v-- {
		mark := s.d.Migrations[v-1].Mark
		if mark == "" {
			continue
		}
		var ok bool
		if table, col, isCol := strings.Cut(mark, "."); isCol {
			ok, err = s.hasColumn(ctx, q, table, col)
		} else {
			ok, err = s.hasTable(ctx, q, table)
		}
		if err != nil {
			return 0, err
		}
		if ok {
			return v, nil
		}
	}
	return 0, nil
}

func (s *Store) hasTable(ctx context.Context, q querier, table string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, s.d.HasTable, table).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", table, err)
	}
	return n > 0, nil
}

func (s *Store) hasColumn(ctx context.Context, q querier, table, col string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, s.d.HasColumn, table, col).Scan(&n); err != nil {
		return false, fmt.Errorf("look for column %s.%s: %w", table, col, err)
	}
	return n > 0, nil
}

package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/store/sqlstore"
	"github.com/aitrail/aitrail/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "audit.db")
		return func() (store.Store, error) { return sqlite.Open(t.Context(), path) }
	})
}

func TestAutoVacuum(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mode int
	if err := st.DB().QueryRowContext(t.Context(), `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 {
		t.Errorf("auto_vacuum of a new database = %d, want 2 (incremental)", mode)
	}
}

// fillAndEmpty appends records with large bodies, then deletes the bodies.
func fillAndEmpty(t *testing.T, st store.Store) {
	t.Helper()
	ctx := t.Context()
	var seqs []int64
	for batch := range 20 {
		err := st.Append(ctx, "log", func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
			h, err := tx.Head(ctx)
			if err != nil {
				return nil, err
			}
			b := &store.Batch{}
			for i := range 50 {
				r := &record.Record{Version: record.Version, LogID: "log", Seq: h.Seq + 1 + int64(i), Kind: record.KindGatewayStarted}
				b.Records = append(b.Records, r)
				b.Bodies = append(b.Bodies, store.Body{Seq: r.Seq, Content: bytes.Repeat([]byte{byte(batch)}, 8000)})
				seqs = append(seqs, r.Seq)
			}
			return b, nil
		})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if n, err := st.DeleteBodies(ctx, "log", seqs); err != nil || n != int64(len(seqs)) {
		t.Fatalf("DeleteBodies = %d, %v; want %d", n, err, len(seqs))
	}
}

func TestCompact(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fillAndEmpty(t, st)
	before, err := st.Space(ctx)
	if err != nil {
		t.Fatalf("Space: %v", err)
	}
	if before.Free < 4<<20 {
		t.Fatalf("Space after deleting 8 MB of bodies = %+v, want at least 4 MB free", before)
	}
	// In pieces of at most 300 pages, so that no write holds the
	// database long.
	steps := 0
	for {
		n, err := st.Compact(ctx, 300)
		if err != nil {
			t.Fatalf("Compact: %v", err)
		}
		if n > 300 {
			t.Errorf("Compact(300) gave back %d pages", n)
		}
		if n == 0 {
			break
		}
		steps++
	}
	if steps < 2 {
		t.Errorf("Compact(300) gave back %d free pages in %d steps, want several", before.Free/4096, steps)
	}
	after, err := st.Space(ctx)
	if err != nil {
		t.Fatalf("Space: %v", err)
	}
	if after.Bytes >= before.Bytes-before.Free/2 || after.Free != 0 {
		t.Errorf("Space after Compact = %+v, before %+v: want the free pages given back", after, before)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > after.Bytes {
		t.Errorf("after Compact the database file has %d bytes, more than Space's %d", fi.Size(), after.Bytes)
	}
	if n, err := st.Compact(ctx, 300); n != 0 || err != nil {
		t.Errorf("Compact with nothing to do = %d, %v; want 0, nil", n, err)
	}
	if _, err := st.Compact(ctx, 0); err == nil {
		t.Errorf("Compact of 0 pages succeeded, want an error")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Compact(canceled, 300); err == nil {
		t.Errorf("Compact with a canceled context succeeded, want its error")
	}
}

// TestCompactOldDatabase opens a database made without auto_vacuum: Compact
// cannot shrink it, and must say so by returning, not by looping.
func TestCompactOldDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE old (x BLOB)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fillAndEmpty(t, st)
	if n, err := st.Compact(ctx, 300); n != 0 || err != nil {
		t.Fatalf("Compact = %d, %v; want 0, nil", n, err)
	}
	if sp, err := st.Space(ctx); err != nil || sp.Free == 0 {
		t.Errorf("Space after Compact of a database without auto_vacuum = %+v, %v; want free pages kept", sp, err)
	}
}

// TestUnansweredPlan checks that finding the unanswered requests reads an
// index of them, never the records, in a database without statistics
// (which is how SQLite had planned the old query as one scan of the log
// per pending request: 18 s at start-up on 10,000 records).
func TestUnansweredPlan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `DROP TABLE IF EXISTS sqlite_stat1`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+sqlstore.QueryUnanswered, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH unanswered USING PRIMARY KEY (log_id=?)") {
		t.Errorf("plan of the unanswered query = %q, want one search of the unanswered table by log", plan)
	}
}

// TestSchemaTooNew opens a database that a newer aitrail migrated: Open
// refuses it, saying so, and the database is left as it was.
func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	status, err := st.SchemaStatus(t.Context())
	if err != nil || status.Version != status.Target || status.Target < 6 {
		t.Fatalf("SchemaStatus of a new database = %+v, %v; want the newest version", status, err)
	}
	if _, err := st.DB().ExecContext(t.Context(), `UPDATE schema_version SET version = $1`, status.Target+1); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err := sqlite.Open(t.Context(), path); err == nil {
		st.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	} else if !errors.Is(err, sqlstore.ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", status.Target+1)) {
		t.Errorf("Open of a database with a newer schema: %v, want ErrSchemaTooNew naming the version", err)
	}
	st, err = sqlite.OpenWith(t.Context(), path, sqlstore.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("OpenWith NoMigrate: %v", err)
	}
	defer st.Close()
	if got, err := st.SchemaStatus(t.Context()); !errors.Is(err, sqlstore.ErrSchemaTooNew) || got.Version != status.Target+1 {
		t.Errorf("SchemaStatus = %+v, %v; want version %d and ErrSchemaTooNew", got, err, status.Target+1)
	}
}

// TestMigratedLayout migrates a database of every released schema: each
// ends with the tables and columns, in the same order, of a new database.
func TestMigratedLayout(t *testing.T) {
	layout := func(path string) string {
		t.Helper()
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rows, err := st.DB().QueryContext(t.Context(), `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s.%s\n", table, col)
		}
		return b.String()
	}
	want := layout(filepath.Join(t.TempDir(), "new.db"))
	for v := 1; v <= 5; v++ {
		fixture, err := os.ReadFile(fmt.Sprintf("../../../testdata/migrations/sqlite/v%d.sql", v))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), string(fixture)); err != nil {
			t.Fatalf("load fixture v%d: %v", v, err)
		}
		db.Close()
		if got := layout(path); got != want {
			t.Errorf("a database migrated from version %d has the layout\n%s\nwant that of a new one\n%s", v, got, want)
		}
	}
}

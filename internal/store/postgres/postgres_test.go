package postgres_test

import (
	"database/sql"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aitrail/aitrail/internal/pgdb/pgtest"

	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/storetest"
)

// The tests run against the PostgreSQL database named by this environment
// variable, a DSN such as the one scripts/postgres.sh prints. Each test
// works in a schema of its own, dropped when it ends.

func TestStore(t *testing.T) {
	admin := pgtest.Admin(t)
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		dsn := pgtest.Schema(t, admin, "aitrail_test_")
		return func() (store.Store, error) { return postgres.Open(t.Context(), dsn) }
	})
}

// TestOpenConcurrently opens one new database from several processes at
// once, as gateway nodes starting together do: creating the schema must
// not race.
func TestOpenConcurrently(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Admin(t), "aitrail_test_")
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			st, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			st.Close()
		})
	}
	wg.Wait()
}

// TestOpenSettings checks that Open refuses asynchronous commits and
// imposes the isolation that Append's locking relies on.
func TestOpenSettings(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Admin(t), "aitrail_test_")
	if st, err := postgres.Open(t.Context(), pgtest.WithParam(dsn, "synchronous_commit", "off")); err == nil {
		st.Close()
		t.Errorf("Open with synchronous_commit=off succeeded, want an error")
	} else if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("Open with synchronous_commit=off: error %q does not name the setting", err)
	}

	st, err := postgres.Open(t.Context(), pgtest.WithParam(dsn, "default_transaction_isolation", "repeatable read"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	var iso string
	if err := st.DB().QueryRowContext(t.Context(), `SHOW default_transaction_isolation`).Scan(&iso); err != nil {
		t.Fatal(err)
	}
	if iso != "read committed" {
		t.Errorf("default_transaction_isolation = %q, want \"read committed\"", iso)
	}
}

func TestOpenError(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://aitrail:s3cret@127.0.0.1:1/audit?connect_timeout=5")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") || !strings.Contains(msg, "127.0.0.1:1/audit") {
		t.Errorf("Open error %q: want the server named and the password left out", msg)
	}
	if _, err := postgres.Open(t.Context(), "postgres://aitrail:s3cret@%zz"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a malformed DSN: error %v, want one without the password", err)
	}
}

// TestMigrateConcurrently opens a database of the first released schema,
// with a call left in flight, from several processes at once, as gateways
// of a fleet restarting after an upgrade do: one migrates, the others wait
// and find the schema current, and every one sees the unanswered call.
func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Admin(t), "aitrail_test_")
	fixture, err := os.ReadFile("../../../testdata/migrations/postgres/v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), string(fixture)); err != nil {
		t.Fatalf("load the fixture: %v", err)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			st, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			defer st.Close()
			status, err := st.SchemaStatus(t.Context())
			if err != nil || status.Version != status.Target || len(status.Pending) != 0 {
				t.Errorf("SchemaStatus after Open = %+v, %v; want the newest version", status, err)
			}
			if u, err := st.Unanswered(t.Context(), "main"); err != nil || len(u) != 1 {
				t.Errorf("Unanswered after the migration = %v, %v; want the one call in flight", u, err)
			}
		})
	}
	wg.Wait()
	var rows int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("schema_version has %d rows (%v), want 1", rows, err)
	}
}

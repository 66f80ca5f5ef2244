package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/storetest"
)

// The tests run against the PostgreSQL database named by this environment
// variable, a DSN such as the one scripts/postgres.sh prints. Each test
// works in a schema of its own, dropped when it ends.
const envDSN = "AITRAIL_TEST_POSTGRES"

func TestStore(t *testing.T) {
	admin := adminDB(t)
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		dsn := newSchema(t, admin)
		return func() (store.Store, error) { return postgres.Open(t.Context(), dsn) }
	})
}

// TestOpenConcurrently opens one new database from several processes at
// once, as gateway nodes starting together do: creating the schema must
// not race.
func TestOpenConcurrently(t *testing.T) {
	dsn := newSchema(t, adminDB(t))
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
	dsn := newSchema(t, adminDB(t))
	if st, err := postgres.Open(t.Context(), withParam(dsn, "synchronous_commit", "off")); err == nil {
		st.Close()
		t.Errorf("Open with synchronous_commit=off succeeded, want an error")
	} else if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("Open with synchronous_commit=off: error %q does not name the setting", err)
	}

	st, err := postgres.Open(t.Context(), withParam(dsn, "default_transaction_isolation", "repeatable read"))
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

// adminDB connects to the test database, or skips the test.
func adminDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skipf("%s is not set; to run these tests: eval \"$(scripts/postgres.sh start)\"", envDSN)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("%s: %v", envDSN, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("%s: %v", envDSN, err)
	}
	return db
}

// newSchema creates an empty schema, dropped when t ends, and returns the
// test DSN with that schema as its search_path.
func newSchema(t *testing.T, admin *sql.DB) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "aitrail_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.Exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return withParam(os.Getenv(envDSN), "search_path", name)
}

// withParam adds a run-time parameter to a DSN, in URL or keyword/value
// form.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn // Open reports it
		}
		q := u.Query()
		q.Set(key, value)
		// pgx does not read "+" as a space.
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		return u.String()
	}
	return dsn + " " + key + "='" + value + "'"
}

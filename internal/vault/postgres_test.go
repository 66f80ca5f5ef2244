package vault

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// The PostgreSQL tests run against the database named by this environment
// variable, a DSN such as the one scripts/postgres.sh prints. Each test
// works in a schema of its own, dropped when it ends.
const envPostgres = "AITRAIL_TEST_POSTGRES"

func TestPostgres(t *testing.T) {
	admin := adminDB(t)
	runSuite(t, func(t *testing.T) func() (*SQLStorage, error) {
		dsn := newSchema(t, admin)
		return func() (*SQLStorage, error) { return OpenPostgres(t.Context(), dsn) }
	})
}

// TestPostgresOpenConcurrently opens one new database from several
// goroutines at once, as gateway nodes starting together do.
func TestPostgresOpenConcurrently(t *testing.T) {
	dsn := newSchema(t, adminDB(t))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			st, err := OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Errorf("OpenPostgres: %v", err)
				return
			}
			st.Close()
		})
	}
	wg.Wait()
}

func TestPostgresOpenSettings(t *testing.T) {
	dsn := newSchema(t, adminDB(t))
	if st, err := OpenPostgres(t.Context(), withParam(dsn, "synchronous_commit", "off")); err == nil {
		st.Close()
		t.Errorf("OpenPostgres with synchronous_commit=off succeeded, want an error")
	} else if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("OpenPostgres with synchronous_commit=off: error %q does not name the setting", err)
	}

	st, err := OpenPostgres(t.Context(), withParam(dsn, "default_transaction_isolation", "serializable"))
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
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

func TestPostgresOpenError(t *testing.T) {
	_, err := OpenPostgres(t.Context(), "postgres://aitrail:s3cret@127.0.0.1:1/vault?connect_timeout=5")
	if err == nil {
		t.Fatal("OpenPostgres of a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") || !strings.Contains(msg, "127.0.0.1:1/vault") {
		t.Errorf("OpenPostgres error %q: want the server named and the password left out", msg)
	}
}

// adminDB connects to the test database, or skips the test.
func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		t.Skipf("%s is not set; to run these tests: eval \"$(scripts/postgres.sh start)\"", envPostgres)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("%s: %v", envPostgres, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("%s: %v", envPostgres, err)
	}
	return db
}

// newSchema creates an empty schema, dropped when t ends, and returns the
// test DSN with that schema as its search_path.
func newSchema(t testing.TB, admin *sql.DB) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "aitrail_vault_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.Exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return withParam(os.Getenv(envPostgres), "search_path", name)
}

// withParam adds a run-time parameter to a DSN, in URL or keyword/value
// form.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn // OpenPostgres reports it
		}
		q := u.Query()
		q.Set(key, value)
		// pgx does not read "+" as a space.
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		return u.String()
	}
	return dsn + " " + key + "='" + value + "'"
}

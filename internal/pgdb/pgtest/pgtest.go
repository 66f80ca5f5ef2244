// Package pgtest gives tests their own PostgreSQL schema, on the server
// named by AITRAIL_TEST_POSTGRES (scripts/postgres.sh starts one), and
// skips them when it is not set.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvDSN names the environment variable holding the test server's DSN.
const EnvDSN = "AITRAIL_TEST_POSTGRES"

// Admin returns a connection to the test server, closed when t ends, or
// skips t when EnvDSN is not set.
func Admin(t testing.TB) *sql.DB {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skipf("%s is not set; to run these tests: eval \"$(scripts/postgres.sh start)\"", EnvDSN)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	return db
}

// Schema creates an empty schema named prefix plus random hex, dropped
// when t ends, and returns the test DSN with it as its search_path.
func Schema(t testing.TB, admin *sql.DB, prefix string) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.Exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return WithParam(os.Getenv(EnvDSN), "search_path", name)
}

// WithParam adds a run-time parameter to a DSN, in URL or keyword/value
// form.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn // opening it reports the error
		}
		q := u.Query()
		q.Set(key, value)
		// pgx does not read "+" as a space.
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		return u.String()
	}
	return dsn + " " + key + "='" + value + "'"
}

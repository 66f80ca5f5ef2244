package vault

import (
	"strings"
	"sync"
	"testing"

	"github.com/aitrail/aitrail/internal/pgdb/pgtest"
)

// The PostgreSQL tests run against the database named by this environment
// variable, a DSN such as the one scripts/postgres.sh prints. Each test
// works in a schema of its own, dropped when it ends.

func TestPostgres(t *testing.T) {
	admin := pgtest.Admin(t)
	runSuite(t, func(t *testing.T) func() (*SQLStorage, error) {
		dsn := pgtest.Schema(t, admin, "aitrail_vault_test_")
		return func() (*SQLStorage, error) { return OpenPostgres(t.Context(), dsn) }
	})
}

// TestPostgresOpenConcurrently opens one new database from several
// goroutines at once, as gateway nodes starting together do.
func TestPostgresOpenConcurrently(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Admin(t), "aitrail_vault_test_")
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
	dsn := pgtest.Schema(t, pgtest.Admin(t), "aitrail_vault_test_")
	if st, err := OpenPostgres(t.Context(), pgtest.WithParam(dsn, "synchronous_commit", "off")); err == nil {
		st.Close()
		t.Errorf("OpenPostgres with synchronous_commit=off succeeded, want an error")
	} else if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("OpenPostgres with synchronous_commit=off: error %q does not name the setting", err)
	}

	st, err := OpenPostgres(t.Context(), pgtest.WithParam(dsn, "default_transaction_isolation", "serializable"))
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

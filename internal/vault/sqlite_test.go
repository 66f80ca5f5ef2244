package vault

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) func() (*SQLStorage, error) {
		path := filepath.Join(t.TempDir(), "vault.db")
		return func() (*SQLStorage, error) { return OpenSQLite(t.Context(), path) }
	})
}

func openSQLite(t testing.TB, path string) *SQLStorage {
	t.Helper()
	st, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSQLiteSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.db")
	st := openSQLite(t, path)
	seal(t, New(st, newMasterKey(t)), "log", nonceN(1), map[string]string{"request": "x"})

	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(name), mode)
		}
	}

	// Every pooled connection has the settings: hold several at once.
	ctx := t.Context()
	var conns []*sql.Conn
	for range 4 {
		c, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "synchronous": "2", "secure_delete": "1", "foreign_keys": "1", "busy_timeout": "30000",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, pragma, got, want)
			}
		}
	}
}

func TestSQLiteRefusesAuditDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE records (log_id TEXT, seq INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := OpenSQLite(t.Context(), path)
	if err == nil {
		st.Close()
		t.Fatal("OpenSQLite of an audit database succeeded")
	}
	if !strings.Contains(err.Error(), "audit database") || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenSQLite of an audit database: error %q; want it to name the file and the problem", err)
	}
}

// TestSQLiteShredLeavesNoBytes checks that after a Shred neither the
// wrapped data key nor the ciphertext of the record is anywhere in the
// database's files, where the write-ahead log and free pages would keep
// them without secure_delete and the checkpoint.
func TestSQLiteShredLeavesNoBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.db")
	st := openSQLite(t, path)
	v := New(st, newMasterKey(t))
	n := nonceN(1)
	seal(t, v, "log", n, map[string]string{"request": strings.Repeat("prompt ", 600)})
	wrapped := blob(t, st, `SELECT wrapped_dek FROM vault_keys WHERE nonce = $1`, n[:])
	sealed := blob(t, st, `SELECT sealed FROM vault_entries WHERE nonce = $1`, n[:])
	// Some in the database file, the newer pages in the WAL.
	exec(t, st, `PRAGMA wal_checkpoint(TRUNCATE)`)
	for i := 2; i < 50; i++ {
		seal(t, v, "log", nonceN(i), map[string]string{"request": "another"})
	}

	secrets := map[string][]byte{"wrapped data key": wrapped, "ciphertext head": sealed[:32], "ciphertext tail": sealed[len(sealed)-32:]}
	find := func() map[string]bool {
		found := map[string]bool{}
		for _, name := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(name)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for what, s := range secrets {
				if bytes.Contains(b, s) {
					found[what] = true
				}
			}
		}
		return found
	}
	if found := find(); len(found) != len(secrets) {
		t.Fatalf("before the shred, found only %v in the files; the test would prove nothing", found)
	}
	if got, err := v.Shred(t.Context(), "log", [][16]byte{n}); err != nil || got != 1 {
		t.Fatalf("Shred = %d, %v; want 1", got, err)
	}
	for what := range find() {
		t.Errorf("after the shred, the %s is still in the database files", what)
	}
}

// TestSQLiteBackup checks what the package documentation says of copies
// made before a shred: the copy still opens with the master key, and no
// longer once that key is rotated out and dropped.
func TestSQLiteBackup(t *testing.T) {
	dir := t.TempDir()
	st := openSQLite(t, filepath.Join(dir, "vault.db"))
	oldKey, newKey := newMasterKey(t), newMasterKey(t)
	v := New(st, oldKey)
	seal(t, v, "log", nonceN(1), map[string]string{"request": "shredded soon"})
	seal(t, v, "log", nonceN(2), map[string]string{"request": "kept"})
	backup := filepath.Join(dir, "backup.db")
	exec(t, st, `VACUUM INTO '`+backup+`'`)

	if _, err := v.Shred(t.Context(), "log", [][16]byte{nonceN(1)}); err != nil {
		t.Fatal(err)
	}
	checkOpenErr(t, v, "log", nonceN(1), "request", ErrShredded)

	bst := openSQLite(t, backup)
	// The limit of crypto-shredding: the copy has the data key, and the
	// master key still unwraps it.
	checkOpen(t, New(bst, oldKey), "log", nonceN(1), "request", "shredded soon")

	// Rotate the live vault and drop the old key: the copy is dead.
	if n, err := New(st, newKey, oldKey).Rotate(t.Context()); err != nil || n != 1 {
		t.Fatalf("Rotate = %d, %v; want 1", n, err)
	}
	checkOpen(t, New(st, newKey), "log", nonceN(2), "request", "kept")
	for _, n := range [][16]byte{nonceN(1), nonceN(2)} {
		checkOpenErr(t, New(bst, newKey), "log", n, "request", ErrUnknownKey)
	}
}

package e2e

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataFilesPrivate: every file aitrail creates in its data directory
// (the log's database and its -wal and -shm, the raw vault's, the keys,
// serve.lock) is 0600 whatever the umask, while serving and after; only
// the public verifier key log.pub may be read by others.
func TestDataFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	id := newID("private")
	r := call(t, http.MethodPost, g.URL+"/api/generate", g.AdminKey,
		`{"model":"tiny","stream":false,"prompt":"private"}`, "X-Request-Id", id)
	if r.status != http.StatusOK {
		t.Fatalf("call: status %d: %s", r.status, r.body)
	}
	check := func(when string, want ...string) {
		t.Helper()
		seen := map[string]bool{}
		filepath.WalkDir(g.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			fi, err := d.Info()
			if err != nil {
				return nil // removed meanwhile
			}
			if d.IsDir() {
				return nil
			}
			seen[d.Name()] = true
			// log.pub is the log's public verifier key, meant to be handed out.
			if d.Name() != "log.pub" && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, p, fi.Mode().Perm())
			}
			return nil
		})
		for _, name := range want {
			if !seen[name] {
				t.Errorf("%s: no %s in the data directory (have %v)", when, name, seen)
			}
		}
	}
	check("while serving", "audit.db", "audit.db-wal", "audit.db-shm", "vault.db", "vault.db-wal", "vault.db-shm")
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d", code)
	}
	check("after stopping", "audit.db", "vault.db")
	if _, err := os.Stat(filepath.Join(g.Dir, "audit.db")); err != nil {
		t.Fatal(err)
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/witness"
)

// backupManifest is the part of a backup's manifest.json the tests read.
type backupManifest struct {
	Format string `json:"format"`
	Logs   []struct {
		Log  string `json:"log"`
		Size int64  `json:"size"`
		Head string `json:"head"`
	} `json:"logs"`
	Files []struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
	} `json:"files"`
	Apart []struct {
		What   string `json:"what"`
		Output string `json:"output"`
	} `json:"kept_apart"`
}

// restoreReport is the part of 'aitrail verify --json' about restores.
type restoreReport struct {
	OK   bool `json:"ok"`
	Logs []struct {
		Log      string         `json:"log"`
		OK       bool           `json:"ok"`
		Records  int64          `json:"records"`
		Covered  int64          `json:"covered"`
		Problems []integProblem `json:"problems"`
	} `json:"logs"`
	Gaps []struct {
		Log          string `json:"log"`
		ContinuedIn  string `json:"continued_in"`
		Restored     int64  `json:"restored_records"`
		MissingFrom  int64  `json:"missing_from"`
		MissingTo    int64  `json:"missing_to"`
		AnchoredSize int64  `json:"anchored_size"`
	} `json:"restore_gaps"`
}

var restoredLine = regexp.MustCompile(`RESTORED FROM A BACKUP: log main was restored from a backup taken at record (\d+); records (\d+)\.\.(\d+) recorded after it are missing`)

// TestBackupRestore follows the procedure in docs/OPERATIONS.md: a backup
// of a gateway under load, restored into a fresh directory, verified,
// served and verified again; then an older backup restored while the
// anchors (a file on another volume, and a witness) hold the log's later
// checkpoints: the gateway reports the gap, continues in a new log and
// signs, the witness cosigns the new log, and verify reports the gap with
// exit 3. Incomplete and altered backups are refused.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	ext := t.TempDir()  // "another volume": the anchor file outlives the data directory
	keys := t.TempDir() // where the operator keeps the keys, apart from the backups
	backups := t.TempDir()
	anchorFile := filepath.Join(ext, "anchor.jsonl")
	base := integConfig + fmt.Sprintf("anchors:\n  files: [%s]\n", anchorFile)
	writeConfig := func(name, content string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg0 := writeConfig("aitrail.yaml", base)
	r := runAitrail(t, "keys", "create", "--actor", "backup", "--role", "user", "--data", dir, "--config", cfg0)
	userKey := keyPattern.FindString(r.stdout)
	if r.code != 0 || userKey == "" {
		t.Fatalf("aitrail keys create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	oldVKey := integLogKey(t, dir)

	// A witness of the log, at an address that stays the same.
	state := filepath.Join(t.TempDir(), "witness.json")
	wAddr := freeAddr(t)
	w := startWitnessAt(t, state, wAddr, oldVKey)
	r = runAitrail(t, "witness", "vkey", "--state", state)
	wvkey := strings.TrimSpace(r.stdout)
	wv, err := witness.NewVerifier(wvkey)
	if err != nil {
		t.Fatalf("aitrail witness vkey printed %q: %v", wvkey, err)
	}
	cfgYAML := base + fmt.Sprintf("  witnesses:\n    - url: %s\n      key: %s\n", w.url, wvkey)
	cfg := writeConfig("aitrail.yaml", cfgYAML)
	g := integGateway(t, dir, up.URL, cfgYAML)

	// The backup, with calls flowing through the gateway meanwhile.
	stop := make(chan struct{})
	var load sync.WaitGroup
	var loadErr error
	calls := 0
	load.Add(1)
	go func() {
		defer load.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodPost, g.URL+"/api/generate",
				strings.NewReader(`{"model":"tiny","stream":false,"prompt":"load `+fmt.Sprint(i)+`"}`))
			req.Header.Set("Authorization", "Bearer "+userKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				loadErr = err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				loadErr = fmt.Errorf("POST /api/generate during the backup: status %d", resp.StatusCode)
				return
			}
			calls++
		}
	}()
	integCalls(t, g, userKey, "before", 3)
	b1 := filepath.Join(backups, "b1")
	logKey, vaultKey := filepath.Join(keys, "log.key"), filepath.Join(keys, "vault.key")
	r = runAitrail(t, "backup", "--data", dir, "--config", cfg, "-o", b1, "--log-key-out", logKey, "--vault-key-out", vaultKey)
	close(stop)
	load.Wait()
	if loadErr != nil {
		t.Fatalf("calls during the backup: %v", loadErr)
	}
	if r.code != 0 {
		t.Fatalf("aitrail backup under load: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("%d calls made while the backup ran; backup says:\n%s", calls, r.stdout)
	for _, want := range []string{"log signing key: written to " + logKey, "vault master key: written to " + vaultKey, "never beside it"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("aitrail backup printed %q; want it to say %q", r.stdout, want)
		}
	}
	m := readManifest(t, b1)
	checkBackupFiles(t, b1, m, logKey, vaultKey)
	if len(m.Logs) != 1 || m.Logs[0].Log != "main" || m.Logs[0].Size < 8 {
		t.Fatalf("manifest logs %+v; want main with the records so far", m.Logs)
	}
	b := m.Logs[0].Size

	integCalls(t, g, userKey, "after", 6) // recorded after the backup, lost by its restore
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	final := integCount(t, dir)

	t.Run("refused", func(t *testing.T) {
		// A backup missing one file, one with a file altered, a target
		// that is not empty: refused, naming the file, nothing written.
		missing := copyTree(t, b1)
		os.Remove(filepath.Join(missing, "pii.key"))
		altered := copyTree(t, b1)
		flipByte(t, filepath.Join(altered, "audit.db"))
		for _, tc := range []struct{ name, from, want string }{
			{"missing", missing, "the backup is missing pii.key"},
			{"altered", altered, "audit.db (audit database (SQLite)) in the backup does not match its manifest"},
			{"no log key", b1, "give it with --log-key FILE"},
		} {
			target := filepath.Join(t.TempDir(), "restored")
			args := []string{"restore", tc.from, "--data", target, "--config", cfg, "--vault-key", vaultKey}
			if tc.name != "no log key" {
				args = append(args, "--log-key", logKey)
			}
			r := runAitrail(t, args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: aitrail restore: exit %d, stderr %q; want 1 and %q", tc.name, r.code, r.stderr, tc.want)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Errorf("%s: a refused restore left %s behind (%v)", tc.name, target, err)
			}
		}
		r := runAitrail(t, "restore", b1, "--data", dir, "--config", cfg, "--log-key", logKey, "--vault-key", vaultKey)
		if r.code != 1 || !strings.Contains(r.stderr, "is not empty") {
			t.Errorf("aitrail restore into the gateway's own directory: exit %d, stderr %q; want 1, not empty", r.code, r.stderr)
		}
	})

	t.Run("fresh", func(t *testing.T) {
		// The latest backup (a tar file), restored into a new directory:
		// the anchors hold nothing newer, so the log simply goes on.
		b2 := filepath.Join(backups, "b2.tar")
		lk2, vk2 := filepath.Join(keys, "log2.key"), filepath.Join(keys, "vault2.key")
		r := runAitrail(t, "backup", "--data", dir, "--config", cfg, "-o", b2, "--log-key-out", lk2, "--vault-key-out", vk2)
		if r.code != 0 {
			t.Fatalf("aitrail backup -o %s: exit %d\n%s", b2, r.code, r.stderr)
		}
		target := filepath.Join(t.TempDir(), "restored")
		r = runAitrail(t, "restore", b2, "--data", target, "--config", cfg, "--log-key", lk2, "--vault-key", vk2)
		if r.code != 0 || strings.Contains(r.stdout, "missing") {
			t.Fatalf("aitrail restore %s: exit %d\n%s%s", b2, r.code, r.stdout, r.stderr)
		}
		for _, args := range [][]string{nil, {"--key", oldVKey}} {
			r = runAitrail(t, append([]string{"verify", "--data", target, "--config", cfg}, args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("log main: intact: %d records", final)) {
				t.Fatalf("aitrail verify %v of the restored log: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
			}
		}
		// Serve it, with the witness's own state untouched: it takes the
		// log's next checkpoints as it took the earlier ones.
		g2 := integGateway(t, target, up.URL, cfgYAML)
		integCalls(t, g2, userKey, "fresh", 2)
		if code := g2.stop(t); code != 0 {
			t.Fatalf("aitrail serve on the restored directory exited %d\n%s", code, g2.log)
		}
		if strings.Contains(g2.log.String(), "RESTORED FROM A BACKUP") {
			t.Errorf("serve reported a restore gap where there is none:\n%s", g2.log)
		}
		r = runAitrail(t, "verify", "--data", target, "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "log main: intact") || strings.Contains(r.stdout, "main.r1") {
			t.Fatalf("aitrail verify after serving the restored log: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("old backup, newer anchors", func(t *testing.T) {
		// The backup taken under load, restored while the anchor file and
		// the witness hold the later records' checkpoints.
		target := filepath.Join(t.TempDir(), "restored")
		r := runAitrail(t, "restore", b1, "--data", target, "--config", cfg, "--log-key", logKey, "--vault-key", vaultKey)
		if r.code != 0 {
			t.Fatalf("aitrail restore %s: exit %d\n%s%s", b1, r.code, r.stdout, r.stderr)
		}
		anchored := int64(0)
		for _, e := range readAnchorFile(t, anchorFile) {
			if e.Log == "main" {
				anchored = max(anchored, e.Size)
			}
		}
		if anchored <= b {
			t.Fatalf("the anchor holds checkpoints of main up to %d; want beyond the backup's %d", anchored, b)
		}
		want := fmt.Sprintf("records %d..%d were recorded after this backup and are missing", b, anchored-1)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("aitrail restore printed %q; want %q", r.stdout, want)
		}
		// Before serve has recorded the restore, verify calls it a rollback
		// (nothing in the log documents it yet), and says what to do.
		r = runAitrail(t, "verify", "--data", target, "--config", cfg)
		if r.code != 1 || !strings.Contains(r.stdout, "truncated or rolled back") ||
			!strings.Contains(r.stdout, fmt.Sprintf("if restored, start 'aitrail serve', which records that records %d..%d are missing", b, anchored-1)) {
			t.Errorf("aitrail verify of the restored log before serve: exit %d, %q; want 1, a rollback, and the hint to start serve", r.code, r.stdout)
		}
		// The witness is told of the new log's key once serve made it (as
		// docs/OPERATIONS.md says); until then it refuses it as unknown.
		g3 := integGateway(t, target, up.URL, cfgYAML)
		msg := restoredLine.FindStringSubmatch(g3.log.String())
		if msg == nil || msg[1] != fmt.Sprint(b-1) || msg[2] != fmt.Sprint(b) || msg[3] != fmt.Sprint(anchored-1) {
			t.Fatalf("serve's report of the restore: %q; want taken at record %d, records %d..%d missing\n%s", msg, b-1, b, anchored-1, g3.log)
		}
		if !strings.Contains(g3.log.String(), "node=main.r1") {
			t.Errorf("serve does not say it writes the log main.r1:\n%s", g3.log)
		}
		newVKey := integLogKey(t, target)
		if newVKey == oldVKey || !strings.HasPrefix(newVKey, "aitrail/main.r1/") {
			t.Fatalf("the restored gateway's log key is %q; want a new key of main.r1", newVKey)
		}
		w.stop(t)
		w2 := startWitnessAt(t, state, wAddr, oldVKey, newVKey)
		integCalls(t, g3, userKey, "continued", 4)
		nv, err := note.NewVerifier(newVKey)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the witness cosigned a checkpoint of the new log", func() (bool, string) {
			for _, e := range readAnchorFile(t, anchorFile) {
				if e.Log != "main.r1" {
					continue
				}
				if n, err := note.Open([]byte(e.Note), note.VerifierList(nv, wv)); err == nil {
					for _, s := range n.Sigs {
						if s.Name == wv.Name() && s.Hash == wv.KeyHash() {
							return true, ""
						}
					}
				}
			}
			return false, g3.log.String()
		})
		if code := g3.stop(t); code != 0 {
			t.Fatalf("aitrail serve on the restored log exited %d\n%s", code, g3.log)
		}
		w2.stop(t)

		// verify: both logs intact, the gap reported, exit 3.
		out := runAitrail(t, "verify", "--json", "--data", target, "--config", cfg)
		var rep restoreReport
		if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
			t.Fatalf("aitrail verify --json: exit %d, %q: %v", out.code, out.stdout, err)
		}
		if out.code != 3 || !rep.OK || len(rep.Logs) != 2 || len(rep.Gaps) != 1 {
			t.Fatalf("aitrail verify --json after the restore: exit %d, ok %v, %d logs, gaps %+v; want 3, true, 2, one\n%s", out.code, rep.OK, len(rep.Logs), rep.Gaps, out.stdout)
		}
		gap := rep.Gaps[0]
		if gap.Log != "main" || gap.ContinuedIn != "main.r1" || gap.Restored != b || gap.MissingFrom != b || gap.MissingTo != anchored-1 || gap.AnchoredSize != anchored {
			t.Errorf("restore gap %+v; want main continued in main.r1, %d restored, %d..%d missing", gap, b, b, anchored-1)
		}
		for _, l := range rep.Logs {
			if !l.OK || l.Covered != l.Records {
				t.Errorf("log %s: ok %v, %d of %d records covered; want intact and covered: %v", l.Log, l.OK, l.Covered, l.Records, l.Problems)
			}
		}
		human := runAitrail(t, "verify", "--data", target, "--config", cfg)
		wantLine := fmt.Sprintf("restored from a backup taken at record %d; records %d..%d recorded after it are missing", b-1, b, anchored-1)
		if human.code != 3 || !strings.Contains(human.stdout, wantLine) {
			t.Errorf("aitrail verify: exit %d, %q; want 3 and %q", human.code, human.stdout, wantLine)
		}
		// An auditor who holds only the old log's key: the handover in
		// log.restored vouches for the new one.
		if r := runAitrail(t, "verify", "--data", target, "--config", cfg, "--key", oldVKey); r.code != 3 {
			t.Errorf("aitrail verify --key OLD: exit %d; want 3 (both logs checked, the new one by the handover)\n%s", r.code, r.stdout)
		}

		// A restart stays in the new log and says so again.
		g3.restart(t)
		integCalls(t, g3, userKey, "restarted", 1)
		if code := g3.stop(t); code != 0 {
			t.Fatalf("aitrail serve exited %d\n%s", code, g3.log)
		}
		if n := strings.Count(g3.log.String(), "records "+fmt.Sprint(b)+".."+fmt.Sprint(anchored-1)+" recorded after it are missing"); n < 2 || strings.Contains(g3.log.String(), "main.r2") {
			t.Errorf("serve reported the gap %d times over two starts (want each start), or moved on to main.r2:\n%s", n, g3.log)
		}
		if r := runAitrail(t, "verify", "--data", target, "--config", cfg); r.code != 3 {
			t.Errorf("aitrail verify after the restart: exit %d; want 3\n%s", r.code, r.stdout)
		}
	})
}

// readManifest reads a backup directory's manifest.
func readManifest(t *testing.T, dir string) backupManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m backupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

// checkBackupFiles checks that a backup lists what a restore needs, holds
// no secret that must be kept apart, and that every file is private.
func checkBackupFiles(t *testing.T, dir string, m backupManifest, keyFiles ...string) {
	t.Helper()
	names := map[string]bool{}
	for _, f := range m.Files {
		names[f.Name] = true
	}
	for _, want := range []string{"audit.db", "vault.db", "commitment.key", "pii.key", "log.pub"} {
		if !names[want] {
			t.Errorf("the manifest does not list %s: %v", want, names)
		}
	}
	anchors := 0
	for n := range names {
		if strings.HasPrefix(n, "anchors/") {
			anchors++
		}
	}
	if anchors == 0 {
		t.Errorf("the manifest lists no anchor file: %v", names)
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			return nil
		}
		if base := filepath.Base(p); base == "log.key" || base == "vault.key" {
			t.Errorf("the backup holds %s, which must be kept apart", p)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
		return nil
	})
	for _, k := range keyFiles {
		fi, err := os.Stat(k)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file %s: %v, mode %v; want it written, 0600", k, err, fi)
		}
	}
}

// readAnchorFile reads an anchor file's entries.
func readAnchorFile(t *testing.T, path string) []integAnchorEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []integAnchorEntry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e integAnchorEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("anchor line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// copyTree copies the directory src (files and subdirectories) to a new
// temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		integReplace(t, p, filepath.Join(dst, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// flipByte changes the last byte of a file.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupPostgres backs up a gateway on PostgreSQL: the key files and
// anchors, with a manifest that says the database is not in it, and
// restores them into a new directory beside the same database.
func TestBackupPostgres(t *testing.T) {
	dsn, _, _ := postgresDatabase(t)
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Database: dsn})
	key := g.createKey(t, "pg-backup", "user")
	integCalls(t, g, key, "pg", 3)
	keys := t.TempDir()
	out := filepath.Join(t.TempDir(), "b")
	lk, vk := filepath.Join(keys, "log.key"), filepath.Join(keys, "vault.key")
	r := g.run(t, "backup", "-o", out, "--log-key-out", lk, "--vault-key-out", vk)
	if r.code != 0 || !strings.Contains(r.stdout, "the PostgreSQL database is NOT in this backup") || !strings.Contains(r.stdout, "pg_dump") {
		t.Fatalf("aitrail backup on PostgreSQL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	m := readManifest(t, out)
	for _, f := range m.Files {
		if f.Name == "audit.db" || f.Name == "vault.db" {
			t.Errorf("the PostgreSQL backup lists %s", f.Name)
		}
	}
	if len(m.Logs) != 1 || m.Logs[0].Size == 0 {
		t.Errorf("manifest logs %+v; want the node's log with its head", m.Logs)
	}
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d\n%s", code, g.log)
	}
	target := filepath.Join(t.TempDir(), "restored")
	r = runAitrail(t, "restore", out, "--data", target, "--database", dsn, "--log-key", lk, "--vault-key", vk)
	if r.code != 0 || !strings.Contains(r.stdout, "pg_restore") {
		t.Fatalf("aitrail restore of a PostgreSQL backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runAitrail(t, "verify", "--data", target, "--database", dsn)
	if r.code != 0 {
		t.Fatalf("aitrail verify with the restored keys: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	g2 := integGateway(t, target, up.URL, fmt.Sprintf("database: %q\n", dsn))
	integCalls(t, g2, key, "pg-restored", 1)
	if code := g2.stop(t); code != 0 {
		t.Fatalf("aitrail serve on the restored keys exited %d\n%s", code, g2.log)
	}
	if r := runAitrail(t, "verify", "--data", target, "--database", dsn); r.code != 0 {
		t.Fatalf("aitrail verify after serving: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

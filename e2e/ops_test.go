package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestConfigCheck runs 'aitrail config check': a valid configuration is
// printed setting by setting with where each value came from and no
// secret; an invalid one exits 1 naming the settings.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "aitrail.yaml")
	yml := "upstream_api_key: sk-upstream-secret\ndatabase: postgres://aitrail:hunter2@db.internal:5432/audit\ntimeouts:\n  stream_idle: 45s\nredact:\n  rules: [{type: EMPLOYEE_ID, pattern: 'E-[0-9]{6}'}]\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AITRAIL_LOG_LEVEL=debug", "AITRAIL_VAULT_KEY=" + strings.Repeat("ab", 32)}
	r := runAitrailEnv(t, env, "config", "check", "--config", path, "--listen", "127.0.0.1:9999", "--json")
	if r.code != 0 {
		t.Fatalf("config check: exit %d\n%s", r.code, r.stderr)
	}
	for _, secret := range []string{"sk-upstream-secret", "hunter2", strings.Repeat("ab", 32)} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("config check shows the secret %q:\n%s", secret, r.stdout)
		}
	}
	var out struct {
		Valid    bool   `json:"valid"`
		SHA256   string `json:"sha256"`
		Settings []struct {
			Key, Value string
			Source     struct{ Kind, Name string }
		} `json:"settings"`
		VaultKey *struct{ Value string } `json:"vault_key"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("config check --json: %v\n%s", err, r.stdout)
	}
	if !out.Valid || len(out.SHA256) != 64 || out.VaultKey == nil || out.VaultKey.Value != "REDACTED" {
		t.Errorf("config check --json = valid %v, sha256 %q, vault key %+v", out.Valid, out.SHA256, out.VaultKey)
	}
	want := map[string]string{
		"listen":               "flag listen 127.0.0.1:9999",
		"log_level":            "env AITRAIL_LOG_LEVEL debug",
		"timeouts.stream_idle": "file " + path + " 45s",
		"timeouts.read_body":   "default  2m0s",
		"upstream_api_key":     "file " + path + " REDACTED",
		"database":             "file " + path + " postgres://aitrail:REDACTED@db.internal:5432/audit",
	}
	for _, s := range out.Settings {
		if w, ok := want[s.Key]; ok {
			if got := s.Source.Kind + " " + s.Source.Name + " " + s.Value; got != w {
				t.Errorf("%s: %q, want %q", s.Key, got, w)
			}
			delete(want, s.Key)
		}
	}
	for k := range want {
		t.Errorf("config check shows no setting %s", k)
	}

	text := runAitrailEnv(t, env, "config", "check", "--config", path, "--listen", "127.0.0.1:9999")
	if text.code != 0 || !strings.Contains(text.stdout, "sha256 "+out.SHA256) ||
		!strings.Contains(text.stdout, "timeouts.stream_idle") || !strings.Contains(text.stdout, "env AITRAIL_LOG_LEVEL") {
		t.Errorf("config check (text): exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("log_level: loud\nredact:\n  rules: [{type: X, pattern: '(['}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runAitrail(t, "config", "check", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "log_level") || !strings.Contains(r.stderr, "aitrail: hint:") {
		t.Errorf("config check of a bad file: exit %d, want 1 naming log_level\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(bad, []byte("redact:\n  rules: [{type: X, pattern: '(['}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runAitrail(t, "config", "check", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "redact") {
		t.Errorf("config check of a bad redaction rule: exit %d, want 1 naming redact\n%s", r.code, r.stderr)
	}
}

// events returns the details of the records of kind in g's log, in order.
func events(t testing.TB, g *gateway, kind string) []map[string]any {
	t.Helper()
	db := openDB(t, g.Dir)
	rows, err := db.Query(`SELECT detail FROM records WHERE kind = ? ORDER BY seq`, kind)
	if err != nil {
		t.Fatalf("read records: %v", err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("detail of a %s event: %v: %s", kind, err, b)
		}
		out = append(out, d)
	}
	return out
}

// stderr returns what the gateway wrote to stderr so far.
func (g *gateway) stderr() string {
	var b strings.Builder
	for _, line := range strings.Split(g.log.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "stderr: "); ok {
			b.WriteString(rest + "\n")
		}
	}
	return b.String()
}

// TestReload edits the configuration file and sends SIGHUP: the new
// redaction rule applies to the next call, the change is recorded in a
// config.reloaded event with the new configuration's hash and the names of
// the settings changed, a setting that needs a restart is reported and not
// applied, and a bad file is refused while the configuration in force
// stays.
func TestReload(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "log_level: info\n"})
	path := filepath.Join(g.Dir, "aitrail.yaml")
	key := g.createKey(t, "reloader", "user")
	prompt := func(id, text string) string {
		t.Helper()
		body := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"` + text + `"}]}`
		if got := call(t, "POST", g.URL+"/api/chat", key, body, "X-Request-Id", id); got.status != 200 {
			t.Fatalf("POST /api/chat: %d %s", got.status, got.body)
		}
		return g.interaction(t, id).Prompt
	}
	if p := prompt(newID("before-"), "badge E-123456"); !strings.Contains(p, "E-123456") {
		t.Fatalf("before the reload the badge is redacted already: %q", p)
	}

	write := func(yml string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reloaded := func(n int) {
		t.Helper()
		g.signal(t, syscall.SIGHUP)
		eventually(t, "the reload recorded", func() (bool, string) {
			got := len(events(t, g, "config.reloaded")) + len(events(t, g, "config.reload_failed"))
			return got >= n, g.stderr()
		})
	}
	rule := "log_level: info\nredact:\n  rules: [{type: EMPLOYEE_ID, pattern: 'E-[0-9]{6}'}]\n"
	write(rule)
	reloaded(1)
	if !g.running() {
		t.Fatal("SIGHUP ended aitrail serve")
	}
	if p := prompt(newID("after-"), "badge E-123456"); strings.Contains(p, "E-123456") || !strings.Contains(p, "EMPLOYEE_ID") {
		t.Errorf("after the reload the prompt is stored as %q, want the badge redacted as EMPLOYEE_ID", p)
	}
	evs := events(t, g, "config.reloaded")
	if len(evs) != 1 || fmt.Sprint(evs[0]["changed"]) != "[redact.rules]" || fmt.Sprint(evs[0]["needs_restart"]) != "[]" {
		t.Fatalf("config.reloaded events %v, want one with changed [redact.rules] and needs_restart []", evs)
	}
	// The hash is that of the configuration in force; config check of the
	// same settings computes the same.
	chk := runAitrail(t, "config", "check", "--json", "--config", path, "--data", g.Dir, "--listen", "127.0.0.1:0", "--upstream", up.URL)
	var want struct{ SHA256 string }
	if err := json.Unmarshal([]byte(chk.stdout), &want); err != nil {
		t.Fatalf("config check: %v\n%s%s", err, chk.stdout, chk.stderr)
	}
	if evs[0]["sha256"] != want.SHA256 {
		t.Errorf("config.reloaded sha256 %v, config check of the same settings %s", evs[0]["sha256"], want.SHA256)
	}

	// A setting that needs a restart is reported, not applied.
	write(rule + "heartbeat: 7m\n")
	reloaded(2)
	evs = events(t, g, "config.reloaded")
	if len(evs) != 2 || fmt.Sprint(evs[1]["changed"]) != "[]" || fmt.Sprint(evs[1]["needs_restart"]) != "[heartbeat]" || evs[1]["sha256"] != want.SHA256 {
		t.Errorf("config.reloaded events %v, want a second with changed [], needs_restart [heartbeat] and the same sha256", evs)
	}
	// The warning follows the event (which is written before the change
	// takes effect).
	g.log.waitFor(t, "needs_restart=heartbeat")

	// A bad file: refused, recorded, the rule in force stays.
	write("log_level: loud\nredact:\n  rules: [{type: OTHER, pattern: 'x'}]\n")
	reloaded(3)
	if n := len(events(t, g, "config.reload_failed")); n != 1 {
		t.Errorf("%d config.reload_failed events, want 1", n)
	}
	if !strings.Contains(g.stderr(), "configuration reload refused") || !strings.Contains(g.stderr(), "log_level") {
		t.Errorf("serve did not log the refused reload and its cause:\n%s", g.stderr())
	}
	kept := newID("kept-")
	body := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"badge E-654321"}]}`
	if got := call(t, "POST", g.URL+"/api/chat", key, body, "X-Request-Id", kept); got.status != 200 {
		t.Fatalf("POST /api/chat after a refused reload: %d %s", got.status, got.body)
	}
	// The CLI reads serve's configuration file too, and refuses a broken
	// one: put the good file back (without a reload) to read the record.
	write(rule)
	if p := g.interaction(t, kept).Prompt; strings.Contains(p, "E-654321") {
		t.Errorf("after a refused reload the prompt is stored as %q, want the rule in force to apply", p)
	}
	if g.stop(t) != 0 {
		t.Error("aitrail serve did not exit 0 on SIGTERM")
	}
	if r := g.run(t, "verify"); r.code != 0 {
		t.Errorf("aitrail verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestOperationalLog serves with log_format: json: every call has an
// access log line with its correlation id, actor, role, model and status;
// the correlation id reaches the upstream as X-Request-Id; no key appears
// on stderr.
func TestOperationalLog(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "log_format: json\n"})
	key := g.createKey(t, "logged", "user")
	id := newID("access-")
	body := `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"secret prompt text"}]}`
	if got := call(t, "POST", g.URL+"/api/chat", key, body, "X-Request-Id", id, callHeader, id); got.status != 200 {
		t.Fatalf("POST /api/chat: %d %s", got.status, got.body)
	}
	if h := up.call(t, id).Header.Get("X-Request-Id"); h != id {
		t.Errorf("the upstream got X-Request-Id %q, want %q", h, id)
	}
	// A generated correlation id is forwarded too.
	gen := newID("gen-")
	got := call(t, "POST", g.URL+"/api/embed", key, `{"model":"tiny","input":"x"}`, callHeader, gen)
	if h := up.call(t, gen).Header.Get("X-Request-Id"); h == "" || h != got.header.Get("X-Request-Id") {
		t.Errorf("the upstream got X-Request-Id %q, the caller %q; want the same, not empty", h, got.header.Get("X-Request-Id"))
	}
	call(t, "POST", g.URL+"/api/chat", "ait_0000000000000000_"+strings.Repeat("A", 43), body)

	var line map[string]any
	eventually(t, "the access log line", func() (bool, string) {
		for _, l := range strings.Split(g.stderr(), "\n") {
			var v map[string]any
			if json.Unmarshal([]byte(l), &v) == nil && v["msg"] == "access" && v["correlation_id"] == id {
				line = v
				return true, ""
			}
		}
		return false, g.stderr()
	})
	for k, want := range map[string]any{"method": "POST", "path": "/api/chat", "status": float64(200), "actor": "logged",
		"role": "user", "auth": "key", "model": "tiny", "client_ip": "127.0.0.1"} {
		if line[k] != want {
			t.Errorf("access log %s = %v, want %v (line %v)", k, line[k], want, line)
		}
	}
	if b, ok := line["bytes"].(float64); !ok || b <= 0 {
		t.Errorf("access log bytes = %v, want the bytes sent", line["bytes"])
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("access log has no duration_ms: %v", line)
	}
	g.stop(t)
	stderr := g.stderr()
	for _, secret := range []string{key, g.AdminKey, "ait_0000000000000000", "secret prompt text"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("stderr shows %q:\n%s", secret, stderr)
		}
	}
}

// TestHealthReadyMetrics: /healthz and /readyz answer without a key and
// without detail; /readyz and the log say when the upstream is down;
// with metrics_auth /metrics wants an auditor's or an admin's key.
func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "metrics_auth: true\n"})
	got := call(t, "GET", g.URL+"/readyz", "", "")
	if got.status != 200 || !strings.Contains(string(got.body), `"status":"ready"`) ||
		!strings.Contains(string(got.body), `"upstream":"ok"`) || !strings.Contains(string(got.body), `"vault":"ok"`) {
		t.Errorf("GET /readyz: %d %s, want 200 ready with log, vault and upstream ok", got.status, got.body)
	}
	user, auditor := g.createKey(t, "u", "user"), g.createKey(t, "a", "auditor")
	for _, tc := range []struct {
		key  string
		want int
	}{{"", 401}, {user, 403}, {auditor, 200}, {g.AdminKey, 200}} {
		if got := call(t, "GET", g.URL+"/metrics", tc.key, ""); got.status != tc.want {
			t.Errorf("GET /metrics with key %.12q: %d, want %d", tc.key, got.status, tc.want)
		}
	}
	if got := call(t, "GET", g.URL+"/metrics", auditor, ""); !strings.Contains(string(got.body), "aitrail_upstream_up 1") {
		t.Errorf("GET /metrics has no aitrail_upstream_up 1")
	}

	// The upstream is not there: readiness fails, the log says so; then
	// it comes up.
	addr := freeAddr(t)
	down := startGateway(t, gatewayConfig{Upstream: "http://" + addr})
	down.log.waitFor(t, "upstream unreachable")
	got = call(t, "GET", down.URL+"/readyz", "", "")
	if got.status != 503 || !strings.Contains(string(got.body), `"upstream":"unreachable"`) {
		t.Errorf("GET /readyz with the upstream down: %d %s, want 503 upstream unreachable", got.status, got.body)
	}
	if got := call(t, "GET", down.URL+"/healthz", "", ""); got.status != 200 {
		t.Errorf("GET /healthz with the upstream down: %d %s, want 200 (the log is fine)", got.status, got.body)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Ollama is running")) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	eventually(t, "/readyz ready once the upstream is up", func() (bool, string) {
		got := call(t, "GET", down.URL+"/readyz", "", "")
		return got.status == 200, string(got.body)
	})
	down.log.waitFor(t, "upstream reachable again")
}

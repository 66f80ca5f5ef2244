package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

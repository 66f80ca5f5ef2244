package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSettingsSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aitrail.yaml")
	yml := "alerts:\n  webhook: https://hooks.example.com/services/T0/B0/tok3n?x=1\nupstream_api_key: sk-secret\ndatabase: postgres://u:pw@db:5432/a\ntimeouts:\n  stream_idle: 30s\nretention:\n  raw: 30d\nredact:\n  rules: [{type: EMP, pattern: 'E-[0-9]+'}]\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AITRAIL_LOG_LEVEL": "debug"}
	c, err := Load(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetFrom("listen", "127.0.0.1:9", Source{Kind: SourceFlag, Name: "listen"}); err != nil {
		t.Fatal(err)
	}
	got := map[string]Setting{}
	for _, s := range c.Settings() {
		got[s.Key] = s
	}
	for key, want := range map[string]string{
		"listen":               "flag --listen",
		"log_level":            "env AITRAIL_LOG_LEVEL",
		"timeouts.stream_idle": "file " + path,
		"timeouts.read_body":   "default",
		"retention.raw":        "file " + path,
		"retention.sealed":     "default",
		"redact.rules":         "file " + path,
		"upstream_api_key":     "file " + path,
	} {
		if s := got[key].Source.String(); s != want {
			t.Errorf("source of %s = %q, want %q", key, s, want)
		}
	}
	for key, want := range map[string]string{
		"upstream_api_key":     "REDACTED",
		"database":             "postgres://u:REDACTED@db:5432/a",
		"timeouts.stream_idle": "30s",
		"retention.raw":        "30d",
		"listen":               "127.0.0.1:9",
		"alerts.webhook":       "https://hooks.example.com/REDACTED?REDACTED",
	} {
		if v := got[key].Value; v != want {
			t.Errorf("value of %s = %q, want %q", key, v, want)
		}
	}
	for _, s := range c.Settings() {
		if strings.Contains(s.Value, "sk-secret") || strings.Contains(s.Value, "pw@") || strings.Contains(s.Value, "tok3n") {
			t.Errorf("setting %s shows a secret: %s", s.Key, s.Value)
		}
	}
}

func TestHashAndChanged(t *testing.T) {
	a, b := Default(), Default()
	if a.Hash() != b.Hash() {
		t.Fatal("equal configurations hash differently")
	}
	b.Redact.Rules = []RedactRule{{Type: "EMP", Pattern: "E-[0-9]+"}}
	b.LogLevel = "debug"
	if a.Hash() == b.Hash() {
		t.Error("different configurations hash the same")
	}
	if got := strings.Join(a.Changed(b), ","); got != "log_level,redact.rules" {
		t.Errorf("Changed = %q, want log_level,redact.rules", got)
	}
}

func TestValidateTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  TLS
		want string
	}{
		{"key without cert", TLS{KeyFile: "k"}, "tls.cert_file and tls.key_file"},
		{"ca without cert", TLS{ClientCAFile: "ca"}, "tls.client_ca_file"},
		{"bad client_auth", TLS{CertFile: "c", KeyFile: "k", ClientCAFile: "ca", ClientAuth: "maybe"}, "tls.client_auth"},
		{"rule without matcher", TLS{CertFile: "c", KeyFile: "k", ClientCAFile: "ca", Identities: []TLSIdentity{{Role: "user"}}}, "tls.identities[0]"},
		{"bad role", TLS{CertFile: "c", KeyFile: "k", ClientCAFile: "ca", Identities: []TLSIdentity{{OU: "x", Role: "root"}}}, "tls.identities[0].role"},
	} {
		c := Default()
		c.TLS = tc.tls
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	c := Default()
	c.TLS = TLS{CertFile: "c", KeyFile: "k", ClientCAFile: "ca", ClientAuth: "require", Identities: []TLSIdentity{{OU: "audit", Role: "auditor"}}}
	if err := c.Validate(); err != nil {
		t.Errorf("a valid TLS configuration: %v", err)
	}
}

// FuzzNoteFile feeds arbitrary YAML to the source tracking of Load.
func FuzzNoteFile(f *testing.F) {
	f.Add([]byte("listen: 1.2.3.4:5\ntimeouts:\n  stream_idle: 1s\n"))
	f.Add([]byte("tls: {identities: [{ou: a, role: user}]}"))
	f.Add([]byte("- a\n- b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Config
		if err := c.noteFile(b, Source{Kind: SourceFile, Name: "f"}); err != nil {
			return
		}
		for key := range c.Sources {
			if key == "" {
				t.Errorf("an empty key noted from %q", b)
			}
		}
	})
}

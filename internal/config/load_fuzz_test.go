package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as a configuration file: it must
// return a configuration or an error, never panic, and a file it accepts
// must be named in the configuration.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:11435\nupstream: http://127.0.0.1:11434\n"))
	f.Add([]byte("require_reason: true\nbodies: hash\nlog_level: debug\n"))
	f.Add([]byte("listen: [1, 2]\n"))
	f.Add([]byte("unknown_key: 1\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte{})
	noEnv := func(string) (string, bool) { return "", false }
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "aitrail.yaml")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, noEnv)
		if err == nil && c.File != path {
			t.Fatalf("Load(%q) accepted the file but names it %q", b, c.File)
		}
	})
}

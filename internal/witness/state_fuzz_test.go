package witness_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aitrail/aitrail/internal/witness"
)

// FuzzOpenFileState opens arbitrary bytes as a witness's state file: it is
// either refused as corrupt or every log it holds answers Latest.
func FuzzOpenFileState(f *testing.F) {
	f.Add([]byte(`{"logs":{}}`))
	f.Add([]byte(`{"logs":{"aitrail/main/x":{"size":3,"root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","note":"n"}}}`))
	f.Add([]byte(`{"logs":{"o":{"size":-1,"root":"x"}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := witness.OpenFileState(path)
		if err != nil {
			return
		}
		defer s.Close()
		if _, _, err := s.Latest(context.Background(), "aitrail/main/x"); err != nil {
			t.Fatalf("OpenFileState(%q) accepted the state, then Latest: %v", b, err)
		}
	})
}

// FuzzNewVerifier parses arbitrary witness verifier keys.
func FuzzNewVerifier(f *testing.F) {
	_, vkey, err := witness.GenerateKey("witness.test/w1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vkey)
	f.Add("witness.test/w1+01234567+AQ")
	f.Add("++")
	f.Fuzz(func(t *testing.T, vkey string) {
		v, err := witness.NewVerifier(vkey)
		if err == nil && v.Name() == "" {
			t.Fatalf("NewVerifier(%q) gave a verifier with no name", vkey)
		}
	})
}

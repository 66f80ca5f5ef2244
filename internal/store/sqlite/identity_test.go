package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aitrail/aitrail/internal/store"
)

// TestReplacedFile: once the database file is removed, or another file is
// put at its path, the store refuses appends with ErrReplaced; while it is
// the file it opened, it does not.
func TestReplacedFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced", func(t *testing.T, path string) {
			other := path + ".other"
			if err := os.WriteFile(other, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.db")
			st, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			build := func(context.Context, store.AppendTx) (*store.Batch, error) { return nil, errors.New("built") }
			st.checkFile()
			if err := st.Replaced(); err != nil {
				t.Fatalf("Replaced() with the file in place = %v, want nil", err)
			}
			if err := st.Append(t.Context(), "log", build); errors.Is(err, ErrReplaced) {
				t.Fatalf("Append with the file in place = %v", err)
			}
			tc.change(t, path)
			st.checkFile()
			if err := st.Replaced(); !errors.Is(err, ErrReplaced) {
				t.Errorf("Replaced() = %v, want ErrReplaced", err)
			}
			if err := st.Append(t.Context(), "log", build); !errors.Is(err, ErrReplaced) {
				t.Errorf("Append = %v, want ErrReplaced", err)
			}
		})
	}
}

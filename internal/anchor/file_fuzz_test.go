package anchor_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aitrail/aitrail/internal/anchor"
)

// FuzzFileCheckpoints reads arbitrary bytes as an anchor file: the reader
// returns the well-formed entries and, for anything else, a
// *anchor.MalformedError (or the scanner's too-long error), never a panic.
func FuzzFileCheckpoints(f *testing.F) {
	f.Add([]byte(`{"log":"main","size":3,"note":"aitrail/main/x\n3\nAAAA\n\n— aitrail/main/x AAAA\n"}` + "\n"))
	f.Add([]byte("{\"log\":\"main\"}\nnot json\n\n{\"log\":\"other\",\"size\":-1}\n"))
	f.Add([]byte("\x00\xff{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "anchors.jsonl")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		a := anchor.NewFile(path)
		logs, err := a.Logs(context.Background())
		checkReadErr(t, b, err)
		for _, id := range logs {
			notes, err := a.Checkpoints(context.Background(), id)
			checkReadErr(t, b, err)
			if len(notes) == 0 {
				t.Fatalf("Logs(%q) names %q, which has no checkpoints", b, id)
			}
		}
	})
}

func checkReadErr(t *testing.T, b []byte, err error) {
	t.Helper()
	var bad *anchor.MalformedError
	if err != nil && !errors.As(err, &bad) && !errors.Is(err, bufio.ErrTooLong) {
		t.Fatalf("reading %q: %v, want a *MalformedError", b, err)
	}
}

// FuzzVerifyCosignature checks arbitrary notes against arbitrary witness
// keys: an error or a time, never a panic, and never success for a note
// that carries no signature line at all.
func FuzzVerifyCosignature(f *testing.F) {
	f.Add([]byte("aitrail/main/x\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— witness.test/w1 AAAAAAAA\n"), "witness.test/w1+01234567+AQ")
	f.Add([]byte(""), "")
	f.Add([]byte("x\n\n"), "a+b+c")
	f.Fuzz(func(t *testing.T, note []byte, vkey string) {
		_, err := anchor.VerifyCosignature(note, vkey)
		if err == nil && !strings.Contains(string(note), "\n\n— ") {
			t.Fatalf("VerifyCosignature(%q, %q) accepted a note without a signature", note, vkey)
		}
	})
}

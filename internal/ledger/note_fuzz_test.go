package ledger_test

import (
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
)

// FuzzOpenCheckpoint opens arbitrary signed notes (what anchors, witnesses
// and fleet nodes hand back): a note accepted with the log's key parses as
// a checkpoint that ParseSignedCheckpoint agrees with.
func FuzzOpenCheckpoint(f *testing.F) {
	signer, err := note.NewSigner(testSKey)
	if err != nil {
		f.Fatal(err)
	}
	verifier, err := note.NewVerifier(testVKey)
	if err != nil {
		f.Fatal(err)
	}
	good, err := note.Sign(&note.Note{Text: ledger.Checkpoint{Origin: signer.Name(), Size: 5, Root: tlog.Hash{9}}.String()}, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("o\n1\nAAAA\n\n— o AAAA\n"))
	f.Add([]byte("\n\n"))
	known := note.VerifierList(verifier)
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, _, err := ledger.OpenCheckpoint(msg, known)
		p, perr := ledger.ParseSignedCheckpoint(msg)
		if err == nil && (perr != nil || p != c) {
			t.Fatalf("OpenCheckpoint(%q) = %v, but ParseSignedCheckpoint = %v, %v", msg, c, p, perr)
		}
	})
}

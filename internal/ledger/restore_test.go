package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// restoredLog makes a log of 5 records signed at 5, backs it up (a
// snapshot), appends 5 more signed at 7 and 10, and returns the live log, the
// backup, and the two signed checkpoints (as anchors hold them).
func restoredLog(t *testing.T) (live, backup *sqlite.Store, c *record.Committer, notes [][]byte) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	live, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	c = committer(t)
	cp, err := ledger.NewCheckpointer(live, "main", testSKey, testVKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(live, "main", ledger.Options{})
	defer l.Close()
	for i := range 10 {
		if err := l.Append(ctx, entry(c, "alice", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if i == 4 || i == 6 || i == 9 {
			res, err := cp.Sign(ctx)
			if err != nil {
				t.Fatal(err)
			}
			notes = append(notes, res.Note)
		}
		if i == 4 {
			if err := sqlite.Snapshot(ctx, filepath.Join(dir, "audit.db"), filepath.Join(dir, "backup.db")); err != nil {
				t.Fatal(err)
			}
		}
	}
	backup, err = sqlite.Open(ctx, filepath.Join(dir, "backup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backup.Close() })
	return live, backup, c, notes
}

func testVerifiers(t *testing.T) note.Verifiers {
	t.Helper()
	v, err := note.NewVerifier(testVKey)
	if err != nil {
		t.Fatal(err)
	}
	return note.VerifierList(v)
}

func TestFindGap(t *testing.T) {
	ctx := context.Background()
	live, backup, c, notes := restoredLog(t)
	vs := testVerifiers(t)

	if gap, err := ledger.FindGap(ctx, live, "main", vs, notes); err != nil || gap != nil {
		t.Errorf("FindGap(live log) = %+v, %v; want nil, nil", gap, err)
	}
	if gap, err := ledger.FindGap(ctx, backup, "main", vs, notes[:1]); err != nil || gap != nil {
		t.Errorf("FindGap(backup, anchors as at the backup) = %+v, %v; want nil, nil", gap, err)
	}
	gap, err := ledger.FindGap(ctx, backup, "main", vs, notes)
	if err != nil || gap == nil || gap.Size != 5 || gap.Anchored.Size != 10 {
		t.Fatalf("FindGap(backup, newer anchors) = %+v, %v; want a gap from 5 to 10", gap, err)
	}
	// A checkpoint that does not verify proves nothing.
	_, otherV, _ := ledger.GenerateSigningKey("aitrail/test/0001")
	ov, _ := note.NewVerifier(otherV)
	if gap, err := ledger.FindGap(ctx, backup, "main", note.VerifierList(ov), notes); err != nil || gap != nil {
		t.Errorf("FindGap with another key = %+v, %v; want nil, nil", gap, err)
	}

	// Verification: a rollback, unless the log's restore is recorded.
	rep, err := ledger.Verify(ctx, backup, "main", ledger.VerifyOptions{Committer: c, Verifiers: vs, Anchored: notes})
	if err != nil || rep.OK() || !strings.Contains(rep.Problems[0].Cause, "truncated or rolled back") {
		t.Errorf("Verify(backup) without Restored: %v, problems %v; want a rollback", err, rep.Problems)
	}
	rep, err = ledger.Verify(ctx, backup, "main", ledger.VerifyOptions{Committer: c, Verifiers: vs, Anchored: notes, Restored: 5})
	if err != nil || !rep.OK() || rep.Missing != 10 || rep.Covered != 5 {
		t.Errorf("Verify(backup, Restored 5): %v, problems %v, missing %d, covered %d; want intact, missing to 10, covered 5", err, rep.Problems, rep.Missing, rep.Covered)
	}
	// Restored at another size than the log's: still a rollback.
	rep, _ = ledger.Verify(ctx, backup, "main", ledger.VerifyOptions{Committer: c, Verifiers: vs, Anchored: notes, Restored: 4})
	if rep.OK() {
		t.Error("Verify(backup, Restored 4) of a log of 5 records is intact; want the rollback reported")
	}

	// A fork: the backup grown with other records than the live log's,
	// past the anchored checkpoint of size 7 and short of that of 10.
	l := ledger.New(backup, "main", ledger.Options{})
	for i := range 3 {
		if err := l.Append(ctx, entry(c, "mallory", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	var fe *ledger.ForkError
	if gap, err := ledger.FindGap(ctx, backup, "main", vs, notes); !errors.As(err, &fe) || fe.Size != 7 {
		t.Errorf("FindGap(fork) = %+v, %v; want a ForkError at 7", gap, err)
	}
}

func TestRestoreEvent(t *testing.T) {
	ctx := context.Background()
	_, backup, c, notes := restoredLog(t)
	vs := testVerifiers(t)
	gap, err := ledger.FindGap(ctx, backup, "main", vs, notes)
	if err != nil || gap == nil {
		t.Fatalf("FindGap = %v, %v", gap, err)
	}
	newS, newV, _ := ledger.GenerateSigningKey("aitrail/main.r1/0002")
	r, err := ledger.RestoreEvent(gap, testSKey, "main.r1", newV)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size != 5 || r.MissingFrom != 5 || r.MissingTo != 9 || r.AnchoredSize != 10 || r.Log != "main" || r.LogID != "main.r1" {
		t.Errorf("RestoreEvent = %+v; want main restored at 5, 5..9 missing, continued in main.r1", r)
	}
	old, err := ledger.Verify(ctx, backup, "main", ledger.VerifyOptions{Committer: c, Verifiers: vs, Anchored: notes, Restored: 5})
	if err != nil {
		t.Fatal(err)
	}
	if bad := ledger.CheckRestore(r, old, vs); len(bad) != 0 {
		t.Errorf("CheckRestore(event as made) = %v; want nothing wrong", bad)
	}
	h, err := ledger.OpenHandover([]byte(r.Handover), vs)
	if err != nil || h.OriginKey != newV || h.Size != 5 || h.NewLogID != "main.r1" {
		t.Errorf("OpenHandover = %+v, %v; want the new key at size 5", h, err)
	}
	// The handover is the old key's word: the new key cannot make one.
	if _, err := ledger.SignHandover(ledger.Handover{Origin: h.Origin, Size: 5, NewLogID: "main.r1", OriginKey: newV}, newS); err == nil {
		t.Error("SignHandover with the new log's key for the old log's origin succeeded")
	}
	for name, edit := range map[string]func(r *record.Restore){
		"size":     func(r *record.Restore) { r.Size, r.MissingFrom = 4, 4 },
		"head":     func(r *record.Restore) { r.Head = strings.Repeat("0", 64) },
		"key":      func(r *record.Restore) { r.OriginKey = testVKey },
		"gap":      func(r *record.Restore) { r.MissingTo = 7 },
		"anchored": func(r *record.Restore) { r.AnchoredHash = strings.Repeat("0", 64) },
		"handover": func(r *record.Restore) { r.Handover = strings.Replace(r.Handover, "main.r1", "main.r2", 1) },
	} {
		bad := *r
		edit(&bad)
		if got := ledger.CheckRestore(&bad, old, vs); len(got) == 0 {
			t.Errorf("CheckRestore with the %s changed found nothing wrong", name)
		}
	}
	if got := ledger.CheckRestore(r, nil, vs); len(got) == 0 {
		t.Error("CheckRestore without the restored log found nothing wrong")
	}
}

func FuzzOpenHandover(f *testing.F) {
	signer, err := note.NewSigner(testSKey)
	if err != nil {
		f.Fatal(err)
	}
	h := ledger.Handover{Origin: signer.Name(), Size: 5, NewLogID: "main.r1", OriginKey: testVKey}
	good, err := ledger.SignHandover(h, testSKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("aitrail log restored\nx\n01\nAAAA\nmain\nkey\n\n— x AAAA\n"))
	v, _ := note.NewVerifier(testVKey)
	vs := note.VerifierList(v)
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, err := ledger.OpenHandover(msg, vs)
		if err != nil {
			return
		}
		// What parses is canonical: its text is exactly what was signed.
		n, err := note.Open(msg, vs)
		if err != nil || n.Text != h.Text() {
			t.Fatalf("OpenHandover accepted %q, whose text is not its canonical form %q", msg, h.Text())
		}
	})
}

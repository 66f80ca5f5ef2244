package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// failingAppends is a store whose appends fail, as in a crash before the
// new log's first record is durable.
type failingAppends struct{ store.Store }

func (failingAppends) Append(context.Context, string, func(context.Context, store.AppendTx) (*store.Batch, error)) error {
	return errors.New("disk gone")
}

// restoredDir makes a data directory whose database is a snapshot taken at
// 3 records, while its anchor holds checkpoints up to 6.
func restoredDir(t *testing.T) (config.Config, *sqlite.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	c := config.Default()
	c.Data = t.TempDir()
	skey, vkey, err := ledger.GenerateSigningKey("aitrail/main/000000000001")
	if err != nil {
		t.Fatal(err)
	}
	livePath := filepath.Join(t.TempDir(), "live.db")
	live, err := sqlite.Open(ctx, livePath)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	cp, err := ledger.NewCheckpointer(live, "main", skey, vkey, []ledger.Anchor{anchor.NewFile(c.AnchorFiles()[0])})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(live, "main", ledger.Options{})
	defer l.Close()
	for i := range 6 {
		if err := l.Append(ctx, &ledger.Entry{Record: record.NewEvent(record.KindHeartbeat, map[string]int{"i": i})}); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if _, err := cp.Sign(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sqlite.Snapshot(ctx, livePath, c.DBPath()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := cp.Sign(ctx); err != nil {
		t.Fatal(err)
	}
	for p, s := range map[string]string{c.SigningKeyPath(): skey, c.VerifierKeyPath(): vkey} {
		if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(ctx, c.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return c, st, skey, vkey
}

func TestContinue(t *testing.T) {
	ctx := context.Background()
	c, st, skey, vkey := restoredDir(t)

	// A crash before the new log's first record: the switch is kept, and
	// the next start finishes it with the same new key.
	if _, err := Continue(ctx, failingAppends{st}, c, "main", skey, vkey); err == nil {
		t.Fatal("Continue with failing appends succeeded")
	}
	b, err := os.ReadFile(switchPath(c))
	if err != nil {
		t.Fatalf("no switch file after an interrupted continuation: %v", err)
	}
	if got, _ := os.ReadFile(c.VerifierKeyPath()); strings.TrimSpace(string(got)) != vkey {
		t.Fatalf("log.pub changed before the new log was started: %q", got)
	}
	cont, err := Continue(ctx, st, c, "main", skey, vkey)
	if err != nil || cont == nil {
		t.Fatalf("Continue after the crash = %+v, %v", cont, err)
	}
	if !strings.Contains(string(b), cont.VKey) || cont.LogID != "main.r1" {
		t.Errorf("the continuation after the crash uses log %s, key %s; want main.r1 with the key of the switch file", cont.LogID, cont.VKey)
	}
	r := cont.Restore
	if r.Size != 3 || r.MissingFrom != 3 || r.MissingTo != 5 || r.AnchoredSize != 6 {
		t.Errorf("log.restored %+v; want 3 restored, 3..5 missing", r)
	}
	first, err := ledger.ReadRestore(ctx, st, "main.r1")
	if err != nil || first == nil || first.Handover != r.Handover {
		t.Fatalf("record 0 of main.r1 = %+v, %v; want the log.restored event", first, err)
	}
	for path, want := range map[string]string{c.SigningKeyPath(): cont.SKey, c.VerifierKeyPath(): cont.VKey, RetiredKeyPath(c, "main"): vkey} {
		got, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(got)) != want {
			t.Errorf("%s holds %q (%v), want %q", path, got, err, want)
		}
	}
	if _, err := os.Stat(switchPath(c)); !os.IsNotExist(err) {
		t.Errorf("the switch file is still there: %v", err)
	}
	if LogID(c.Node, cont.VKey) != "main.r1" {
		t.Errorf("LogID of the new key = %q", LogID(c.Node, cont.VKey))
	}
	// The next start: nothing more to do, the new log is not behind.
	if again, err := Continue(ctx, st, c, "main.r1", cont.SKey, cont.VKey); err != nil || again != nil {
		t.Errorf("Continue on the continued log = %+v, %v; want nil, nil", again, err)
	}
	// A second restore of the same kind goes on to main.r2.
	if id, err := nextLogID(ctx, st, c, "main"); err != nil || id != "main.r2" {
		t.Errorf("nextLogID after main.r1 = %q, %v; want main.r2", id, err)
	}
}

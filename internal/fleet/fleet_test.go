package fleet_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/fleet"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/pgdb/pgtest"
	"github.com/aitrail/aitrail/internal/store/postgres"
)

// openDB returns a fresh PostgreSQL schema with aitrail's tables.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := pgtest.Schema(t, pgtest.Admin(t), "fleet_")
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.DB()
}

func TestLease(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	a, err := fleet.Acquire(ctx, db, "gw1", "host-a:/data", time.Hour)
	if err != nil {
		t.Fatalf("Acquire by the first holder: %v", err)
	}
	_, err = fleet.Acquire(ctx, db, "gw1", "host-b:/data", time.Hour)
	var held *fleet.HeldError
	if !errors.As(err, &held) || held.Holder != "host-a:/data" {
		t.Fatalf("Acquire by a second holder = %v, want a *HeldError naming host-a:/data", err)
	}
	if _, err := fleet.Acquire(ctx, db, "gw2", "host-b:/data", time.Hour); err != nil {
		t.Errorf("Acquire of another node: %v", err)
	}
	// The same holder (a restart after a crash) takes it back at once.
	if _, err := fleet.Acquire(ctx, db, "gw1", "host-a:/data", time.Hour); err != nil {
		t.Errorf("Acquire by the same holder again: %v", err)
	}
	// Released when Run ends: the next holder takes it at once.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run until cancelled: %v", err)
	}
	if _, err := fleet.Acquire(ctx, db, "gw1", "host-b:/data", time.Hour); err != nil {
		t.Errorf("Acquire after the holder released it: %v", err)
	}
}

func TestLeaseExpires(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	// A lease of no length has expired by the time anyone else looks.
	if _, err := fleet.Acquire(ctx, db, "gw1", "host-a:/data", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.Acquire(ctx, db, "gw1", "host-b:/data", time.Hour); err != nil {
		t.Errorf("Acquire of an expired lease: %v", err)
	}
}

func TestLeaseLost(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	l, err := fleet.Acquire(ctx, db, "gw1", "host-a:/data", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE node_leases SET holder = 'host-b:/data' WHERE node = 'gw1'`); err != nil {
		t.Fatal(err)
	}
	if err := l.Run(ctx); !errors.Is(err, fleet.ErrLost) {
		t.Errorf("Run after another took the lease = %v, want ErrLost", err)
	}
}

func TestRecordKey(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if err := fleet.RecordKey(ctx, db, "gw1", "k1"); err != nil {
		t.Fatal(err)
	}
	if err := fleet.RecordKey(ctx, db, "gw1", "k1"); err != nil {
		t.Errorf("RecordKey of the same key again: %v", err)
	}
	var km *fleet.KeyMismatchError
	if err := fleet.RecordKey(ctx, db, "gw1", "k2"); !errors.As(err, &km) || km.Recorded != "k1" {
		t.Errorf("RecordKey of another key = %v, want a *KeyMismatchError", err)
	}
	keys, err := fleet.Keys(ctx, db)
	if err != nil || len(keys) != 1 || keys["gw1"] != "k1" {
		t.Errorf("Keys = %v, %v; want gw1: k1", keys, err)
	}
}

func TestCheckSecrets(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	if err := fleet.CheckSecrets(ctx, db, map[string][]byte{"commitment key": nil}); err != nil {
		t.Errorf("CheckSecrets with no keys anywhere: %v", err)
	}
	if err := fleet.CheckSecrets(ctx, db, map[string][]byte{"commitment key": k1}); err != nil {
		t.Fatalf("CheckSecrets of the first node: %v", err)
	}
	if err := fleet.CheckSecrets(ctx, db, map[string][]byte{"commitment key": k1}); err != nil {
		t.Errorf("CheckSecrets of a joined node: %v", err)
	}
	var sm *fleet.SecretMismatchError
	if err := fleet.CheckSecrets(ctx, db, map[string][]byte{"commitment key": k2}); !errors.As(err, &sm) {
		t.Errorf("CheckSecrets of another key = %v, want a *SecretMismatchError", err)
	}
	if err := fleet.CheckSecrets(ctx, db, map[string][]byte{"commitment key": nil}); !errors.Is(err, fleet.ErrNotJoined) {
		t.Errorf("CheckSecrets of a node without keys = %v, want ErrNotJoined", err)
	}
	if ok, err := fleet.Joined(ctx, db); !ok || err != nil {
		t.Errorf("Joined = %v, %v; want true", ok, err)
	}
}

func TestSecretsRoundTrip(t *testing.T) {
	s := fleet.Secrets{Commitment: make([]byte, 32), PII: make([]byte, 32)}
	s.PII[31] = 7
	got, err := fleet.ParseSecrets(s.Marshal())
	if err != nil || string(got.Commitment) != string(s.Commitment) || string(got.PII) != string(s.PII) {
		t.Fatalf("ParseSecrets(Marshal()) = %v, %v", got, err)
	}
	for _, bad := range []string{
		``, `{}`, `{"format":"aitrail-fleet-keys/1"}`,
		`{"format":"aitrail-fleet-keys/2","commitment_key":"` + strings.Repeat("00", 32) + `"}`,
		`{"format":"aitrail-fleet-keys/1","commitment_key":"00"}`,
		`{"format":"aitrail-fleet-keys/1","commitment_key":"` + strings.Repeat("00", 32) + `","extra":1}`,
		`{"format":"aitrail-fleet-keys/1","commitment_key":"` + strings.Repeat("00", 32) + `"} {}`,
	} {
		if _, err := fleet.ParseSecrets([]byte(bad)); err == nil {
			t.Errorf("ParseSecrets(%q) = nil error, want one", bad)
		}
	}
}

func TestInstall(t *testing.T) {
	dir := t.TempDir()
	com, pii := filepath.Join(dir, "commitment.key"), filepath.Join(dir, "pii.key")
	s := fleet.Secrets{Commitment: make([]byte, 32), PII: make([]byte, 32)}
	if wrote, err := fleet.Install(s, com, pii); !wrote || err != nil {
		t.Fatalf("Install = %v, %v; want written", wrote, err)
	}
	if fi, err := os.Stat(com); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("commitment.key: %v, mode %v; want 0600", err, fi.Mode())
	}
	if wrote, err := fleet.Install(s, com, pii); wrote || err != nil {
		t.Errorf("Install again = %v, %v; want nothing written, no error", wrote, err)
	}
	other := s
	other.Commitment = append([]byte{1}, make([]byte, 31)...)
	if _, err := fleet.Install(other, com, pii); err == nil {
		t.Error("Install over another commitment key succeeded")
	}
}

func TestCheckpointText(t *testing.T) {
	c := fleet.Checkpoint{Time: time.Unix(0, 1765000000123456789), Heads: []fleet.Head{
		{LogID: "gw1", Size: 12, Root: tlog.Hash{1}}, {LogID: "gw2", Size: 0},
	}}
	want := "aitrail-fleet-checkpoint/1\n1765000000123456789\n" +
		"gw1 12 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" +
		"gw2 0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	if got := c.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	got, err := fleet.ParseCheckpoint(want)
	if err != nil || got.String() != want {
		t.Fatalf("ParseCheckpoint(%q) = %v, %v", want, got, err)
	}
	for _, bad := range []string{
		"aitrail-fleet-checkpoint/1\n1\n",
		"aitrail-fleet-checkpoint/2\n1\ngw1 1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"aitrail-fleet-checkpoint/1\n01\ngw1 1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"aitrail-fleet-checkpoint/1\n1\ngw1 -1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"aitrail-fleet-checkpoint/1\n1\ngw2 1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ngw1 1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"aitrail-fleet-checkpoint/1\n1\ngw1 1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ngw1 2 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"aitrail-fleet-checkpoint/1\n1\ngw1 1 AQ==\n",
		"aitrail-fleet-checkpoint/1\n1\ngw1  1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"aitrail-fleet-checkpoint/1\n1\ngw1 1 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	} {
		if _, err := fleet.ParseCheckpoint(bad); err == nil {
			t.Errorf("ParseCheckpoint(%q) = nil error, want one", bad)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add("aitrail-fleet-checkpoint/1\n1\ngw1 12 AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Add("aitrail-fleet-checkpoint/1\n0\na 0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nb 1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := fleet.ParseCheckpoint(text)
		if err != nil {
			return
		}
		if got := c.String(); got != text {
			t.Errorf("ParseCheckpoint(%q).String() = %q: the text is not canonical", text, got)
		}
	})
}

func FuzzParseSecrets(f *testing.F) {
	f.Add([]byte(`{"format":"aitrail-fleet-keys/1","commitment_key":"` + strings.Repeat("ab", 32) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := fleet.ParseSecrets(b)
		if err != nil {
			return
		}
		if len(s.Commitment) != 32 || (s.PII != nil && len(s.PII) != 32) {
			t.Errorf("ParseSecrets(%q) gave keys of %d and %d bytes", b, len(s.Commitment), len(s.PII))
		}
	})
}

// TestSignVerify signs fleet checkpoints over stored log checkpoints and
// checks that Verify accepts them and catches a log cut back, a root
// rewritten, a deleted fleet checkpoint and an unknown signer.
func TestSignVerify(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	skey, vkey, err := ledger.GenerateSigningKey("aitrail/gw1/test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	addCP := func(logID string, size int64, root tlog.Hash) {
		t.Helper()
		msg, err := note.Sign(&note.Note{Text: ledger.Checkpoint{Origin: "aitrail/" + logID + "/test", Size: size, Root: root}.String()}, signer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO checkpoints (log_id, size, time_ns, note) VALUES ($1, $2, 0, $3)`, logID, size, msg); err != nil {
			t.Fatal(err)
		}
	}
	addCP("gw1", 5, tlog.Hash{5})
	addCP("gw1", 9, tlog.Hash{9})
	addCP("gw2", 3, tlog.Hash{3})
	s, err := fleet.NewSigner(db, skey, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, errs, err := s.Sign(ctx)
	if err != nil || len(errs) > 0 || c == nil {
		t.Fatalf("Sign = %v, %v, %v", c, errs, err)
	}
	if len(c.Heads) != 2 || c.Heads[0] != (fleet.Head{LogID: "gw1", Size: 9, Root: tlog.Hash{9}}) || c.Heads[1].Size != 3 {
		t.Errorf("Sign committed to %+v, want the latest checkpoint of gw1 and gw2", c.Heads)
	}
	if again, _, err := s.Sign(ctx); again != nil || err != nil {
		t.Errorf("Sign with no head moved = %v, %v; want nothing signed", again, err)
	}
	stored, err := fleet.Stored(ctx, db)
	if err != nil || len(stored) != 1 {
		t.Fatalf("Stored = %d notes, %v; want 1", len(stored), err)
	}
	logs := func() map[string]fleet.LogState {
		return map[string]fleet.LogState{
			"gw1": {Size: 10, Roots: map[int64]tlog.Hash{5: {5}, 9: {9}}},
			"gw2": {Size: 3, Roots: map[int64]tlog.Hash{3: {3}}},
		}
	}
	trusted := note.VerifierList(verifier)
	if rep := fleet.Verify(stored, stored, trusted, logs()); len(rep.Problems) > 0 || rep.Checked != 1 || rep.Anchored != 1 || rep.Latest == nil {
		t.Errorf("Verify of a healthy fleet = %+v", rep)
	}
	for name, tc := range map[string]struct {
		stored  [][]byte
		trusted note.Verifiers
		logs    func(map[string]fleet.LogState)
		want    string
	}{
		"log cut back":              {stored, trusted, func(m map[string]fleet.LogState) { m["gw2"] = fleet.LogState{Size: 2} }, "log gw2 had 3 records then, but has 2 now"},
		"root rewritten":            {stored, trusted, func(m map[string]fleet.LogState) { m["gw1"].Roots[9] = tlog.Hash{8} }, "another root"},
		"checkpoint deleted":        {stored, trusted, func(m map[string]fleet.LogState) { delete(m["gw1"].Roots, 9) }, "no checkpoint at size 9"},
		"log gone":                  {stored, trusted, func(m map[string]fleet.LogState) { delete(m, "gw2") }, "log gw2 had 3 records"},
		"deleted from the database": {nil, trusted, func(map[string]fleet.LogState) {}, "missing from the database"},
		"unknown signer":            {stored, note.VerifierList(), func(map[string]fleet.LogState) {}, "no verifiable signatures"},
	} {
		t.Run(name, func(t *testing.T) {
			m := logs()
			tc.logs(m)
			rep := fleet.Verify(tc.stored, stored, tc.trusted, m)
			if len(rep.Problems) == 0 || !strings.Contains(strings.Join(rep.Problems, "\n"), tc.want) {
				t.Errorf("Verify: problems %q, want one with %q", rep.Problems, tc.want)
			}
		})
	}
}

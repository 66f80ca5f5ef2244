package ledger_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

const logSize = 10

func buildLog(t *testing.T) (*sqlite.Store, *record.Committer) {
	t.Helper()
	st := openStore(t)
	c := committer(t)
	l := ledger.New(st, "main", ledger.Options{})
	for i := 0; i < logSize; i++ {
		if err := l.Append(context.Background(), entry(c, "alice", fmt.Sprintf("prompt %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	return st, c
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// readRecord returns the stored record seq.
func readRecord(t *testing.T, st *sqlite.Store, seq int64) *record.Record {
	t.Helper()
	var got *record.Record
	st.Scan(context.Background(), "main", seq, func(r *record.Record, _ record.Hash) error {
		if got == nil {
			got = r
		}
		return nil
	})
	return got
}

// rewrite stores r in place of the row seq with a consistent entry hash, as
// an attacker who knows the format would.
func rewrite(t *testing.T, st *sqlite.Store, seq int64, r *record.Record) {
	t.Helper()
	exec(t, st.DB(), `DELETE FROM records WHERE seq = $1`, seq)
	insert(t, st, r)
}

func insert(t *testing.T, st *sqlite.Store, r *record.Record) {
	t.Helper()
	eh := record.EntryHash(r)
	stream := 0
	if r.Stream {
		stream = 1
	}
	// The columns are named: their order in the table is not a contract
	// (a database migrated from an old version has them in another).
	exec(t, st.DB(), `INSERT INTO records (log_id, seq, version, time_ns, kind, actor, role, session, reason,
client_ip, correlation_id, endpoint, model, model_digest, params, stream, status,
upstream_status, done_reason, request_seq, tokens_in, tokens_out, latency_us, ttft_us,
nonce, raw_hash, raw_len, body_hash, clear_hash, detail, prev_hash, entry_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32)`,
		r.LogID, r.Seq, r.Version, r.Time, r.Kind, r.Actor, r.Role, r.Session, r.Reason, r.ClientIP, r.CorrelationID,
		r.Endpoint, r.Model, r.ModelDigest, orEmpty(r.Params), stream, r.Status, r.UpstreamStatus, r.DoneReason,
		r.RequestSeq, r.TokensIn, r.TokensOut, r.LatencyUS, r.TTFTUS, r.Nonce[:], hashCol(r.RawHash), r.RawLen,
		hashCol(r.BodyHash), hashCol(r.ClearHash), orEmpty(r.Detail), r.PrevHash[:], eh[:])
}

func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func hashCol(h record.Hash) []byte {
	if h.IsZero() {
		return []byte{}
	}
	return h[:]
}

func TestVerifyNamesTheTamperedRecord(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, st *sqlite.Store)
		wantSeq int64
		cause   string
	}{
		{"edited field", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE records SET actor = 'mallory' WHERE seq = 4`)
		}, 4, "sealed fields altered"},
		{"edited field and rewritten entry hash", func(t *testing.T, st *sqlite.Store) {
			r := readRecord(t, st, 4)
			r.Actor = "mallory"
			rewrite(t, st, 4, r)
		}, 4, "entry hash rewritten"},
		{"edited tokens", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE records SET tokens_out = 1 WHERE seq = 7`)
		}, 7, "sealed fields altered"},
		{"flipped bit in a hash column", func(t *testing.T, st *sqlite.Store) {
			r := readRecord(t, st, 2)
			r.BodyHash[0] ^= 1
			exec(t, st.DB(), `UPDATE records SET body_hash = $1 WHERE seq = 2`, r.BodyHash[:])
		}, 2, "sealed fields altered"},
		{"deleted row", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `DELETE FROM records WHERE seq = 5`)
			exec(t, st.DB(), `DELETE FROM bodies WHERE seq = 5`)
		}, 5, "missing"},
		{"deleted rows", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `DELETE FROM records WHERE seq BETWEEN 3 AND 5`)
			exec(t, st.DB(), `DELETE FROM bodies WHERE seq BETWEEN 3 AND 5`)
		}, 3, "records 3 to 5 were deleted"},
		{"deleted first row", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `DELETE FROM records WHERE seq = 0`)
			exec(t, st.DB(), `DELETE FROM bodies WHERE seq = 0`)
		}, 0, "missing"},
		{"inserted row with renumbering", func(t *testing.T, st *sqlite.Store) {
			prev := readRecord(t, st, 4)
			exec(t, st.DB(), `UPDATE records SET seq = seq + 1000 WHERE seq >= 5`)
			exec(t, st.DB(), `UPDATE records SET seq = seq - 999 WHERE seq >= 1000`)
			forged := *prev
			forged.Seq, forged.Actor, forged.PrevHash = 5, "forger", record.EntryHash(prev)
			forged.BodyHash = record.Hash{}
			insert(t, st, &forged)
		}, 5, "inserted"},
		{"appended row that does not link", func(t *testing.T, st *sqlite.Store) {
			r := readRecord(t, st, logSize-1)
			r.Seq++
			r.PrevHash = record.Hash{1}
			r.BodyHash = record.Hash{}
			insert(t, st, r)
		}, logSize, "does not link"},
		{"swapped rows", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE records SET seq = -1 WHERE seq = 5`)
			exec(t, st.DB(), `UPDATE records SET seq = 5 WHERE seq = 6`)
			exec(t, st.DB(), `UPDATE records SET seq = 6 WHERE seq = -1`)
		}, 5, "out of place"},
		{"replayed record", func(t *testing.T, st *sqlite.Store) {
			r := readRecord(t, st, 3)
			r.Seq = logSize
			r.BodyHash = record.Hash{}
			insert(t, st, r)
		}, logSize, "out of place"},
		{"time runs backwards", func(t *testing.T, st *sqlite.Store) {
			// Rewrite the chain from 6 on consistently, with 6 in the past.
			prev := readRecord(t, st, 5)
			for seq := int64(6); seq < logSize; seq++ {
				r := readRecord(t, st, seq)
				if seq == 6 {
					r.Time = prev.Time - 1
				}
				r.PrevHash = record.EntryHash(prev)
				rewrite(t, st, seq, r)
				prev = r
			}
		}, 6, "time runs backwards"},
		{"altered body", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE bodies SET content = '{"prompt":"something else"}' WHERE seq = 8`)
		}, 8, "body altered"},
		{"deleted body", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `DELETE FROM bodies WHERE seq = 3`)
		}, 3, "body missing"},
		{"swapped bodies", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE bodies SET seq = -1 WHERE seq = 1`)
			exec(t, st.DB(), `UPDATE bodies SET seq = 1 WHERE seq = 2`)
			exec(t, st.DB(), `UPDATE bodies SET seq = 2 WHERE seq = -1`)
		}, 1, "body altered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c := buildLog(t)
			tt.tamper(t, st)
			rep, err := ledger.Verify(context.Background(), st, "main", ledger.VerifyOptions{Committer: c})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("Verify found nothing wrong")
			}
			first := rep.Problems[0]
			if first.Seq != tt.wantSeq || !strings.Contains(first.Cause, tt.cause) {
				t.Errorf("first problem = %v, want record %d: ...%s...\nall: %v", first, tt.wantSeq, tt.cause, rep.Problems)
			}
		})
	}
}

func TestVerifyIntact(t *testing.T) {
	st, c := buildLog(t)
	rep, err := ledger.Verify(context.Background(), st, "main", ledger.VerifyOptions{Committer: c})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != logSize || rep.Bodies != logSize {
		t.Fatalf("Verify = %+v, want intact", rep)
	}
	if want := record.EntryHash(readRecord(t, st, logSize-1)); rep.Head != want {
		t.Errorf("Head = %v, want %v", rep.Head, want)
	}
}

func TestErasure(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		do       func(t *testing.T, st *sqlite.Store, l *ledger.Ledger)
		wantSeq  int64 // -1: intact
		cause    string
		erased   int64
		warnings int
	}{
		{"erased per policy", func(t *testing.T, st *sqlite.Store, l *ledger.Ledger) {
			n, err := ledger.Erase(ctx, l, st, []int64{2, 3, 4}, record.Erasure{Policy: "redacted bodies: 365 days"}, "aitrail", "admin")
			if err != nil || n != 3 {
				t.Fatalf("Erase = %d, %v", n, err)
			}
		}, -1, "", 3, 0},
		{"erasure event naming the wrong record", func(t *testing.T, st *sqlite.Store, l *ledger.Ledger) {
			ev := record.NewEvent(record.KindErased, record.Erasure{Seqs: []int64{3}, Policy: "p"})
			if err := l.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
				t.Fatal(err)
			}
			exec(t, st.DB(), `DELETE FROM bodies WHERE seq = 2`)
		}, 2, "body missing", 0, 1},
		{"erasure event naming a later record", func(t *testing.T, st *sqlite.Store, l *ledger.Ledger) {
			ev := record.NewEvent(record.KindErased, record.Erasure{Seqs: []int64{99}, Policy: "p"})
			if err := l.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
				t.Fatal(err)
			}
		}, logSize, "does not precede it", 0, 0},
		{"erasure event naming a record without body", func(t *testing.T, st *sqlite.Store, l *ledger.Ledger) {
			ev := record.NewEvent(record.KindErased, record.Erasure{Seqs: []int64{logSize}, Policy: "p"})
			l.Append(ctx, &ledger.Entry{Record: record.NewEvent(record.KindHeartbeat, nil)})
			if err := l.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
				t.Fatal(err)
			}
		}, logSize + 1, "never had a body", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c := buildLog(t)
			l := ledger.New(st, "main", ledger.Options{})
			tt.do(t, st, l)
			l.Close()
			rep, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c, StoredTree: true})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSeq < 0 {
				if !rep.OK() {
					t.Fatalf("Verify found %v, want intact", rep.Problems)
				}
			} else if rep.OK() || rep.Problems[0].Seq != tt.wantSeq || !strings.Contains(rep.Problems[0].Cause, tt.cause) {
				t.Fatalf("Verify problems = %v, want record %d: ...%s...", rep.Problems, tt.wantSeq, tt.cause)
			}
			if rep.Erased != tt.erased || len(rep.Warnings) != tt.warnings {
				t.Errorf("Erased = %d, warnings %v; want %d and %d", rep.Erased, rep.Warnings, tt.erased, tt.warnings)
			}
		})
	}
}

// TestVerifyResume: a verification resumed from where an earlier one ended
// reads only the new records, agrees with a full one, and still catches
// tampering among the new records.
func TestVerifyResume(t *testing.T) {
	ctx := context.Background()
	st, c := buildLog(t)
	first, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c})
	if err != nil || !first.OK() {
		t.Fatalf("Verify = %v, %v", first, err)
	}
	l := ledger.New(st, "main", ledger.Options{})
	for i := 0; i < 7; i++ {
		if err := l.Append(ctx, entry(c, "bob", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	end := first.End
	resumed, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c, From: &end})
	if err != nil || !resumed.OK() {
		t.Fatalf("resumed Verify = %+v, %v", resumed, err)
	}
	full, _ := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c})
	if resumed.Records != 7 || resumed.Bodies != 7 || resumed.End != full.End {
		t.Errorf("resumed read %d records, %d bodies, ended at %+v; want 7, 7, %+v", resumed.Records, resumed.Bodies, resumed.End, full.End)
	}
	exec(t, st.DB(), `UPDATE records SET actor = 'mallory' WHERE seq = $1`, logSize+3)
	bad, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c, From: &end})
	if err != nil || bad.OK() || bad.Problems[0].Seq != logSize+3 {
		t.Errorf("resumed Verify after tampering = %+v, %v; want record %d named", bad, err, logSize+3)
	}
	// A change before the resume point makes resuming impossible, not silent.
	// (At size 10 the right edge is the subtrees [0,8) and [8,10).)
	exec(t, st.DB(), `UPDATE tree SET hash = $1 WHERE idx = $2`, make([]byte, 32), tlog.StoredHashIndex(3, 0))
	if _, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c, From: &end}); err == nil {
		t.Error("resuming over a changed tree did not fail")
	}
}

// checkpointedLog is buildLog with checkpoints signed at sizes 5 and 10.
func checkpointedLog(t *testing.T) (*sqlite.Store, *record.Committer, *ledger.Checkpointer) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	c := committer(t)
	cp, err := ledger.NewCheckpointer(st, "main", testSKey, testVKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(st, "main", ledger.Options{})
	for i := 0; i < logSize; i++ {
		if err := l.Append(ctx, entry(c, "alice", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if i == 4 || i == 9 {
			if _, err := cp.Sign(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	l.Close()
	return st, c, cp
}

func TestVerifyCheckpoints(t *testing.T) {
	ctx := context.Background()
	vs := func(t *testing.T) note.Verifiers {
		v, err := note.NewVerifier(testVKey)
		if err != nil {
			t.Fatal(err)
		}
		return note.VerifierList(v)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, st *sqlite.Store)
		wantSeq int64 // -1: intact
		cause   string
		covered int64
	}{
		{"intact", func(*testing.T, *sqlite.Store) {}, -1, "", logSize},
		{"records after the last checkpoint", func(t *testing.T, st *sqlite.Store) {
			l := ledger.New(st, "main", ledger.Options{})
			l.Append(ctx, entry(committer(t), "bob", "late"))
			l.Close()
		}, -1, "", logSize},
		{"consistent forgery", func(t *testing.T, st *sqlite.Store) {
			prev := readRecord(t, st, 6)
			prev.Actor = "mallory"
			rewrite(t, st, 6, prev)
			for seq := int64(7); seq < logSize; seq++ {
				r := readRecord(t, st, seq)
				r.PrevHash = record.EntryHash(prev)
				rewrite(t, st, seq, r)
				prev = r
			}
		}, 5, "differ from the stored checkpoint of size 10", 5},
		{"truncated below the last checkpoint", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `DELETE FROM records WHERE seq >= 8`)
			exec(t, st.DB(), `DELETE FROM bodies WHERE seq >= 8`)
		}, 8, "truncated or rolled back", 5},
		{"altered checkpoint text", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE checkpoints SET note = replace(note, X'0A31300A', X'0A31310A') WHERE size = 10`)
		}, 9, "does not verify", 5},
		{"checkpoint with a bad signature encoding", func(t *testing.T, st *sqlite.Store) {
			exec(t, st.DB(), `UPDATE checkpoints SET note = replace(note, X'E2809420', X'E2809420212121') WHERE size = 5`)
		}, 4, "does not verify", logSize},
		{"checkpoint signed by another key", func(t *testing.T, st *sqlite.Store) {
			skey, _, _ := ledger.GenerateSigningKey("aitrail/test/0001")
			signer, _ := note.NewSigner(skey)
			root, _ := tlog.TreeHash(10, ledger.StoreHashReader(ctx, st, "main"))
			msg, _ := note.Sign(&note.Note{Text: ledger.Checkpoint{Origin: signer.Name(), Size: 10, Root: root}.String()}, signer)
			exec(t, st.DB(), `UPDATE checkpoints SET note = $1 WHERE size = 10`, msg)
		}, 9, "does not verify", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, _ := checkpointedLog(t)
			tt.tamper(t, st)
			rep, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{Committer: c, Verifiers: vs(t)})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSeq < 0 {
				if !rep.OK() {
					t.Fatalf("Verify found %v, want intact", rep.Problems)
				}
			} else if rep.OK() || rep.Problems[0].Seq != tt.wantSeq || !strings.Contains(rep.Problems[0].Cause, tt.cause) {
				t.Fatalf("first problem = %v, want record %d: ...%s...", rep.Problems, tt.wantSeq, tt.cause)
			}
			if rep.Covered != tt.covered {
				t.Errorf("Covered = %d, want %d", rep.Covered, tt.covered)
			}
		})
	}
}

// TestCheckpointerRefusesInconsistency: a log whose past changed since the
// last checkpoint is never signed again.
func TestCheckpointerRefusesInconsistency(t *testing.T) {
	ctx := context.Background()
	st, c, cp := checkpointedLog(t)
	// The subtree [0,8), which every later tree hash is made of.
	exec(t, st.DB(), `UPDATE tree SET hash = $1 WHERE idx = $2`, make([]byte, 32), tlog.StoredHashIndex(3, 0))
	l := ledger.New(st, "main", ledger.Options{})
	l.Append(ctx, entry(c, "bob", "more"))
	l.Close()
	if _, err := cp.Sign(ctx); err == nil || !strings.Contains(err.Error(), "not consistent") {
		t.Fatalf("Sign over a changed past = %v, want a refusal", err)
	}
	cps, _ := st.Checkpoints(ctx, "main", 0)
	if len(cps) != 2 {
		t.Errorf("%d checkpoints stored, want still 2", len(cps))
	}
}

// TestVerifyTimeline: a silence longer than two heartbeats while a gateway
// ran is a warning; the same silence after a clean stop is not.
func TestVerifyTimeline(t *testing.T) {
	ctx := context.Background()
	type ev struct {
		kind  string
		after time.Duration // since the previous record
	}
	for _, tc := range []struct {
		name string
		evs  []ev
		want []int64 // records warned about
	}{
		{"running, silent", []ev{{record.KindGatewayStarted, 0}, {record.KindHeartbeat, 10 * time.Minute}}, []int64{1}},
		{"stopped, then silent", []ev{{record.KindGatewayStarted, 0}, {record.KindGatewayStopped, time.Second}, {record.KindGatewayStarted, 10 * time.Minute}}, nil},
		{"crashed, restarted", []ev{{record.KindGatewayStarted, 0}, {record.KindGatewayStarted, 10 * time.Minute}}, []int64{1}},
		{"heartbeats on time", []ev{{record.KindGatewayStarted, 0}, {record.KindHeartbeat, time.Minute}, {record.KindHeartbeat, time.Minute}, {record.KindHeartbeat, 61 * time.Second}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			now := time.Unix(1_800_000_000, 0)
			l := ledger.New(st, "main", ledger.Options{Now: func() time.Time { return now }})
			for _, e := range tc.evs {
				now = now.Add(e.after)
				if err := l.Append(ctx, &ledger.Entry{Record: record.NewEvent(e.kind, map[string]string{"heartbeat": "1m0s"})}); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			rep, err := ledger.Verify(ctx, st, "main", ledger.VerifyOptions{})
			if err != nil || !rep.OK() {
				t.Fatalf("Verify = %+v, %v", rep, err)
			}
			var got []int64
			for _, w := range rep.Warnings {
				got = append(got, w.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("warnings %v, want on records %v", rep.Warnings, tc.want)
			}
		})
	}
}

// purgeMidVerify is a store on which a purge runs while Verify reads: once
// Verify has read the records, and before it reads the bodies, the purge
// appends its erasure event (after the records read) and deletes a body.
type purgeMidVerify struct {
	*sqlite.Store
	purge func()
	done  bool
}

func (s *purgeMidVerify) ScanBodies(ctx context.Context, logID string, from int64, fn func(int64, []byte) error) error {
	if !s.done {
		s.done = true
		s.purge()
	}
	return s.Store.ScanBodies(ctx, logID, from, fn)
}

// TestVerifyDuringPurge: Verify reads erasure events appended after the
// records it read, so a purge running meanwhile is no tampering; a body
// deleted meanwhile without an event still is.
func TestVerifyDuringPurge(t *testing.T) {
	ctx := context.Background()
	for _, withEvent := range []bool{true, false} {
		t.Run(fmt.Sprint("event=", withEvent), func(t *testing.T) {
			st, c := buildLog(t)
			s := &purgeMidVerify{Store: st, purge: func() {
				l := ledger.New(st, "main", ledger.Options{})
				defer l.Close()
				if withEvent {
					if _, err := ledger.Erase(ctx, l, st, []int64{4}, record.Erasure{Policy: "redacted bodies: 1y"}, "aitrail", "admin"); err != nil {
						t.Fatal(err)
					}
					return
				}
				exec(t, st.DB(), `DELETE FROM bodies WHERE seq = 4`)
			}}
			rep, err := ledger.Verify(ctx, s, "main", ledger.VerifyOptions{Committer: c})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Records != logSize {
				t.Fatalf("Verify read %d records, want the %d there were before the purge", rep.Records, logSize)
			}
			switch {
			case withEvent && (!rep.OK() || rep.Erased != 1):
				t.Errorf("Verify = problems %v, erased %d; want intact with 1 body erased per policy", rep.Problems, rep.Erased)
			case !withEvent && (rep.OK() || rep.Problems[0].Seq != 4 || !strings.Contains(rep.Problems[0].Cause, "body missing")):
				t.Errorf("Verify problems = %v, want record 4's body missing", rep.Problems)
			}
		})
	}
}

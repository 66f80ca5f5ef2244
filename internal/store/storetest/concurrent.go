package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// testConcurrentAppend calls Append from many goroutines at once, each
// build continuing the head it reads: they must see each other's writes.
func testConcurrentAppend(t *testing.T, open func() store.Store) {
	st := open()
	const writers, each = 8, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range each {
				err := st.Append(t.Context(), "log", func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
					h, err := tx.Head(ctx)
					if err != nil {
						return nil, err
					}
					return &store.Batch{Records: chain("log", h, 1+w%2)}, nil
				})
				if err != nil {
					t.Errorf("writer %d: Append: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkLog(t, st, "log", writers*each+writers/2*each, nil)
}

// testConcurrentLedger appends through a ledger from many goroutines.
func testConcurrentLedger(t *testing.T, open func() store.Store) {
	st := open()
	c := newCommitter(t)
	l := ledger.New(st, "log", ledger.Options{})
	n := appendConcurrently(t, l, c, 16, 20)
	l.Close()
	checkLog(t, st, "log", n, c)
	checkTree(t, st, "log")
}

// testTwoHandles appends to one log through two ledgers on two handles of
// one database, as two gateway processes or nodes would: writers must be
// serialised across handles, so that neither ledger builds on a stale head.
func testTwoHandles(t *testing.T, open func() store.Store) {
	st1, st2 := open(), open()
	c := newCommitter(t)
	l1 := ledger.New(st1, "log", ledger.Options{})
	l2 := ledger.New(st2, "log", ledger.Options{})
	var n1, n2 int
	var wg sync.WaitGroup
	wg.Go(func() { n1 = appendConcurrently(t, l1, c, 8, 20) })
	wg.Go(func() { n2 = appendConcurrently(t, l2, c, 8, 20) })
	wg.Wait()
	l1.Close()
	l2.Close()
	checkLog(t, st1, "log", n1+n2, c)
	checkTree(t, st2, "log")
	if h1, h2 := head(t, st1, "log"), head(t, st2, "log"); h1 != h2 {
		t.Errorf("the two handles see different heads: %+v and %+v", h1, h2)
	}

	// What one handle writes outside the log, the other reads.
	k := store.Key{ID: "k", Hash: hashOf("k"), Actor: "alice", Role: "admin", CreatedAt: 1, CreatedBy: "root"}
	if err := st1.CreateKey(t.Context(), k); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if got, err := st2.Key(t.Context(), "k"); err != nil || got != k {
		t.Errorf("Key through the other handle = %+v, %v; want %+v", got, err, k)
	}
}

func newCommitter(t *testing.T) *record.Committer {
	t.Helper()
	key := make([]byte, record.KeySize)
	rand.Read(key)
	c, err := record.NewCommitter(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appendConcurrently appends through l from goroutines goroutines, each
// calling Append calls times, every third call with two entries that must
// land next to each other. It returns the number of entries appended.
func appendConcurrently(t *testing.T, l *ledger.Ledger, c *record.Committer, goroutines, calls int) int {
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				var entries []*ledger.Entry
				for j := range 1 + min(i%3, 1) {
					body := fmt.Appendf(nil, "goroutine %d, call %d, entry %d", g, i, j)
					r := &record.Record{
						Kind:       record.KindRequest,
						Actor:      fmt.Sprint("actor-", g),
						Status:     record.StatusPending,
						RequestSeq: -1,
						TokensIn:   -1,
						TokensOut:  -1,
						Nonce:      record.NewNonce(),
					}
					r.BodyHash = c.Commit(r.Nonce, record.LabelBody, body)
					entries = append(entries, &ledger.Entry{Record: r, Body: body})
				}
				if err := l.Append(t.Context(), entries...); err != nil {
					t.Errorf("goroutine %d: Append: %v", g, err)
					return
				}
				for j := 1; j < len(entries); j++ {
					if a, b := entries[j-1].Record.Seq, entries[j].Record.Seq; b != a+1 {
						t.Errorf("goroutine %d: entries of one Append got seqs %d and %d", g, a, b)
					}
				}
				mu.Lock()
				n += len(entries)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return n
}

// checkLog checks that the log holds records 0 to n-1 forming a valid chain
// and, if c is not nil, that their bodies match their commitments.
func checkLog(t *testing.T, st store.Store, logID string, n int, c *record.Committer) {
	t.Helper()
	rep, err := ledger.Verify(t.Context(), st, logID, ledger.VerifyOptions{Committer: c})
	if err != nil {
		t.Fatalf("Verify(%q): %v", logID, err)
	}
	if !rep.OK() {
		for i, p := range rep.Problems {
			if i == 10 {
				t.Errorf("... and %d more problems", len(rep.Problems)-i)
				break
			}
			t.Errorf("Verify(%q): %v", logID, p)
		}
	}
	if rep.Records != int64(n) {
		t.Errorf("Verify(%q) read %d records, want %d", logID, rep.Records, n)
	}
	if c != nil && rep.Bodies != int64(n) {
		t.Errorf("Verify(%q) checked %d bodies, want %d", logID, rep.Bodies, n)
	}
	recs := scanAll(t, st, logID, 0)
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("Scan(%q): record %d has Seq %d: the sequence has gaps or repeats", logID, i, r.Seq)
		}
	}
	if h := head(t, st, logID); len(recs) > 0 && h != headOf(recs[len(recs)-1]) {
		t.Errorf("Head(%q) = %+v, want %+v", logID, h, headOf(recs[len(recs)-1]))
	}
}

// checkTree checks that the stored tree hashes of a log written by a ledger
// are those of its records.
func checkTree(t *testing.T, st store.Store, logID string) {
	t.Helper()
	recs := scanAll(t, st, logID, 0)
	var want []tlog.Hash
	mem := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			out[i] = want[idx]
		}
		return out, nil
	})
	for _, r := range recs {
		hs, err := tlog.StoredHashes(r.Seq, record.Encode(r), mem)
		if err != nil {
			t.Fatalf("StoredHashes(%d): %v", r.Seq, err)
		}
		want = append(want, hs...)
	}
	indexes := make([]int64, len(want))
	for i := range indexes {
		indexes[i] = int64(i)
	}
	got, err := st.ReadHashes(t.Context(), logID, indexes)
	if err != nil {
		t.Fatalf("ReadHashes(%q, all %d): %v", logID, len(indexes), err)
	}
	for i := range want {
		if record.Hash(want[i]) != got[i] {
			t.Errorf("tree hash %d of log %q = %v, want %v", i, logID, got[i], want[i])
			break
		}
	}
}

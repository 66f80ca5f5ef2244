package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

func bodyOf(k int64) []byte { return fmt.Appendf(nil, "body of entry %d", k) }

func piiMAC(k int64) record.Hash { return hashOf(fmt.Sprintf("user%d@example.com", k%7)) }

// ledgerLog appends entries first to first+n-1 to a log through a ledger,
// in groups of one to three, each with a body and a PII entry, and returns
// the records the ledger made. Entry k becomes record k when first is the
// log's length.
func ledgerLog(t *testing.T, st store.Store, logID string, first, n int64) []*record.Record {
	t.Helper()
	l := ledger.New(st, logID, ledger.Options{})
	defer l.Close()
	var out []*record.Record
	for k := first; k < first+n; {
		var entries []*ledger.Entry
		for j := int64(0); j <= k%3 && k < first+n; j++ {
			r := &record.Record{
				Kind:       record.KindRequest,
				Actor:      fmt.Sprint("actor-", k%5),
				Status:     record.StatusPending,
				RequestSeq: -1,
				TokensIn:   -1,
				TokensOut:  -1,
				Nonce:      record.NewNonce(),
			}
			entries = append(entries, &ledger.Entry{Record: r, Body: bodyOf(k),
				PII: []store.PIIEntry{{Type: "EMAIL", MAC: piiMAC(k)}}})
			k++
		}
		if err := l.Append(t.Context(), entries...); err != nil {
			t.Fatalf("ledger Append: %v", err)
		}
		for _, e := range entries {
			out = append(out, e.Record)
		}
	}
	return out
}

// countHashes returns how many of the tree hashes 0 to n-1 of a log are
// stored.
func countHashes(t *testing.T, st store.Store, logID string, n int64) int64 {
	t.Helper()
	var found int64
	for idx := range n {
		_, err := st.ReadHashes(t.Context(), logID, []int64{idx})
		switch {
		case err == nil:
			found++
		case !errors.Is(err, store.ErrNotFound):
			t.Fatalf("ReadHashes(%q, %d): %v", logID, idx, err)
		}
	}
	return found
}

// cachedHashReader reads a log's tree hashes from st, each once.
func cachedHashReader(t *testing.T, st store.Store, logID string) tlog.HashReader {
	hr := ledger.StoreHashReader(t.Context(), st, logID)
	cache := map[int64]tlog.Hash{}
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		var miss []int64
		for _, idx := range indexes {
			if _, ok := cache[idx]; !ok {
				miss = append(miss, idx)
			}
		}
		if len(miss) > 0 {
			hs, err := hr.ReadHashes(miss)
			if err != nil {
				return nil, err
			}
			for i, idx := range miss {
				cache[idx] = hs[i]
			}
		}
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			out[i] = cache[idx]
		}
		return out, nil
	})
}

// memRoot returns the Merkle root of recs, computed in memory.
func memRoot(t *testing.T, recs []*record.Record) tlog.Hash {
	t.Helper()
	var hashes []tlog.Hash
	mem := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			out[i] = hashes[idx]
		}
		return out, nil
	})
	for i, r := range recs {
		hs, err := tlog.StoredHashes(int64(i), record.Encode(r), mem)
		if err != nil {
			t.Fatalf("StoredHashes(%d): %v", i, err)
		}
		hashes = append(hashes, hs...)
	}
	root, err := tlog.TreeHash(int64(len(recs)), mem)
	if err != nil {
		t.Fatalf("TreeHash(%d): %v", len(recs), err)
	}
	return root
}

// pruneAll calls PruneBefore, then PruneTree, until each returns 0, and
// returns how many records it deleted.
func pruneAll(t *testing.T, st store.Store, logID string, limit int) int64 {
	t.Helper()
	var total int64
	for _, step := range []struct {
		name  string
		prune func(context.Context, string, int) (int64, error)
	}{{"PruneBefore", st.PruneBefore}, {"PruneTree", st.PruneTree}} {
		for calls := 0; ; calls++ {
			if calls > 1000 {
				t.Fatalf("%s(%q, %d) did not return 0 after %d calls", step.name, logID, limit, calls)
			}
			n, err := step.prune(t.Context(), logID, limit)
			if err != nil {
				t.Fatalf("%s(%q, %d): %v", step.name, logID, limit, err)
			}
			if n > int64(limit) {
				t.Errorf("%s(%q, %d) = %d, more than the limit", step.name, logID, limit, n)
			}
			if n == 0 {
				break
			}
			if step.name == "PruneBefore" {
				total += n
			}
		}
	}
	return total
}

// testPruneBefore prunes a log written by a ledger and checks that what is
// left is whole: the records from the base on, their bodies and index
// entries, and a tree from which every proof about them can still be made.
func testPruneBefore(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	const n, base = 100, 37
	if k, err := st.PruneBefore(ctx, "log", 10); err != nil || k != 0 {
		t.Errorf("PruneBefore of a log without a base = %d, %v; want 0", k, err)
	}
	recs := ledgerLog(t, st, "log", 0, n)
	appendBatch(t, st, "other", &store.Batch{Records: chain("other", store.Head{Seq: -1}, 5),
		Bodies: []store.Body{{Seq: 0, Content: []byte("other")}},
		PII:    []store.PIIEntry{{Seq: 0, Type: "EMAIL", MAC: piiMAC(0)}}})
	for _, size := range []int64{10, 20, 36, 37, 50, 64, 100} {
		if err := st.AddCheckpoint(ctx, "log", store.Checkpoint{Size: size, Time: size, Note: fmt.Appendf(nil, "checkpoint %d\n", size)}); err != nil {
			t.Fatalf("AddCheckpoint(%d): %v", size, err)
		}
	}
	if err := st.AddCheckpoint(ctx, "other", store.Checkpoint{Size: 3, Time: 3, Note: []byte("other\n")}); err != nil {
		t.Fatalf("AddCheckpoint(other): %v", err)
	}
	var zero store.RetentionMark
	var bodiesDs, recordsDs []store.Deferred
	for seq := int64(0); seq < 60; seq += 3 {
		bodiesDs = append(bodiesDs, store.Deferred{Seq: seq, Due: seq})
	}
	for seq := int64(30); seq < 45; seq++ {
		recordsDs = append(recordsDs, store.Deferred{Seq: seq, Due: 1})
	}
	advance(t, st, "log", "bodies", zero, store.RetentionMark{Next: 60, Policy: "p"}, bodiesDs, nil)
	advance(t, st, "log", "records", zero, store.RetentionMark{Next: 45, Policy: "p"}, recordsDs, nil)
	advance(t, st, "other", "bodies", zero, store.RetentionMark{Next: 5, Policy: "p"}, []store.Deferred{{Seq: 0, Due: 1}}, nil)

	// What proofs must still show after pruning.
	hr := ledger.StoreHashReader(ctx, st, "log")
	var roots [n + 1]tlog.Hash
	for size := int64(base); size <= n; size++ {
		var err error
		if roots[size], err = tlog.TreeHash(size, hr); err != nil {
			t.Fatalf("TreeHash(%d): %v", size, err)
		}
	}
	stored := tlog.StoredHashCount(n)
	if got := countHashes(t, st, "log", stored); got != stored {
		t.Fatalf("%d tree hashes stored for %d records, want %d", got, n, stored)
	}
	h := head(t, st, "log")

	if _, err := st.PruneBefore(ctx, "log", 0); err == nil {
		t.Errorf("PruneBefore with limit 0 succeeded, want an error")
	}
	if _, err := st.PruneTree(ctx, "log", 0); err == nil {
		t.Errorf("PruneTree with limit 0 succeeded, want an error")
	}
	b := store.Base{Size: base, Head: record.EntryHash(recs[base-1]), Time: recs[base-1].Time, Checkpoint: []byte("checkpoint 37\n")}
	if err := st.SetBase(ctx, "log", b); err != nil {
		t.Fatalf("SetBase(%d): %v", base, err)
	}
	if total := pruneAll(t, st, "log", 10); total != base {
		t.Errorf("PruneBefore deleted %d records in all, want %d", total, base)
	}
	if k, err := st.PruneBefore(ctx, "log", 10); err != nil || k != 0 {
		t.Errorf("PruneBefore of a pruned log = %d, %v; want 0", k, err)
	}
	if k, err := st.PruneTree(ctx, "log", 10); err != nil || k != 0 {
		t.Errorf("PruneTree of a pruned log = %d, %v; want 0", k, err)
	}

	// Records, bodies, index and deferred entries.
	if got := scanAll(t, st, "log", 0); !reflect.DeepEqual(got, recs[base:]) {
		t.Errorf("after pruning, Scan from 0 = records %v, want %d to %d as they were", seqs(got), base, n-1)
	}
	if got := head(t, st, "log"); got != h {
		t.Errorf("after pruning, Head = %+v, want %+v", got, h)
	}
	var bodies []int64
	err := st.ScanBodies(ctx, "log", 0, func(seq int64, content []byte) error {
		if want := bodyOf(seq); !bytes.Equal(content, want) {
			t.Errorf("after pruning, body %d = %q, want %q", seq, content, want)
		}
		bodies = append(bodies, seq)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanBodies: %v", err)
	}
	if want := seqs(recs[base:]); !slices.Equal(bodies, want) {
		t.Errorf("after pruning, ScanBodies reported bodies %v, want %v", bodies, want)
	}
	for m := range int64(7) {
		var want []store.PIIRef
		for k := int64(base); k < n; k++ {
			if k%7 == m {
				want = append(want, store.PIIRef{LogID: "log", Seq: k, Type: "EMAIL"})
			}
		}
		if m == 0 {
			want = append(want, store.PIIRef{LogID: "other", Seq: 0, Type: "EMAIL"})
		}
		if got, err := st.FindPII(ctx, "EMAIL", piiMAC(m)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after pruning, FindPII(user%d) = %v, %v; want %v", m, got, err, want)
		}
	}
	from := func(ds []store.Deferred, seq int64) []store.Deferred {
		return slices.DeleteFunc(slices.Clone(ds), func(d store.Deferred) bool { return d.Seq < seq })
	}
	if got, want := deferredAll(t, st, "log", "bodies"), from(bodiesDs, base); !slices.Equal(got, want) {
		t.Errorf("after pruning, deferred of bodies = %v, want %v", got, want)
	}
	if got, want := deferredAll(t, st, "log", "records"), from(recordsDs, base); !slices.Equal(got, want) {
		t.Errorf("after pruning, deferred of records = %v, want %v", got, want)
	}
	if got, err := st.Base(ctx, "log"); err != nil || !reflect.DeepEqual(got, b) {
		t.Errorf("after pruning, Base = %+v, %v; want %+v", got, err, b)
	}

	// Checkpoints.
	cps, err := st.Checkpoints(ctx, "log", 0)
	if err != nil {
		t.Fatalf("Checkpoints: %v", err)
	}
	var sizes []int64
	for _, c := range cps {
		sizes = append(sizes, c.Size)
	}
	if want := []int64{37, 50, 64, 100}; !slices.Equal(sizes, want) {
		t.Errorf("after pruning, checkpoints of sizes %v, want %v", sizes, want)
	}

	// Another log is untouched.
	if got := seqs(scanAll(t, st, "other", 0)); len(got) != 5 {
		t.Errorf("pruning a log changed another: Scan(other) = %v", got)
	}
	if _, err := st.Body(ctx, "other", 0); err != nil {
		t.Errorf("pruning a log changed another: Body(other, 0): %v", err)
	}
	if cps, err := st.Checkpoints(ctx, "other", 0); err != nil || len(cps) != 1 {
		t.Errorf("pruning a log changed another: Checkpoints(other) = %v, %v", cps, err)
	}
	if got := deferredAll(t, st, "other", "bodies"); len(got) != 1 {
		t.Errorf("pruning a log changed another: deferred = %v", got)
	}

	// The tree: fewer hashes, and every proof from the base on.
	want := stored - tlog.StoredHashIndex(0, base) + int64(bits.OnesCount64(base))
	if got := countHashes(t, st, "log", stored); got != want {
		t.Errorf("after pruning, %d tree hashes stored, want %d (of %d)", got, want, stored)
	}
	chr := cachedHashReader(t, st, "log")
	for size := int64(base); size <= n; size++ {
		if root, err := tlog.TreeHash(size, chr); err != nil || root != roots[size] {
			t.Errorf("after pruning, TreeHash(%d) = %v, %v; want %v", size, root, err, roots[size])
		}
	}
	for size := int64(base + 1); size <= n; size++ {
		for i := int64(base); i < size; i++ {
			p, err := tlog.ProveRecord(size, i, chr)
			if err != nil {
				t.Fatalf("after pruning, ProveRecord(%d, %d): %v", size, i, err)
			}
			if err := tlog.CheckRecord(p, size, roots[size], i, tlog.RecordHash(record.Encode(recs[i]))); err != nil {
				t.Fatalf("after pruning, CheckRecord(%d, %d): %v", size, i, err)
			}
		}
	}
	for size := int64(base); size <= n; size++ {
		for old := int64(base); old <= size; old++ {
			p, err := tlog.ProveTree(size, old, chr)
			if err != nil {
				t.Fatalf("after pruning, ProveTree(%d, %d): %v", size, old, err)
			}
			if err := tlog.CheckTree(p, size, roots[size], old, roots[old]); err != nil {
				t.Fatalf("after pruning, CheckTree(%d, %d): %v", size, old, err)
			}
		}
	}

	// The log goes on: a new ledger extends the pruned tree.
	all := append(slices.Clone(recs), ledgerLog(t, st, "log", n, 20)...)
	size := int64(len(all))
	hr = ledger.StoreHashReader(ctx, st, "log")
	root, err := tlog.TreeHash(size, hr)
	if want := memRoot(t, all); err != nil || root != want {
		t.Fatalf("after appending to a pruned log, TreeHash(%d) = %v, %v; want %v", size, root, err, want)
	}
	p, err := tlog.ProveTree(size, n, hr)
	if err == nil {
		err = tlog.CheckTree(p, size, root, n, roots[n])
	}
	if err != nil {
		t.Errorf("after appending to a pruned log, consistency of %d with %d: %v", size, n, err)
	}
}

// testPruneAll prunes a log to its end: its head stays, and appends go on
// from it.
func testPruneAll(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	const n = 20
	recs := ledgerLog(t, st, "log", 0, n)
	h := head(t, st, "log")
	root, err := tlog.TreeHash(n, ledger.StoreHashReader(ctx, st, "log"))
	if err != nil {
		t.Fatalf("TreeHash(%d): %v", n, err)
	}
	b := store.Base{Size: n, Head: h.EntryHash, Time: h.Time}
	if err := st.SetBase(ctx, "log", b); err != nil {
		t.Fatalf("SetBase(%d): %v", n, err)
	}
	if total := pruneAll(t, st, "log", 7); total != n {
		t.Errorf("PruneBefore deleted %d records in all, want %d", total, n)
	}
	if got := scanAll(t, st, "log", 0); len(got) != 0 {
		t.Errorf("after pruning the whole log, Scan = %v, want nothing", seqs(got))
	}
	if got := head(t, st, "log"); got != h {
		t.Errorf("after pruning the whole log, Head = %+v, want the base's %+v", got, h)
	}
	if err := st.SetBase(ctx, "log", store.Base{Size: n + 1}); err == nil {
		t.Errorf("SetBase past the end of a pruned log succeeded, want an error")
	}

	more := ledgerLog(t, st, "log", n, 5)
	if r := more[0]; r.Seq != n || r.PrevHash != h.EntryHash {
		t.Errorf("first record after pruning the whole log has Seq %d and PrevHash %v, want %d and %v", r.Seq, r.PrevHash, n, h.EntryHash)
	}
	all := append(slices.Clone(recs), more...)
	hr := ledger.StoreHashReader(ctx, st, "log")
	got, err := tlog.TreeHash(int64(len(all)), hr)
	if want := memRoot(t, all); err != nil || got != want {
		t.Fatalf("after appending to a pruned log, TreeHash(%d) = %v, %v; want %v", len(all), got, err, want)
	}
	p, err := tlog.ProveTree(int64(len(all)), n, hr)
	if err == nil {
		err = tlog.CheckTree(p, int64(len(all)), got, n, root)
	}
	if err != nil {
		t.Errorf("after appending to a pruned log, consistency of %d with %d: %v", len(all), n, err)
	}
	if got := seqs(scanAll(t, st, "log", 0)); !slices.Equal(got, []int64{20, 21, 22, 23, 24}) {
		t.Errorf("Scan = %v, want [20 21 22 23 24]", got)
	}
}

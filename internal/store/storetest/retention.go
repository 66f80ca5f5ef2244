package storetest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/aitrail/aitrail/internal/store"
)

func testHolds(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	if hs, err := st.Holds(ctx); err != nil || len(hs) != 0 {
		t.Fatalf("Holds of an empty store = %+v, %v; want none", hs, err)
	}
	holds := []store.Hold{
		{ID: "h2", Reason: "matter 4711 — Müller v. Acme ✓", Actor: "alice@example.com", Session: "sess-1",
			Model: "llama3.2:1b", Since: 1_760_000_000_000_000_000, Until: 1_770_000_000_000_000_000,
			Text: "Projekt Zürich", Expires: math.MaxInt64, CreatedAt: 200, CreatedBy: "legal"},
		{ID: "h1", Reason: "everything", CreatedAt: 200, CreatedBy: "root"},
		{ID: "h0", Reason: "before 1970", Since: -5, Until: -1, CreatedAt: 100, CreatedBy: "root"},
	}
	for _, h := range holds {
		if err := st.AddHold(ctx, h); err != nil {
			t.Fatalf("AddHold(%s): %v", h.ID, err)
		}
	}
	dup := holds[0]
	dup.Reason = "overwritten"
	if err := st.AddHold(ctx, dup); err == nil {
		t.Errorf("AddHold of an existing id succeeded, want an error")
	}
	// Oldest first; ties in id order.
	want := []store.Hold{holds[2], holds[1], holds[0]}
	if got, err := st.Holds(ctx); err != nil || !slices.Equal(got, want) {
		t.Errorf("Holds = %+v, %v; want %+v", got, err, want)
	}

	if err := st.ReleaseHold(ctx, "h2", 300, "bob", "case closed"); err != nil {
		t.Fatalf("ReleaseHold(h2): %v", err)
	}
	want[2].ReleasedAt, want[2].ReleasedBy, want[2].ReleaseReason = 300, "bob", "case closed"
	if err := st.ReleaseHold(ctx, "h2", 400, "carol", "again"); !errors.Is(err, store.ErrReleased) {
		t.Errorf("ReleaseHold of a released hold: error %v, want one wrapping store.ErrReleased", err)
	}
	wantNotFound(t, "ReleaseHold of an unknown id", st.ReleaseHold(ctx, "nope", 500, "bob", ""))
	if got, err := st.Holds(ctx); err != nil || !slices.Equal(got, want) {
		t.Errorf("Holds after releasing h2 = %+v, %v; want %+v", got, err, want)
	}
}

// deferredAll returns every deferred record of a layer.
func deferredAll(t *testing.T, st store.Store, logID, layer string) []store.Deferred {
	t.Helper()
	ds, err := st.DeferredDue(t.Context(), logID, layer, math.MaxInt64, math.MinInt64, 0)
	if err != nil {
		t.Fatalf("DeferredDue(%q, %q): %v", logID, layer, err)
	}
	if ds == nil {
		ds = []store.Deferred{}
	}
	return ds
}

func mark(t *testing.T, st store.Store, logID, layer string) store.RetentionMark {
	t.Helper()
	m, err := st.RetentionMark(t.Context(), logID, layer)
	if err != nil {
		t.Fatalf("RetentionMark(%q, %q): %v", logID, layer, err)
	}
	return m
}

func advance(t *testing.T, st store.Store, logID, layer string, old, next store.RetentionMark, deferred []store.Deferred, done []int64) bool {
	t.Helper()
	ok, err := st.AdvanceRetention(t.Context(), logID, layer, old, next, deferred, done)
	if err != nil {
		t.Fatalf("AdvanceRetention(%q, %q, %+v, %+v): %v", logID, layer, old, next, err)
	}
	return ok
}

func testRetentionMarks(t *testing.T, open func() store.Store) {
	st := open()
	var zero store.RetentionMark
	if m := mark(t, st, "log", "bodies"); m != zero {
		t.Errorf("RetentionMark before any purge = %+v, want the zero mark", m)
	}
	check := func(when string, m store.RetentionMark, ds []store.Deferred) {
		t.Helper()
		if got := mark(t, st, "log", "bodies"); got != m {
			t.Errorf("%s: RetentionMark = %+v, want %+v", when, got, m)
		}
		if got := deferredAll(t, st, "log", "bodies"); !slices.Equal(got, ds) {
			t.Errorf("%s: deferred = %v, want %v", when, got, ds)
		}
	}

	p1 := store.RetentionMark{Next: 10, Policy: "bodies: 30d"}
	if !advance(t, st, "log", "bodies", zero, p1, []store.Deferred{{Seq: 7, Due: 900}, {Seq: 3, Due: 500}, {Seq: 5, Due: 700}}, nil) {
		t.Fatalf("AdvanceRetention from the zero mark failed")
	}
	ds := []store.Deferred{{Seq: 3, Due: 500}, {Seq: 5, Due: 700}, {Seq: 7, Due: 900}}
	check("after the first purge", p1, ds)
	for _, other := range [][2]string{{"log", "records"}, {"other", "bodies"}} {
		if m := mark(t, st, other[0], other[1]); m != zero {
			t.Errorf("RetentionMark(%q, %q) = %+v after purging another layer, want the zero mark", other[0], other[1], m)
		}
		if got := deferredAll(t, st, other[0], other[1]); len(got) != 0 {
			t.Errorf("deferred of (%q, %q) = %v after purging another layer, want none", other[0], other[1], got)
		}
	}

	// A stale old mark changes nothing, whatever else the call asks.
	for _, old := range []store.RetentionMark{zero, {Next: 10, Policy: "other"}, {Next: 9, Policy: p1.Policy}} {
		if advance(t, st, "log", "bodies", old, store.RetentionMark{Next: 20, Policy: "new"}, []store.Deferred{{Seq: 3, Due: 1}, {Seq: 12, Due: 1}}, []int64{5}) {
			t.Errorf("AdvanceRetention from the stale mark %+v succeeded", old)
		}
	}
	check("after failed purges", p1, ds)

	// The same policy: defer adds or replaces Due (the last of a seq
	// wins), done removes.
	p2 := store.RetentionMark{Next: 20, Policy: p1.Policy}
	if !advance(t, st, "log", "bodies", p1, p2, []store.Deferred{{Seq: 5, Due: 1000}, {Seq: 12, Due: 800}, {Seq: 12, Due: 850}}, []int64{3, 99}) {
		t.Fatalf("AdvanceRetention(p1, p2) failed")
	}
	ds = []store.Deferred{{Seq: 5, Due: 1000}, {Seq: 7, Due: 900}, {Seq: 12, Due: 850}}
	check("after the second purge", p2, ds)

	// A new policy makes every deferred record due before defer applies.
	p3 := store.RetentionMark{Next: 30, Policy: "bodies: 7d"}
	if !advance(t, st, "log", "bodies", p2, p3, []store.Deferred{{Seq: 7, Due: 1200}, {Seq: 25, Due: 1300}}, []int64{12}) {
		t.Fatalf("AdvanceRetention(p2, p3) failed")
	}
	ds = []store.Deferred{{Seq: 5, Due: 0}, {Seq: 7, Due: 1200}, {Seq: 25, Due: 1300}}
	check("after a change of policy", p3, ds)

	// Long lists, past any limit on parameters.
	var many []store.Deferred
	var manySeqs []int64
	for seq := int64(1000); seq < 4000; seq++ {
		many = append(many, store.Deferred{Seq: seq, Due: seq * 10})
		manySeqs = append(manySeqs, seq)
	}
	p4 := store.RetentionMark{Next: 4000, Policy: p3.Policy}
	if !advance(t, st, "log", "bodies", p3, p4, many, nil) {
		t.Fatalf("AdvanceRetention(p3, p4) failed")
	}
	check("after deferring 3000 records", p4, append(slices.Clone(ds), many...))
	p5 := store.RetentionMark{Next: 5000, Policy: p3.Policy}
	if !advance(t, st, "log", "bodies", p4, p5, nil, manySeqs) {
		t.Fatalf("AdvanceRetention(p4, p5) failed")
	}
	check("after removing 3000 records", p5, ds)

	// A stored zero mark is the zero mark too.
	if !advance(t, st, "log", "records", zero, zero, []store.Deferred{{Seq: 1, Due: 1}}, nil) {
		t.Fatalf("AdvanceRetention(zero, zero) failed")
	}
	if !advance(t, st, "log", "records", zero, store.RetentionMark{Next: 5, Policy: ""}, nil, nil) {
		t.Errorf("AdvanceRetention from a stored zero mark failed")
	}
	if m := mark(t, st, "log", "records"); m != (store.RetentionMark{Next: 5}) {
		t.Errorf("RetentionMark(log, records) = %+v, want {Next: 5}", m)
	}
	if got := deferredAll(t, st, "log", "records"); !slices.Equal(got, []store.Deferred{{Seq: 1, Due: 1}}) {
		t.Errorf("deferred of (log, records) = %v, want [{1 1}]", got)
	}
}

// testAdvanceConcurrently moves one mark from many goroutines on two
// handles, each from the mark it read: exactly one move from each mark may
// succeed.
func testAdvanceConcurrently(t *testing.T, open func() store.Store) {
	handles := []store.Store{open(), open()}
	const goroutines, tries = 8, 12
	var mu sync.Mutex
	moved := 0
	var wg sync.WaitGroup
	for g := range goroutines {
		st := handles[g%2]
		wg.Go(func() {
			for range tries {
				old, err := st.RetentionMark(t.Context(), "log", "bodies")
				if err != nil {
					t.Errorf("RetentionMark: %v", err)
					return
				}
				next := store.RetentionMark{Next: old.Next + 1, Policy: "p"}
				ok, err := st.AdvanceRetention(t.Context(), "log", "bodies", old, next, []store.Deferred{{Seq: old.Next, Due: int64(g)}}, nil)
				if err != nil {
					t.Errorf("AdvanceRetention(%+v, %+v): %v", old, next, err)
					return
				}
				if ok {
					mu.Lock()
					moved++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if moved == 0 {
		t.Fatal("no AdvanceRetention succeeded")
	}
	st := handles[0]
	if m := mark(t, st, "log", "bodies"); m != (store.RetentionMark{Next: int64(moved), Policy: "p"}) {
		t.Errorf("RetentionMark = %+v after %d successful moves by one, want {Next: %d}", m, moved, moved)
	}
	ds := deferredAll(t, st, "log", "bodies")
	if len(ds) != moved {
		t.Errorf("%d deferred records after %d successful moves, want as many", len(ds), moved)
	}
	for i, d := range ds {
		if d.Seq != int64(i) {
			t.Errorf("deferred record %d has Seq %d", i, d.Seq)
			break
		}
	}
}

func testDeferredDue(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	var ds []store.Deferred
	for seq := int64(20); seq >= 1; seq-- {
		ds = append(ds, store.Deferred{Seq: seq, Due: (seq % 4) * 100})
	}
	if !advance(t, st, "log", "bodies", store.RetentionMark{}, store.RetentionMark{Next: 21, Policy: "p"}, ds, nil) {
		t.Fatal("AdvanceRetention failed")
	}
	due := func(after, due int64) []store.Deferred {
		var out []store.Deferred
		for seq := after + 1; seq <= 20; seq++ {
			if d := (store.Deferred{Seq: seq, Due: (seq % 4) * 100}); seq >= 1 && d.Due <= due {
				out = append(out, d)
			}
		}
		return out
	}
	for _, tt := range []struct {
		due, after int64
		limit      int
		want       []store.Deferred
	}{
		{150, -1, 0, due(-1, 150)},
		{150, -1, 3, due(-1, 150)[:3]},
		{150, 5, 3, due(5, 150)[:3]},
		{150, 4, 2, []store.Deferred{{Seq: 5, Due: 100}, {Seq: 8, Due: 0}}},
		{0, 0, 100, due(0, 0)},
		{300, 19, 10, due(19, 300)},
		{300, 20, 10, nil},
		{-1, -1, 10, nil},
	} {
		got, err := st.DeferredDue(ctx, "log", "bodies", tt.due, tt.after, tt.limit)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("DeferredDue(due %d, after %d, limit %d) = %v, %v; want %v", tt.due, tt.after, tt.limit, got, err, tt.want)
		}
	}
	if got, err := st.DeferredDue(ctx, "log", "records", math.MaxInt64, -1, 10); err != nil || len(got) != 0 {
		t.Errorf("DeferredDue of another layer = %v, %v; want none", got, err)
	}
}

func testSetBase(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	recs := chain("log", store.Head{Seq: -1}, 10)
	appendRecords(t, st, "log", recs...)
	if b, err := st.Base(ctx, "log"); err != nil || !reflect.DeepEqual(b, store.Base{}) {
		t.Errorf("Base of a log never pruned = %+v, %v; want the zero Base", b, err)
	}
	baseAt := func(size int64, cp []byte) store.Base {
		r := recs[size-1]
		return store.Base{Size: size, Head: headOf(r).EntryHash, Time: r.Time, Checkpoint: cp}
	}
	for _, tt := range []struct {
		logID string
		b     store.Base
	}{
		{"log", store.Base{}},
		{"log", store.Base{Size: -1}},
		{"log", store.Base{Size: 11}},
		{"none", store.Base{Size: 1}},
	} {
		if err := st.SetBase(ctx, tt.logID, tt.b); err == nil {
			t.Errorf("SetBase(%q, size %d) succeeded, want an error", tt.logID, tt.b.Size)
		}
	}
	b4 := baseAt(4, []byte("checkpoint of size 4\n"))
	if err := st.SetBase(ctx, "log", b4); err != nil {
		t.Fatalf("SetBase(4): %v", err)
	}
	for _, size := range []int64{4, 3} {
		if err := st.SetBase(ctx, "log", baseAt(size, nil)); err == nil {
			t.Errorf("SetBase(%d) after SetBase(4) succeeded, want an error", size)
		}
	}
	if b, err := st.Base(ctx, "log"); err != nil || !reflect.DeepEqual(b, b4) {
		t.Errorf("Base = %+v, %v; want %+v", b, err, b4)
	}
	b10 := baseAt(10, nil)
	if err := st.SetBase(ctx, "log", b10); err != nil {
		t.Fatalf("SetBase(10), the whole log: %v", err)
	}
	if b, err := st.Base(ctx, "log"); err != nil || !reflect.DeepEqual(b, b10) {
		t.Errorf("Base = %+v, %v; want %+v", b, err, b10)
	}
	if got := seqs(scanAll(t, st, "log", 0)); len(got) != 10 {
		t.Errorf("SetBase deleted records: Scan = %v", got)
	}
	if b, err := st.Base(ctx, "other"); err != nil || !reflect.DeepEqual(b, store.Base{}) {
		t.Errorf("Base of another log = %+v, %v; want the zero Base", b, err)
	}
}

func testSpace(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	recs := chain("log", store.Head{Seq: -1}, 50)
	b := &store.Batch{Records: recs}
	for _, r := range recs {
		b.Bodies = append(b.Bodies, store.Body{Seq: r.Seq, Content: fmt.Appendf(nil, "%01000d", r.Seq)})
	}
	appendBatch(t, st, "log", b)
	sp, err := st.Space(ctx)
	if err != nil {
		t.Fatalf("Space: %v", err)
	}
	if sp.Bytes <= 0 || sp.Free < 0 || sp.Free > sp.Bytes {
		t.Errorf("Space = %+v, want Bytes > 0 and 0 <= Free <= Bytes", sp)
	}
	if _, err := st.DeleteBodies(ctx, "log", seqs(recs)); err != nil {
		t.Fatalf("DeleteBodies: %v", err)
	}
	for {
		n, err := st.Compact(ctx, 100)
		if err != nil {
			t.Fatalf("Compact: %v", err)
		}
		if n == 0 {
			break
		}
	}
	if sp, err := st.Space(ctx); err != nil || sp.Bytes <= 0 {
		t.Errorf("Space after Compact = %+v, %v; want Bytes > 0", sp, err)
	}
}

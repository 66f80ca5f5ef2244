// Package storetest is the test suite that every store.Store implementation
// runs, so that all backends keep the same contract: what Append writes and
// when, what each query returns and in which order, and that writers of one
// log are serialised, also across processes.
//
// A backend's test calls Run with a function that makes a fresh database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
//			path := filepath.Join(t.TempDir(), "audit.db")
//			return func() (store.Store, error) { return sqlite.Open(t.Context(), path) }
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Run runs the suite, one subtest per part of the contract.
//
// For every subtest Run calls newDB, which must create a fresh, empty
// database that lasts until t ends (remove it with t.Cleanup) and return
// open, which opens a new Store on that database each time it is called, as
// a separate process would. Most subtests call open once; those that
// simulate two processes call it twice and use both handles at once. Run
// closes every Store it opens, before the cleanups registered by newDB run.
// open is called only from the subtest's goroutine.
func Run(t *testing.T, newDB func(t *testing.T) (open func() (store.Store, error))) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() store.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"UnusualText", testUnusualText},
		{"AppendBuildError", testAppendBuildError},
		{"AppendAtomic", testAppendAtomic},
		{"AppendTx", testAppendTx},
		{"Head", testHead},
		{"TwoLogs", testTwoLogs},
		{"Scan", testScan},
		{"ScanPages", testScanPages},
		{"ScanBodies", testScanBodies},
		{"Body", testBody},
		{"ReadHashes", testReadHashes},
		{"Search", testSearch},
		{"Unanswered", testUnanswered},
		{"Logs", testLogs},
		{"Keys", testKeys},
		{"Sessions", testSessions},
		{"Checkpoints", testCheckpoints},
		{"DeleteBodies", testDeleteBodies},
		{"PIIIndex", testPIIIndex},
		{"Holds", testHolds},
		{"RetentionMarks", testRetentionMarks},
		{"AdvanceConcurrently", testAdvanceConcurrently},
		{"DeferredDue", testDeferredDue},
		{"SetBase", testSetBase},
		{"PruneBefore", testPruneBefore},
		{"PruneAll", testPruneAll},
		{"Space", testSpace},
		{"ConcurrentAppend", testConcurrentAppend},
		{"ConcurrentLedger", testConcurrentLedger},
		{"TwoHandles", testTwoHandles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			openDB := newDB(t)
			tt.fn(t, func() store.Store {
				t.Helper()
				st, err := openDB()
				if err != nil {
					t.Fatalf("open store: %v", err)
				}
				t.Cleanup(func() {
					if err := st.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
				return st
			})
		})
	}
}

// errBuild is what failing build functions return.
var errBuild = errors.New("build failed on purpose")

// event returns a minimal record of the given kind.
func event(logID string, seq int64, kind, status string, requestSeq int64) *record.Record {
	return &record.Record{
		Version:    record.Version,
		LogID:      logID,
		Seq:        seq,
		Time:       1_000_000 + seq*1000,
		Kind:       kind,
		Status:     status,
		RequestSeq: requestSeq,
		TokensIn:   -1,
		TokensOut:  -1,
		Nonce:      nonce(seq),
	}
}

func nonce(seq int64) [16]byte {
	var n [16]byte
	copy(n[:], fmt.Sprintf("%016d", seq))
	n[0], n[15] = 0x00, 0xff
	return n
}

func hashOf(s string) record.Hash { return sha256.Sum256([]byte(s)) }

// fullRecord returns a record with every field set, to unusual values where
// a field allows them.
func fullRecord(logID string, seq int64) *record.Record {
	s := strconv.FormatInt(seq, 10)
	return &record.Record{
		Version:        record.Version,
		LogID:          logID,
		Seq:            seq,
		Time:           1_760_000_000_123_456_789 + seq,
		Kind:           record.KindResponse,
		Actor:          "alice@example.com",
		Role:           "auditor",
		Session:        "sess-" + s,
		Reason:         "incident 4711 — révision des accès ✓ 🔍",
		ClientIP:       "2001:db8::1",
		CorrelationID:  "4bf92f3577b34da6a3ce929d0e0e4736-" + s,
		Endpoint:       "POST /api/chat",
		Model:          "llama3.2:1b",
		ModelDigest:    "sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
		Params:         []byte(`{"seed":` + s + `,"temperature":0.2}`),
		Stream:         true,
		Status:         record.StatusClientAborted,
		UpstreamStatus: -502,
		DoneReason:     "length",
		RequestSeq:     seq - 1,
		TokensIn:       -1,
		TokensOut:      math.MaxInt64,
		LatencyUS:      math.MinInt64,
		TTFTUS:         -7,
		Nonce:          nonce(seq),
		RawHash:        hashOf("raw " + s),
		RawLen:         1 << 40,
		BodyHash:       hashOf("body " + s),
		Detail:         []byte{0x00, 0xff, '{', '"', 0x80, '}'}, // bytes, not necessarily JSON
		PrevHash:       hashOf("prev " + s),
	}
}

// chain returns n records continuing the log whose last record is h.
func chain(logID string, h store.Head, n int) []*record.Record {
	var out []*record.Record
	for range n {
		r := event(logID, h.Seq+1, record.KindGatewayStarted, record.StatusOK, -1)
		r.Time = max(h.Time, r.Time)
		r.PrevHash = h.EntryHash
		h = store.Head{Seq: r.Seq, Time: r.Time, EntryHash: record.EntryHash(r)}
		out = append(out, r)
	}
	return out
}

func appendBatch(t *testing.T, st store.Store, logID string, b *store.Batch) {
	t.Helper()
	err := st.Append(t.Context(), logID, func(context.Context, store.AppendTx) (*store.Batch, error) {
		return b, nil
	})
	if err != nil {
		t.Fatalf("Append(%q): %v", logID, err)
	}
}

func appendRecords(t *testing.T, st store.Store, logID string, recs ...*record.Record) {
	t.Helper()
	appendBatch(t, st, logID, &store.Batch{Records: recs})
}

// scanAll returns what Scan reports from seq from, checking each stored
// entry hash against the record's fields.
func scanAll(t *testing.T, st store.Store, logID string, from int64) []*record.Record {
	t.Helper()
	var out []*record.Record
	err := st.Scan(t.Context(), logID, from, func(r *record.Record, eh record.Hash) error {
		if want := record.EntryHash(r); eh != want {
			t.Errorf("Scan(%q): record %d has entry hash %v, want %v", logID, r.Seq, eh, want)
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %d): %v", logID, from, err)
	}
	return out
}

func seqs(recs []*record.Record) []int64 {
	out := []int64{}
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

func head(t *testing.T, st store.Store, logID string) store.Head {
	t.Helper()
	h, err := st.Head(t.Context(), logID)
	if err != nil {
		t.Fatalf("Head(%q): %v", logID, err)
	}
	return h
}

func headOf(r *record.Record) store.Head {
	return store.Head{Seq: r.Seq, Time: r.Time, EntryHash: record.EntryHash(r)}
}

func logs(t *testing.T, st store.Store) []string {
	t.Helper()
	ids, err := st.Logs(t.Context())
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: error %v, want one wrapping store.ErrNotFound", what, err)
	}
}

func testEmpty(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	if h := head(t, st, "log"); h != (store.Head{Seq: -1}) {
		t.Errorf("Head of an empty log = %+v, want {Seq: -1}", h)
	}
	if ids := logs(t, st); len(ids) != 0 {
		t.Errorf("Logs = %q, want none", ids)
	}
	if recs := scanAll(t, st, "log", 0); len(recs) != 0 {
		t.Errorf("Scan of an empty log reported %d records", len(recs))
	}
	err := st.ScanBodies(ctx, "log", 0, func(seq int64, _ []byte) error {
		t.Errorf("ScanBodies of an empty log reported body %d", seq)
		return nil
	})
	if err != nil {
		t.Errorf("ScanBodies: %v", err)
	}
	if recs, err := st.Search(ctx, store.Filter{}); err != nil || len(recs) != 0 {
		t.Errorf("Search({}) = %d records, %v; want none", len(recs), err)
	}
	if u, err := st.Unanswered(ctx, "log"); err != nil || len(u) != 0 {
		t.Errorf("Unanswered = %v, %v; want none", u, err)
	}
	if ks, err := st.Keys(ctx); err != nil || len(ks) != 0 {
		t.Errorf("Keys = %v, %v; want none", ks, err)
	}
	_, err = st.Body(ctx, "log", 0)
	wantNotFound(t, "Body of an empty log", err)
	_, err = st.ReadHashes(ctx, "log", []int64{0})
	wantNotFound(t, "ReadHashes of an empty log", err)
	if hs, err := st.ReadHashes(ctx, "log", nil); err != nil || len(hs) != 0 {
		t.Errorf("ReadHashes(nil) = %v, %v; want none", hs, err)
	}
}

func testRoundTrip(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	full := fullRecord("log", 0)
	full2 := fullRecord("log", 1)
	full2.Stream = false
	full2.Params = []byte{0x00, 0xff, 0xfe} // not JSON, not UTF-8: stored as bytes
	full2.Detail = bytes.Repeat([]byte(`{"a":1}`), 10000)
	minimal := &record.Record{Version: record.Version, LogID: "log", Seq: 2, Kind: record.KindLogCreated}
	negative := event("log", 3, record.KindAuthDenied, record.StatusDenied, math.MinInt64)
	negative.Time = -1 // before 1970: still an integer
	negative.UpstreamStatus = math.MinInt64
	negative.RawLen = -1
	want := []*record.Record{full, full2, minimal, negative}
	// Keep copies: the store must not change what it was given either.
	var orig []record.Record
	for _, r := range want {
		orig = append(orig, *r)
	}
	appendRecords(t, st, "log", want...)
	for i, r := range want {
		if !reflect.DeepEqual(*r, orig[i]) {
			t.Errorf("Append changed record %d it was given:\n%+v\nwas\n%+v", r.Seq, *r, orig[i])
		}
	}

	var got []*record.Record
	err := st.Scan(ctx, "log", 0, func(r *record.Record, eh record.Hash) error {
		if want := record.EntryHash(r); eh != want {
			t.Errorf("Scan: record %d has entry hash %v, want record.EntryHash(r) = %v", r.Seq, eh, want)
		}
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	check := func(op string, got []*record.Record) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s returned %d records, want %d", op, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: record %d =\n%+v\nwant\n%+v", op, want[i].Seq, *got[i], *want[i])
			}
		}
	}
	check("Scan", got)
	found, err := st.Search(ctx, store.Filter{LogID: "log"})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	check("Search", found)
	if h := head(t, st, "log"); h != headOf(negative) {
		t.Errorf("Head = %+v, want %+v", h, headOf(negative))
	}
}

// testUnusualText appends strings that not every database keeps as text: a
// NUL byte and invalid UTF-8. A store must either keep them exactly or
// refuse the whole batch; it must never alter them silently.
func testUnusualText(t *testing.T, open func() store.Store) {
	st := open()
	for i, s := range []string{"nul\x00byte", "bad\xffutf8"} {
		logID := "log" + strconv.Itoa(i)
		r := event(logID, 0, record.KindRequest, record.StatusPending, -1)
		r.Model = s
		b := &store.Batch{
			Records: []*record.Record{r},
			Bodies:  []store.Body{{Seq: 0, Content: []byte("body")}},
			Hashes:  []store.TreeHash{{Index: 0, Hash: hashOf("h")}},
		}
		err := st.Append(t.Context(), logID, func(context.Context, store.AppendTx) (*store.Batch, error) { return b, nil })
		got := scanAll(t, st, logID, 0)
		if err != nil {
			t.Logf("Append of model %q refused: %v", s, err)
			if len(got) != 0 {
				t.Errorf("Append of model %q failed (%v) but wrote %d records", s, err, len(got))
			}
			if _, err := st.Body(t.Context(), logID, 0); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Append of model %q failed but Body = %v, want ErrNotFound", s, err)
			}
			continue
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], r) {
			t.Errorf("model %q did not round-trip: Scan = %+v", s, got)
		}
	}
}

func testAppendBuildError(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	fail := func(logID string) {
		t.Helper()
		err := st.Append(ctx, logID, func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
			return nil, fmt.Errorf("wrapped: %w", errBuild)
		})
		if !errors.Is(err, errBuild) {
			t.Errorf("Append with a failing build = %v, want the build's error", err)
		}
	}
	fail("new")
	if h := head(t, st, "new"); h.Seq != -1 {
		t.Errorf("after a failed first append, Head.Seq = %d, want -1", h.Seq)
	}
	if ids := logs(t, st); len(ids) != 0 {
		t.Errorf("after a failed first append, Logs = %q, want none", ids)
	}

	recs := chain("log", store.Head{Seq: -1}, 2)
	appendRecords(t, st, "log", recs...)
	var sawHead store.Head
	err := st.Append(ctx, "log", func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
		h, err := tx.Head(ctx)
		if err != nil {
			return nil, err
		}
		sawHead = h
		return nil, errBuild
	})
	if !errors.Is(err, errBuild) {
		t.Errorf("Append with a failing build = %v, want the build's error", err)
	}
	if want := headOf(recs[1]); sawHead != want {
		t.Errorf("build saw head %+v, want %+v", sawHead, want)
	}
	if got := seqs(scanAll(t, st, "log", 0)); !slices.Equal(got, []int64{0, 1}) {
		t.Errorf("after a failed append, Scan = %v, want [0 1]", got)
	}
	if ids := logs(t, st); !slices.Equal(ids, []string{"log"}) {
		t.Errorf("Logs = %q, want [log]", ids)
	}
}

func testAppendAtomic(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	recs := chain("log", store.Head{Seq: -1}, 3)
	b := &store.Batch{
		Records: recs,
		Bodies:  []store.Body{{Seq: 0, Content: []byte("zero")}, {Seq: 2, Content: []byte("two")}},
		Hashes:  []store.TreeHash{{Index: 0, Hash: hashOf("h0")}, {Index: 1, Hash: hashOf("h1")}, {Index: 2, Hash: hashOf("h2")}},
	}
	appendBatch(t, st, "log", b)
	if got := seqs(scanAll(t, st, "log", 0)); !slices.Equal(got, []int64{0, 1, 2}) {
		t.Errorf("Scan = %v, want [0 1 2]", got)
	}
	for _, body := range b.Bodies {
		if got, err := st.Body(ctx, "log", body.Seq); err != nil || !bytes.Equal(got, body.Content) {
			t.Errorf("Body(%d) = %q, %v; want %q", body.Seq, got, err, body.Content)
		}
	}
	if hs, err := st.ReadHashes(ctx, "log", []int64{0, 1, 2}); err != nil || !slices.Equal(hs, []record.Hash{hashOf("h0"), hashOf("h1"), hashOf("h2")}) {
		t.Errorf("ReadHashes = %v, %v; want the hashes written", hs, err)
	}

	// Batches that the database itself refuses part-way, each with a
	// duplicate key in a different table: nothing of them may remain.
	more := chain("log", headOf(recs[2]), 2) // records 3 and 4
	for _, bad := range []struct {
		name string
		b    *store.Batch
	}{
		{"duplicate record", &store.Batch{
			Records: append(slices.Clone(more), recs[1]),
			Bodies:  []store.Body{{Seq: 3, Content: []byte("three")}},
			Hashes:  []store.TreeHash{{Index: 3, Hash: hashOf("h3")}},
		}},
		{"duplicate body", &store.Batch{
			Records: more,
			Bodies:  []store.Body{{Seq: 3, Content: []byte("three")}, {Seq: 2, Content: []byte("again")}},
			Hashes:  []store.TreeHash{{Index: 3, Hash: hashOf("h3")}},
		}},
		{"duplicate tree hash", &store.Batch{
			Records: more,
			Bodies:  []store.Body{{Seq: 3, Content: []byte("three")}},
			Hashes:  []store.TreeHash{{Index: 3, Hash: hashOf("h3")}, {Index: 0, Hash: hashOf("again")}},
		}},
	} {
		err := st.Append(ctx, "log", func(context.Context, store.AppendTx) (*store.Batch, error) { return bad.b, nil })
		if err == nil {
			t.Errorf("Append of a batch with a %s succeeded, want an error", bad.name)
		}
		if h := head(t, st, "log"); h != headOf(recs[2]) {
			t.Errorf("after a failed append (%s), Head = %+v, want %+v", bad.name, h, headOf(recs[2]))
		}
		if got := seqs(scanAll(t, st, "log", 0)); !slices.Equal(got, []int64{0, 1, 2}) {
			t.Errorf("after a failed append (%s), Scan = %v, want [0 1 2]", bad.name, got)
		}
		_, err = st.Body(ctx, "log", 3)
		wantNotFound(t, "Body(3) after a failed append ("+bad.name+")", err)
		if got, err := st.Body(ctx, "log", 2); err != nil || string(got) != "two" {
			t.Errorf("after a failed append (%s), Body(2) = %q, %v; want \"two\"", bad.name, got, err)
		}
		_, err = st.ReadHashes(ctx, "log", []int64{3})
		wantNotFound(t, "ReadHashes([3]) after a failed append ("+bad.name+")", err)
		if hs, err := st.ReadHashes(ctx, "log", []int64{0}); err != nil || hs[0] != hashOf("h0") {
			t.Errorf("after a failed append (%s), ReadHashes([0]) = %v, %v; want the original", bad.name, hs, err)
		}
	}

	// The store is still usable, and the same batch without the
	// duplicates goes in whole.
	appendBatch(t, st, "log", &store.Batch{
		Records: more,
		Bodies:  []store.Body{{Seq: 3, Content: []byte("three")}},
		Hashes:  []store.TreeHash{{Index: 3, Hash: hashOf("h3")}},
	})
	if got := seqs(scanAll(t, st, "log", 0)); !slices.Equal(got, []int64{0, 1, 2, 3, 4}) {
		t.Errorf("Scan = %v, want [0 1 2 3 4]", got)
	}
}

func testAppendTx(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	recs := chain("log", store.Head{Seq: -1}, 2)
	appendBatch(t, st, "log", &store.Batch{
		Records: recs,
		Hashes:  []store.TreeHash{{Index: 0, Hash: hashOf("h0")}, {Index: 1, Hash: hashOf("h1")}},
	})
	appendRecords(t, st, "other", chain("other", store.Head{Seq: -1}, 5)...)
	err := st.Append(ctx, "log", func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
		h, err := tx.Head(ctx)
		if err != nil {
			return nil, err
		}
		if want := headOf(recs[1]); h != want {
			t.Errorf("AppendTx.Head = %+v, want %+v", h, want)
		}
		hs, err := tx.ReadHashes(ctx, []int64{1, 0})
		if err != nil {
			return nil, err
		}
		if want := []record.Hash{hashOf("h1"), hashOf("h0")}; !slices.Equal(hs, want) {
			t.Errorf("AppendTx.ReadHashes([1 0]) = %v, want %v", hs, want)
		}
		_, err = tx.ReadHashes(ctx, []int64{0, 2})
		wantNotFound(t, "AppendTx.ReadHashes of a missing index", err)
		return &store.Batch{Records: chain("log", h, 1)}, nil
	})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	err = st.Append(ctx, "new", func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
		h, err := tx.Head(ctx)
		if err != nil {
			return nil, err
		}
		if h != (store.Head{Seq: -1}) {
			t.Errorf("AppendTx.Head of a new log = %+v, want {Seq: -1}", h)
		}
		return &store.Batch{Records: chain("new", h, 1)}, nil
	})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if h := head(t, st, "new"); h.Seq != 0 {
		t.Errorf("Head(new).Seq = %d, want 0", h.Seq)
	}
}

func testHead(t *testing.T, open func() store.Store) {
	st := open()
	first := chain("log", store.Head{Seq: -1}, 3)
	appendRecords(t, st, "log", first...)
	if h, want := head(t, st, "log"), headOf(first[2]); h != want {
		t.Errorf("Head = %+v, want %+v", h, want)
	}
	second := chain("log", headOf(first[2]), 1)
	second[0].Time += 5e9
	appendRecords(t, st, "log", second...)
	if h, want := head(t, st, "log"), headOf(second[0]); h != want {
		t.Errorf("Head = %+v, want %+v", h, want)
	}
}

func testTwoLogs(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	a := chain("a", store.Head{Seq: -1}, 3)
	b := chain("b", store.Head{Seq: -1}, 2)
	b[0].Kind = record.KindLogCreated // so the logs' records differ
	appendBatch(t, st, "a", &store.Batch{Records: a, Bodies: []store.Body{{Seq: 0, Content: []byte("a0")}},
		Hashes: []store.TreeHash{{Index: 0, Hash: hashOf("a0")}}})
	appendBatch(t, st, "b", &store.Batch{Records: b, Bodies: []store.Body{{Seq: 0, Content: []byte("b0")}},
		Hashes: []store.TreeHash{{Index: 0, Hash: hashOf("b0")}}})
	if h := head(t, st, "a"); h != headOf(a[2]) {
		t.Errorf("Head(a) = %+v, want %+v", h, headOf(a[2]))
	}
	if h := head(t, st, "b"); h != headOf(b[1]) {
		t.Errorf("Head(b) = %+v, want %+v", h, headOf(b[1]))
	}
	if got := scanAll(t, st, "a", 0); !reflect.DeepEqual(got, a) {
		t.Errorf("Scan(a) = %v, want the records of a", seqs(got))
	}
	if got := scanAll(t, st, "b", 0); !reflect.DeepEqual(got, b) {
		t.Errorf("Scan(b) = %v, want the records of b", seqs(got))
	}
	if got, err := st.Body(ctx, "b", 0); err != nil || string(got) != "b0" {
		t.Errorf("Body(b, 0) = %q, %v; want \"b0\"", got, err)
	}
	if hs, err := st.ReadHashes(ctx, "a", []int64{0}); err != nil || hs[0] != hashOf("a0") {
		t.Errorf("ReadHashes(a, [0]) = %v, %v; want a's hash", hs, err)
	}
	if ids := logs(t, st); !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("Logs = %q, want [a b]", ids)
	}
}

func testScan(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	// A tampered store may have gaps; Scan reports what is there, in
	// order of Seq, even if a batch listed the records out of order.
	var recs []*record.Record
	for _, seq := range []int64{6, 0, 2, 1, 5} {
		recs = append(recs, event("log", seq, record.KindGatewayStarted, record.StatusOK, -1))
	}
	appendRecords(t, st, "log", recs...)
	appendRecords(t, st, "other", event("other", 3, record.KindGatewayStarted, record.StatusOK, -1))
	for _, tt := range []struct {
		from int64
		want []int64
	}{
		{-5, []int64{0, 1, 2, 5, 6}},
		{0, []int64{0, 1, 2, 5, 6}},
		{2, []int64{2, 5, 6}},
		{3, []int64{5, 6}},
		{6, []int64{6}},
		{7, []int64{}},
	} {
		if got := seqs(scanAll(t, st, "log", tt.from)); !slices.Equal(got, tt.want) {
			t.Errorf("Scan(log, %d) = %v, want %v", tt.from, got, tt.want)
		}
	}
	if got := seqs(scanAll(t, st, "none", 0)); len(got) != 0 {
		t.Errorf("Scan of an unknown log = %v, want none", got)
	}

	stop := errors.New("stop")
	n := 0
	err := st.Scan(ctx, "log", 0, func(*record.Record, record.Hash) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("Scan with fn failing at the 2nd record: err %v after %d calls, want %v after 2", err, n, stop)
	}
}

// testScanPages covers logs longer than any page a backend reads at once.
func testScanPages(t *testing.T, open func() store.Store) {
	st := open()
	const n = 4001
	b := &store.Batch{Records: chain("log", store.Head{Seq: -1}, n)}
	for seq := range int64(n) {
		b.Bodies = append(b.Bodies, store.Body{Seq: seq, Content: []byte(strconv.FormatInt(seq, 10))})
	}
	appendBatch(t, st, "log", b)
	for _, from := range []int64{0, 2001, 4000} {
		got := scanAll(t, st, "log", from)
		if len(got) != n-int(from) {
			t.Errorf("Scan(log, %d) returned %d records, want %d", from, len(got), n-int(from))
			continue
		}
		for i, r := range got {
			if want := from + int64(i); r.Seq != want || !reflect.DeepEqual(r, b.Records[want]) {
				t.Errorf("Scan(log, %d): record %d is %d or differs from what was written", from, i, r.Seq)
				break
			}
		}
		next := from
		err := st.ScanBodies(t.Context(), "log", from, func(seq int64, content []byte) error {
			if seq != next || string(content) != strconv.FormatInt(seq, 10) {
				return fmt.Errorf("body %d (%q) where body %d belongs", seq, content, next)
			}
			next++
			return nil
		})
		if err != nil || next != n {
			t.Errorf("ScanBodies(log, %d): %v, ended before %d, want %d", from, err, next, n)
		}
	}
}

func testScanBodies(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	bodies := []store.Body{
		{Seq: 3, Content: []byte("three")},
		{Seq: 0, Content: []byte{0x00, 0xff, 0x80, '\n'}},
		{Seq: 2, Content: []byte{}},
		{Seq: 7, Content: bytes.Repeat([]byte("long "), 100000)},
	}
	appendBatch(t, st, "log", &store.Batch{Records: chain("log", store.Head{Seq: -1}, 8), Bodies: bodies})
	appendBatch(t, st, "other", &store.Batch{Records: chain("other", store.Head{Seq: -1}, 2),
		Bodies: []store.Body{{Seq: 1, Content: []byte("other")}}})
	byseq := map[int64][]byte{}
	for _, b := range bodies {
		byseq[b.Seq] = b.Content
	}
	for _, tt := range []struct {
		from int64
		want []int64
	}{
		{0, []int64{0, 2, 3, 7}},
		{1, []int64{2, 3, 7}},
		{4, []int64{7}},
		{8, []int64{}},
	} {
		got := []int64{}
		err := st.ScanBodies(ctx, "log", tt.from, func(seq int64, content []byte) error {
			got = append(got, seq)
			if !bytes.Equal(content, byseq[seq]) {
				t.Errorf("ScanBodies: body %d = %d bytes, want %d bytes %.20q", seq, len(content), len(byseq[seq]), byseq[seq])
			}
			return nil
		})
		if err != nil {
			t.Errorf("ScanBodies(log, %d): %v", tt.from, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ScanBodies(log, %d) reported %v, want %v", tt.from, got, tt.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := st.ScanBodies(ctx, "log", 0, func(int64, []byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ScanBodies with fn failing: err %v after %d calls, want %v after 1", err, n, stop)
	}
}

func testBody(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	content := []byte{0x00, 'h', 'i', 0xff}
	appendBatch(t, st, "log", &store.Batch{Records: chain("log", store.Head{Seq: -1}, 2),
		Bodies: []store.Body{{Seq: 1, Content: content}}})
	if got, err := st.Body(ctx, "log", 1); err != nil || !bytes.Equal(got, content) {
		t.Errorf("Body(log, 1) = %q, %v; want %q", got, err, content)
	}
	_, err := st.Body(ctx, "log", 0)
	wantNotFound(t, "Body of a record without one", err)
	_, err = st.Body(ctx, "log", 2)
	wantNotFound(t, "Body of a record past the end", err)
	_, err = st.Body(ctx, "other", 1)
	wantNotFound(t, "Body in another log", err)
}

func testReadHashes(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	var hashes []store.TreeHash
	for i := range int64(6) {
		hashes = append(hashes, store.TreeHash{Index: i, Hash: hashOf("h" + strconv.FormatInt(i, 10))})
	}
	appendBatch(t, st, "log", &store.Batch{Records: chain("log", store.Head{Seq: -1}, 1), Hashes: hashes[:3]})
	appendBatch(t, st, "log", &store.Batch{Records: chain("log", head(t, st, "log"), 1), Hashes: hashes[3:]})
	appendBatch(t, st, "other", &store.Batch{Records: chain("other", store.Head{Seq: -1}, 1),
		Hashes: []store.TreeHash{{Index: 9, Hash: hashOf("other")}}})
	idx := []int64{5, 0, 3, 5}
	got, err := st.ReadHashes(ctx, "log", idx)
	if err != nil {
		t.Fatalf("ReadHashes(log, %v): %v", idx, err)
	}
	want := []record.Hash{hashes[5].Hash, hashes[0].Hash, hashes[3].Hash, hashes[5].Hash}
	if !slices.Equal(got, want) {
		t.Errorf("ReadHashes(log, %v) = %v, want %v", idx, got, want)
	}
	_, err = st.ReadHashes(ctx, "log", []int64{0, 6})
	wantNotFound(t, "ReadHashes of a missing index", err)
	_, err = st.ReadHashes(ctx, "log", []int64{9})
	wantNotFound(t, "ReadHashes of another log's index", err)
}

// searchData is a store's content for testSearch: two logs with records
// whose fields vary independently.
func searchData() map[string][]*record.Record {
	kinds := []string{record.KindRequest, record.KindResponse, record.KindAdmin, record.KindKeyCreated}
	actors := []string{"alice", "bob"}
	sessions := []string{"s1", "s2", ""}
	models := []string{"m1", "m2", "m3", "m4", "m5"}
	data := map[string][]*record.Record{}
	for _, l := range []struct {
		id   string
		n    int
		base int64
	}{{"a", 12, 1000}, {"b", 7, 1005}} {
		for i := range l.n {
			seq := int64(i)
			r := event(l.id, seq, kinds[i%len(kinds)], record.StatusOK, -1)
			r.Actor = actors[i%len(actors)]
			r.Session = sessions[i%len(sessions)]
			r.Model = models[i%len(models)]
			r.Time = l.base + 10*seq
			if r.Kind == record.KindResponse {
				r.RequestSeq = seq - 1
			}
			data[l.id] = append(data[l.id], r)
		}
	}
	return data
}

// matches is the reference meaning of a Filter.
func matches(f store.Filter, r *record.Record) bool {
	in := func(set []int64, v int64) bool { return set == nil || slices.Contains(set, v) }
	return (f.LogID == "" || r.LogID == f.LogID) &&
		(len(f.Kinds) == 0 || slices.Contains(f.Kinds, r.Kind)) &&
		(f.Actor == "" || r.Actor == f.Actor) &&
		(f.Session == "" || r.Session == f.Session) &&
		(f.Model == "" || r.Model == f.Model) &&
		(f.Since == 0 || r.Time >= f.Since) &&
		(f.Until == 0 || r.Time < f.Until) &&
		in(f.RequestSeqs, r.RequestSeq) &&
		in(f.Seqs, r.Seq)
}

type logSeq struct {
	LogID string
	Seq   int64
}

func testSearch(t *testing.T, open func() store.Store) {
	st := open()
	data := searchData()
	var all []*record.Record // ordered by log, then seq
	for _, id := range []string{"a", "b"} {
		appendRecords(t, st, id, data[id]...)
		all = append(all, data[id]...)
	}
	for _, f := range []store.Filter{
		{},
		{LogID: "a"},
		{LogID: "b"},
		{LogID: "none"},
		{Kinds: []string{record.KindResponse}},
		{Kinds: []string{record.KindRequest, record.KindAdmin}},
		{Kinds: []string{"no.such.kind"}},
		{Actor: "alice"},
		{Actor: "carol"},
		{Session: "s2"},
		{Model: "m3"},
		{Since: 1050},                    // inclusive: a's record 5 is at 1050
		{Until: 1050},                    // exclusive
		{Since: 1035, Until: 1065},       // both logs
		{Since: 1050, Until: 1050},       // empty range
		{Since: 1, Until: math.MaxInt64}, // everything
		{RequestSeqs: []int64{0, 4}},
		{RequestSeqs: []int64{-1}},
		{RequestSeqs: []int64{}}, // empty, not nil: nothing
		{Seqs: []int64{1, 3, 100}},
		{Seqs: []int64{}}, // empty, not nil: nothing
		{LogID: "b", Seqs: []int64{0, 6}},
		{LogID: "a", Seqs: []int64{}, Actor: "alice"},
		{Limit: 5},
		{Limit: 100},
		{LogID: "b", Limit: 2},
		{Actor: "bob", Kinds: []string{record.KindResponse, record.KindKeyCreated}, Limit: 3},
		{LogID: "a", Actor: "alice", Session: "s1", Model: "m1", Kinds: []string{record.KindRequest}, Since: 1000, Until: 1200},
		{Seqs: []int64{0, 1, 2, 3}, RequestSeqs: []int64{0, 2}},
	} {
		want := []logSeq{}
		for _, r := range all {
			if matches(f, r) && (f.Limit == 0 || len(want) < f.Limit) {
				want = append(want, logSeq{r.LogID, r.Seq})
			}
		}
		recs, err := st.Search(t.Context(), f)
		if err != nil {
			t.Errorf("Search(%+v): %v", f, err)
			continue
		}
		got := []logSeq{}
		for _, r := range recs {
			got = append(got, logSeq{r.LogID, r.Seq})
			if !reflect.DeepEqual(r, data[r.LogID][r.Seq]) {
				t.Errorf("Search(%+v): record %s/%d differs from what was written", f, r.LogID, r.Seq)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Search(%+v) = %v, want %v", f, got, want)
		}
	}
}

func testUnanswered(t *testing.T, open func() store.Store) {
	st := open()
	const (
		req     = record.KindRequest
		resp    = record.KindResponse
		admin   = record.KindAdmin
		intr    = record.KindInterrupted
		pending = record.StatusPending
		ok      = record.StatusOK
	)
	recs := []*record.Record{
		event("log", 0, record.KindLogCreated, ok, -1),
		event("log", 1, req, pending, -1),   // answered by 2
		event("log", 2, resp, ok, 1),        //
		event("log", 3, req, pending, -1),   // unanswered
		event("log", 4, admin, pending, -1), // unanswered
		event("log", 5, req, record.StatusDenied, -1),
		event("log", 6, req, pending, -1), // interrupted by 7
		event("log", 7, intr, record.StatusInterrupted, 6),
		event("log", 8, admin, pending, -1), // answered by 9
		event("log", 9, resp, ok, 8),
		event("log", 10, req, pending, -1), // answered only in another log
		event("log", 11, record.KindAuthDenied, record.StatusDenied, -1),
		event("log", 12, req, record.StatusError, -1),
		event("log", 13, admin, record.StatusBlocked, -1),
		event("log", 14, record.KindKeyCreated, ok, 3), // links to 3, but is no answer
		event("log", 15, req, pending, -1),             // answered by 16 with an error
		event("log", 16, resp, record.StatusError, 15),
	}
	appendRecords(t, st, "log", recs...)
	appendRecords(t, st, "other",
		event("other", 0, resp, ok, 10),
		event("other", 1, req, pending, -1),
	)
	check := func(st store.Store, when string, want map[string][]int64) {
		t.Helper()
		for _, logID := range []string{"log", "other", "none"} {
			got, err := st.Unanswered(t.Context(), logID)
			if err != nil {
				t.Errorf("%s: Unanswered(%q): %v", when, logID, err)
			}
			if got == nil {
				got = []int64{}
			}
			if w := want[logID]; !slices.Equal(got, w) {
				t.Errorf("%s: Unanswered(%q) = %v, want %v", when, logID, got, w)
			}
		}
	}
	check(st, "after one batch", map[string][]int64{"log": {3, 4, 10}, "other": {1}, "none": {}})

	// Answers in later batches, as a restart after a crash writes them,
	// and calls that start and end later: an admin call cut short, a
	// request answered by a response, one still in flight.
	appendRecords(t, st, "log",
		event("log", 17, intr, record.StatusInterrupted, 3),
		event("log", 18, intr, record.StatusInterrupted, 4),
		event("log", 19, req, pending, -1), // answered by 21
		event("log", 20, admin, pending, -1),
	)
	check(st, "after a second batch", map[string][]int64{"log": {10, 19, 20}, "other": {1}, "none": {}})
	appendRecords(t, st, "log",
		event("log", 21, resp, ok, 19),
		event("log", 22, intr, record.StatusInterrupted, 20),
		event("log", 23, req, pending, -1), // in flight
		event("log", 24, req, pending, -1), // its outcome recorded late, by 25
		event("log", 25, record.KindUnrecordedOutcome, record.StatusError, 24),
	)
	appendRecords(t, st, "other", event("other", 2, intr, record.StatusInterrupted, 1))
	want := map[string][]int64{"log": {10, 23}, "other": {}, "none": {}}
	check(st, "after a third batch", want)
	// What a later start finds does not depend on the handle that wrote.
	check(open(), "in a second handle", want)
}

func testLogs(t *testing.T, open func() store.Store) {
	st := open()
	for _, id := range []string{"node-b", "node-a", "node-c"} {
		appendRecords(t, st, id, chain(id, store.Head{Seq: -1}, 1)...)
	}
	err := st.Append(t.Context(), "node-0", func(context.Context, store.AppendTx) (*store.Batch, error) { return nil, errBuild })
	if !errors.Is(err, errBuild) {
		t.Errorf("Append with a failing build = %v, want the build's error", err)
	}
	if ids, want := logs(t, st), []string{"node-a", "node-b", "node-c"}; !slices.Equal(ids, want) {
		t.Errorf("Logs = %q, want %q", ids, want)
	}
}

func testKeys(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	keys := []store.Key{
		{ID: "k2", Hash: hashOf("key 2"), Actor: "alice", Role: "user", CreatedAt: 200, CreatedBy: "root"},
		{ID: "kz", Hash: hashOf("key z"), Actor: "bob", Role: "admin", CreatedAt: 100, CreatedBy: "bootstrap"},
		{ID: "k1", Hash: hashOf("key 1"), Actor: "carol", Role: "auditor", CreatedAt: 200, CreatedBy: "alice"},
	}
	for _, k := range keys {
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatalf("CreateKey(%s): %v", k.ID, err)
		}
	}
	dup := keys[0]
	dup.Actor = "mallory"
	if err := st.CreateKey(ctx, dup); err == nil {
		t.Errorf("CreateKey of an existing id succeeded, want an error")
	}
	for _, k := range keys {
		if got, err := st.Key(ctx, k.ID); err != nil || got != k {
			t.Errorf("Key(%s) = %+v, %v; want %+v", k.ID, got, err, k)
		}
	}
	_, err := st.Key(ctx, "nope")
	wantNotFound(t, "Key of an unknown id", err)

	// Oldest first; ties in id order.
	got, err := st.Keys(ctx)
	if want := []store.Key{keys[1], keys[2], keys[0]}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Keys = %+v, %v; want %+v", got, err, want)
	}

	if err := st.RevokeKey(ctx, "k1", 300); err != nil {
		t.Fatalf("RevokeKey(k1): %v", err)
	}
	if err := st.RevokeKey(ctx, "k1", 400); err != nil {
		t.Errorf("RevokeKey of a revoked key: %v", err)
	}
	want := keys[2]
	want.RevokedAt = 300 // the first time
	if got, err := st.Key(ctx, "k1"); err != nil || got != want {
		t.Errorf("Key(k1) after revoking twice = %+v, %v; want %+v", got, err, want)
	}
	if got, err := st.Key(ctx, "k2"); err != nil || got != keys[0] {
		t.Errorf("Key(k2) after revoking k1 = %+v, %v; want %+v", got, err, keys[0])
	}
	wantNotFound(t, "RevokeKey of an unknown id", st.RevokeKey(ctx, "nope", 500))
}

func testSessions(t *testing.T, open func() store.Store) {
	st := open()
	ctx := t.Context()
	ss := []store.Session{
		{ID: "s1", Actor: "alice", Reason: "ticket 42 — vérification", CreatedAt: 1_760_000_000_000_000_000},
		{ID: "s2", Actor: "bob", Reason: "", CreatedAt: -3},
	}
	for _, s := range ss {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession(%s): %v", s.ID, err)
		}
	}
	if err := st.CreateSession(ctx, store.Session{ID: "s1", Actor: "mallory"}); err == nil {
		t.Errorf("CreateSession of an existing id succeeded, want an error")
	}
	for _, s := range ss {
		if got, err := st.Session(ctx, s.ID); err != nil || got != s {
			t.Errorf("Session(%s) = %+v, %v; want %+v", s.ID, got, err, s)
		}
	}
	_, err := st.Session(ctx, "nope")
	wantNotFound(t, "Session of an unknown id", err)
}

func testCheckpoints(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	st := open()
	if cps, err := st.Checkpoints(ctx, "a", 0); err != nil || len(cps) != 0 {
		t.Fatalf("Checkpoints of an empty log = %v, %v; want none", cps, err)
	}
	want := []store.Checkpoint{{Size: 1, Time: 10, Note: []byte("one\n")}, {Size: 5, Time: 20, Note: []byte("five\n")}, {Size: 9, Time: 30, Note: []byte("nine\n")}}
	for _, c := range []store.Checkpoint{want[1], want[0], want[2]} {
		if err := st.AddCheckpoint(ctx, "a", c); err != nil {
			t.Fatalf("AddCheckpoint(%d): %v", c.Size, err)
		}
	}
	if err := st.AddCheckpoint(ctx, "b", store.Checkpoint{Size: 5, Time: 1, Note: []byte("other log")}); err != nil {
		t.Fatalf("AddCheckpoint to another log: %v", err)
	}
	if err := st.AddCheckpoint(ctx, "a", store.Checkpoint{Size: 5, Time: 99, Note: []byte("again")}); err == nil {
		t.Error("a second checkpoint of the same size was accepted")
	}
	got, err := st.Checkpoints(ctx, "a", 0)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Checkpoints(a, 0) = %+v, %v; want %+v", got, err, want)
	}
	got, err = st.Checkpoints(ctx, "a", 5)
	if err != nil || !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("Checkpoints(a, 5) = %+v, %v; want %+v", got, err, want[1:])
	}
}

func testDeleteBodies(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	st := open()
	recs := chain("a", store.Head{Seq: -1}, 5)
	b := &store.Batch{Records: recs}
	for _, r := range recs {
		b.Bodies = append(b.Bodies, store.Body{Seq: r.Seq, Content: []byte{byte(r.Seq)}})
	}
	appendBatch(t, st, "a", b)
	appendBatch(t, st, "b", &store.Batch{Records: chain("b", store.Head{Seq: -1}, 2), Bodies: []store.Body{{Seq: 1, Content: []byte("b")}}})
	n, err := st.DeleteBodies(ctx, "a", []int64{1, 3, 7})
	if err != nil || n != 2 {
		t.Fatalf("DeleteBodies(a, 1 3 7) = %d, %v; want 2", n, err)
	}
	for seq := int64(0); seq < 5; seq++ {
		_, err := st.Body(ctx, "a", seq)
		if gone := errors.Is(err, store.ErrNotFound); gone != (seq == 1 || seq == 3) {
			t.Errorf("Body(a, %d) after deleting 1 and 3: %v", seq, err)
		}
	}
	if _, err := st.Body(ctx, "b", 1); err != nil {
		t.Errorf("DeleteBodies of log a deleted a body of log b: %v", err)
	}
	if n, err := st.DeleteBodies(ctx, "a", nil); err != nil || n != 0 {
		t.Errorf("DeleteBodies(nothing) = %d, %v", n, err)
	}
}

func testPIIIndex(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	st := open()
	alice, bob := hashOf("alice@example.com"), hashOf("bob@example.com")
	recs := chain("a", store.Head{Seq: -1}, 3)
	appendBatch(t, st, "a", &store.Batch{Records: recs, PII: []store.PIIEntry{
		{Seq: 0, Type: "EMAIL", MAC: alice}, {Seq: 1, Type: "EMAIL", MAC: bob},
		{Seq: 2, Type: "EMAIL", MAC: alice}, {Seq: 2, Type: "EMAIL", MAC: alice}, {Seq: 2, Type: "PHONE", MAC: bob}}})
	appendBatch(t, st, "b", &store.Batch{Records: chain("b", store.Head{Seq: -1}, 1), PII: []store.PIIEntry{{Seq: 0, Type: "EMAIL", MAC: alice}}})
	got, err := st.FindPII(ctx, "EMAIL", alice)
	want := []store.PIIRef{{LogID: "a", Seq: 0, Type: "EMAIL"}, {LogID: "a", Seq: 2, Type: "EMAIL"}, {LogID: "b", Seq: 0, Type: "EMAIL"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("FindPII(EMAIL, alice) = %v, %v; want %v", got, err, want)
	}
	got, err = st.FindPII(ctx, "", bob)
	want = []store.PIIRef{{LogID: "a", Seq: 1, Type: "EMAIL"}, {LogID: "a", Seq: 2, Type: "PHONE"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("FindPII(any, bob) = %v, %v; want %v", got, err, want)
	}
	if n, err := st.DeletePII(ctx, "a", []int64{2}); err != nil || n != 3 {
		t.Errorf("DeletePII(a, 2) = %d, %v; want 3", n, err)
	}
	got, _ = st.FindPII(ctx, "EMAIL", alice)
	if want := []store.PIIRef{{LogID: "a", Seq: 0, Type: "EMAIL"}, {LogID: "b", Seq: 0, Type: "EMAIL"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("FindPII after DeletePII = %v, want %v", got, want)
	}
}

package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

var testKey = bytes.Repeat([]byte{1}, record.KeySize)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/audit.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func committer(t testing.TB) *record.Committer {
	c, err := record.NewCommitter(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// entry returns a request entry with a body committed under c.
func entry(c *record.Committer, actor, text string) *ledger.Entry {
	r := record.NewEvent(record.KindRequest, nil)
	r.Actor, r.Status = actor, record.StatusPending
	body := []byte(fmt.Sprintf(`{"prompt":%q}`, text))
	r.BodyHash = c.Commit(r.Nonce, record.LabelBody, body)
	return &ledger.Entry{Record: r, Body: body}
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	st := openStore(t)
	c := committer(t)
	l := ledger.New(st, "main", ledger.Options{})
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e := entry(c, fmt.Sprintf("w%d", w), fmt.Sprintf("call %d", i))
				if err := l.Append(context.Background(), e); err != nil {
					errs <- err
					return
				}
				if e.Record.Seq < 0 || e.Record.LogID != "main" {
					errs <- fmt.Errorf("Append left Seq=%d LogID=%q", e.Record.Seq, e.Record.LogID)
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := ledger.Verify(context.Background(), st, "main", ledger.VerifyOptions{Committer: c})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != writers*each || rep.Bodies != writers*each {
		t.Fatalf("Verify = %+v, want %d intact records and bodies", rep, writers*each)
	}
	// The Merkle tree stored beside the records has the recomputed root.
	hashes, err := st.Search(context.Background(), store.Filter{LogID: "main"})
	if err != nil {
		t.Fatal(err)
	}
	leaves := make([]tlog.Hash, len(hashes))
	for i, r := range hashes {
		leaves[i] = tlog.RecordHash(record.Encode(r))
	}
	n := int64(len(leaves))
	got, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := st.ReadHashes(context.Background(), "main", idx)
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := merkleRoot(leaves); got != want {
		t.Errorf("stored tree hash = %v, want %v", got, want)
	}
}

// merkleRoot computes an RFC 6962 root directly, independently of tlog's
// stored-hash layout.
func merkleRoot(leaves []tlog.Hash) tlog.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return tlog.NodeHash(merkleRoot(leaves[:k]), merkleRoot(leaves[k:]))
}

type failingStore struct{ ledger.Store }

func (failingStore) Append(context.Context, string, func(context.Context, store.AppendTx) (*store.Batch, error)) error {
	return errors.New("disk full")
}

func TestAppendFailsClosed(t *testing.T) {
	l := ledger.New(failingStore{}, "main", ledger.Options{})
	defer l.Close()
	err := l.Append(context.Background(), entry(committer(t), "a", "x"))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Append on a failing store = %v, want the store's error", err)
	}
}

func TestAppendAfterClose(t *testing.T) {
	l := ledger.New(openStore(t), "main", ledger.Options{})
	l.Close()
	if err := l.Append(context.Background(), entry(committer(t), "a", "x")); !errors.Is(err, ledger.ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
}

// refusingStore refuses any batch holding a record by "mallory", as a
// database refuses a value it cannot store.
type refusingStore struct{ *sqlite.Store }

func (s refusingStore) Append(ctx context.Context, logID string, build func(context.Context, store.AppendTx) (*store.Batch, error)) error {
	return s.Store.Append(ctx, logID, func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
		b, err := build(ctx, tx)
		if err != nil {
			return nil, err
		}
		for _, r := range b.Records {
			if r.Actor == "mallory" {
				return nil, errors.New("invalid byte sequence")
			}
		}
		return b, nil
	})
}

// TestBadRecordRefusesOnlyItsOwnCall: a record the store refuses fails its
// own append and no other caller's in the same group.
func TestBadRecordRefusesOnlyItsOwnCall(t *testing.T) {
	st := openStore(t)
	c := committer(t)
	l := ledger.New(refusingStore{st}, "main", ledger.Options{})
	defer l.Close()
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := "alice"
			if i == 7 {
				actor = "mallory"
			}
			results[i] = l.Append(context.Background(), entry(c, actor, "x"))
		}()
	}
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == 7) {
			t.Errorf("append %d: err = %v", i, err)
		}
	}
	l.Close()
	rep, err := ledger.Verify(context.Background(), st, "main", ledger.VerifyOptions{Committer: c})
	if err != nil || !rep.OK() || rep.Records != 19 {
		t.Fatalf("Verify = %+v, %v; want 19 intact records", rep, err)
	}
}

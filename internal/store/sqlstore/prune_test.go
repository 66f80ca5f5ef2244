package sqlstore

import (
	"fmt"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestRightEdgeSuffices checks what pruneTree relies on, for every base up
// to a tree of n leaves: with the hashes stored before the base deleted but
// for its right edge, every tree hash, inclusion proof and consistency
// proof from the base on can still be made, and so can the hashes that
// later appends store.
func TestRightEdgeSuffices(t *testing.T) {
	const n = 70
	var all []tlog.Hash
	full := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			out[i] = all[idx]
		}
		return out, nil
	})
	leaf := func(i int64) []byte { return fmt.Appendf(nil, "record %d", i) }
	roots := make([]tlog.Hash, n+1)
	for i := range int64(n) {
		hs, err := tlog.StoredHashes(i, leaf(i), full)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, hs...)
		if roots[i+1], err = tlog.TreeHash(i+1, full); err != nil {
			t.Fatal(err)
		}
	}

	for base := int64(1); base <= n; base++ {
		keep := rightEdge(base)
		end := tlog.StoredHashIndex(0, base)
		pruned := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			for _, idx := range indexes {
				if idx < end && !slices.Contains(keep, idx) {
					return nil, fmt.Errorf("hash %d was pruned", idx)
				}
			}
			return full.ReadHashes(indexes)
		})
		for size := base; size <= n; size++ {
			if root, err := tlog.TreeHash(size, pruned); err != nil || root != roots[size] {
				t.Fatalf("base %d: TreeHash(%d) = %v, %v; want %v", base, size, root, err, roots[size])
			}
			if size < n {
				hs, err := tlog.StoredHashes(size, leaf(size), pruned)
				if err != nil || !slices.Equal(hs, all[tlog.StoredHashIndex(0, size):tlog.StoredHashIndex(0, size+1)]) {
					t.Fatalf("base %d: StoredHashes(%d) = %v, %v", base, size, hs, err)
				}
			}
			for i := base; i < size; i++ {
				p, err := tlog.ProveRecord(size, i, pruned)
				if err != nil {
					t.Fatalf("base %d: ProveRecord(%d, %d): %v", base, size, i, err)
				}
				if err := tlog.CheckRecord(p, size, roots[size], i, tlog.RecordHash(leaf(i))); err != nil {
					t.Fatalf("base %d: CheckRecord(%d, %d): %v", base, size, i, err)
				}
			}
			for old := base; old <= size; old++ {
				p, err := tlog.ProveTree(size, old, pruned)
				if err != nil {
					t.Fatalf("base %d: ProveTree(%d, %d): %v", base, size, old, err)
				}
				if err := tlog.CheckTree(p, size, roots[size], old, roots[old]); err != nil {
					t.Fatalf("base %d: CheckTree(%d, %d): %v", base, size, old, err)
				}
			}
		}
	}
}

func TestRightEdge(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want []int64
	}{
		{1, []int64{tlog.StoredHashIndex(0, 0)}},
		{2, []int64{tlog.StoredHashIndex(1, 0)}},
		{7, []int64{tlog.StoredHashIndex(2, 0), tlog.StoredHashIndex(1, 2), tlog.StoredHashIndex(0, 6)}},
		{37, []int64{tlog.StoredHashIndex(5, 0), tlog.StoredHashIndex(2, 8), tlog.StoredHashIndex(0, 36)}},
	} {
		if got := rightEdge(tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("rightEdge(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
	if got := len(rightEdge(1<<62 - 1)); got != 62 {
		t.Errorf("len(rightEdge(2^62-1)) = %d, want 62", got)
	}
}

package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestQueue: every body handed to a queue, even one too small to hold them
// all, is sealed by the time Close returns, and a body that cannot be
// sealed is reported without costing the others of its batch.
func TestQueue(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, t.TempDir()+"/vault.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := LocalKey(bytes.Repeat([]byte{3}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	v := New(st, key)
	var failed atomic.Int64
	var shredded [16]byte
	shredded[0] = 0xee
	if _, err := v.Shred(ctx, "main", [][16]byte{shredded}); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(v, 8, time.Hour, func(err error) {
		if !errors.Is(err, ErrShredded) {
			t.Errorf("unexpected seal error: %v", err)
		}
		failed.Add(1)
	})
	q.Seal(ctx, "main", shredded, map[string][]byte{"clear": []byte("gone")}, time.Now().Add(time.Hour))
	const n = 50
	for i := 0; i < n; i++ {
		var nonce [16]byte
		nonce[0] = byte(i)
		if err := q.Seal(ctx, "main", nonce, map[string][]byte{"clear": []byte(fmt.Sprint(i))}, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	for i := 0; i < n; i++ {
		var nonce [16]byte
		nonce[0] = byte(i)
		got, err := v.Open(ctx, "main", nonce, "clear")
		if err != nil || string(got) != fmt.Sprint(i) {
			t.Fatalf("Open(%d) = %q, %v", i, got, err)
		}
	}
	if failed.Load() != 1 {
		t.Errorf("%d seals failed, want 1 (the shredded record)", failed.Load())
	}
}

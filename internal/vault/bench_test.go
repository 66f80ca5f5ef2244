package vault

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aitrail/aitrail/internal/pgdb/pgtest"
)

// The benchmarks seal and open 4 KiB parts, a typical prompt or answer,
// on SQLite and, when AITRAIL_TEST_POSTGRES is set, on PostgreSQL. Sealing
// includes the fsync of its commit, so its cost depends on the disk.

const benchPartSize = 4 << 10

func benchStorages(b *testing.B, fn func(b *testing.B, st *SQLStorage)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, openSQLite(b, filepath.Join(b.TempDir(), "vault.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := pgtest.Schema(b, pgtest.Admin(b), "aitrail_vault_test_")
		st, err := OpenPostgres(b.Context(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		fn(b, st)
	})
}

func benchNonce(i uint64) [16]byte {
	var n [16]byte
	rand.Read(n[:8])
	binary.BigEndian.PutUint64(n[8:], i)
	return n
}

func benchPart() []byte {
	p := make([]byte, benchPartSize)
	rand.Read(p)
	return p
}

// BenchmarkSeal seals the first part of new records: a new data key, and
// one transaction.
func BenchmarkSeal(b *testing.B) {
	benchStorages(b, func(b *testing.B, st *SQLStorage) {
		v := New(st, newMasterKey(b))
		parts := map[string][]byte{"request": benchPart()}
		b.SetBytes(benchPartSize)
		i := uint64(0)
		for b.Loop() {
			i++
			if err := v.Seal(b.Context(), "log", benchNonce(i), parts, future); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSealParallel seals new records from many goroutines.
func BenchmarkSealParallel(b *testing.B) {
	benchStorages(b, func(b *testing.B, st *SQLStorage) {
		v := New(st, newMasterKey(b))
		parts := map[string][]byte{"request": benchPart()}
		b.SetBytes(benchPartSize)
		b.SetParallelism(4) // 4×GOMAXPROCS goroutines
		var i atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := v.Seal(b.Context(), "log", benchNonce(i.Add(1)), parts, future); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkSealAgain adds a second part to existing records: the data key
// is read and unwrapped.
func BenchmarkSealAgain(b *testing.B) {
	benchStorages(b, func(b *testing.B, st *SQLStorage) {
		v := New(st, newMasterKey(b))
		part := benchPart()
		const records = 2000
		for i := range uint64(records) {
			if err := v.Seal(b.Context(), "log", benchNonce(i), map[string][]byte{"request": part}, future); err != nil {
				b.Fatal(err)
			}
		}
		refs, err := v.Expired(b.Context(), future, records)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(benchPartSize)
		i := 0
		for b.Loop() {
			r := refs[i%records]
			name := fmt.Sprint("response", i/records) // a new part each round
			if err := v.Seal(b.Context(), r.LogID, r.Nonce, map[string][]byte{name: part}, future); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkOpen opens 4 KiB parts of 1000 records.
func BenchmarkOpen(b *testing.B) {
	benchStorages(b, func(b *testing.B, st *SQLStorage) {
		v := New(st, newMasterKey(b))
		part := benchPart()
		const records = 1000
		for i := range uint64(records) {
			if err := v.Seal(b.Context(), "log", benchNonce(i), map[string][]byte{"request": part}, future); err != nil {
				b.Fatal(err)
			}
		}
		refs, err := v.Expired(b.Context(), future, records)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(benchPartSize)
		i := 0
		for b.Loop() {
			r := refs[i%records]
			if _, err := v.Open(b.Context(), r.LogID, r.Nonce, "request"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkShred shreds one record per operation, as the retention job
// would with batches of one (on SQLite, each with its WAL truncation).
func BenchmarkShred(b *testing.B) {
	benchStorages(b, func(b *testing.B, st *SQLStorage) {
		v := New(st, newMasterKey(b))
		part := benchPart()
		i := uint64(0)
		for b.Loop() {
			b.StopTimer()
			i++
			n := benchNonce(i)
			if err := v.Seal(b.Context(), "log", n, map[string][]byte{"request": part, "response": part}, future); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if c, err := v.Shred(b.Context(), "log", [][16]byte{n}); err != nil || c != 1 {
				b.Fatal(c, err)
			}
		}
	})
}

// BenchmarkCrypto measures the cryptography of Seal and Open alone: a new
// data key, its wrapping and the encryption of one 4 KiB part; and the
// unwrapping and decryption.
func BenchmarkCrypto(b *testing.B) {
	master := newMasterKey(b)
	part := benchPart()
	ref := Ref{LogID: "log", Nonce: benchNonce(1)}
	b.Run("seal", func(b *testing.B) {
		b.SetBytes(benchPartSize)
		for b.Loop() {
			dek := make([]byte, KeySize)
			rand.Read(dek)
			if _, err := master.Wrap(dek); err != nil {
				b.Fatal(err)
			}
			aead, err := newAEAD(dek)
			clear(dek)
			if err != nil {
				b.Fatal(err)
			}
			aead.Seal(nil, nil, part, partAAD(ref, "request"))
		}
	})
	b.Run("open", func(b *testing.B) {
		dek := make([]byte, KeySize)
		rand.Read(dek)
		w, _ := master.Wrap(dek)
		aead, _ := newAEAD(dek)
		sealed := aead.Seal(nil, nil, part, partAAD(ref, "request"))
		b.SetBytes(benchPartSize)
		for b.Loop() {
			dek, err := master.Unwrap(w)
			if err != nil {
				b.Fatal(err)
			}
			aead, err := newAEAD(dek)
			clear(dek)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := aead.Open(nil, nil, sealed, partAAD(ref, "request")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

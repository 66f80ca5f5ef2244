package ledger_test

import (
	"context"
	"testing"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// BenchmarkAppend measures one durable append (a transaction and an fsync)
// of a request record with its body, one caller at a time.
func BenchmarkAppend(b *testing.B) {
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/audit.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := committer(b)
	l := ledger.New(st, "main", ledger.Options{})
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(context.Background(), entry(c, "alice", "what did we decide about the quarterly report?")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendParallel measures appends from many callers, which group
// commit shares.
func BenchmarkAppendParallel(b *testing.B) {
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/audit.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := committer(b)
	l := ledger.New(st, "main", ledger.Options{})
	defer l.Close()
	b.SetParallelism(32)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(context.Background(), entry(c, "alice", "what did we decide about the quarterly report?")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

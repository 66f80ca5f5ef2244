package sqlstore_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/store/sqlstore"
)

// TestFillUnanswered migrates a database from before the unanswered
// table: the migration finds the same unanswered calls as the table kept
// while the records were written, with answers that fall in a later range
// of its reading than their requests, in two logs.
func TestFillUnanswered(t *testing.T) {
	defer sqlstore.SetFillChunk(7)()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][]int64{}
	for _, logID := range []string{"a", "b"} {
		var recs []*record.Record
		var open []int64
		for seq := int64(0); seq < 120; seq++ {
			r := &record.Record{Version: record.Version, LogID: logID, Seq: seq, Kind: record.KindHeartbeat, Status: record.StatusOK, RequestSeq: -1}
			switch x := rng.IntN(10); {
			case x < 3:
				r.Kind, r.Status = record.KindRequest, record.StatusPending
			case x < 4:
				r.Kind, r.Status = record.KindAdmin, record.StatusPending
			case x < 5:
				r.Kind, r.Status = record.KindRequest, record.StatusDenied
			case x < 8 && len(open) > 0:
				i := rng.IntN(len(open))
				r.Kind, r.RequestSeq = record.KindResponse, open[i]
				if x == 7 {
					r.Kind, r.Status = record.KindInterrupted, record.StatusInterrupted
				}
				open = slices.Delete(open, i, i+1)
			}
			if r.Status == record.StatusPending {
				open = append(open, seq)
			}
			recs = append(recs, r)
		}
		err := st.Append(ctx, logID, func(context.Context, store.AppendTx) (*store.Batch, error) {
			return &store.Batch{Records: recs}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(open)
		if got, err := st.Unanswered(ctx, logID); err != nil || !slices.Equal(got, open) {
			t.Fatalf("Unanswered(%q) as written = %v, %v; want %v", logID, got, err, open)
		}
		want[logID] = open
	}
	st.Close()

	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE unanswered; DROP TABLE schema_version`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open a database of schema version 5: %v", err)
	}
	defer st.Close()
	for logID, w := range want {
		if got, err := st.Unanswered(ctx, logID); err != nil || !slices.Equal(got, w) {
			t.Errorf("Unanswered(%q) after the migration = %v, %v; want %v", logID, got, err, w)
		}
	}
}

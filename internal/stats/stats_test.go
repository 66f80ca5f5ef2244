package stats

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// records is a log in memory; Search applies the kinds and the time window.
type records []*record.Record

func (rs records) Search(_ context.Context, f store.Filter) ([]*record.Record, error) {
	var out []*record.Record
	for _, r := range rs {
		if (len(f.Kinds) == 0 || slices.Contains(f.Kinds, r.Kind)) &&
			(f.Since == 0 || r.Time >= f.Since) && (f.Until == 0 || r.Time < f.Until) {
			out = append(out, r)
		}
	}
	return out, nil
}

var day0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// log builds a log from calls: each a request and, unless its status is
// refused at once or pending, an outcome a millisecond later.
func log(calls ...call) records {
	var rs records
	seq := int64(0)
	for _, c := range calls {
		at := day0.Add(c.at)
		q := &record.Record{LogID: "n1", Seq: seq, Time: at.UnixNano(), Kind: record.KindRequest, Actor: c.actor, Model: c.model,
			Status: record.StatusPending, RequestSeq: -1}
		if c.key != "" {
			q.Detail, _ = json.Marshal(map[string]string{"key_id": c.key})
		}
		seq++
		rs = append(rs, q)
		switch c.status {
		case record.StatusDenied, record.StatusBlocked:
			q.Status = c.status
		case "":
		case record.StatusInterrupted:
			rs = append(rs, &record.Record{LogID: "n1", Seq: seq, Time: at.Add(time.Hour).UnixNano(), Kind: record.KindInterrupted,
				Status: record.StatusInterrupted, RequestSeq: q.Seq})
			seq++
		default:
			rs = append(rs, &record.Record{LogID: "n1", Seq: seq, Time: at.Add(time.Millisecond).UnixNano(), Kind: record.KindResponse,
				Status: c.status, RequestSeq: q.Seq, TokensIn: c.in, TokensOut: c.out, LatencyUS: c.latencyUS})
			seq++
		}
	}
	return rs
}

type call struct {
	at                 time.Duration
	actor, key, model  string
	status             string
	in, out, latencyUS int64
}

func TestCompute(t *testing.T) {
	rs := log(
		call{0, "alice", "k1", "tiny", "ok", 10, 20, 1000},
		call{time.Minute, "alice", "k2", "tiny", "ok", 5, 5, 3000},
		call{2 * time.Minute, "bob", "k3", "big", "error", -1, -1, 2000},
		call{3 * time.Minute, "", "", "tiny", record.StatusDenied, 0, 0, 0},
		call{4 * time.Minute, "bob", "k3", "big", record.StatusInterrupted, 0, 0, 0},
		call{25 * time.Hour, "alice", "k1", "tiny", "ok", 1, 2, 4000},
		call{26 * time.Hour, "carol", "", "tiny", "", 0, 0, 0},
	)
	ctx := context.Background()
	rep, err := Compute(ctx, rs, Filter{By: ByActor})
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Total
	if tot.Calls != 7 || tot.OK != 3 || tot.Errors != 2 || tot.Denied != 1 || tot.Pending != 1 || tot.TokensIn != 16 || tot.TokensOut != 27 || tot.Unknown != 1 {
		t.Errorf("total = %+v, want 7 calls, 3 ok, 2 errors, 1 denied, 1 in progress, 16 in, 27 out, 1 unknown", tot)
	}
	if tot.LatencyP50MS == nil || *tot.LatencyP50MS != 2 || *tot.LatencyP95MS != 4 {
		t.Errorf("total latency p50 %v p95 %v, want 2 and 4 ms", tot.LatencyP50MS, tot.LatencyP95MS)
	}
	want := []struct {
		group string
		calls int64
	}{{"alice", 3}, {"bob", 2}, {Anonymous, 1}, {"carol", 1}}
	if len(rep.Groups) != len(want) {
		t.Fatalf("groups = %+v, want %v", rep.Groups, want)
	}
	for i, w := range want {
		if g := rep.Groups[i]; g.Group != w.group || g.Calls != w.calls {
			t.Errorf("group %d = %s with %d calls, want %s with %d", i, g.Group, g.Calls, w.group, w.calls)
		}
	}
	if rep.Groups[1].LatencyP50MS == nil || *rep.Groups[1].LatencyP50MS != 2 {
		t.Errorf("bob's p50 = %v, want 2 ms", rep.Groups[1].LatencyP50MS)
	}
	if rep.Groups[3].LatencyP50MS != nil {
		t.Errorf("carol's p50 = %v, want null (no answered call)", *rep.Groups[3].LatencyP50MS)
	}

	for _, tc := range []struct {
		by     string
		groups []string
	}{
		{ByKey, []string{NoKey, "k1", "k3", "k2"}},
		{ByModel, []string{"tiny", "big"}},
		{ByDay, []string{"2026-03-14", "2026-03-15"}},
	} {
		rep, err := Compute(ctx, rs, Filter{By: tc.by})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range rep.Groups {
			got = append(got, g.Group)
		}
		if !slices.Equal(got, tc.groups) {
			t.Errorf("Compute(by %s) groups = %v, want %v", tc.by, got, tc.groups)
		}
	}

	// A window: the second day only.
	rep, err = Compute(ctx, rs, Filter{Since: day0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Calls != 2 || rep.Total.OK != 1 || rep.Total.TokensIn != 1 || len(rep.Groups) != 0 {
		t.Errorf("the second day = %+v, groups %v; want 2 calls, 1 ok, 1 token in, no groups", rep.Total, rep.Groups)
	}
	// The outcome of a call may fall after --until: it still counts.
	rep, err = Compute(ctx, rs, Filter{Since: day0.Add(4 * time.Minute), Until: day0.Add(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Calls != 1 || rep.Total.Errors != 1 {
		t.Errorf("minute 4 = %+v, want the interrupted call as an error", rep.Total)
	}
	if _, err := Compute(ctx, rs, Filter{By: "week"}); err == nil {
		t.Error("Compute(by week) succeeded, want an error")
	}
}

// Package stats computes usage figures from the audit log: calls, tokens
// in and out, errors, denials and latency, in total and by actor, API key,
// model or day. It reads the sealed records only (never a body), so its
// figures are what the log proves. The CLI ('aitrail stats') and the API
// share it.
package stats

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Store is what stats reads.
type Store interface {
	Search(ctx context.Context, f store.Filter) ([]*record.Record, error)
}

// Dimensions a report can be grouped by.
const (
	ByActor = "actor"
	ByKey   = "key"
	ByModel = "model"
	ByDay   = "day"
)

// Dimensions lists them, for flags and errors.
var Dimensions = []string{ByActor, ByKey, ByModel, ByDay}

// Group names with a meaning of their own.
const (
	Anonymous = "(anonymous)" // a call without an identity (refused)
	NoKey     = "(no key)"    // identified by trusted headers, or recorded before key ids were
	NoModel   = "(no model)"
)

// A Filter selects the calls counted: those whose request was recorded in
// [Since, Until) (zero: no bound), grouped by By ("" for the total only).
type Filter struct {
	Since, Until time.Time
	By           string
}

// Figures are the usage of one group of calls.
type Figures struct {
	Group string `json:"group,omitempty"` // the actor, key id, model or day (YYYY-MM-DD, UTC)
	Calls int64  `json:"calls"`           // model calls received, refused ones included
	// TokensIn and TokensOut add up the upstream's counts where it gave
	// them; Unknown counts the answered calls without them.
	TokensIn  int64 `json:"tokens_in"`
	TokensOut int64 `json:"tokens_out"`
	Unknown   int64 `json:"tokens_unknown"`
	OK        int64 `json:"ok"`
	Errors    int64 `json:"errors"`      // status error, or interrupted by a crash
	Denied    int64 `json:"denied"`      // refused for want of a valid key or role
	Blocked   int64 `json:"blocked"`     // refused or withheld by the redaction policy
	Aborted   int64 `json:"aborted"`     // the caller went away first
	Pending   int64 `json:"in_progress"` // no outcome recorded yet
	// LatencyP50MS and LatencyP95MS are whole-call latencies of the
	// answered calls (nearest rank), null when there are none.
	LatencyP50MS *float64 `json:"latency_p50_ms"`
	LatencyP95MS *float64 `json:"latency_p95_ms"`

	latencies []int64
}

// A Report is the figures of the calls a Filter selects.
type Report struct {
	Since  string    `json:"since,omitempty"` // RFC 3339; absent: from the start
	Until  string    `json:"until,omitempty"` // absent: up to now
	By     string    `json:"by,omitempty"`
	Groups []Figures `json:"groups"` // by Calls, most first (by day: in date order)
	Total  Figures   `json:"total"`
}

// Compute reads the calls f selects from every log in st and adds them
// up. It holds the sealed fields of the selected requests and their
// outcomes in memory.
func Compute(ctx context.Context, st Store, f Filter) (*Report, error) {
	if f.By != "" && !slices.Contains(Dimensions, f.By) {
		return nil, fmt.Errorf("%q is not a dimension: use actor, key, model or day", f.By)
	}
	sf := store.Filter{Kinds: []string{record.KindRequest}}
	if !f.Since.IsZero() {
		sf.Since = f.Since.UnixNano()
	}
	if !f.Until.IsZero() {
		sf.Until = f.Until.UnixNano()
	}
	reqs, err := st.Search(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("read the requests: %w", err)
	}
	// Outcomes come after their requests: those since the window's start.
	type key struct {
		log string
		seq int64
	}
	outcomes := map[key]*record.Record{}
	if len(reqs) > 0 {
		of := store.Filter{Kinds: []string{record.KindResponse, record.KindInterrupted, record.KindUnrecordedOutcome}, Since: sf.Since}
		recs, err := st.Search(ctx, of)
		if err != nil {
			return nil, fmt.Errorf("read the outcomes: %w", err)
		}
		for _, r := range recs {
			outcomes[key{r.LogID, r.RequestSeq}] = r
		}
	}
	rep := &Report{By: f.By}
	if !f.Since.IsZero() {
		rep.Since = f.Since.UTC().Format(time.RFC3339)
	}
	if !f.Until.IsZero() {
		rep.Until = f.Until.UTC().Format(time.RFC3339)
	}
	groups := map[string]*Figures{}
	for _, q := range reqs {
		a := outcomes[key{q.LogID, q.Seq}]
		rep.Total.add(q, a)
		if f.By == "" {
			continue
		}
		g := groupOf(q, f.By)
		fg := groups[g]
		if fg == nil {
			fg = &Figures{Group: g}
			groups[g] = fg
		}
		fg.add(q, a)
	}
	for _, g := range groups {
		g.finish()
		rep.Groups = append(rep.Groups, *g)
	}
	rep.Total.finish()
	slices.SortFunc(rep.Groups, func(a, b Figures) int {
		if f.By == ByDay {
			return cmp.Compare(a.Group, b.Group)
		}
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Group, b.Group))
	})
	if rep.Groups == nil {
		rep.Groups = []Figures{}
	}
	return rep, nil
}

// groupOf names the group of request q.
func groupOf(q *record.Record, by string) string {
	switch by {
	case ByActor:
		if q.Actor == "" {
			return Anonymous
		}
		return q.Actor
	case ByKey:
		var d struct {
			KeyID string `json:"key_id"`
		}
		json.Unmarshal(q.Detail, &d) // a request without a key id has none
		if d.KeyID == "" {
			return NoKey
		}
		return d.KeyID
	case ByModel:
		if q.Model == "" {
			return NoModel
		}
		return q.Model
	default:
		return q.TimeUTC().Format(time.DateOnly)
	}
}

// add counts request q, with its outcome a (nil if none is recorded).
func (f *Figures) add(q, a *record.Record) {
	f.Calls++
	status := q.Status
	if status == record.StatusPending {
		switch {
		case a == nil:
			status = ""
		case a.Kind == record.KindInterrupted:
			status = record.StatusInterrupted
		default:
			status = a.Status
		}
	}
	switch status {
	case record.StatusOK:
		f.OK++
	case record.StatusError, record.StatusInterrupted:
		f.Errors++
	case record.StatusDenied:
		f.Denied++
	case record.StatusBlocked:
		f.Blocked++
	case record.StatusClientAborted:
		f.Aborted++
	case "":
		f.Pending++
	}
	if a == nil || a.Kind != record.KindResponse {
		return
	}
	if a.TokensIn < 0 && a.TokensOut < 0 {
		f.Unknown++
	}
	f.TokensIn += max(a.TokensIn, 0)
	f.TokensOut += max(a.TokensOut, 0)
	if a.LatencyUS > 0 {
		f.latencies = append(f.latencies, a.LatencyUS)
	}
}

func (f *Figures) finish() {
	if len(f.latencies) == 0 {
		return
	}
	slices.Sort(f.latencies)
	f.LatencyP50MS = percentile(f.latencies, 50)
	f.LatencyP95MS = percentile(f.latencies, 95)
	f.latencies = nil
}

// percentile is the nearest-rank percentile p of sorted, in milliseconds.
func percentile(sorted []int64, p float64) *float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	ms := float64(sorted[max(i, 0)]) / 1000
	return &ms
}

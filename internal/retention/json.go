package retention

import (
	"encoding/json"
	"time"

	"github.com/aitrail/aitrail/internal/store"
)

// MarshalJSON writes a purge report as 'aitrail retention run --json'
// prints it: snake_case fields, times in RFC 3339, null where a record
// number is none.
func (r *Report) MarshalJSON() ([]byte, error) {
	type layer struct {
		Layer   string  `json:"layer"`
		Policy  string  `json:"policy"`
		Cutoff  string  `json:"cutoff,omitempty"`
		Erased  int64   `json:"erased"`
		Records int64   `json:"records"`
		Held    int64   `json:"held"`
		Events  []int64 `json:"events"`
		First   *int64  `json:"first"`
		Last    *int64  `json:"last"`
		Skipped string  `json:"skipped,omitempty"`
	}
	type space struct {
		Bytes int64 `json:"bytes"`
		Free  int64 `json:"free"`
	}
	out := struct {
		LogID  string  `json:"log_id"`
		Now    string  `json:"now"`
		DryRun bool    `json:"dry_run"`
		Layers []layer `json:"layers"`
		Prune  struct {
			Policy string `json:"policy"`
			Cutoff string `json:"cutoff,omitempty"`
			From   int64  `json:"from"`
			Size   int64  `json:"size"`
			Event  *int64 `json:"event"`
			Stop   string `json:"stop,omitempty"`
		} `json:"prune"`
		SpaceBefore space `json:"space_before"`
		SpaceAfter  space `json:"space_after"`
	}{LogID: r.LogID, Now: stamp(r.Now), DryRun: r.DryRun, Layers: []layer{},
		SpaceBefore: space(r.SpaceBefore), SpaceAfter: space(r.SpaceAfter)}
	for _, l := range r.Layers {
		out.Layers = append(out.Layers, layer{Layer: l.Layer, Policy: l.Policy, Cutoff: stamp(l.Cutoff),
			Erased: l.Erased, Records: l.Records, Held: l.Held, Events: append([]int64{}, l.Events...),
			First: seqOrNull(l.First), Last: seqOrNull(l.Last), Skipped: l.Skipped})
	}
	p := r.Prune
	out.Prune.Policy, out.Prune.Cutoff, out.Prune.From, out.Prune.Size, out.Prune.Stop = p.Policy, stamp(p.Cutoff), p.From, p.Size, p.Stop
	if p.Size > p.From {
		out.Prune.Event = &p.Event
	}
	return json.Marshal(out)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func seqOrNull(seq int64) *int64 {
	if seq < 0 {
		return nil
	}
	return &seq
}

// A HoldView is a hold as the holds API and 'aitrail hold list --json' show
// it: as the log's hold.added event records it, with its state; times are
// RFC 3339, absent when unset.
type HoldView struct {
	HoldDetail
	Open          bool   `json:"open"` // neither released nor expired
	CreatedAt     string `json:"created_at"`
	CreatedBy     string `json:"created_by"`
	ReleasedAt    string `json:"released_at,omitempty"`
	ReleasedBy    string `json:"released_by,omitempty"`
	ReleaseReason string `json:"release_reason,omitempty"`
}

// View returns h as it is shown, open or not at now.
func View(h store.Hold, now time.Time) HoldView {
	return HoldView{HoldDetail: Detail(h), Open: Open(h, now),
		CreatedAt: Stamp(h.CreatedAt), CreatedBy: h.CreatedBy,
		ReleasedAt: Stamp(h.ReleasedAt), ReleasedBy: h.ReleasedBy, ReleaseReason: h.ReleaseReason}
}

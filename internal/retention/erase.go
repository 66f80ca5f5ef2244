package retention

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// An ErasureRequest asks for the bodies of the records that held a data
// subject's value to be erased ahead of schedule.
type ErasureRequest struct {
	Type   string         // the PII type searched (EMAIL, PHONE, ...), for the record
	Refs   []store.PIIRef // the records that held the value (store.FindPII)
	Reason string         // the request's reference (ticket, letter), recorded
}

// A HeldRecord is a record an erasure request could not erase.
type HeldRecord struct {
	Seq  int64
	Hold store.Hold
}

// An ErasureResult is what an erasure request did.
type ErasureResult struct {
	// Records are the records of the request in this log: those that held
	// the value, and the other half of each of their interactions.
	Records []int64
	// Held lists the records under legal hold; when there are any,
	// nothing was erased.
	Held []HeldRecord
	// OtherLogs are logs of other gateways that hold matching records:
	// the request must be run there too.
	OtherLogs []string
	// Erased counts what was erased per layer (records; PII: entries).
	Erased map[string]int64
	// Event is the erasure.requested event; Events the body.erased ones.
	Event  int64
	Events []int64
}

// erasureEvent is the Detail of an erasure.requested event.
type erasureEvent struct {
	Type    string     `json:"type,omitempty"`
	Ranges  [][2]int64 `json:"records,omitempty"`
	Count   int        `json:"count"`
	Outcome string     `json:"outcome"`
	Holds   []string   `json:"holds,omitempty"`
}

// Erase carries out an erasure request on this purger's log: unless a
// legal hold covers one of the records (then it erases nothing), it erases
// their raw bodies, redacted bodies and PII index entries. Either way the
// request and its outcome are an event in the log, recorded first.
func (p *Purger) Erase(ctx context.Context, req ErasureRequest) (*ErasureResult, error) {
	logID := p.Ledger.LogID()
	res := &ErasureResult{Erased: map[string]int64{}, Event: -1}
	var seqs []int64
	for _, ref := range req.Refs {
		if ref.LogID != logID {
			if !slices.Contains(res.OtherLogs, ref.LogID) {
				res.OtherLogs = append(res.OtherLogs, ref.LogID)
			}
			continue
		}
		seqs = append(seqs, ref.Seq)
	}
	recs, err := p.interactions(ctx, logID, seqs)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		res.Records = append(res.Records, r.Seq)
	}
	if len(recs) == 0 {
		return res, nil
	}
	now := p.now()
	hs, err := newHoldSet(ctx, p.Store, logID, now)
	if err != nil {
		return nil, err
	}
	var holdIDs []string
	for _, r := range recs {
		h, err := hs.holding(ctx, r)
		if err != nil {
			return nil, err
		}
		if h != nil {
			res.Held = append(res.Held, HeldRecord{Seq: r.Seq, Hold: *h})
			if !slices.Contains(holdIDs, h.ID) {
				holdIDs = append(holdIDs, h.ID)
			}
		}
	}
	ev := erasureEvent{Type: req.Type, Ranges: record.Compress(res.Records), Count: len(recs), Outcome: "erased"}
	if len(res.Held) > 0 {
		ev.Outcome, ev.Holds = "refused: records under legal hold", holdIDs
	}
	r := record.NewEvent(record.KindErasureRequest, ev)
	r.Actor, r.Role, r.Reason = p.Actor, p.Role, strings.TrimSpace(req.Reason)
	if err := p.Ledger.Append(ctx, &ledger.Entry{Record: r}); err != nil {
		return nil, fmt.Errorf("record the erasure request: %w", err)
	}
	res.Event = r.Seq
	if len(res.Held) > 0 {
		return res, nil
	}
	for _, layer := range Layers {
		var with []*record.Record
		for _, r := range recs {
			if hasLayer(layer, r) {
				with = append(with, r)
			}
		}
		if len(with) == 0 || (layer == record.LayerRaw && p.Vault == nil) {
			continue
		}
		e := record.Erasure{Layer: layer, Count: int64(len(with)), Policy: "erasure request",
			Reason: fmt.Sprintf("erasure request, event %d", res.Event)}
		for _, r := range with {
			e.Seqs = append(e.Seqs, r.Seq)
		}
		n, evSeq, err := erasure(ctx, p.Store, p.Ledger, p.Vault, layer, with, e, p.Actor, p.Role, unpaced)
		if err != nil {
			return res, err
		}
		res.Erased[layer] = n
		res.Events = append(res.Events, evSeq)
	}
	return res, nil
}

// interactions returns the records seqs with the other half of each of
// their interactions (a request's response, a response's request), by Seq.
func (p *Purger) interactions(ctx context.Context, logID string, seqs []int64) ([]*record.Record, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	recs, err := p.Store.Search(ctx, store.Filter{LogID: logID, Seqs: seqs})
	if err != nil {
		return nil, err
	}
	var requests, more []int64
	for _, r := range recs {
		switch r.Kind {
		case record.KindResponse:
			more = append(more, r.RequestSeq)
		case record.KindRequest, record.KindAdmin:
			requests = append(requests, r.Seq)
		}
	}
	if len(requests) > 0 {
		rs, err := p.Store.Search(ctx, store.Filter{LogID: logID, RequestSeqs: requests, Kinds: []string{record.KindResponse}})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			more = append(more, r.Seq)
		}
	}
	all := append(slices.Clone(seqs), more...)
	slices.Sort(all)
	all = slices.Compact(all)
	return p.Store.Search(ctx, store.Filter{LogID: logID, Seqs: all})
}

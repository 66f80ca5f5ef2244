// Package query searches the audit log for interactions: each request
// record joined with the record of its outcome (a response, or an
// interrupted event after a crash) and with both bodies.
package query

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Store is what a query reads.
type Store interface {
	Search(ctx context.Context, f store.Filter) ([]*record.Record, error)
	Body(ctx context.Context, logID string, seq int64) ([]byte, error)
}

// A Filter selects interactions. Zero fields select everything.
type Filter struct {
	Actor, Session, Model string
	Status                string // ok, error, denied, blocked, client_aborted, interrupted, in_progress
	Since, Until          time.Time
	Limit                 int // at most this many, the earliest first (0: all)
	// LogID and Seqs, if set, select the interactions whose request is
	// one of these records of that log.
	LogID string
	Seqs  []int64
}

// Interaction is one model call as an auditor reads it. Its JSON form is
// the output of 'aitrail query --json'.
type Interaction struct {
	LogID          string          `json:"log_id"`
	Seq            int64           `json:"seq"`
	ResponseSeq    *int64          `json:"response_seq"` // null: no outcome recorded (yet)
	Time           string          `json:"time"`
	Actor          string          `json:"actor"`
	Role           string          `json:"role"`
	Session        string          `json:"session"`
	Reason         string          `json:"reason"`
	ClientIP       string          `json:"client_ip"`
	CorrelationID  string          `json:"correlation_id"`
	Endpoint       string          `json:"endpoint"`
	Model          string          `json:"model"`
	ModelDigest    string          `json:"model_digest"`
	Stream         bool            `json:"stream"`
	Params         json.RawMessage `json:"params"`
	Status         string          `json:"status"`
	UpstreamStatus *int64          `json:"upstream_status"` // null: the upstream was not reached
	DoneReason     string          `json:"done_reason"`
	TokensIn       *int64          `json:"tokens_in"`  // null: unknown (the upstream did not say)
	TokensOut      *int64          `json:"tokens_out"` // null: unknown
	LatencyMS      *float64        `json:"latency_ms"` // null: no outcome recorded
	TTFTMS         *float64        `json:"ttft_ms"`    // null: not streamed, or no content chunk
	Prompt         string          `json:"prompt"`
	Response       string          `json:"response"`
	Thinking       string          `json:"thinking,omitempty"`
	ToolCalls      json.RawMessage `json:"tool_calls,omitempty"`
	Embeddings     int             `json:"embeddings,omitempty"`
	// BodiesErased: the prompt or the answer was erased (retention or an
	// erasure request); the sealed record remains.
	BodiesErased bool   `json:"bodies_erased,omitempty"`
	Error        string `json:"error,omitempty"`
	PromptHash   string `json:"prompt_hash"`
	ResponseHash string `json:"response_hash"`
}

// Statuses beyond the record statuses.
const (
	StatusInProgress = "in_progress" // no outcome recorded yet
)

// Statuses are the statuses an interaction can have, which Filter.Status
// takes.
var Statuses = []string{record.StatusOK, record.StatusError, record.StatusDenied, record.StatusBlocked,
	record.StatusClientAborted, record.StatusInterrupted, StatusInProgress}

// CheckStatus returns an error naming the valid statuses if s is not one
// of them ("" is: it selects every status).
func CheckStatus(s string) error {
	if s == "" || slices.Contains(Statuses, s) {
		return nil
	}
	return fmt.Errorf("%q is not a status: use %s", s, strings.Join(Statuses, ", "))
}

// Run returns the interactions matching f in time order, the earliest
// first: across the logs of several nodes by the time their requests were
// recorded, within one log in sequence order.
func Run(ctx context.Context, st Store, f Filter) ([]Interaction, error) {
	if err := CheckStatus(f.Status); err != nil {
		return nil, err
	}
	sf := store.Filter{Kinds: []string{record.KindRequest}, Actor: f.Actor, Session: f.Session, Model: f.Model, LogID: f.LogID, Seqs: f.Seqs}
	if !f.Since.IsZero() {
		sf.Since = f.Since.UnixNano()
	}
	if !f.Until.IsZero() {
		sf.Until = f.Until.UnixNano()
	}
	reqs, err := st.Search(ctx, sf)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(reqs, func(a, b *record.Record) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.LogID, b.LogID), cmp.Compare(a.Seq, b.Seq))
	})
	// The outcome of each request, by log.
	byLog := map[string][]int64{}
	for _, r := range reqs {
		if r.Status == record.StatusPending {
			byLog[r.LogID] = append(byLog[r.LogID], r.Seq)
		}
	}
	type key struct {
		log string
		seq int64
	}
	outcomes := map[key]*record.Record{}
	for logID, seqs := range byLog {
		for len(seqs) > 0 {
			n := min(len(seqs), 500)
			recs, err := st.Search(ctx, store.Filter{LogID: logID, Kinds: []string{record.KindResponse, record.KindInterrupted, record.KindUnrecordedOutcome}, RequestSeqs: seqs[:n]})
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				outcomes[key{r.LogID, r.RequestSeq}] = r
			}
			seqs = seqs[n:]
		}
	}
	var out []Interaction
	for _, q := range reqs {
		it, err := join(ctx, st, q, outcomes[key{q.LogID, q.Seq}])
		if err != nil {
			return nil, err
		}
		if f.Status != "" && it.Status != f.Status {
			continue
		}
		out = append(out, it)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func join(ctx context.Context, st Store, q, a *record.Record) (Interaction, error) {
	it := Interaction{
		LogID: q.LogID, Seq: q.Seq, Time: q.TimeUTC().Format(time.RFC3339Nano),
		Actor: q.Actor, Role: q.Role, Session: q.Session, Reason: q.Reason, ClientIP: q.ClientIP,
		CorrelationID: q.CorrelationID, Endpoint: q.Endpoint, Model: q.Model, ModelDigest: q.ModelDigest,
		Stream: q.Stream, Params: json.RawMessage(q.Params), Status: q.Status,
	}
	if len(it.Params) == 0 {
		it.Params = json.RawMessage("{}")
	}
	if !q.RawHash.IsZero() {
		it.PromptHash = q.RawHash.String()
	}
	var rb record.RequestBody
	if err := readBody(ctx, st, q, &rb, &it.BodiesErased); err != nil {
		return it, err
	}
	it.Prompt = rb.Text()
	if q.Status != record.StatusPending {
		it.Error = detailError(q.Detail)
		return it, nil
	}
	if a == nil {
		it.Status = StatusInProgress
		return it, nil
	}
	seq := a.Seq
	it.ResponseSeq = &seq
	it.Status = a.Status
	if a.Kind == record.KindInterrupted {
		it.Error = "the gateway stopped before this call finished"
		return it, nil
	}
	it.DoneReason = a.DoneReason
	if a.UpstreamStatus > 0 {
		it.UpstreamStatus = &a.UpstreamStatus
	}
	if a.TokensIn >= 0 {
		it.TokensIn = &a.TokensIn
	}
	if a.TokensOut >= 0 {
		it.TokensOut = &a.TokensOut
	}
	ms := float64(a.LatencyUS) / 1000
	it.LatencyMS = &ms
	if a.TTFTUS > 0 {
		ttft := float64(a.TTFTUS) / 1000
		it.TTFTMS = &ttft
	}
	if !a.RawHash.IsZero() {
		it.ResponseHash = a.RawHash.String()
	}
	var ab record.ResponseBody
	if err := readBody(ctx, st, a, &ab, &it.BodiesErased); err != nil {
		return it, err
	}
	it.Response, it.Thinking, it.ToolCalls, it.Embeddings = ab.Text, ab.Thinking, ab.ToolCalls, ab.Embeddings
	it.Error = ab.Error
	if it.Error == "" {
		it.Error = detailError(a.Detail)
	}
	return it, nil
}

// readBody decodes a record's body; a body that is gone (erased under the
// retention policy or by an erasure request) leaves v empty and sets
// *erased.
func readBody(ctx context.Context, st Store, r *record.Record, v any, erased *bool) error {
	if r.BodyHash.IsZero() {
		return nil
	}
	b, err := st.Body(ctx, r.LogID, r.Seq)
	if errors.Is(err, store.ErrNotFound) {
		*erased = true
		return nil
	}
	if err != nil {
		return err
	}
	json.Unmarshal(b, v) // a malformed body is verify's business; show what can be read
	return nil
}

func detailError(detail []byte) string {
	var d struct {
		Error string `json:"error"`
	}
	json.Unmarshal(detail, &d)
	return d.Error
}

package gateway

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/record"
)

// TestUnrecordedOutcomeRecordedLater: when a call's response record cannot
// be written, the client is refused the answer, and once the log takes
// appends again an interaction.unrecorded_outcome event linked to the
// request says what happened: the cause, the upstream's status and token
// counts, and that the client did not get the answer. Streamed or not.
func TestUnrecordedOutcomeRecordedLater(t *testing.T) {
	old := unrecordedRetry
	unrecordedRetry = 10 * time.Millisecond
	t.Cleanup(func() { unrecordedRetry = old })
	for _, tc := range []struct {
		name, ct, answer string
		stream           bool
	}{
		{"whole", "application/json", `{"model":"tiny","message":{"role":"assistant","content":"the answer"},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}`, false},
		{"streamed", "application/x-ndjson", `{"model":"tiny","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}` + "\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f *fixture
			f = newFixture(t, func(w http.ResponseWriter, r *http.Request) {
				f.ledger.failing.Store(true) // the request is recorded; its response will not be
				w.Header().Set("Content-Type", tc.ct)
				w.Write([]byte(tc.answer))
			})
			body := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hi"}]}`
			if tc.stream {
				body = `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`
			}
			resp, _ := f.post(t, "/api/chat", body)
			if !tc.stream && resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", resp.StatusCode)
			}
			recs := f.ledger.records()
			if len(recs) != 1 || recs[0].Kind != record.KindRequest {
				t.Fatalf("records while the log fails: %+v, want the request only", recs)
			}
			req := recs[0]
			f.ledger.failing.Store(false)
			var ev *record.Record
			deadline := time.Now().Add(10 * time.Second)
			for ev == nil && time.Now().Before(deadline) {
				for _, r := range f.ledger.records() {
					if r.Kind == record.KindUnrecordedOutcome {
						ev = r
					}
				}
				time.Sleep(5 * time.Millisecond) // waiting for a state, not asserting speed
			}
			if ev == nil {
				t.Fatalf("no %s event once the log could be written again: %+v", record.KindUnrecordedOutcome, f.ledger.records())
			}
			var d struct {
				RequestSeq     int64  `json:"request_seq"`
				Cause          string `json:"cause"`
				Outcome        string `json:"outcome"`
				UpstreamStatus int    `json:"upstream_status"`
				ClientAnswered *bool  `json:"client_answered"`
			}
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			if ev.RequestSeq != req.Seq || d.RequestSeq != req.Seq || ev.Status != record.StatusError || ev.Actor != "alice" ||
				ev.TokensIn != 3 || ev.TokensOut != 2 || ev.UpstreamStatus != 200 || d.UpstreamStatus != 200 || d.Outcome != record.StatusOK ||
				d.ClientAnswered == nil || *d.ClientAnswered || d.Cause == "" {
				t.Errorf("event = %+v, detail %s; want it linked to request %d, status error, tokens 3/2, upstream 200 ok, client not answered, a cause",
					ev, ev.Detail, req.Seq)
			}
			if n := len(f.ledger.records()); n != 2 {
				t.Errorf("%d records, want the request and one event", n)
			}
		})
	}
}

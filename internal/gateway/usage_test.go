package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/record"
)

// openAIUpstream answers a streamed chat completion as OpenAI does: with
// stream_options.include_usage, "usage":null on every chunk and a usage
// chunk before [DONE]. It writes the stream in pieces of size bytes,
// flushed one by one, so that frames (the usage chunk too) reach the
// gateway split across reads. It keeps the bodies it received.
func openAIUpstream(size int, got *[][]byte, mu *sync.Mutex) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		*got = append(*got, body)
		mu.Unlock()
		req, _ := dialect.ParseRequest(dialect.Endpoint{API: dialect.OpenAI, Kind: dialect.Chat, Path: "/v1/chat/completions"}, body)
		null := ""
		if req.IncludeUsage {
			null = `,"usage":null`
		}
		var b strings.Builder
		for _, c := range []string{`{"role":"assistant","content":""}`, `{"content":"Hello"}`, `{"content":" there"}`} {
			b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":` + c + `,"finish_reason":null}]` + null + "}\n\n")
		}
		b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]` + null + "}\n\n")
		if req.IncludeUsage {
			b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}` + "\n\n")
		}
		b.WriteString("data: [DONE]\n\n")
		w.Header().Set("Content-Type", "text/event-stream")
		out := b.String()
		for len(out) > 0 {
			n := min(size, len(out))
			io.WriteString(w, out[:n])
			w.(http.Flusher).Flush()
			out = out[n:]
		}
	}
}

// TestUsageAskedAndTrimmed: a streamed chat completion whose caller did not
// ask for usage reaches the caller byte for byte as the upstream answers
// without include_usage, however the stream is split, while the record has
// the counts, the upstream got the request with include_usage, and the
// request record commits to the caller's own body and says that aitrail
// asked.
func TestUsageAskedAndTrimmed(t *testing.T) {
	const ask = `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	for _, size := range []int{1, 7, 100, 1 << 20} {
		var mu sync.Mutex
		var got [][]byte
		up := openAIUpstream(size, &got, &mu)
		f := newFixture(t, up)
		// What the caller would receive without aitrail.
		rec := &captureWriter{header: http.Header{}}
		up(rec, httptestRequest(ask))
		want := rec.buf.String()

		resp, body := f.post(t, "/v1/chat/completions", ask)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("pieces of %d: client got %d\n%s\nwant the upstream's bytes without include_usage\n%s", size, resp.StatusCode, body, want)
		}
		mu.Lock()
		forwarded := got[len(got)-1]
		mu.Unlock()
		if !bytes.Contains(forwarded, []byte(`"stream_options":{"include_usage":true}`)) {
			t.Errorf("the upstream got %s, want include_usage asked", forwarded)
		}
		recs := f.ledger.records()
		if len(recs) != 2 {
			t.Fatalf("%d records", len(recs))
		}
		q, a := recs[0], recs[1]
		c, _ := record.NewCommitter(bytes.Repeat([]byte{1}, 32))
		if !usageRequested(t, q.Detail) || q.RawHash != c.Commit(q.Nonce, record.LabelRaw, []byte(ask)) {
			t.Errorf("request record detail %s, raw hash of the caller's body: %v", q.Detail, q.RawHash == c.Commit(q.Nonce, record.LabelRaw, []byte(ask)))
		}
		if a.TokensIn != 11 || a.TokensOut != 3 || a.Status != record.StatusOK || a.DoneReason != "stop" {
			t.Errorf("pieces of %d: response record tokens %d/%d status %s reason %s, want 11/3 ok stop", size, a.TokensIn, a.TokensOut, a.Status, a.DoneReason)
		}
		if a.RawHash != c.Commit(a.Nonce, record.LabelRaw, body) || a.RawLen != int64(len(body)) {
			t.Errorf("response raw hash does not commit to what the client received")
		}
		var rb record.ResponseBody
		json.Unmarshal(f.ledger.bodies[a.Seq], &rb)
		if rb.Text != "Hello there" {
			t.Errorf("recorded text %q", rb.Text)
		}
	}
}

// TestUsageCallerAsked: a caller that asked for usage gets it, as sent, and
// the request is forwarded as it came.
func TestUsageCallerAsked(t *testing.T) {
	const ask = `{"model":"gpt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
	var mu sync.Mutex
	var got [][]byte
	up := openAIUpstream(64, &got, &mu)
	f := newFixture(t, up)
	rec := &captureWriter{header: http.Header{}}
	up(rec, httptestRequest(ask))
	resp, body := f.post(t, "/v1/chat/completions", ask)
	if resp.StatusCode != 200 || string(body) != rec.buf.String() || !bytes.Contains(body, []byte(`"usage":{"prompt_tokens":11`)) {
		t.Errorf("client got\n%s\nwant\n%s", body, rec.buf.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if string(got[len(got)-1]) != ask {
		t.Errorf("the upstream got %s, want the caller's body as sent", got[len(got)-1])
	}
	if recs := f.ledger.records(); usageRequested(t, recs[0].Detail) || recs[1].TokensIn != 11 {
		t.Errorf("records %+v", recs)
	}
}

// captureWriter is an http.ResponseWriter and Flusher that keeps the body.
type captureWriter struct {
	header http.Header
	buf    bytes.Buffer
}

func (c *captureWriter) Header() http.Header         { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) { return c.buf.Write(b) }
func (c *captureWriter) WriteHeader(int)             {}
func (c *captureWriter) Flush()                      {}

func httptestRequest(body string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
	return r
}

// usageRequested reports whether a request record's detail says that
// aitrail asked the upstream for usage.
func usageRequested(t *testing.T, detail []byte) bool {
	t.Helper()
	if len(detail) == 0 {
		return false
	}
	var d struct {
		UsageRequested bool `json:"usage_requested"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		t.Fatalf("request record detail %s: %v", detail, err)
	}
	return d.UsageRequested
}

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/standin"
)

// faultConfig shortens the timeouts the faults run into, so that a stall
// ends in seconds; they bound waits, the tests never measure them.
const faultConfig = `timeouts:
  stream_idle: 2s
  upstream_headers: 5s
  client_write: 2s
  read_header: 1s
  read_body: 5s
`

// faultyUpstream answers model calls whose prompt names a fault
// ("fault:reset ...") with that fault, and everything else with the
// stand-in. It keeps what it sent for each call id, to compare with what
// the client received.
type faultyUpstream struct {
	standin http.Handler
	mu      sync.Mutex
	sent    map[string][]byte
}

func newFaultyUpstream() *faultyUpstream {
	return &faultyUpstream{standin: standin.New(standin.Options{}), sent: map[string][]byte{}}
}

// Frames of a plausible answer in each framing.
const (
	ndjsonChunk = `{"model":"tiny","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":" word"},"done":false}` + "\n"
	ndjsonFinal = `{"model":"tiny","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":1,"prompt_eval_count":3,"eval_count":2}` + "\n"
	sseChunk    = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":" word"},"finish_reason":null}]}` + "\n\n"
	sseFinal    = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n"
)

func (u *faultyUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := new(bytes.Buffer)
	body.ReadFrom(r.Body)
	r.Body.Close()
	_, rest, isFault := strings.Cut(body.String(), "fault:")
	if !isFault {
		r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
		u.standin.ServeHTTP(w, r)
		return
	}
	fault, _, _ := strings.Cut(rest, " ")
	id := idPattern.FindString(body.String())
	sse := strings.HasPrefix(r.URL.Path, "/v1/")
	chunk, final, ct := ndjsonChunk, ndjsonFinal, "application/x-ndjson"
	if sse {
		chunk, final, ct = sseChunk, sseFinal, "text/event-stream"
	}
	var sent bytes.Buffer
	defer func() {
		u.mu.Lock()
		u.sent[id] = sent.Bytes()
		u.mu.Unlock()
	}()
	write := func(s string) {
		w.Write([]byte(s))
		sent.WriteString(s)
		w.(http.Flusher).Flush()
	}
	start := func() {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
	}
	switch fault {
	case "drop": // the connection closes before any answer
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	case "reset": // two chunks, then a TCP reset
		start()
		write(chunk)
		write(chunk)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	case "stall": // one chunk, then nothing until the gateway gives up
		start()
		write(chunk)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	case "garbage": // a frame that is not JSON, then the stream ends
		// (A malformed frame followed by a well-formed end is the subject of
		// issue 14's "one rule for both dialects", tested with its fix.)
		start()
		write(chunk)
		if sse {
			write("data: {not json\n\n")
		} else {
			write("{not json\n")
		}
	case "trickle": // the whole answer, one byte per write
		start()
		for _, b := range []byte(chunk + chunk + chunk + final) {
			write(string(b))
			time.Sleep(time.Millisecond)
		}
	case "huge": // a 16 MiB streamed answer
		start()
		for range 16 << 20 / len(chunk) {
			write(chunk)
		}
		write(final)
	case "hugewhole": // a 16 MiB answer, not streamed
		w.Header().Set("Content-Type", "application/json")
		text := strings.Repeat(" word", 16<<20/5)
		var b []byte
		if sse {
			b, _ = json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "tiny",
				"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
				"usage":   map[string]any{"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
		} else {
			b, _ = json.Marshal(map[string]any{"model": "tiny", "created_at": "2026-01-01T00:00:00Z",
				"message": map[string]any{"role": "assistant", "content": text}, "done": true, "done_reason": "stop"})
		}
		write(string(b))
	case "503": // refused before the answer
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		if sse {
			write(`{"error":{"message":"overloaded","type":"api_error","param":null,"code":null}}`)
		} else {
			write(`{"error":"overloaded"}`)
		}
	default:
		http.Error(w, "unknown fault "+fault, http.StatusTeapot)
	}
}

// TestUpstreamFaults sends calls in both dialects to an upstream that
// fails in each way a model server can: each caller gets a clean answer or
// an error in its own dialect, the record says what happened, nothing the
// upstream received is unrecorded, and the gateway stays up.
func TestUpstreamFaults(t *testing.T) {
	fu := newFaultyUpstream()
	up := startUpstream(t, fu)
	g := startGateway(t, up.URL, faultConfig)
	key := g.createKey(t, "fault-client")

	type want struct {
		status    int    // the caller's HTTP status
		record    string // the record's status
		cause     string // in the record's error, if not ""
		passBytes bool   // the caller gets exactly what the upstream sent
	}
	cases := []struct {
		fault  string
		stream bool
		want   want
	}{
		{"drop", true, want{http.StatusBadGateway, "error", "upstream unreachable", false}},
		{"reset", true, want{http.StatusOK, "error", "upstream stream broken", false}},
		{"stall", true, want{http.StatusOK, "error", "timeouts.stream_idle", false}},
		{"garbage", true, want{http.StatusOK, "error", "", true}},
		{"trickle", true, want{http.StatusOK, "ok", "", true}},
		{"huge", true, want{http.StatusOK, "ok", "", true}},
		{"hugewhole", false, want{http.StatusOK, "ok", "", true}},
		{"503", true, want{http.StatusServiceUnavailable, "error", "", true}},
		{"503", false, want{http.StatusServiceUnavailable, "error", "", true}},
	}
	for _, api := range []string{"ollama", "openai"} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s/stream=%v", api, tc.fault, tc.stream), func(t *testing.T) {
				path, body := "/api/chat", `{"model":"tiny","stream":%v,"messages":[{"role":"user","content":"fault:%s %s"}]}`
				if api == "openai" {
					path = "/v1/chat/completions"
				}
				k := kind{name: api + " " + tc.fault, path: path, stream: tc.stream, body: fmt.Sprintf(body, tc.stream, tc.fault, "%s")}
				o := doCall(context.Background(), http.DefaultClient, g.URL, key, k)
				if o.err != nil {
					t.Fatalf("the caller got no clean answer: status %d, %v, after %d bytes", o.status, o.err, len(o.body))
				}
				if o.status != tc.want.status {
					t.Errorf("status %d, want %d: %.300s", o.status, tc.want.status, o.body)
				}
				fu.mu.Lock()
				sent := fu.sent[o.id]
				fu.mu.Unlock()
				if tc.want.passBytes && !bytes.Equal(o.body, sent) {
					t.Errorf("the caller got %d bytes, not the %d the upstream sent", len(o.body), len(sent))
				}
				if tc.want.record == "error" && !tc.want.passBytes {
					checkDialectError(t, api, tc.want.status, o.body)
				}
				it, ok := g.interactions(t)[o.id]
				if !ok {
					t.Fatalf("no record of call %s", o.id)
				}
				if it.Status != tc.want.record || !strings.Contains(it.Error, tc.want.cause) {
					t.Errorf("record: status %q, error %q; want %q with %q", it.Status, it.Error, tc.want.record, tc.want.cause)
				}
				if tc.want.record == "error" && it.Error == "" {
					t.Errorf("record: status error without a cause")
				}
			})
		}
	}
	// An error from the model mid-stream (the stand-in's tiny-error: a few
	// chunks, then Ollama's error line, or on its OpenAI API a stream that
	// just stops), in every streamed call kind: the caller gets what the
	// upstream sent, the record says error with the cause.
	for _, k := range kinds {
		if !k.stream {
			continue
		}
		k.body = strings.Replace(k.body, "tiny-slow", "tiny-error", 1)
		o := doCall(context.Background(), http.DefaultClient, g.URL, key, k)
		if o.err != nil || o.status != http.StatusOK {
			t.Errorf("%s, error mid-stream: status %d, %v; want 200 and a stream that ends with the error", k.name, o.status, o.err)
			continue
		}
		api := "ollama"
		if strings.HasPrefix(k.path, "/v1/") {
			api = "openai"
		}
		if api == "ollama" {
			checkDialectError(t, api, o.status, o.body)
		} else if bytes.Contains(o.body, []byte("[DONE]")) {
			// Ollama's OpenAI layer just stops; the gateway passes that on
			// as it is (the SDKs then see a stream without its end).
			t.Errorf("%s, error mid-stream: the stream ends with [DONE]", k.name)
		}
		it := g.interactions(t)[o.id]
		if it.Status != "error" || it.Error == "" {
			t.Errorf("%s, error mid-stream: record status %q, error %q; want error with its cause", k.name, it.Status, it.Error)
		}
	}
	checkAllRecorded(t, g, up)
	if !g.healthy() {
		t.Error("the gateway is not healthy after the faults")
	}
	g.verify(t, "after the upstream faults")
}

// TestUpstreamRefused points the gateway at a port nothing listens on:
// calls in both dialects get 502 in their dialect and are recorded.
func TestUpstreamRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	g := startGateway(t, dead, faultConfig)
	key := g.createKey(t, "refused-client")
	for _, k := range kinds {
		o := doCall(context.Background(), http.DefaultClient, g.URL, key, k)
		api := "ollama"
		if strings.HasPrefix(k.path, "/v1/") {
			api = "openai"
		}
		if o.err != nil || o.status != http.StatusBadGateway {
			t.Errorf("%s: status %d, %v; want 502", k.name, o.status, o.err)
			continue
		}
		checkDialectError(t, api, o.status, o.body)
		if it := g.interactions(t)[o.id]; it.Status != "error" || !strings.Contains(it.Error, "upstream unreachable") {
			t.Errorf("%s: record status %q, error %q; want error, upstream unreachable", k.name, it.Status, it.Error)
		}
	}
	if !g.healthy() {
		t.Error("the gateway is not healthy with its upstream down")
	}
}

// checkDialectError checks that body ends with an error in the dialect of
// api: a whole error body, or a stream's last frame.
func checkDialectError(t *testing.T, api string, status int, body []byte) {
	t.Helper()
	last := body
	if status == http.StatusOK { // a stream: its last frame
		frames := strings.FieldsFunc(strings.TrimSpace(string(body)), func(r rune) bool { return r == '\n' })
		if len(frames) == 0 {
			t.Errorf("an empty stream, want one ending with an error frame")
			return
		}
		last = []byte(strings.TrimPrefix(frames[len(frames)-1], "data: "))
	}
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(last, &e); err != nil || len(e.Error) == 0 {
		t.Errorf("the answer does not end with an error: %.300s", last)
		return
	}
	var msg string
	if api == "ollama" {
		err := json.Unmarshal(e.Error, &msg)
		if err != nil || msg == "" {
			t.Errorf("Ollama error %s: want {\"error\":\"message\"}", last)
		}
		return
	}
	var oe struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	if err := json.Unmarshal(e.Error, &oe); err != nil || oe.Message == "" || oe.Type == "" {
		t.Errorf("OpenAI error %s: want {\"error\":{\"message\":...,\"type\":...}}", last)
	}
}

// checkAllRecorded checks that every call the upstream received has a
// record.
func checkAllRecorded(t *testing.T, g *gateway, up *upstream) {
	t.Helper()
	got := g.interactions(t)
	for id := range up.received() {
		if _, ok := got[id]; !ok {
			t.Errorf("the upstream received call %s, which has no record", id)
		}
	}
}

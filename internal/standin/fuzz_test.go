package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzPaths are the endpoints that take a request body.
var fuzzPaths = []string{
	"/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show",
	"/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete",
	"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses",
}

// FuzzServe sends arbitrary bodies to every endpoint and checks that the
// server does not panic, answers with a status Ollama gives, and frames
// what it writes correctly.
func FuzzServe(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[1]`, `{not json`, `{"model":"tiny"}`,
		`{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"tiny-error","messages":[{"role":"user","content":"hi"}],"stream":true}`,
		`{"model":"tiny-stall","prompt":"hi","input":"hi"}`,
		`{"model":"tiny-think","messages":[{"role":"user","content":"hi"}],` + weatherTool + `}`,
		`{"model":"tiny","prompt":"hi","options":{"num_predict":2,"stop":["x"],"seed":3}}`,
		`{"model":"tiny","input":["a","b"],"dimensions":2,"encoding_format":"base64"}`,
		`{"model":"tiny","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"stream":true}`,
		`{"source":"tiny","destination":"x"}`, `{"model":"x","from":"tiny"}`,
		`{"model":"tiny","format":{"type":"object","properties":{"a":{"type":"array","items":{"type":"number"}}}},"messages":[{"role":"user","content":"hi"}]}`,
	}
	for i, s := range seeds {
		for j := range fuzzPaths {
			if (i+j)%3 == 0 || i < 6 {
				f.Add(uint8(j), []byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		var recorded []byte
		s := New(Options{OnResponse: func(_ string, _ int, b []byte) { recorded = b }})
		method := "POST"
		if path == "/api/delete" {
			method = "DELETE"
		}
		req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)

		switch w.Code {
		case 200, 400, 404, 500:
		default:
			t.Fatalf("%s %q: status %d", path, body, w.Code)
		}
		out := w.Body.Bytes()
		if !bytes.Equal(out, recorded) {
			t.Fatalf("%s %q: OnResponse body differs from the body written", path, body)
		}
		switch ct := w.Header().Get("Content-Type"); ct {
		case "application/json; charset=utf-8", "application/json":
			if !json.Valid(bytes.TrimSuffix(out, []byte("\n"))) {
				t.Fatalf("%s %q: invalid JSON %q", path, body, out)
			}
		case "application/x-ndjson":
			for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
				if len(out) > 0 && !json.Valid(line) {
					t.Fatalf("%s %q: invalid NDJSON line %q", path, body, line)
				}
			}
		case "text/event-stream":
			for _, ev := range strings.SplitAfter(string(out), "\n\n") {
				if ev == "" {
					continue
				}
				data := ev[strings.Index(ev, "data: ")+len("data: ") : len(ev)-2]
				if data != "[DONE]" && !json.Valid([]byte(data)) {
					t.Fatalf("%s %q: invalid event %q", path, body, ev)
				}
			}
		case "":
			if len(out) > 0 {
				t.Fatalf("%s %q: body without Content-Type: %q", path, body, out)
			}
		default:
			t.Fatalf("%s %q: Content-Type %q", path, body, ct)
		}
	})
}

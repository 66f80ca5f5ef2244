package standin

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCaptures sends the requests of the captures and compares the
// responses with them: frame by frame, byte for byte, after abstracting
// only the values that legitimately vary.
func TestCaptures(t *testing.T) {
	const chat = `{"model":"tiny","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say something about the sky."}],"options":{"seed":7,"num_predict":40}`
	const gen = `{"model":"tiny","prompt":"Hello","options":{"num_predict":30}`
	const oai = `{"model":"tiny","messages":[{"role":"user","content":"Say something."}]`
	tests := []struct {
		capture string
		path    string
		body    string
		framing framing
	}{
		{"chat_stream.ndjson", "/api/chat", chat + "}", ndjsonBody},
		{"chat_nostream.json", "/api/chat", chat + `,"stream":false}`, jsonBody},
		{"generate_stream.ndjson", "/api/generate", gen + "}", ndjsonBody},
		{"generate_nostream.json", "/api/generate", gen + `,"stream":false}`, jsonBody},
		{"oai_stream.sse", "/v1/chat/completions", oai + `,"stream":true,"stream_options":{"include_usage":true}}`, sseBody},
		{"oai_stream_nousage.sse", "/v1/chat/completions", oai + `,"stream":true,"max_tokens":8}`, sseBody},
		{"oai_nostream.json", "/v1/chat/completions", oai + "}", jsonBody},
		{"embed.json", "/api/embed", `{"model":"tiny","input":["hello world","good morning"]}`, jsonBody},
		{"v1_embeddings.json", "/v1/embeddings", `{"model":"tiny","input":"hello world"}`, jsonBody},
	}
	srv := newTestServer(t, New(Options{}))
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			resp, body := call(t, srv, http.MethodPost, tt.path, tt.body)
			want := readCapture(t, tt.capture)
			sameShape(t, tt.capture, shape(t, tt.framing, want), shape(t, tt.framing, body))
			headers := strings.TrimSuffix(strings.TrimSuffix(tt.capture, ".json"), ".ndjson")
			headers = strings.TrimSuffix(headers, ".sse") + ".headers"
			if tt.capture == "generate_nostream.json" || tt.capture == "v1_embeddings.json" {
				headers = "chat_nostream.headers" // not captured; same handler kind
				if tt.capture == "v1_embeddings.json" {
					headers = "oai_nostream.headers"
				}
			}
			checkHeaders(t, headers, resp, false)
		})
	}
}

// TestCapturesExact checks the responses that do not vary at all, or vary
// only in ways a fixed clock removes, byte for byte.
func TestCapturesExact(t *testing.T) {
	// The captured /api/ps ran five minutes before the model expired.
	expires, _ := time.Parse(time.RFC3339Nano, "2026-11-23T06:20:21.098523753Z")
	s := New(Options{Now: func() time.Time { return expires.Add(-5 * time.Minute) }})
	srv := newTestServer(t, s)

	for _, tt := range []struct {
		capture, method, path, body string
	}{
		{"show.json", "POST", "/api/show", `{"model":"tiny"}`},
		{"err_chat_404.json", "POST", "/api/chat", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`},
		{"err_oai_404.json", "POST", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`},
		{"err_think.json", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"think":true}`},
		{"err_tools.json", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`},
	} {
		resp, body := call(t, srv, tt.method, tt.path, tt.body)
		if want := readCapture(t, tt.capture); !bytes.Equal(body, want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.capture, body, want)
		}
		if tt.capture != "show.json" {
			checkHeaders(t, strings.TrimSuffix(tt.capture, ".json")+".headers", resp, true)
		}
	}

	// /api/ps lists the model once it is loaded.
	call(t, srv, "POST", "/api/chat", `{"model":"tiny"}`)
	if _, body := call(t, srv, "GET", "/api/ps", ""); !bytes.Equal(body, readCapture(t, "ps.json")) {
		t.Errorf("ps:\n got %s\nwant %s", body, readCapture(t, "ps.json"))
	}

	// /api/tags and /v1/models list tiny first, exactly as captured, and
	// then the control models.
	for _, tt := range []struct{ capture, path, end string }{
		{"tags.json", "/api/tags", "]}"},
		{"v1_models.json", "/v1/models", "]}\n"},
	} {
		want := readCapture(t, tt.capture)
		prefix := bytes.TrimSuffix(want, []byte(tt.end))
		resp, body := call(t, srv, "GET", tt.path, "")
		if !bytes.HasPrefix(body, prefix) || !bytes.HasSuffix(body, []byte(tt.end)) || body[len(prefix)] != ',' {
			t.Errorf("%s:\n got %s\nwant a list starting %s", tt.path, body, prefix)
		}
		wantType := "application/json; charset=utf-8"
		if tt.path == "/v1/models" {
			wantType = "application/json"
		}
		if ct := resp.Header.Get("Content-Type"); ct != wantType {
			t.Errorf("%s: Content-Type %q, want %q", tt.path, ct, wantType)
		}
		for _, name := range []string{"tiny-slow:latest", "tiny-error:latest", "tiny-stall:latest", "tiny-think:latest"} {
			if !bytes.Contains(body, []byte(`"`+name+`"`)) {
				t.Errorf("%s does not list %s", tt.path, name)
			}
		}
	}

	if _, body := call(t, srv, "GET", "/api/version", ""); string(body) != `{"version":"0.24.0"}` {
		t.Errorf("version: %s", body)
	}
}

// TestErrors replays every request of errors.txt and checks the status and
// the body, byte for byte (the body of the load response after abstracting
// its timestamp).
func TestErrors(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	sc := bufio.NewScanner(bytes.NewReader(readCapture(t, "errors.txt")))
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		req, res, ok := strings.Cut(line, " -> ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		i := strings.LastIndex(res, " [")
		wantBody, wantStatus := res[:i], strings.TrimSuffix(res[i+2:], "]")
		method, rest, _ := strings.Cut(req, " ")
		path, body, _ := strings.Cut(rest, " ")
		if body == "stream, model missing messages" {
			body = `{"model":"tiny","stream":true}`
		}
		n++
		t.Run(method+" "+path+" "+body, func(t *testing.T) {
			resp, got := call(t, srv, method, path, body)
			if strconv.Itoa(resp.StatusCode) != wantStatus {
				t.Errorf("status %d, want %s", resp.StatusCode, wantStatus)
			}
			if strings.Contains(wantBody, `"created_at"`) {
				sameShape(t, line, []string{skeleton(t, []byte(wantBody))}, []string{skeleton(t, got)})
				return
			}
			// errors.txt gives one response a line, so it cannot show the
			// newline json.Encoder ends the OpenAI error bodies with (see
			// err_oai_404.json, checked byte for byte in TestCapturesExact).
			if strings.HasPrefix(path, "/v1/") && resp.Header.Get("Content-Type") == "application/json" {
				got = bytes.TrimSuffix(got, []byte("\n"))
			}
			if string(got) != wantBody {
				t.Errorf("body\n got %s\nwant %s", got, wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(wantBody, "40") && ct != "text/plain" {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
		})
	}
	if n != 13 {
		t.Errorf("replayed %d lines of errors.txt, want 13", n)
	}
}

// TestCreatedAt checks timestamps: UTC, RFC 3339 with trailing zeros of
// the nanoseconds trimmed, from Options.Now.
func TestCreatedAt(t *testing.T) {
	at := time.Date(2026, 11, 23, 6, 50, 20, 310100000, time.FixedZone("X", 3600))
	srv := newTestServer(t, New(Options{Now: func() time.Time { return at }}))
	_, body := call(t, srv, "POST", "/api/chat", `{"model":"tiny"}`)
	want := `{"model":"tiny","created_at":"2026-11-23T05:50:20.3101Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}`
	if string(body) != want {
		t.Errorf("got %s\nwant %s", body, want)
	}
	_, body = call(t, srv, "POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`)
	if !bytes.Contains(body, []byte(`"created":`+strconv.FormatInt(at.Unix(), 10)+`,`)) {
		t.Errorf("created is not %d: %s", at.Unix(), body)
	}
}

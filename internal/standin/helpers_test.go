package standin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// capturesDir holds responses captured from a real Ollama 0.24.0 (a copy
// of shared/wire-samples/ollama-0.24.0).
const capturesDir = "testdata/ollama-0.24.0"

func readCapture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(capturesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// captureHeaders parses a .headers capture: its status code and headers.
func captureHeaders(t *testing.T, name string) (int, http.Header) {
	t.Helper()
	b := readCapture(t, name)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	h := resp.Header.Clone()
	// ReadResponse moves these out of the header map.
	if resp.ContentLength >= 0 && bytes.Contains(b, []byte("Content-Length:")) {
		h.Set("Content-Length", fmt.Sprint(resp.ContentLength))
	}
	if len(resp.TransferEncoding) > 0 {
		h.Set("Transfer-Encoding", strings.Join(resp.TransferEncoding, ", "))
	}
	return resp.StatusCode, h
}

// newTestServer returns a real HTTP server for s, so that responses carry
// the headers net/http adds on the wire (Content-Length, chunking).
func newTestServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// call sends a request and returns the response, with its body read.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// varying lists the keys whose string values legitimately differ between
// runs: generated text, timestamps and ids.
var varying = map[string]bool{
	"content": true, "response": true, "text": true, "delta": true, "thinking": true,
	"reasoning": true, "arguments": true, "created_at": true, "expires_at": true,
	"modified_at": true, "id": true, "item_id": true, "call_id": true,
}

// timeKeys lists the keys whose values are RFC 3339 timestamps.
var timeKeys = map[string]bool{"created_at": true, "expires_at": true, "modified_at": true}

// skeleton rewrites one JSON document keeping everything but the values
// that legitimately vary: key order, literals, punctuation and fixed
// strings stay; non-empty strings under varying keys become "<s>" (after
// checking timestamps are in Go's RFC3339Nano form), numbers become <int>
// or <num> by their lexical form, and arrays of numbers become [<int>…]
// or [<num>…].
func skeleton(t *testing.T, doc []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	s, err := skel(dec, "")
	if err != nil {
		t.Fatalf("skeleton of %q: %v", doc, err)
	}
	if dec.More() {
		t.Fatalf("skeleton of %q: trailing data", doc)
	}
	return s
}

func skel(dec *json.Decoder, key string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch v := tok.(type) {
	case json.Delim:
		var parts []string
		if v == '{' {
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return "", err
				}
				k := kt.(string)
				val, err := skel(dec, k)
				if err != nil {
					return "", err
				}
				kb, _ := json.Marshal(k)
				parts = append(parts, string(kb)+":"+val)
			}
			dec.Token()
			return "{" + strings.Join(parts, ",") + "}", nil
		}
		nums, floats := true, false
		for dec.More() {
			val, err := skel(dec, key)
			if err != nil {
				return "", err
			}
			parts = append(parts, val)
			nums = nums && (val == "<int>" || val == "<num>")
			floats = floats || val == "<num>"
		}
		dec.Token()
		switch {
		case len(parts) == 0:
			return "[]", nil
		case nums && floats:
			return "[<num>…]", nil
		case nums:
			return "[<int>…]", nil
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	case string:
		if v != "" && varying[key] {
			if timeKeys[key] {
				ts, err := time.Parse(time.RFC3339Nano, v)
				if err != nil || ts.Format(time.RFC3339Nano) != v || !strings.HasSuffix(v, "Z") {
					return "", fmt.Errorf("%s %q is not a UTC RFC3339Nano time", key, v)
				}
			}
			return `"<s>"`, nil
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "<num>", nil
		}
		return "<int>", nil
	case bool:
		return fmt.Sprint(v), nil
	case nil:
		return "null", nil
	}
	return "", fmt.Errorf("unexpected token %v", tok)
}

// framing describes how a body is framed.
type framing int

const (
	jsonBody   framing = iota // one JSON document
	ndjsonBody                // JSON documents, each followed by a newline
	sseBody                   // "data: " JSON "\n\n" events
)

// shape returns the skeletons of the frames of body, including their
// framing bytes, with runs of equal frames collapsed into one.
func shape(t *testing.T, f framing, body []byte) []string {
	t.Helper()
	var frames []string
	switch f {
	case jsonBody:
		doc, nl := bytes.CutSuffix(body, []byte("\n"))
		s := skeleton(t, doc)
		if nl {
			s += "\n"
		}
		frames = []string{s}
	case ndjsonBody:
		if !bytes.HasSuffix(body, []byte("\n")) {
			t.Fatalf("NDJSON body does not end with a newline: %q", body)
		}
		for _, line := range bytes.SplitAfter(body, []byte("\n")) {
			if len(line) > 0 {
				frames = append(frames, skeleton(t, bytes.TrimSuffix(line, []byte("\n")))+"\n")
			}
		}
	case sseBody:
		if !bytes.HasSuffix(body, []byte("\n\n")) {
			t.Fatalf("SSE body does not end with a blank line: %q", body)
		}
		for _, ev := range bytes.SplitAfter(body, []byte("\n\n")) {
			if len(ev) == 0 {
				continue
			}
			data, ok := bytes.CutPrefix(ev, []byte("data: "))
			if !ok {
				t.Fatalf("SSE event without data: %q", ev)
			}
			data = bytes.TrimSuffix(data, []byte("\n\n"))
			if string(data) == "[DONE]" {
				frames = append(frames, "data: [DONE]\n\n")
				continue
			}
			frames = append(frames, "data: "+skeleton(t, data)+"\n\n")
		}
	}
	var out []string
	for _, fr := range frames {
		if len(out) == 0 || out[len(out)-1] != fr {
			out = append(out, fr)
		}
	}
	return out
}

func sameShape(t *testing.T, what string, want, got []string) {
	t.Helper()
	if strings.Join(want, "") != strings.Join(got, "") {
		t.Errorf("%s: shape differs from the capture\nwant:\n%s\ngot:\n%s", what, strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

// checkHeaders compares the headers a handler controls with a capture's:
// the status, Content-Type, and whether the body had a Content-Length or
// was chunked. Content-Length must be equal when the bodies are.
func checkHeaders(t *testing.T, capture string, resp *http.Response, sameBody bool) {
	t.Helper()
	status, h := captureHeaders(t, capture)
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d", capture, resp.StatusCode, status)
	}
	if got, want := resp.Header.Get("Content-Type"), h.Get("Content-Type"); got != want {
		t.Errorf("%s: Content-Type %q, want %q", capture, got, want)
	}
	if resp.Header.Get("Date") == "" {
		t.Errorf("%s: no Date header", capture)
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if resp.ContentLength < 0 || len(resp.TransferEncoding) > 0 {
			t.Errorf("%s: no Content-Length (transfer encoding %v), want one", capture, resp.TransferEncoding)
		} else if sameBody && fmt.Sprint(resp.ContentLength) != cl {
			t.Errorf("%s: Content-Length %d, want %s", capture, resp.ContentLength, cl)
		}
	}
	if te := h.Get("Transfer-Encoding"); te != "" && strings.Join(resp.TransferEncoding, ", ") != te {
		t.Errorf("%s: Transfer-Encoding %v, want %s", capture, resp.TransferEncoding, te)
	}
}

// ndjsonFrames decodes an NDJSON body.
func ndjsonFrames(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("frame %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// sseEvents splits an SSE body into events.
func sseEvents(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	for _, block := range strings.SplitAfter(string(body), "\n\n") {
		if block == "" {
			continue
		}
		if !strings.HasSuffix(block, "\n\n") {
			t.Fatalf("unterminated event %q", block)
		}
		var ev sseEvent
		for _, line := range strings.Split(strings.TrimSuffix(block, "\n\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			default:
				t.Fatalf("unexpected SSE line %q", line)
			}
		}
		out = append(out, ev)
	}
	return out
}

// dataOf decodes the JSON data of an SSE event.
func dataOf(t *testing.T, ev sseEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
		t.Fatalf("event %q: %v", ev.data, err)
	}
	return m
}

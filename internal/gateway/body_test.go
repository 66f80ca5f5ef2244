package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/record"
)

// TestOversizedBodyGets413: a client that sends its whole body before it
// reads the answer (as most do) gets the 413, in the dialect of the API it
// called, and not a broken pipe; the refusal is recorded and the upstream
// never sees the call. The body is twice the limit, and the limit larger
// than what the loopback's socket buffers hold, so that a gateway that
// closed the connection without reading on would fail the client's write.
func TestOversizedBodyGets413(t *testing.T) {
	const limit = 8 << 20
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {}, func(o *Options) { o.MaxBodyBytes = limit })
	for _, tc := range []struct{ path, want string }{
		{"/api/chat", `{"error":"request body exceeds the limit of 8 MiB (max_body_bytes)"}`},
		{"/v1/chat/completions", `"message":"request body exceeds the limit of 8 MiB (max_body_bytes)"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := sendWhole(t, f.gw.Listener.Addr().String(), tc.path, f.key, 2*limit, false)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, tc.want) {
				t.Errorf("POST %s with %d bytes = %d %s, want 413 with %s", tc.path, 2*limit, resp.StatusCode, body, tc.want)
			}
		})
	}
	recs := f.ledger.records()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want the 2 refusals", len(recs))
	}
	for _, r := range recs {
		if r.Status != record.StatusError || !bytes.Contains(r.Detail, []byte(`"http_status":413`)) {
			t.Errorf("refusal recorded as %s %s, want error with http_status 413", r.Status, r.Detail)
		}
	}
	if n := f.upstream.Load(); n != 0 {
		t.Errorf("the upstream saw %d oversized calls", n)
	}
}

// TestOversizedBodyExpectContinue: a client that announces a body over the
// limit and waits for "100 Continue" gets the 413 at once, without sending it.
func TestOversizedBodyExpectContinue(t *testing.T) {
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {})
	resp, body := sendWhole(t, f.gw.Listener.Addr().String(), "/api/chat", f.key, 4<<20, true)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "exceeds the limit of 1 MiB") {
		t.Errorf("POST with Expect: 100-continue and 4 MiB = %d %s, want 413", resp.StatusCode, body)
	}
	if recs := f.ledger.records(); len(recs) != 1 || !bytes.Contains(recs[0].Detail, []byte(`"http_status":413`)) {
		t.Errorf("records %+v, want the one refusal", recs)
	}
}

// sendWhole sends a POST with an n-byte JSON body over a new connection,
// writing all of it before reading the answer; with expect, it sends
// Expect: 100-continue and sends the body only if told to continue.
func sendWhole(t *testing.T, addr, path, key string, n int, expect bool) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute)) // a failure bound only
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, addr, key, n)
	if expect {
		head += "Expect: 100-continue\r\n"
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if !expect {
		body := append([]byte(`{"model":"tiny","prompt":"`), bytes.Repeat([]byte("a"), n)...)[:n]
		if _, err := conn.Write(body); err != nil {
			t.Fatalf("sending the body: %v (the gateway closed the connection before reading it)", err)
		}
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if expect && resp.StatusCode == http.StatusContinue {
		t.Fatal("the gateway asked for the oversized body")
	}
	return resp, string(b)
}

package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientConfig is faultConfig with a small body limit.
const clientConfig = faultConfig + "max_body_bytes: 1048576\n"

// TestClientFaults sends what careless or hostile clients send: each is
// answered or cut off within bounds, recorded, and the gateway keeps
// serving.
func TestClientFaults(t *testing.T) {
	fu := newFaultyUpstream()
	up := startUpstream(t, fu)
	g := startGateway(t, up.URL, clientConfig)
	key := g.createKey(t, "careless-client")

	t.Run("disconnect mid-stream", func(t *testing.T) {
		for _, k := range kinds {
			if !k.stream {
				continue
			}
			id := newID()
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+k.path, strings.NewReader(fmt.Sprintf(k.body, id)))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("X-Request-Id", id)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				cancel()
				t.Fatalf("%s: %v", k.name, err)
			}
			bufio.NewReader(resp.Body).ReadString('\n') // the first frame, then go
			cancel()
			resp.Body.Close()
			waitStatus(t, g, id, "client_aborted")
		}
	})

	t.Run("slow reader", func(t *testing.T) {
		// A 16 MiB stream to a client that reads its headers and then
		// nothing: once the socket buffers are full the gateway's write
		// waits timeouts.client_write, then gives up on the client.
		for _, path := range []string{"/api/chat", "/v1/chat/completions"} {
			id := newID()
			conn := rawRequest(t, g, key, path, id, fmt.Sprintf(`{"model":"tiny","messages":[{"role":"user","content":"fault:huge %s"}]}`, id))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.Contains(line, "200") {
				t.Fatalf("%s: status line %q, %v", path, line, err)
			}
			waitStatus(t, g, id, "client_aborted")
			conn.Close()
		}
	})

	t.Run("oversized body", func(t *testing.T) {
		for _, k := range kinds {
			o := doCall(context.Background(), http.DefaultClient, g.URL, key,
				kind{name: k.name, path: k.path, body: fmt.Sprintf(k.body, "%s "+strings.Repeat("x", 2<<20))})
			if o.err != nil || o.status != http.StatusRequestEntityTooLarge {
				t.Errorf("%s, 2 MiB body over a 1 MiB limit: status %d, %v; want 413", k.name, o.status, o.err)
				continue
			}
			checkDialectError(t, apiOf(k.path), o.status, o.body)
			checkRefusal(t, g, o.id, "max_body_bytes")
		}
	})

	t.Run("malformed body", func(t *testing.T) {
		for _, k := range kinds {
			for _, body := range []string{`{"model":"tiny","messages":[{"role":"user","content":"%s"`, `%s`, `[%q]`} {
				o := doCall(context.Background(), http.DefaultClient, g.URL, key, kind{name: k.name, path: k.path, body: body})
				if o.err != nil || o.status/100 != 4 {
					t.Errorf("%s, body %q: status %d, %v; want 4xx", k.name, body, o.status, o.err)
					continue
				}
				checkDialectError(t, apiOf(k.path), o.status, o.body)
				checkRefusal(t, g, o.id, "")
			}
		}
	})

	t.Run("slowloris", func(t *testing.T) {
		// Connections that send half a request's headers and then wait:
		// each is closed by the gateway (timeouts.read_header), and calls
		// are served meanwhile.
		var conns []net.Conn
		for range 64 {
			c, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /api/chat HTTP/1.1\r\nHost: x\r\nX-Slow: ")
			conns = append(conns, c)
		}
		if o := doCall(context.Background(), http.DefaultClient, g.URL, key, kinds[1]); !o.complete() {
			t.Errorf("a call beside 64 slow connections: status %d, %v", o.status, o.err)
		}
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(settleBound)) // a failure bound
			if _, err := io.ReadAll(c); err != nil {
				t.Fatalf("slow connection %d was not closed by the gateway: %v", i, err)
			}
		}
	})

	t.Run("burst of large bodies", func(t *testing.T) {
		// Four concurrent bodies just under a 32 MiB limit. Issue 14 bounds
		// the memory they may take; here it is measured and reported
		// (docs/RELIABILITY.md), not asserted.
		bigUp := startUpstream(t, nil)
		big := startGateway(t, bigUp.URL, "")
		bigKey := big.createKey(t, "bulk-client")
		before := rss(t, big.pid())
		var wg sync.WaitGroup
		outs := make([]outcome, 4)
		pad := strings.Repeat("word ", (31<<20)/5)
		for i := range outs {
			wg.Go(func() {
				outs[i] = doCall(context.Background(), http.DefaultClient, big.URL, bigKey,
					kind{name: "large embed", path: "/api/embed", body: `{"model":"tiny","input":"%s ` + pad + `"}`})
			})
		}
		wg.Wait()
		after := rss(t, big.pid())
		for _, o := range outs {
			if !o.complete() {
				t.Errorf("a 31 MiB call: status %d, %v: %.200s", o.status, o.err, o.body)
			}
		}
		got := big.interactions(t)
		for _, o := range outs {
			if it := got[o.id]; it.Status != "ok" {
				t.Errorf("a 31 MiB call has status %q, want ok", it.Status)
			}
		}
		checkAllRecorded(t, big, bigUp)
		t.Logf("RSS of the gateway: %d MiB before four concurrent 31 MiB calls, %d MiB after", before>>20, after>>20)
	})

	checkAllRecorded(t, g, up)
	if !g.healthy() {
		t.Error("the gateway is not healthy after the client faults")
	}
	g.verify(t, "after the client faults")
}

func apiOf(path string) string {
	if strings.HasPrefix(path, "/v1/") {
		return "openai"
	}
	return "ollama"
}

// rawRequest sends a model call on a plain TCP connection and returns the
// connection without reading anything.
func rawRequest(t *testing.T, g *gateway, key, path, id, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// A small receive window, so that the socket buffers hold much less
	// than the answers of the slow-reader test.
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Request-Id: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, key, id, len(body), body)
	return c
}

// waitStatus waits until the call id's record has the status want.
func waitStatus(t *testing.T, g *gateway, id, want string) {
	t.Helper()
	eventually(t, "call "+id+" recorded "+want, func() (bool, string) {
		it, ok := g.interactions(t)[id]
		return ok && it.Status == want, fmt.Sprintf("found %v, status %q, error %q", ok, it.Status, it.Error)
	})
}

// checkRefusal checks that a refused call is recorded as an error, with
// cause in its error if cause is not "".
func checkRefusal(t *testing.T, g *gateway, id, cause string) {
	t.Helper()
	it, ok := g.interactions(t)[id]
	if !ok || it.Status != "error" || it.Error == "" || !strings.Contains(it.Error, cause) {
		t.Errorf("refused call %s: recorded %v, status %q, error %q; want error with %q", id, ok, it.Status, it.Error, cause)
	}
}

// rss returns the resident memory of the process pid, in bytes.
func rss(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the gateway's memory: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

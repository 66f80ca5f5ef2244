package e2e

// Tests of aitrail in front of Ollama as a real Ollama 0.24.0 server behaves
// (the stand-in answers as one): model digests after model management and
// under every name Ollama accepts, token counts of OpenAI-compatible
// streams, the "Ollama is running" probe, and the 413 for an oversized body.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/standin"
)

// fixedNow stamps the stand-in's answers, so that two answers to the same
// request are the same bytes.
func fixedNow() time.Time { return time.Date(2026, 11, 23, 5, 50, 20, 0, time.UTC) }

// heldStandin is one long-lived stand-in (models created or deleted stay so)
// on an httptest server. A request to a path in hold waits, once it has
// arrived (signalled on arrived), until release is closed.
type heldStandin struct {
	URL     string
	hold    string
	arrived chan struct{}
	release chan struct{}
}

func startHeldStandin(t *testing.T, hold string) *heldStandin {
	t.Helper()
	h := &heldStandin{hold: hold, arrived: make(chan struct{}), release: make(chan struct{})}
	so := standin.New(standin.Options{Now: fixedNow})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == h.hold {
			once.Do(func() { close(h.arrived) })
			<-h.release
		}
		so.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
		srv.CloseClientConnections()
		srv.Close()
	})
	h.URL = srv.URL
	return h
}

// upstreamDigest returns the digest the upstream's /api/tags lists for name.
func upstreamDigest(t *testing.T, upstream, name string) string {
	t.Helper()
	r := call(t, "GET", upstream+"/api/tags", "", "")
	var tags struct {
		Models []struct{ Name, Digest string } `json:"models"`
	}
	if err := json.Unmarshal(r.body, &tags); err != nil {
		t.Fatalf("upstream /api/tags: %v: %s", err, r.body)
	}
	for _, m := range tags.Models {
		if m.Name == name {
			return m.Digest
		}
	}
	t.Fatalf("upstream /api/tags lists no %s: %s", name, r.body)
	return ""
}

// chatTiny makes a short /api/chat call to model with correlation id id and
// returns the recorded interaction.
func chatTiny(t *testing.T, g *gateway, key, model, id string) interaction {
	t.Helper()
	r := call(t, "POST", g.URL+"/api/chat", key, `{"model":"`+model+`","stream":false,"messages":[{"role":"user","content":"digest?"}],"options":{"num_predict":2}}`, "X-Request-Id", id)
	if r.status != 200 {
		t.Fatalf("chat %s: %d %s", model, r.status, r.body)
	}
	return g.interaction(t, id)
}

// TestModelReplacedThroughGateway: a model replaced through the gateway
// (here while a call for it looked its digest up) is recorded with its new
// digest from the very next call; a copy is found under any spelling Ollama
// accepts; a deleted model has no digest.
func TestModelReplacedThroughGateway(t *testing.T) {
	up := startHeldStandin(t, "/api/create")
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	user := g.createKey(t, "replace-user", "user")

	if it := chatTiny(t, g, user, "tiny", newID("before")); it.ModelDigest != tinyDigest {
		t.Fatalf("before: digest %q, want %q", it.ModelDigest, tinyDigest)
	}
	created := make(chan reply, 1)
	go func() {
		created <- callNoFatal(g.URL+"/api/create", g.AdminKey, `{"model":"tiny","from":"tiny","system":"You are the new tiny.","stream":false}`)
	}()
	<-up.arrived // the create is under way: the upstream still lists the old tiny
	if it := chatTiny(t, g, user, "tiny", newID("during")); it.ModelDigest != tinyDigest {
		t.Errorf("during the create: digest %q, want the old %q", it.ModelDigest, tinyDigest)
	}
	close(up.release)
	if r := <-created; r.status != 200 || !strings.Contains(string(r.body), "success") {
		t.Fatalf("create through the gateway: %d %s", r.status, r.body)
	}
	newDigest := upstreamDigest(t, up.URL, "tiny:latest")
	if newDigest == tinyDigest {
		t.Fatal("the create did not change tiny's digest")
	}
	if it := chatTiny(t, g, user, "tiny", newID("after")); it.ModelDigest != newDigest {
		t.Errorf("the call after the create: digest %q, want the new %q (old: %q)", it.ModelDigest, newDigest, tinyDigest)
	}

	if r := call(t, "POST", g.URL+"/api/copy", g.AdminKey, `{"source":"tiny","destination":"team/tiny-copy:v1"}`); r.status != 200 {
		t.Fatalf("copy: %d %s", r.status, r.body)
	}
	if it := chatTiny(t, g, user, "TEAM/Tiny-Copy:V1", newID("copy")); it.ModelDigest != newDigest || it.Model != "TEAM/Tiny-Copy:V1" {
		t.Errorf("the copy: model %q digest %q, want the name as sent and %q", it.Model, it.ModelDigest, newDigest)
	}
	if r := call(t, "DELETE", g.URL+"/api/delete", g.AdminKey, `{"model":"team/tiny-copy:v1"}`); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	id := newID("deleted")
	if r := call(t, "POST", g.URL+"/api/chat", user, `{"model":"team/tiny-copy:v1","stream":false,"messages":[{"role":"user","content":"x"}]}`, "X-Request-Id", id); r.status != 404 {
		t.Fatalf("chat with a deleted model: %d %s, want 404", r.status, r.body)
	}
	if it := g.interaction(t, id); it.ModelDigest != "" {
		t.Errorf("a deleted model recorded with digest %q, want none", it.ModelDigest)
	}
}

// callNoFatal is call for another goroutine: failures are in the reply.
func callNoFatal(url, key, body string) reply {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{status: -1, body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestModelNameForms: every name Ollama accepts for tiny is recorded as
// sent, with tiny's digest.
func TestModelNameForms(t *testing.T) {
	e := sharedEnv(t)
	key := e.gw.createKey(t, "name-forms", "user")
	for _, name := range []string{"tiny", "tiny:latest", "TINY", "library/tiny", "registry.ollama.ai/library/tiny:latest"} {
		it := chatTiny(t, e.gw, key, name, newID("form"))
		if it.Model != name || it.ModelDigest != tinyDigest {
			t.Errorf("%s: recorded model %q digest %q, want %q and %q", name, it.Model, it.ModelDigest, name, tinyDigest)
		}
	}
}

// freshStandin serves each request with a new stand-in stamped with
// fixedNow, so that the same request always gets the same bytes (ids
// included), and files the body of every request it receives.
type freshStandin struct {
	URL string
	mu  sync.Mutex
	got map[string][]byte // request bodies by X-E2e-Call
}

func startFreshStandin(t *testing.T) *freshStandin {
	t.Helper()
	f := &freshStandin{got: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got[r.Header.Get(callHeader)] = body
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		standin.New(standin.Options{Now: fixedNow}).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *freshStandin) received(id string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[id]
}

// TestUsageOfOpenAIStreams: an OpenAI-compatible stream whose caller did not
// ask for usage reaches it byte for byte as the upstream answers that very
// request directly, while the upstream was asked for usage and the record
// has the counts. A caller that asked gets its usage chunk, as sent.
func TestUsageOfOpenAIStreams(t *testing.T) {
	up := startFreshStandin(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	key := g.createKey(t, "usage-user", "user")
	for _, tc := range []struct {
		name, path, body string
		callerAsked      bool
	}{
		{"chat", "/v1/chat/completions", `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"count my tokens please"}],"max_tokens":5}`, false},
		{"completions", "/v1/completions", `{"model":"tiny","stream":true,"prompt":"count my tokens please","max_tokens":5}`, false},
		{"chat, stream_options without include_usage", "/v1/chat/completions", `{"model":"tiny","stream":true,"stream_options":{},"messages":[{"role":"user","content":"count"}]}`, false},
		{"chat, caller asked", "/v1/chat/completions", `{"model":"tiny","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count"}]}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct := call(t, "POST", up.URL+tc.path, "", tc.body)
			id := newID("usage")
			through := call(t, "POST", g.URL+tc.path, key, tc.body, callHeader, id, "X-Request-Id", id)
			if through.status != 200 || !bytes.Equal(through.body, direct.body) {
				t.Errorf("through aitrail: %d\n%s\ndirect from the upstream:\n%s", through.status, through.body, direct.body)
			}
			if got := bytes.Contains(through.body, []byte(`"usage"`)); got != tc.callerAsked {
				t.Errorf("the caller's stream has usage: %v, want %v", got, tc.callerAsked)
			}
			if fwd := up.received(id); !bytes.Contains(fwd, []byte(`"include_usage":true`)) {
				t.Errorf("the upstream got %s, want include_usage asked", fwd)
			}
			// The counts the upstream gives, asked directly.
			asked := call(t, "POST", up.URL+tc.path, "", strings.Replace(tc.body, `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1))
			var last struct {
				Usage struct {
					PromptTokens     int64 `json:"prompt_tokens"`
					CompletionTokens int64 `json:"completion_tokens"`
				} `json:"usage"`
			}
			for _, ev := range strings.Split(string(asked.body), "\n\n") {
				if v, ok := strings.CutPrefix(ev, "data: "); ok && strings.Contains(v, `"choices":[]`) {
					json.Unmarshal([]byte(v), &last)
				}
			}
			wantIn, wantOut := last.Usage.PromptTokens, last.Usage.CompletionTokens
			it := g.interaction(t, id)
			if wantIn <= 0 || it.TokensIn != wantIn || it.TokensOut != wantOut {
				t.Errorf("recorded tokens %d/%d, want the upstream's %d/%d", it.TokensIn, it.TokensOut, wantIn, wantOut)
			}
			if it.Status != "ok" || it.Response == "" {
				t.Errorf("recorded status %q response %q", it.Status, it.Response)
			}
		})
	}
}

// TestProbe: Ollama's clients probe GET / and HEAD / without a key, and
// get Ollama's own answer through aitrail.
func TestProbe(t *testing.T) {
	e := sharedEnv(t)
	r := call(t, "GET", e.gw.URL+"/", "", "")
	if r.status != 200 || string(r.body) != "Ollama is running" {
		t.Errorf("GET / = %d %q, want 200 %q", r.status, r.body, "Ollama is running")
	}
	if r := call(t, "HEAD", e.gw.URL+"/", "", ""); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD / = %d %q, want 200 and no body", r.status, r.body)
	}
}

// TestOversizedBody413: a client that sends a body twice max_body_bytes,
// all of it before reading, gets the 413 in the dialect of the API called
// (not a broken pipe), and the refusal is recorded.
func TestOversizedBody413(t *testing.T) {
	const limit = 8 << 20 // more than the loopback's socket buffers take in
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: fmt.Sprintf("max_body_bytes: %d\n", limit)})
	key := g.createKey(t, "big-body", "user")
	for _, tc := range []struct{ path, want string }{
		{"/api/chat", `{"error":"request body exceeds the limit of 8 MiB (max_body_bytes)"}`},
		{"/v1/chat/completions", `"message":"request body exceeds the limit of 8 MiB (max_body_bytes)"`},
	} {
		id := newID("big")
		status, body := sendWholeBody(t, g.URL, tc.path, key, id, 2*limit)
		if status != 413 || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s with %d bytes = %d %s, want 413 with %s", tc.path, 2*limit, status, body, tc.want)
		}
		recs := g.records(t, id)
		if len(recs) != 1 || recs[0].Status != "error" || !strings.Contains(recs[0].Detail, `"http_status":413`) {
			t.Errorf("records of the refusal: %+v, want one with http_status 413", recs)
		}
	}
}

// sendWholeBody sends a POST with an n-byte body over a new connection,
// all of it before reading the answer, as many clients do.
func sendWholeBody(t *testing.T, base, path, key, id string, n int) (int, string) {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(callTimeout)) // a failure bound only
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nX-Request-Id: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, addr, key, id, n)
	body := append([]byte(`{"model":"tiny","messages":[{"role":"user","content":"`), bytes.Repeat([]byte("a"), n)...)[:n]
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		t.Fatalf("POST %s: sending the body: %v (the gateway closed the connection before reading it)", path, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: reading the answer: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

package e2e

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDataFilesPrivate: every file aitrail creates in its data directory
// (the log's database and its -wal and -shm, the raw vault's, the keys,
// serve.lock) is 0600 whatever the umask, while serving and after; only
// the public verifier key log.pub may be read by others.
func TestDataFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	id := newID("private")
	r := call(t, http.MethodPost, g.URL+"/api/generate", g.AdminKey,
		`{"model":"tiny","stream":false,"prompt":"private"}`, "X-Request-Id", id)
	if r.status != http.StatusOK {
		t.Fatalf("call: status %d: %s", r.status, r.body)
	}
	check := func(when string, want ...string) {
		t.Helper()
		seen := map[string]bool{}
		filepath.WalkDir(g.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			fi, err := d.Info()
			if err != nil {
				return nil // removed meanwhile
			}
			if d.IsDir() {
				return nil
			}
			seen[d.Name()] = true
			// log.pub is the log's public verifier key, meant to be handed out.
			if d.Name() != "log.pub" && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, p, fi.Mode().Perm())
			}
			return nil
		})
		for _, name := range want {
			if !seen[name] {
				t.Errorf("%s: no %s in the data directory (have %v)", when, name, seen)
			}
		}
	}
	check("while serving", "audit.db", "audit.db-wal", "audit.db-shm", "vault.db", "vault.db-wal", "vault.db-shm")
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d", code)
	}
	check("after stopping", "audit.db", "vault.db")
	if _, err := os.Stat(filepath.Join(g.Dir, "audit.db")); err != nil {
		t.Fatal(err)
	}
}

// TestMalformedStreamFrame: a stream with a frame that is not JSON is
// recorded as an error in both dialects, even when an end marker follows
// it (SSE's [DONE] without a finish reason, Ollama's done:true), and the
// client gets exactly what the upstream sent. A well-formed stream is ok.
func TestMalformedStreamFrame(t *testing.T) {
	t.Parallel()
	const (
		sseBad = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half\"},\"finish_reason\":null}]}\n\n" +
			"data: {\"id\":\"c1\",\"choices\":[{\"index\n\n" +
			"data: [DONE]\n\n"
		sseGood = "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"whole\"},\"finish_reason\":\"stop\"}]}\n\n" +
			"data: [DONE]\n\n"
		ndjsonBad = "{\"model\":\"tiny\",\"message\":{\"role\":\"assistant\",\"content\":\"half\"},\"done\":false}\n" +
			"{\"model\":\"tiny\",\"message\":{\"role\n" +
			"{\"model\":\"tiny\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n"
	)
	bodies := map[string]string{"bad-sse": sseBad, "good-sse": sseGood, "bad-ndjson": ndjsonBad}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		b, ok := bodies[r.Header.Get(callHeader)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		io.WriteString(w, b)
	}))
	t.Cleanup(up.Close)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	tests := []struct {
		name, path, body, upstream, status, err string
	}{
		{"SSE, malformed then [DONE]", "/v1/chat/completions", `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "bad-sse", "error", "malformed"},
		{"NDJSON, malformed then done", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`, "bad-ndjson", "error", "malformed"},
		{"SSE, well-formed", "/v1/chat/completions", `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "good-sse", "ok", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := newID("malformed-")
			got := call(t, http.MethodPost, g.URL+tc.path, g.AdminKey, tc.body, "X-Request-Id", id, callHeader, tc.upstream)
			if got.status != http.StatusOK || string(got.body) != bodies[tc.upstream] {
				t.Errorf("client got status %d, %q; want 200 and the upstream's bytes %q", got.status, got.body, bodies[tc.upstream])
			}
			it := g.interaction(t, id)
			if it.Status != tc.status || (tc.err == "") != (it.Error == "") || !strings.Contains(it.Error, tc.err) {
				t.Errorf("query: status %q, error %q; want %q, error mentioning %q", it.Status, it.Error, tc.status, tc.err)
			}
		})
	}
}

// TestUnrecordedOutcome: the database goes away while the upstream is
// answering, so the call's response record cannot be written: the client
// gets 503 in its dialect, and once the database is back the log says
// what happened (an interaction.unrecorded_outcome event: an error, with
// the upstream's status and that the client did not get the answer),
// which a restart does not relabel as interrupted.
func TestUnrecordedOutcome(t *testing.T) {
	dsn, admin, name := postgresDatabase(t)
	t.Parallel()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/api/chat" {
			http.NotFound(w, r)
			return
		}
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"model":"tiny","message":{"role":"assistant","content":"the answer"},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}`)
	}))
	t.Cleanup(up.Close)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Database: dsn})
	pgExec := func(q string) {
		t.Helper()
		if _, err := admin.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	id := newID("unrecorded-")
	got := make(chan reply, 1)
	go func() {
		got <- call(t, http.MethodPost, g.URL+"/api/chat", g.AdminKey,
			`{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hi"}]}`, "X-Request-Id", id)
	}()
	<-arrived // the request is recorded and forwarded
	pgExec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	pgExec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	close(release)
	r := <-got
	if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.body), "the answer") {
		t.Errorf("the call whose outcome could not be recorded: %d %s, want 503 without the answer", r.status, r.body)
	}
	ollamaError(t, r.body)
	pgExec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")

	check := func(when string) {
		t.Helper()
		eventually(t, when+": the outcome recorded", func() (bool, string) {
			it := g.interaction(t, id)
			return it.Status == "error" && strings.Contains(it.Error, "could not be recorded"),
				fmt.Sprintf("status %q, error %q", it.Status, it.Error)
		})
		it := g.interaction(t, id)
		if it.UpstreamStatus != 200 || it.TokensIn != 3 {
			t.Errorf("%s: query: upstream_status %d, tokens_in %v; want what the upstream answered: 200, 3", when, it.UpstreamStatus, it.TokensIn)
		}
	}
	check("while serving")
	if g.stop(t) != 0 {
		t.Error("aitrail serve did not exit 0 on SIGTERM")
	}
	g.restart(t)
	check("after a restart")
	if g.stop(t) != 0 {
		t.Error("aitrail serve did not exit 0 on SIGTERM")
	}
	if r := g.run(t, "verify"); r.code != 0 {
		t.Errorf("aitrail verify: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDeletedLogRefused: with audit.db deleted while serving, the gateway
// notices within its checkpoint tick: /healthz answers 503 log_replaced,
// calls are refused in their dialect and reach no model, and the webhook
// gets the alert.
func TestDeletedLogRefused(t *testing.T) {
	t.Parallel()
	alerted := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case alerted <- b:
		default:
		}
	}))
	t.Cleanup(hook.Close)
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "alerts:\n  webhook: " + hook.URL + "\n"})
	chat := func(prompt string) string {
		return `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	}
	if r := call(t, http.MethodPost, g.URL+"/api/chat", g.AdminKey, chat("before the deletion")); r.status != http.StatusOK {
		t.Fatalf("a call before the deletion: %d %s", r.status, r.body)
	}
	if err := os.Remove(filepath.Join(g.Dir, "audit.db")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "/healthz unhealthy with reason log_replaced", func() (bool, string) {
		r := call(t, http.MethodGet, g.URL+"/healthz", "", "")
		return r.status == http.StatusServiceUnavailable && strings.Contains(string(r.body), `"reason":"log_replaced"`), string(r.body)
	})
	for _, tc := range []struct {
		path  string
		check func(t *testing.T, b []byte)
	}{
		{"/api/chat", func(t *testing.T, b []byte) { ollamaError(t, b) }},
		{"/v1/chat/completions", func(t *testing.T, b []byte) { openAIError(t, b, "api_error", nil) }},
	} {
		r := call(t, http.MethodPost, g.URL+tc.path, g.AdminKey, chat("after the deletion"))
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("POST %s after the deletion: %d %s, want 503", tc.path, r.status, r.body)
		}
		tc.check(t, r.body)
	}
	if up.received("after the deletion") {
		t.Error("the upstream received a prompt after the log was deleted")
	}
	select {
	case b := <-alerted:
		if !strings.Contains(string(b), "removed or replaced") {
			t.Errorf("the alert says %s, want it to say the log file was removed or replaced", b)
		}
	case <-time.After(callTimeout):
		t.Error("no webhook alert after the log was deleted")
	}

	// A restart does not start a new log (with a new admin key) in its
	// place: it is refused, with the cause and what to do.
	g.stop(t)
	r := runAitrail(t, "serve", "--data", g.Dir, "--listen", "127.0.0.1:0", "--upstream", up.URL)
	if r.code == 0 || keyPattern.MatchString(r.stdout) || !strings.Contains(r.stderr, "aitrail: error: ") ||
		!strings.Contains(r.stderr, "removed") || !strings.Contains(r.stderr, "aitrail: hint: ") || !strings.Contains(r.stderr, "restore") {
		t.Errorf("aitrail serve after the log was deleted: exit %d\n%s%s\nwant it refused, naming a removed log, with a hint to restore it", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(g.Dir, "audit.db")); err == nil {
		t.Error("the refused start created a new audit.db")
	}
}

// TestMaxInflightBytes: while one call holds a 31 MiB body, another whose
// body would take the total beyond max_inflight_bytes is refused with 503
// in its dialect and recorded as an error naming the setting, and reaches
// no model; once the first is done, a large body passes again.
func TestMaxInflightBytes(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 4), make(chan struct{})
	var upMu sync.Mutex
	upCalls := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/api/generate" {
			http.NotFound(w, r)
			return
		}
		upMu.Lock()
		upCalls++
		first := upCalls == 1
		upMu.Unlock()
		if first {
			arrived <- struct{}{}
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"tiny","response":"ok","done":true,"done_reason":"stop"}`)
	}))
	t.Cleanup(up.Close)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "max_inflight_bytes: 41943040\n"}) // 40 MiB
	big := func(tag string) string {
		return `{"model":"tiny","stream":false,"prompt":"` + tag + strings.Repeat("x", 31<<20) + `"}`
	}
	first := make(chan reply, 1)
	go func() { first <- call(t, http.MethodPost, g.URL+"/api/generate", g.AdminKey, big("first")) }()
	<-arrived // the first body is held, its call at the upstream
	for _, tc := range []struct {
		path  string
		check func(t *testing.T, b []byte)
	}{
		{"/api/generate", func(t *testing.T, b []byte) { ollamaError(t, b) }},
		{"/v1/completions", func(t *testing.T, b []byte) { openAIError(t, b, "api_error", nil) }},
	} {
		id := newID("inflight-")
		r := call(t, http.MethodPost, g.URL+tc.path, g.AdminKey, big("second"), "X-Request-Id", id)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "max_inflight_bytes") {
			t.Errorf("POST %s while 31 MiB are held: %d %.200s, want 503 naming max_inflight_bytes", tc.path, r.status, r.body)
		}
		tc.check(t, r.body)
		recs := g.records(t, id)
		if len(recs) != 1 || recs[0].Kind != "model.request" || recs[0].Status != "error" || !strings.Contains(recs[0].Detail, "max_inflight_bytes") {
			t.Errorf("records of the refused call: %+v, want one model.request, status error, naming max_inflight_bytes", recs)
		}
	}
	close(release)
	if r := <-first; r.status != http.StatusOK {
		t.Fatalf("the first call: %d %.200s", r.status, r.body)
	}
	if r := call(t, http.MethodPost, g.URL+"/api/generate", g.AdminKey, big("third")); r.status != http.StatusOK {
		t.Errorf("a large call once the first was done: %d %.200s, want 200", r.status, r.body)
	}
	upMu.Lock()
	defer upMu.Unlock()
	if upCalls != 2 {
		t.Errorf("the upstream got %d calls, want 2 (the refused ones reach no model)", upCalls)
	}
}

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and cut off a test database
)

// stream is a streamed answer being read by the test.
type stream struct {
	path   string
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	got    bytes.Buffer // every byte read so far
}

// openStream sends a streamed model call and returns once the answer's
// headers have arrived.
func openStream(t testing.TB, base, path, key, body, id string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", id)
	req.Header.Set(callHeader, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("POST %s: %v", path, err)
	}
	s := &stream{path: path, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: status %d, want 200: %s", path, resp.StatusCode, b)
	}
	return s
}

// readUntilText reads whole lines until the answer holds some text, and
// returns that text.
func (s *stream) readUntilText(t testing.TB) string {
	t.Helper()
	for {
		line, err := s.r.ReadBytes('\n')
		s.got.Write(line)
		if err != nil {
			t.Fatalf("the stream ended before any text: %v; got %q", err, s.got.Bytes())
		}
		if a := answerOf(t, s.path, s.got.Bytes()); a.text != "" {
			return a.text
		}
	}
}

// rest reads the stream to its end.
func (s *stream) rest() error {
	_, err := io.Copy(&s.got, s.r)
	return err
}

// TestKillMidStream kills the gateway with SIGKILL while it streams answers
// and holds a call at the upstream: after a restart on the same log every
// one of those calls shows as interrupted, and the log verifies.
func TestKillMidStream(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	key := g.createKey(t, "crash-victim", "user")
	streams := []struct{ path, body string }{
		{"/api/chat", `{"model":"tiny-stall","messages":[{"role":"user","content":"stall and die"}]}`},
		{"/api/generate", `{"model":"tiny-stall","prompt":"stall and die"}`},
		{"/v1/chat/completions", `{"model":"tiny-stall","stream":true,"messages":[{"role":"user","content":"stall and die"}]}`},
		{"/v1/responses", `{"model":"tiny-stall","stream":true,"input":"stall and die"}`},
	}
	var ids []string
	var open []*stream
	for _, st := range streams {
		id := newID("kill-")
		s := openStream(t, g.URL, st.path, key, st.body, id)
		s.readUntilText(t)
		ids, open = append(ids, id), append(open, s)
	}
	// And one call, not streamed, that the upstream holds.
	held := newID("kill-held-")
	heldErr := make(chan error, 1)
	go func() {
		_, err := post(g.URL+"/api/chat", key, `{"model":"tiny-stall","stream":false,"messages":[{"role":"user","content":"hold and die"}]}`, held)
		heldErr <- err
	}()
	up.arrived(t, held)
	ids = append(ids, held)

	g.kill(t)
	for i, s := range open {
		if err := s.rest(); err == nil && answerOf(t, s.path, s.got.Bytes()).tokensOut >= 0 {
			t.Errorf("%s: the client got a complete answer from a killed gateway: %q", streams[i].path, s.got.Bytes())
		}
	}
	if err := <-heldErr; err == nil {
		t.Error("the held call got an answer from a killed gateway")
	}
	g.restart(t)

	for _, id := range ids {
		it := g.interaction(t, id)
		if it.Status != "interrupted" || it.ResponseSeq == nil || it.Actor != "crash-victim" {
			t.Errorf("query %s: status %q, response_seq %v, actor %q; want interrupted, an outcome record, crash-victim",
				it.Endpoint, it.Status, it.ResponseSeq, it.Actor)
		}
	}
	if r := g.run(t, "verify"); r.code != 0 {
		t.Errorf("aitrail verify after kill -9: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := fmt.Sprintf("marking %d interrupted calls", len(ids)); !strings.Contains(g.log.String(), want) {
		t.Errorf("the restart did not say %q on stderr", want)
	}
	// Killed again with nothing in flight, the gateway marks nothing a
	// second time: each call cut short has one interrupted event.
	g.kill(t)
	g.restart(t)
	var marked int
	if err := openDB(t, g.Dir).QueryRow(`SELECT COUNT(*) FROM records WHERE kind = 'interaction.interrupted'`).Scan(&marked); err != nil {
		t.Fatal(err)
	}
	if marked != len(ids) {
		t.Errorf("after a second kill and restart the log has %d interrupted events, want %d (one per call cut short)", marked, len(ids))
	}
	// The restarted gateway serves, and records, as before.
	id2 := newID("after-kill-")
	if got := call(t, http.MethodPost, g.URL+"/api/generate", key, `{"model":"tiny","prompt":"still there?","stream":false}`, "X-Request-Id", id2); got.status != http.StatusOK {
		t.Fatalf("a call after the restart: status %d: %s", got.status, got.body)
	}
	if it := g.interaction(t, id2); it.Status != "ok" {
		t.Errorf("query: a call after the restart has status %q, want ok", it.Status)
	}
	// A second gateway on the same log is refused while this one runs.
	r := runAitrail(t, "serve", "--data", g.Dir, "--listen", "127.0.0.1:0", "--upstream", up.URL)
	if r.code == 0 || !strings.Contains(r.stderr, "another aitrail serve") {
		t.Errorf("a second aitrail serve on the same data: exit %d, %q; want it refused", r.code, r.stderr)
	}
}

// TestClientAbort cancels streamed calls after their first text: each is
// recorded as client_aborted, with the text the client had received.
func TestClientAbort(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "impatient"
	key := e.gw.createKey(t, actor, "user")
	tests := []struct{ name, path, body string }{
		{"Ollama chat", "/api/chat", `{"model":"tiny-stall","messages":[{"role":"user","content":"abort chat"}]}`},
		{"Ollama generate", "/api/generate", `{"model":"tiny-stall","prompt":"abort generate"}`},
		{"OpenAI chat", "/v1/chat/completions", `{"model":"tiny-stall","stream":true,"messages":[{"role":"user","content":"abort oai chat"}]}`},
		{"OpenAI responses", "/v1/responses", `{"model":"tiny-stall","stream":true,"input":"abort responses"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := newID("abort-")
			s := openStream(t, e.gw.URL, tc.path, key, tc.body, id)
			text := s.readUntilText(t)
			s.cancel()

			var it interaction
			eventually(t, "the aborted call is recorded as client_aborted", func() (bool, string) {
				its := e.gw.find(t, id, "--actor", actor)
				if len(its) != 1 {
					return false, "not found"
				}
				it = its[0]
				return it.Status == "client_aborted", "status " + it.Status
			})
			if it.Response != text {
				t.Errorf("query: response = %q, want the text received, %q", it.Response, text)
			}
			up := e.up.call(t, id)
			if want := answerOf(t, up.Path, up.Body).text; want != text {
				t.Errorf("the stand-in wrote %q, the client read %q", want, text)
			}
		})
	}
}

// TestGracefulShutdown sends SIGTERM or SIGINT while an answer streams:
// the client still receives all of it, the process exits 0, and the call is
// recorded as ok.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGINT", syscall.SIGINT}} {
		sig := tc.sig
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := startUpstream(t)
			g := startGateway(t, gatewayConfig{Upstream: up.URL})
			key := g.createKey(t, "polite", "user")
			id := newID("term-")
			s := openStream(t, g.URL, "/api/chat", key, `{"model":"tiny-slow","messages":[{"role":"user","content":"take your time"}],"options":{"num_predict":40}}`, id)
			s.readUntilText(t)

			g.signal(t, sig)
			g.log.waitFor(t, "shutting down")
			if err := s.rest(); err != nil {
				t.Fatalf("reading the stream after %v: %v", sig, err)
			}
			if code := g.wait(t); code != 0 {
				t.Errorf("exit code after %v = %d, want 0", sig, code)
			}
			want := up.call(t, id)
			if !bytes.Equal(s.got.Bytes(), want.Body) {
				t.Errorf("the stream received after %v differs from the upstream's: %s", sig, firstDiff(s.got.Bytes(), want.Body))
			}
			it := g.interaction(t, id)
			if a := answerOf(t, "/api/chat", want.Body); it.Status != "ok" || it.Response != a.text {
				t.Errorf("query: status %q, response %q; want ok, %q", it.Status, it.Response, a.text)
			}
			if r := g.run(t, "verify"); r.code != 0 {
				t.Errorf("aitrail verify: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestFailClosedPostgres cuts the gateway off from its PostgreSQL log: model
// calls are refused with 503 in their dialect before the upstream sees the
// prompt, and served again once the database is back. It needs
// AITRAIL_TEST_POSTGRES (scripts/postgres.sh starts a server and sets it).
func TestFailClosedPostgres(t *testing.T) {
	dsn, admin, name := postgresDatabase(t)
	t.Parallel()
	ctx := context.Background()

	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Database: dsn})
	key := g.createKey(t, "pg-user", "user")
	chat := func(prompt string) string {
		return `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	}
	if got := call(t, http.MethodPost, g.URL+"/api/chat", key, chat("before the outage")); got.status != http.StatusOK {
		t.Fatalf("a call with the database up: status %d: %s", got.status, got.body)
	}

	pgExec := func(q string) {
		t.Helper()
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	pgExec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	pgExec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")

	for _, tc := range []struct {
		path, body string
		check      func(t *testing.T, b []byte)
	}{
		{"/api/chat", chat("during the outage ollama"), func(t *testing.T, b []byte) { ollamaError(t, b) }},
		{"/v1/chat/completions", chat("during the outage openai"), func(t *testing.T, b []byte) { openAIError(t, b, "api_error", nil) }},
	} {
		got := call(t, http.MethodPost, g.URL+tc.path, key, tc.body)
		if got.status != http.StatusServiceUnavailable {
			t.Errorf("POST %s with the database down: status %d, want 503: %s", tc.path, got.status, got.body)
		}
		tc.check(t, got.body)
		checkContentType(t, tc.path, got)
	}
	if up.received("during the outage") {
		t.Error("the upstream received a prompt that could not be recorded")
	}
	got := call(t, http.MethodGet, g.URL+"/healthz", "", "")
	var health struct{ Status, Reason string }
	if got.status != http.StatusServiceUnavailable || json.Unmarshal(got.body, &health) != nil ||
		health.Status != "unhealthy" || health.Reason != "log_unwritable" {
		t.Errorf("GET /healthz with the database down: %d %s, want 503 unhealthy log_unwritable", got.status, got.body)
	}
	// No internal detail: not the database's host, port or user, nor an error text.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{u.Hostname(), u.Port(), u.User.Username(), name, "error"} {
		if leak != "" && strings.Contains(string(got.body), leak) {
			t.Errorf("GET /healthz shows %q: %s", leak, got.body)
		}
	}
	if got := call(t, http.MethodGet, g.URL+"/readyz", "", ""); got.status != http.StatusServiceUnavailable || !strings.Contains(string(got.body), `"log":"log_unwritable"`) {
		t.Errorf("GET /readyz with the database down: %d %s, want 503 naming the log", got.status, got.body)
	}

	pgExec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	// Health comes back without a call: its probe finds the log writable.
	eventually(t, "/healthz healthy again", func() (bool, string) {
		got := call(t, http.MethodGet, g.URL+"/healthz", "", "")
		return got.status == http.StatusOK, string(got.body)
	})
	id := newID("pg-back-")
	if got := call(t, http.MethodPost, g.URL+"/api/chat", key, chat("after the outage"), "X-Request-Id", id); got.status != http.StatusOK {
		t.Fatalf("a call once the database is back: status %d, want 200: %s", got.status, got.body)
	}
	if it := g.interaction(t, id); it.Status != "ok" || it.Actor != "pg-user" {
		t.Errorf("query: status %q, actor %q; want ok, pg-user", it.Status, it.Actor)
	}
	if g.stop(t) != 0 {
		t.Error("aitrail serve did not exit 0 on SIGTERM")
	}
	if r := g.run(t, "verify"); r.code != 0 {
		t.Errorf("aitrail verify: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// ollamaError checks an Ollama error body, {"error":"..."}, and returns
// its message.
func ollamaError(t testing.TB, b []byte) string {
	t.Helper()
	var v map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("Ollama error body %q: %v", b, err)
		return ""
	}
	var msg string
	if err := json.Unmarshal(v["error"], &msg); err != nil || len(v) != 1 || msg == "" {
		t.Errorf("Ollama error body = %s, want {\"error\":\"...\"} alone", b)
	}
	return msg
}

// openAIError checks an OpenAI error body, {"error":{"message":...,
// "type":...,"param":null,"code":...}}, and returns its message.
func openAIError(t testing.TB, b []byte, typ string, code any) string {
	t.Helper()
	var v struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Error == nil {
		t.Errorf("OpenAI error body %q: not {\"error\":{...}} (%v)", b, err)
		return ""
	}
	msg, _ := v.Error["message"].(string)
	param, hasParam := v.Error["param"]
	gotCode, hasCode := v.Error["code"]
	if msg == "" || v.Error["type"] != typ || !hasParam || param != nil || !hasCode || gotCode != code || len(v.Error) != 4 {
		t.Errorf("OpenAI error body = %s, want message, type %q, param null, code %v", b, typ, code)
	}
	return msg
}

// isOpenAI reports whether aitrail answers errors on path in OpenAI's
// dialect.
func isOpenAI(path string) bool {
	return strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/aitrail/")
}

// checkContentType checks the Content-Type of an error aitrail made on
// path: OpenAI's, or Ollama's (gin's) with a charset.
func checkContentType(t testing.TB, path string, got reply) {
	t.Helper()
	want := "application/json; charset=utf-8"
	if isOpenAI(path) {
		want = "application/json"
	}
	if ct := got.header.Get("Content-Type"); ct != want {
		t.Errorf("%s: Content-Type = %q, want %q", path, ct, want)
	}
}

// TestRecordedBeforeForwarding holds a call at the upstream (tiny-stall,
// not streamed): while the upstream has it, the log already shows it in
// progress, with its prompt; when the client gives up it is recorded as
// client_aborted.
func TestRecordedBeforeForwarding(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "held"
	key := e.gw.createKey(t, actor, "user")
	id := newID("held-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.gw.URL+"/api/generate",
		strings.NewReader(`{"model":"tiny-stall","prompt":"hold this thought","stream":false}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", id)
	req.Header.Set(callHeader, id)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()

	e.up.arrived(t, id)
	it := e.gw.interaction(t, id, "--actor", actor)
	if it.Status != "in_progress" || it.Prompt != "hold this thought" || it.ResponseSeq != nil {
		t.Errorf("query while the upstream holds the call: status %q, prompt %q, response_seq %v; want in_progress, the prompt, none",
			it.Status, it.Prompt, it.ResponseSeq)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Error("the cancelled call returned an answer")
	}
	eventually(t, "the abandoned call is recorded as client_aborted", func() (bool, string) {
		it = e.gw.interaction(t, id, "--actor", actor)
		return it.Status == "client_aborted", "status " + it.Status
	})
	if it.Response != "" {
		t.Errorf("query: response = %q, want none", it.Response)
	}
}

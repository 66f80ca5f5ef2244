package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// refusal is a call aitrail answers itself, and how it must answer and
// record it.
type refusal struct {
	name   string
	method string
	path   string
	key    string
	body   string
	header []string

	status   int
	errType  string // OpenAI error type; "" for an Ollama path
	errCode  any    // OpenAI error code (nil: null)
	message  string // in the error message
	kind     string // the record's kind
	recorded string // the record's status
	actor    string // the record's actor
	role     string // the record's role
}

// TestRefusals checks the calls aitrail refuses on the shared gateway:
// each answer's status, Content-Type and error body in the caller's
// dialect, and the record of the refusal.
func TestRefusals(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	g := e.gw
	user := g.createKey(t, "refusals-user", "user")
	auditor := g.createKey(t, "refusals-auditor", "auditor")
	revoked := g.createKey(t, "refusals-revoked", "user")
	if got := call(t, http.MethodPost, g.URL+"/api/embed", revoked, `{"model":"tiny","input":"before revocation"}`); got.status != http.StatusOK {
		t.Fatalf("the key to revoke does not work: status %d: %s", got.status, got.body)
	}
	keyID := strings.Split(revoked, "_")[1]
	if r := g.run(t, "keys revoke", keyID); r.code != 0 {
		t.Fatalf("aitrail keys revoke %s: exit %d\n%s", keyID, r.code, r.stderr)
	}
	// The gateway reuses a key it just checked for up to 2 seconds
	// (identity.KeyCacheTTL), so the revocation takes effect within that.
	eventually(t, "the revoked key is refused", func() (bool, string) {
		got := call(t, http.MethodGet, g.URL+"/api/tags", revoked, "")
		return got.status == http.StatusUnauthorized, fmt.Sprintf("status %d", got.status)
	})
	badKey := "ait_0123456789abcdef_" + strings.Repeat("A", 43)
	chat := `{"model":"tiny","messages":[{"role":"user","content":"refuse me"}]}`

	tests := []refusal{
		{name: "no key, Ollama", method: "POST", path: "/api/chat", body: chat,
			status: 401, message: "missing API key", kind: "model.request", recorded: "denied"},
		{name: "no key, OpenAI", method: "POST", path: "/v1/chat/completions", body: chat,
			status: 401, errType: "authentication_error", errCode: "invalid_api_key", message: "missing API key", kind: "model.request", recorded: "denied"},
		{name: "bad key, Ollama", method: "POST", path: "/api/generate", key: badKey, body: `{"model":"tiny","prompt":"x"}`,
			status: 401, message: "invalid API key", kind: "model.request", recorded: "denied"},
		{name: "bad key, OpenAI", method: "POST", path: "/v1/embeddings", key: badKey, body: `{"model":"tiny","input":"x"}`,
			status: 401, errType: "authentication_error", errCode: "invalid_api_key", message: "invalid API key", kind: "model.request", recorded: "denied"},
		{name: "not a key", method: "POST", path: "/api/chat", key: "sk-not-an-aitrail-key", body: chat,
			status: 401, message: "invalid API key", kind: "model.request", recorded: "denied"},
		{name: "revoked key, Ollama", method: "POST", path: "/api/embed", key: revoked, body: `{"model":"tiny","input":"after revocation"}`,
			status: 401, message: "revoked", kind: "model.request", recorded: "denied", actor: "refusals-revoked", role: "user"},
		{name: "revoked key, OpenAI", method: "POST", path: "/v1/responses", key: revoked, body: `{"model":"tiny","input":"after revocation"}`,
			status: 401, errType: "authentication_error", errCode: "invalid_api_key", message: "revoked", kind: "model.request", recorded: "denied", actor: "refusals-revoked", role: "user"},
		{name: "auditor calls a model, Ollama", method: "POST", path: "/api/chat", key: auditor, body: chat,
			status: 403, message: "may not call models", kind: "model.request", recorded: "denied", actor: "refusals-auditor", role: "auditor"},
		{name: "auditor calls a model, OpenAI", method: "POST", path: "/v1/chat/completions", key: auditor, body: chat,
			status: 403, errType: "permission_error", message: "may not call models", kind: "model.request", recorded: "denied", actor: "refusals-auditor", role: "auditor"},
		{name: "user pulls a model", method: "POST", path: "/api/pull", key: user, body: `{"model":"tiny"}`,
			status: 403, message: "admin", kind: "model.admin", recorded: "denied", actor: "refusals-user", role: "user"},
		{name: "user deletes a model", method: "DELETE", path: "/api/delete", key: user, body: `{"model":"tiny"}`,
			status: 403, message: "admin", kind: "model.admin", recorded: "denied", actor: "refusals-user", role: "user"},
		{name: "malformed JSON, Ollama", method: "POST", path: "/api/chat", key: user, body: `{"model":"tiny","messages":[`,
			status: 400, kind: "model.request", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "malformed JSON, OpenAI", method: "POST", path: "/v1/chat/completions", key: user, body: `{"model":"tiny","messages":[`,
			status: 400, errType: "invalid_request_error", kind: "model.request", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "unknown endpoint, Ollama", method: "POST", path: "/api/nope", key: user, body: `{}`,
			status: 404, message: "unknown endpoint", kind: "request.rejected", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "unknown endpoint, OpenAI", method: "POST", path: "/v1/nope", key: user, body: `{}`,
			status: 404, errType: "not_found_error", message: "unknown endpoint", kind: "request.rejected", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "GET on /api/chat", method: "GET", path: "/api/chat", key: user,
			status: 405, message: "not allowed", kind: "request.rejected", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "GET on /v1/chat/completions", method: "GET", path: "/v1/chat/completions", key: user,
			status: 405, errType: "invalid_request_error", message: "not allowed", kind: "request.rejected", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "model list without a key, Ollama", method: "GET", path: "/api/tags",
			status: 401, message: "missing API key", kind: "auth.denied", recorded: "denied"},
		{name: "model list without a key, OpenAI", method: "GET", path: "/v1/models",
			status: 401, errType: "authentication_error", errCode: "invalid_api_key", message: "missing API key", kind: "auth.denied", recorded: "denied"},
		{name: "session without a key", method: "POST", path: "/aitrail/v1/sessions", body: `{"reason":"curiosity"}`,
			status: 401, errType: "authentication_error", errCode: "invalid_api_key", message: "missing API key", kind: "auth.denied", recorded: "denied"},
		{name: "session without a reason", method: "POST", path: "/aitrail/v1/sessions", key: user, body: `{"reason":""}`,
			status: 400, errType: "invalid_request_error", message: "reason", kind: "session.created", recorded: "error", actor: "refusals-user", role: "user"},
		{name: "identity headers from an untrusted client", method: "POST", path: "/api/chat", body: chat,
			header: []string{"X-Actor-Id", "bob", "X-Actor-Role", "admin", "X-Forwarded-For", "203.0.113.7"},
			status: 401, message: "missing API key", kind: "model.request", recorded: "denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkRefusal(t, g, tc)
		})
	}
}

// checkRefusal makes the call tc and checks its answer and its record.
func checkRefusal(t *testing.T, g *gateway, tc refusal) {
	t.Helper()
	id := newID("refused-")
	got := call(t, tc.method, g.URL+tc.path, tc.key, tc.body, append([]string{"X-Request-Id", id, callHeader, id}, tc.header...)...)
	if got.status != tc.status {
		t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, got.status, tc.status, got.body)
	}
	checkContentType(t, tc.path, got)
	var msg string
	if isOpenAI(tc.path) {
		msg = openAIError(t, got.body, tc.errType, tc.errCode)
	} else {
		msg = ollamaError(t, got.body)
	}
	if !strings.Contains(msg, tc.message) {
		t.Errorf("error message = %q, want it to mention %q", msg, tc.message)
	}
	if got.header.Get("X-Request-Id") != id {
		t.Errorf("X-Request-Id = %q, want %q echoed", got.header.Get("X-Request-Id"), id)
	}
	recs := g.records(t, id)
	if len(recs) != 1 {
		t.Fatalf("records of the refused call: %d, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.Kind != tc.kind || r.Status != tc.recorded || r.Actor != tc.actor || r.Role != tc.role || r.Endpoint != tc.method+" "+tc.path {
		t.Errorf("record = kind %q, status %q, actor %q, role %q, endpoint %q; want %q, %q, %q, %q, %q",
			r.Kind, r.Status, r.Actor, r.Role, r.Endpoint, tc.kind, tc.recorded, tc.actor, tc.role, tc.method+" "+tc.path)
	}
	if r.ClientIP != "127.0.0.1" {
		t.Errorf("record: client_ip = %q, want 127.0.0.1", r.ClientIP)
	}
	if tc.kind == "model.request" {
		it := g.interaction(t, id)
		if it.Status != tc.recorded || it.Error == "" {
			t.Errorf("query: status %q, error %q; want %q with the reason", it.Status, it.Error, tc.recorded)
		}
		if tc.status == 400 && !strings.Contains(it.Prompt, tc.body) {
			t.Errorf("query: prompt = %q, want the malformed body %q kept", it.Prompt, tc.body)
		}
	}
}

// TestUpstreamErrors checks answers the upstream gives as errors: passed
// through to the client as they are, and recorded as errors.
func TestUpstreamErrors(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "upstream-errors"
	key := e.gw.createKey(t, actor, "user")
	const runnerError = "an error was encountered while running the model: unexpected EOF"
	const cutShort = "upstream ended the stream before the end of the answer"
	tests := []struct {
		name, path, body string
		status           int
		upstreamStatus   int
		err              string // the recorded error
	}{
		{"unknown model, Ollama", "/api/chat", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, 404, 404, "model 'nope' not found"},
		{"unknown model, OpenAI", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, 404, 404, "model 'nope' not found"},
		{"unknown model, embeddings", "/v1/embeddings", `{"model":"nope","input":"hi"}`, 404, 404, "not found"},
		{"error mid-stream, Ollama chat", "/api/chat", `{"model":"tiny-error","messages":[{"role":"user","content":"fail"}]}`, 200, 200, runnerError},
		{"error mid-stream, Ollama generate", "/api/generate", `{"model":"tiny-error","prompt":"fail"}`, 200, 200, runnerError},
		{"error mid-stream, OpenAI chat", "/v1/chat/completions", `{"model":"tiny-error","stream":true,"messages":[{"role":"user","content":"fail"}]}`, 200, 200, cutShort},
		{"error mid-stream, OpenAI responses", "/v1/responses", `{"model":"tiny-error","stream":true,"input":"fail"}`, 200, 200, cutShort},
		{"error, not streamed", "/api/chat", `{"model":"tiny-error","stream":false,"messages":[{"role":"user","content":"fail"}]}`, 500, 500, runnerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := newID("uperr-")
			got := call(t, http.MethodPost, e.gw.URL+tc.path, key, tc.body, "X-Request-Id", id, callHeader, id)
			up := e.up.call(t, id)
			checkSame(t, got, up)
			if got.status != tc.status {
				t.Errorf("status = %d, want %d", got.status, tc.status)
			}
			if tc.status == 200 && tc.err == runnerError && !strings.HasSuffix(string(got.body), `{"error":"`+runnerError+`"}`+"\n") {
				t.Errorf("the stream ends %q, want the upstream's error line", got.body[max(0, len(got.body)-120):])
			}
			it := e.gw.interaction(t, id, "--actor", actor)
			want := answerOf(t, up.Path, up.Body)
			if it.Status != "error" || it.UpstreamStatus != tc.upstreamStatus || !strings.Contains(it.Error, tc.err) || it.Response != want.text {
				t.Errorf("query: status %q, upstream_status %d, error %q, response %q; want error, %d, %q, %q",
					it.Status, it.UpstreamStatus, it.Error, it.Response, tc.upstreamStatus, tc.err, want.text)
			}
		})
	}
}

// TestCorrelation checks that a caller's X-Request-Id, else the trace id of
// its W3C traceparent, else a generated id, is echoed and recorded.
func TestCorrelation(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "correlated"
	key := e.gw.createKey(t, actor, "user")
	traceID := newID("") + newID("") // 32 hex digits
	tests := []struct {
		name   string
		header []string
		want   string // "" for a generated id
	}{
		{"X-Request-Id", []string{"X-Request-Id", "req-e2e-correlation-1"}, "req-e2e-correlation-1"},
		{"X-Request-Id before traceparent", []string{"X-Request-Id", "req-e2e-correlation-2", "Traceparent", "00-" + newID("") + newID("") + "-00f067aa0ba902b7-01"}, "req-e2e-correlation-2"},
		{"traceparent", []string{"Traceparent", "00-" + traceID + "-00f067aa0ba902b7-01"}, traceID},
		{"generated", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"correlate ` + tc.name + `"}]}`
			got := call(t, http.MethodPost, e.gw.URL+"/api/chat", key, body, tc.header...)
			if got.status != http.StatusOK {
				t.Fatalf("status %d: %s", got.status, got.body)
			}
			echoed := got.header.Get("X-Request-Id")
			if tc.want != "" && echoed != tc.want {
				t.Errorf("X-Request-Id = %q, want %q", echoed, tc.want)
			}
			if echoed == "" {
				t.Fatal("no X-Request-Id in the answer")
			}
			it := e.gw.interaction(t, echoed, "--actor", actor)
			if !strings.Contains(it.Prompt, "correlate "+tc.name) {
				t.Errorf("query: the interaction with correlation id %s asked %q", echoed, it.Prompt)
			}
		})
	}
}

// TestAdminPull checks that an admin's model management call is forwarded
// and recorded as model.admin with its outcome.
func TestAdminPull(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	id := newID("pull-")
	got := call(t, http.MethodPost, e.gw.URL+"/api/pull", e.gw.AdminKey, `{"model":"tiny"}`, "X-Request-Id", id, callHeader, id)
	checkSame(t, got, e.up.call(t, id))
	if got.status != http.StatusOK || !strings.Contains(string(got.body), `"status":"success"`) {
		t.Errorf("POST /api/pull: status %d, %s; want 200 ending in success", got.status, got.body)
	}
	recs := e.gw.records(t, id)
	if len(recs) != 2 || recs[0].Kind != "model.admin" || recs[0].Actor != "admin" || recs[0].Role != "admin" || recs[0].Model != "tiny" ||
		recs[1].Kind != "model.response" || recs[1].Status != "ok" || recs[1].RequestSeq != recs[0].Seq {
		t.Errorf("records = %+v, want model.admin by admin for tiny, then its model.response ok", recs)
	}
}

// TestHealthAndMetrics checks /healthz and /metrics.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	got := call(t, http.MethodGet, e.gw.URL+"/healthz", "", "")
	var health struct {
		Status string `json:"status"`
	}
	if got.status != http.StatusOK || json.Unmarshal(got.body, &health) != nil || health.Status != "ok" {
		t.Errorf("GET /healthz: %d %s, want 200 {\"status\":\"ok\"}", got.status, got.body)
	}
	// At least one recorded call, so that the counters have samples.
	key := e.gw.createKey(t, "metrics", "user")
	if got := call(t, http.MethodPost, e.gw.URL+"/api/embed", key, `{"model":"tiny","input":"count me"}`); got.status != http.StatusOK {
		t.Fatalf("POST /api/embed: %d %s", got.status, got.body)
	}
	got = call(t, http.MethodGet, e.gw.URL+"/metrics", "", "")
	if got.status != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", got.status)
	}
	for _, name := range []string{"aitrail_requests_total{", "aitrail_records_total "} {
		if !strings.Contains(string(got.body), "\n"+name) {
			t.Errorf("GET /metrics has no %q sample:\n%s", name, got.body)
		}
	}
}

// TestQueryFilters checks that 'aitrail query' selects by actor, day,
// status, model and session.
func TestQueryFilters(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	g := e.gw
	a, b := newID("filter-a-"), newID("filter-b-")
	keyA, keyB := g.createKey(t, a, "user"), g.createKey(t, b, "user")
	send := func(key, model, session string) {
		t.Helper()
		got := call(t, http.MethodPost, g.URL+"/api/generate", key, `{"model":"`+model+`","prompt":"filter me","stream":false}`, "X-Session-Id", session)
		if model == "tiny" && got.status != http.StatusOK {
			t.Fatalf("POST /api/generate: %d %s", got.status, got.body)
		}
	}
	send(keyA, "tiny", "s1")
	send(keyA, "tiny", "s2")
	send(keyA, "nope", "s1")
	send(keyB, "tiny", "s1")

	all := g.query(t, "--actor", a)
	if len(all) != 3 {
		t.Fatalf("aitrail query --actor %s: %d interactions, want 3", a, len(all))
	}
	day := all[0].Time.UTC().Format(time.DateOnly)
	dayBefore := all[0].Time.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--actor", a, "--on", day}, 3},
		{[]string{"--actor", b, "--on", day}, 1},
		{[]string{"--actor", a, "--on", dayBefore}, 0},
		{[]string{"--actor", a, "--status", "ok"}, 2},
		{[]string{"--actor", a, "--status", "error"}, 1},
		{[]string{"--actor", a, "--model", "nope"}, 1},
		{[]string{"--actor", a, "--session", "s1"}, 2},
		{[]string{"--actor", a, "--since", all[1].Time.Format(time.RFC3339Nano)}, 2},
		{[]string{"--actor", a, "--until", all[1].Time.Format(time.RFC3339Nano)}, 1},
		{[]string{"--actor", newID("nobody-")}, 0},
	}
	for _, tc := range tests {
		its := g.query(t, tc.args...)
		if len(its) != tc.want {
			t.Errorf("aitrail query %s: %d interactions, want %d", strings.Join(tc.args, " "), len(its), tc.want)
		}
		for _, it := range its {
			if it.Actor != tc.args[1] {
				t.Errorf("aitrail query %s shows a call by %s", strings.Join(tc.args, " "), it.Actor)
			}
		}
	}
}

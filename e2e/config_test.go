package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"
)

// TestBodyLimit sets a small max_body_bytes in a config file: a larger
// request is refused with 413 in its dialect, recorded, and never
// forwarded.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "max_body_bytes: 1024\ntimeouts:\n  stream_idle: 30s\n"})
	key := g.createKey(t, "bulky", "user")
	big := `{"model":"tiny","messages":[{"role":"user","content":"too big ` + strings.Repeat("x", 2000) + `"}]}`
	for _, tc := range []refusal{
		{name: "Ollama", method: "POST", path: "/api/chat", key: key, body: big,
			status: 413, message: "max_body_bytes", kind: "model.request", recorded: "error", actor: "bulky", role: "user"},
		{name: "OpenAI", method: "POST", path: "/v1/chat/completions", key: key, body: big,
			status: 413, errType: "invalid_request_error", message: "max_body_bytes", kind: "model.request", recorded: "error", actor: "bulky", role: "user"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRefusal(t, g, tc) })
	}
	if up.received("too big") {
		t.Error("the upstream received a body over the limit")
	}
	// A call under the limit goes through.
	if got := call(t, http.MethodPost, g.URL+"/api/chat", key, `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"small"}]}`); got.status != http.StatusOK {
		t.Errorf("a call under the limit: status %d: %s", got.status, got.body)
	}
}

// TestUpstreamDown points the gateway at a port nothing listens on: calls
// get 502 in their dialect, and are recorded as errors.
func TestUpstreamDown(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayConfig{Upstream: "http://" + freeAddr(t)})
	key := g.createKey(t, "stranded", "user")
	tests := []struct {
		path, body, errType string
	}{
		{"/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"anyone there?"}]}`, ""},
		{"/api/generate", `{"model":"tiny","prompt":"anyone there?","stream":false}`, ""},
		{"/v1/chat/completions", `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"anyone there?"}]}`, "api_error"},
		{"/v1/responses", `{"model":"tiny","input":"anyone there?"}`, "api_error"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			id := newID("down-")
			got := call(t, http.MethodPost, g.URL+tc.path, key, tc.body, "X-Request-Id", id)
			if got.status != http.StatusBadGateway {
				t.Errorf("status %d, want 502: %s", got.status, got.body)
			}
			checkContentType(t, tc.path, got)
			var msg string
			if tc.errType != "" {
				msg = openAIError(t, got.body, tc.errType, nil)
			} else {
				msg = ollamaError(t, got.body)
			}
			if !strings.Contains(msg, "upstream") {
				t.Errorf("error message %q does not say the upstream is the problem", msg)
			}
			it := g.interaction(t, id)
			if it.Status != "error" || it.UpstreamStatus != 0 || !strings.Contains(it.Error, "upstream unreachable") || it.Actor != "stranded" {
				t.Errorf("query: status %q, upstream_status %d, error %q, actor %q; want error, 0, upstream unreachable, stranded",
					it.Status, it.UpstreamStatus, it.Error, it.Actor)
			}
		})
	}
}

// TestRequireReason runs with require_reason: a call must carry a reason,
// in X-Access-Reason or through a session opened with one, and the reason
// is recorded.
func TestRequireReason(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "require_reason: true\n"})
	const actor = "reasoned"
	key := g.createKey(t, actor, "user")
	chat := func(s string) string {
		return `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"` + s + `"}]}`
	}

	t.Run("no reason", func(t *testing.T) {
		checkRefusal(t, g, refusal{method: "POST", path: "/api/chat", key: key, body: chat("no reason"),
			status: 403, message: "reason", kind: "model.request", recorded: "denied", actor: actor, role: "user"})
		checkRefusal(t, g, refusal{method: "POST", path: "/v1/chat/completions", key: key, body: chat("no reason"),
			status: 403, errType: "permission_error", message: "reason", kind: "model.request", recorded: "denied", actor: actor, role: "user"})
		if up.received("no reason") {
			t.Error("the upstream received a call without a reason")
		}
	})
	t.Run("X-Access-Reason", func(t *testing.T) {
		id := newID("reason-")
		got := call(t, http.MethodPost, g.URL+"/api/chat", key, chat("with a reason"), "X-Request-Id", id, "X-Access-Reason", "ticket INC-42")
		if got.status != http.StatusOK {
			t.Fatalf("status %d: %s", got.status, got.body)
		}
		if it := g.interaction(t, id); it.Status != "ok" || it.Reason != "ticket INC-42" {
			t.Errorf("query: status %q, reason %q; want ok, ticket INC-42", it.Status, it.Reason)
		}
	})
	t.Run("session", func(t *testing.T) {
		got := call(t, http.MethodPost, g.URL+"/aitrail/v1/sessions", key, `{"reason":"quarterly review"}`)
		var s struct {
			SessionID string `json:"session_id"`
			Reason    string `json:"reason"`
		}
		if got.status != http.StatusCreated || json.Unmarshal(got.body, &s) != nil || s.SessionID == "" {
			t.Fatalf("POST /aitrail/v1/sessions: %d %s, want 201 with a session_id", got.status, got.body)
		}
		for _, path := range []string{"/api/chat", "/v1/chat/completions"} {
			id := newID("session-")
			got := call(t, http.MethodPost, g.URL+path, key, chat("in a session"), "X-Request-Id", id, "X-Session-Id", s.SessionID)
			if got.status != http.StatusOK {
				t.Fatalf("POST %s in the session: status %d: %s", path, got.status, got.body)
			}
			if it := g.interaction(t, id); it.Status != "ok" || it.Session != s.SessionID || it.Reason != "quarterly review" {
				t.Errorf("query: status %q, session %q, reason %q; want ok, %s, quarterly review", it.Status, it.Session, it.Reason, s.SessionID)
			}
		}
		// A session id that was never opened carries no reason.
		checkRefusal(t, g, refusal{method: "POST", path: "/api/chat", key: key, body: chat("made-up session"),
			header: []string{"X-Session-Id", "ses_000000000000000000000000"},
			status: 403, message: "reason", kind: "model.request", recorded: "denied", actor: actor, role: "user"})
	})
	t.Run("session of another actor", func(t *testing.T) {
		// A reason for access is declared by whoever opened the session:
		// another actor who learns its id cannot borrow it.
		got := call(t, http.MethodPost, g.URL+"/aitrail/v1/sessions", key, `{"reason":"my own review"}`)
		var s struct {
			SessionID string `json:"session_id"`
		}
		if got.status != http.StatusCreated || json.Unmarshal(got.body, &s) != nil || s.SessionID == "" {
			t.Fatalf("POST /aitrail/v1/sessions: %d %s, want 201 with a session_id", got.status, got.body)
		}
		other := g.createKey(t, "borrower", "user")
		checkRefusal(t, g, refusal{method: "POST", path: "/api/chat", key: other, body: chat("borrowed session"),
			header: []string{"X-Session-Id", s.SessionID},
			status: 403, message: "reason", kind: "model.request", recorded: "denied", actor: "borrower", role: "user"})
	})
}

// TestTrustedProxy accepts identity headers from a trusted proxy address:
// the call is attributed to the asserted actor, and X-Forwarded-For gives
// the client's address.
func TestTrustedProxy(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "trusted_proxies: [\"127.0.0.1/32\"]\n"})
	chat := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"via the proxy"}]}`

	id := newID("proxied-")
	got := call(t, http.MethodPost, g.URL+"/api/chat", "", chat,
		"X-Request-Id", id, callHeader, id, "X-Actor-Id", "bob", "X-Actor-Role", "user", "X-Forwarded-For", "198.51.100.9, 203.0.113.7")
	if got.status != http.StatusOK {
		t.Fatalf("a call with identity headers from a trusted proxy: status %d: %s", got.status, got.body)
	}
	it := g.interaction(t, id)
	if it.Status != "ok" || it.Actor != "bob" || it.Role != "user" || it.ClientIP != "203.0.113.7" {
		t.Errorf("query: status %q, actor %q, role %q, client_ip %q; want ok, bob, user, 203.0.113.7", it.Status, it.Actor, it.Role, it.ClientIP)
	}
	sent := up.call(t, id)
	for _, h := range []string{"X-Actor-Id", "X-Actor-Role", "Authorization"} {
		if v := sent.Header.Get(h); v != "" {
			t.Errorf("the upstream received %s: %q, want aitrail's own headers kept back", h, v)
		}
	}

	// An invalid role is refused; no identity header falls back to keys.
	checkRefusal(t, g, refusal{method: "POST", path: "/api/chat", body: chat, header: []string{"X-Actor-Id", "bob", "X-Actor-Role", "root"},
		status: 401, message: "X-Actor-Role", kind: "model.request", recorded: "denied"})
	checkRefusal(t, g, refusal{method: "POST", path: "/api/chat", body: chat,
		status: 401, message: "missing API key", kind: "model.request", recorded: "denied"})
}

// TestTimeouts sets short upstream timeouts in a config file: a stream that
// goes silent is ended with an error frame in its dialect, and an upstream
// that sends no headers gets 504; both are recorded as errors.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: "timeouts:\n  stream_idle: 1s\n  upstream_headers: 1s\n"})
	const actor = "timed-out"
	key := g.createKey(t, actor, "user")
	tests := []struct {
		name, path, body string
		status           int
		tail             string // how the answer ends
		err              string // the recorded error
	}{
		{"silent stream, Ollama", "/api/chat", `{"model":"tiny-stall","messages":[{"role":"user","content":"go quiet"}]}`,
			200, `{"error":"aitrail: upstream silent for 1s mid-stream (timeouts.stream_idle)"}` + "\n", "timeouts.stream_idle"},
		{"silent stream, OpenAI", "/v1/chat/completions", `{"model":"tiny-stall","stream":true,"messages":[{"role":"user","content":"go quiet"}]}`,
			200, `data: {"error":{"message":"aitrail: upstream silent for 1s mid-stream (timeouts.stream_idle)","type":"api_error","param":null,"code":null}}` + "\n\n", "timeouts.stream_idle"},
		{"no headers, Ollama", "/api/generate", `{"model":"tiny-stall","prompt":"no headers","stream":false}`,
			504, "", "timeouts.upstream_headers"},
		{"no headers, OpenAI", "/v1/completions", `{"model":"tiny-stall","prompt":"no headers"}`,
			504, "", "timeouts.upstream_headers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := newID("timeout-")
			got := call(t, http.MethodPost, g.URL+tc.path, key, tc.body, "X-Request-Id", id, callHeader, id)
			if got.status != tc.status {
				t.Errorf("status %d, want %d: %s", got.status, tc.status, got.body)
			}
			sent := up.call(t, id)
			if tc.status == http.StatusOK {
				if want := string(sent.Body) + tc.tail; string(got.body) != want {
					t.Errorf("the answer is %q, want the upstream's %q and then %q", got.body, sent.Body, tc.tail)
				}
			} else {
				checkContentType(t, tc.path, got)
				var msg string
				if isOpenAI(tc.path) {
					msg = openAIError(t, got.body, "api_error", nil)
				} else {
					msg = ollamaError(t, got.body)
				}
				if !strings.Contains(msg, tc.err) {
					t.Errorf("error message %q does not name %s", msg, tc.err)
				}
			}
			it := g.interaction(t, id, "--actor", actor)
			if it.Status != "error" || !strings.Contains(it.Error, tc.err) {
				t.Errorf("query: status %q, error %q; want error, %s", it.Status, it.Error, tc.err)
			}
		})
	}

	t.Run("silent stream, Ollama SDK", func(t *testing.T) {
		t.Parallel()
		k := newSDKKit(g, key)
		res, err := ollamaChat(context.Background(), k.ollama(t), &api.ChatRequest{Model: "tiny-stall",
			Messages: []api.Message{{Role: "user", Content: "go quiet with the Ollama SDK"}}})
		if err == nil || !strings.Contains(err.Error(), "timeouts.stream_idle") {
			t.Errorf("the SDK's chat ended with error %v, want aitrail's stream_idle error", err)
		}
		if want := answerOf(t, "/api/chat", up.call(t, k.callID).Body).text; res.text != want || res.text == "" {
			t.Errorf("the SDK read %q before the error, want the upstream's %q", res.text, want)
		}
	})
	t.Run("silent stream, OpenAI SDK", func(t *testing.T) {
		t.Parallel()
		// aitrail's error frame is one the SDK raises as an error.
		k := newSDKKit(g, key)
		stream := k.openai().Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model:    "tiny-stall",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("go quiet with the SDK")},
		})
		defer stream.Close()
		var text string
		for stream.Next() {
			if c := stream.Current(); len(c.Choices) > 0 {
				text += c.Choices[0].Delta.Content
			}
		}
		if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "timeouts.stream_idle") {
			t.Errorf("the SDK's stream ended with error %v, want aitrail's stream_idle error", err)
		}
		if want := answerOf(t, "/v1/chat/completions", up.call(t, k.callID).Body).text; text != want || text == "" {
			t.Errorf("the SDK read %q before the error, want the upstream's %q", text, want)
		}
	})
}

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// passCase is a request sent with a plain HTTP client, whose answer must
// reach the client exactly as the stand-in wrote it.
type passCase struct {
	name   string
	path   string
	body   string
	stream bool
	admin  bool // needs the admin key (model management)
	tools  bool // the answer is a call to get_weather
}

func passCases() []passCase {
	msgs := func(s string) string { return `"messages":[{"role":"user","content":"` + s + `"}]` }
	return []passCase{
		{name: "ollama chat streamed", path: "/api/chat", stream: true, body: `{"model":"tiny",` + msgs("pass chat streamed") + `}`},
		{name: "ollama chat", path: "/api/chat", body: `{"model":"tiny",` + msgs("pass chat") + `,"stream":false}`},
		{name: "ollama chat think tools streamed", path: "/api/chat", stream: true, tools: true, body: `{"model":"tiny-think",` + msgs("what is the weather in Paris") +
			`,"tools":[{"type":"function","function":{"name":"get_weather","description":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}`},
		{name: "ollama chat think", path: "/api/chat", body: `{"model":"tiny-think",` + msgs("think about it") + `,"stream":false}`},
		{name: "ollama generate streamed", path: "/api/generate", stream: true, body: `{"model":"tiny","prompt":"pass generate streamed","options":{"num_predict":30,"seed":7}}`},
		{name: "ollama generate", path: "/api/generate", body: `{"model":"tiny","prompt":"pass generate","stream":false}`},
		{name: "ollama embed", path: "/api/embed", body: `{"model":"tiny","input":["pass embed one","pass embed two"]}`},
		{name: "ollama embeddings (legacy)", path: "/api/embeddings", body: `{"model":"tiny","prompt":"pass embeddings"}`},
		{name: "openai chat streamed", path: "/v1/chat/completions", stream: true, body: `{"model":"tiny","stream":true,` + msgs("pass oai chat streamed") + `}`},
		{name: "openai chat streamed with usage", path: "/v1/chat/completions", stream: true, body: `{"model":"tiny","stream":true,"stream_options":{"include_usage":true},` + msgs("pass oai chat usage") + `}`},
		{name: "openai chat", path: "/v1/chat/completions", body: `{"model":"tiny",` + msgs("pass oai chat") + `,"max_tokens":5}`},
		{name: "openai chat think tools streamed", path: "/v1/chat/completions", stream: true, tools: true, body: `{"model":"tiny-think","stream":true,` + msgs("weather in Rome?") +
			`,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`},
		{name: "openai completions streamed", path: "/v1/completions", stream: true, body: `{"model":"tiny","prompt":"pass completions streamed","stream":true}`},
		{name: "openai completions", path: "/v1/completions", body: `{"model":"tiny","prompt":"pass completions"}`},
		{name: "openai embeddings", path: "/v1/embeddings", body: `{"model":"tiny","input":"pass oai embeddings"}`},
		{name: "openai responses streamed", path: "/v1/responses", stream: true, body: `{"model":"tiny","input":"pass responses streamed","stream":true}`},
		{name: "openai responses", path: "/v1/responses", body: `{"model":"tiny","input":[{"role":"user","content":"pass responses"}]}`},
		{name: "ollama pull streamed (admin)", path: "/api/pull", stream: true, admin: true, body: `{"model":"tiny"}`},
		{name: "ollama pull (admin)", path: "/api/pull", admin: true, body: `{"model":"tiny","stream":false}`},
	}
}

// TestPassThrough checks that every recorded endpoint passes the upstream's
// answer through byte for byte, streamed and not, with its Content-Type,
// and that aitrail's record commits to exactly as many bytes as the client
// received.
func TestPassThrough(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "pass-through"
	key := e.gw.createKey(t, actor, "user")
	for _, tc := range passCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := key
			if tc.admin {
				k = e.gw.AdminKey
			}
			id := newID("pass-")
			got := call(t, http.MethodPost, e.gw.URL+tc.path, k, tc.body, "X-Request-Id", id, callHeader, id)
			up := e.up.call(t, id)
			checkSame(t, got, up)
			if got.status != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", got.status, got.body)
			}
			if got.header.Get("X-Request-Id") != id {
				t.Errorf("X-Request-Id = %q, want %q echoed", got.header.Get("X-Request-Id"), id)
			}
			recs := e.gw.records(t, id)
			if len(recs) != 2 {
				t.Fatalf("records with correlation id %s: %d, want a request and its response: %+v", id, len(recs), recs)
			}
			resp := recs[1]
			if resp.Kind != "model.response" || resp.Status != "ok" || resp.RequestSeq != recs[0].Seq {
				t.Errorf("response record = %+v, want model.response, ok, for request %d", resp, recs[0].Seq)
			}
			if resp.RawLen != int64(len(got.body)) {
				t.Errorf("response raw_len = %d, want the %d bytes delivered", resp.RawLen, len(got.body))
			}
			if tc.admin {
				if recs[0].Kind != "model.admin" || recs[0].Actor != "admin" {
					t.Errorf("request record = %+v, want model.admin by admin", recs[0])
				}
				return
			}
			it := e.gw.interaction(t, id, "--actor", actor)
			want := answerOf(t, up.Path, up.Body)
			if it.Status != "ok" || it.Response != want.text || it.TokensIn != want.tokensIn || it.TokensOut != want.tokensOut || it.Stream != tc.stream {
				t.Errorf("query: status %s, response %q, tokens %d/%d, stream %v; want ok, %q, %d/%d, %v",
					it.Status, it.Response, it.TokensIn, it.TokensOut, it.Stream, want.text, want.tokensIn, want.tokensOut, tc.stream)
			}
			if it.Thinking != want.thinking {
				t.Errorf("query: thinking = %q, want the upstream's %q", it.Thinking, want.thinking)
			}
			if hasCall := strings.Contains(string(it.ToolCalls), `"get_weather"`); hasCall != tc.tools {
				t.Errorf("query: tool_calls = %s; want a call to get_weather: %v", it.ToolCalls, tc.tools)
			}
		})
	}
}

// checkSame compares what the client got with what the stand-in wrote:
// the same bytes, except that where the gateway asked the upstream for
// usage on the caller's behalf, what that added is not passed on.
func checkSame(t testing.TB, got reply, up *capture) {
	t.Helper()
	if got.status != up.Status {
		t.Errorf("status = %d, want the upstream's %d", got.status, up.Status)
	}
	if ct := got.header.Get("Content-Type"); ct != up.ContentType {
		t.Errorf("Content-Type = %q, want the upstream's %q", ct, up.ContentType)
	}
	want := up.Body
	if bytes.HasPrefix(up.Request, []byte(`{"stream_options":{"include_usage":true},`)) {
		want = withoutAskedUsage(want)
	}
	if !bytes.Equal(got.body, want) {
		t.Errorf("body differs from the upstream's (%d bytes, want %d): %s", len(got.body), len(want), firstDiff(got.body, want))
	}
}

// withoutAskedUsage returns an Ollama OpenAI-compatible stream without what
// stream_options.include_usage adds to it (in Ollama's middleware): the
// usage chunk, whose choices are empty, and, on /v1/completions, a usage
// of zeros on every other chunk.
func withoutAskedUsage(stream []byte) []byte {
	var out []byte
	for _, ev := range bytes.SplitAfter(stream, []byte("\n\n")) {
		if bytes.Contains(ev, []byte(`"choices":[]`)) {
			continue
		}
		out = append(out, bytes.ReplaceAll(ev, []byte(`,"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`), nil)...)
	}
	return out
}

// firstDiff describes where two byte strings first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-40)
	return fmt.Sprintf("first difference at byte %d: got %q, want %q", i, got[lo:min(len(got), i+40)], want[lo:min(len(want), i+40)])
}

// TestPassThroughLongStreamsConcurrently sends 32 long streams at once and
// checks each byte for byte, and each recorded with the whole answer: the
// truncation PERFORMANCE-NOTES.md warns of in Go proxies must not happen.
func TestPassThroughLongStreamsConcurrently(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "long-streams"
	key := e.gw.createKey(t, actor, "user")
	shapes := []struct{ path, body string }{
		{"/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"long chat %d"}],"options":{"num_predict":400}}`},
		{"/api/generate", `{"model":"tiny","prompt":"long generate %d","options":{"num_predict":400}}`},
		{"/v1/chat/completions", `{"model":"tiny","stream":true,"stream_options":{"include_usage":true},"max_tokens":400,"messages":[{"role":"user","content":"long oai chat %d"}]}`},
		{"/v1/completions", `{"model":"tiny","stream":true,"max_tokens":400,"prompt":"long completions %d"}`},
		{"/v1/responses", `{"model":"tiny","stream":true,"max_output_tokens":400,"input":"long responses %d"}`},
	}
	const n = 32
	type outcome struct {
		id   string
		path string
		got  reply
		err  error
	}
	outs := make([]outcome, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := shapes[i%len(shapes)]
		outs[i] = outcome{id: newID("long-"), path: s.path}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outs[i].got, outs[i].err = post(e.gw.URL+s.path, key, fmt.Sprintf(s.body, i), outs[i].id)
		}()
	}
	close(start)
	wg.Wait()

	its := map[string]interaction{}
	for _, it := range e.gw.query(t, "--actor", actor) {
		its[it.CorrelationID] = it
	}
	for i, o := range outs {
		if o.err != nil {
			t.Errorf("stream %d (%s): %v", i, o.path, o.err)
			continue
		}
		up := e.up.call(t, o.id)
		checkSame(t, o.got, up)
		want := answerOf(t, up.Path, up.Body)
		if got := strings.Count(want.text, " "); got != 400 {
			t.Errorf("stream %d (%s): the upstream said %d words, want 400", i, o.path, got)
		}
		it, ok := its[o.id]
		switch {
		case !ok:
			t.Errorf("stream %d (%s): not recorded", i, o.path)
		case it.Status != "ok" || it.Response != want.text || it.TokensOut != want.tokensOut:
			t.Errorf("stream %d (%s): recorded %s with %d bytes of text and %d tokens out, want ok, %d bytes, %d tokens",
				i, o.path, it.Status, len(it.Response), it.TokensOut, len(want.text), want.tokensOut)
		}
	}
	if len(its) != n {
		t.Errorf("aitrail query --actor %s shows %d interactions, want %d", actor, len(its), n)
	}
}

// post sends a model call with a plain client, for use off the test's
// goroutine: it returns errors instead of failing.
func post(url, key, body, id string) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", id)
	req.Header.Set(callHeader, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

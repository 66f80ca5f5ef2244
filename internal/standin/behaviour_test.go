package standin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const hi = `"messages":[{"role":"user","content":"hi"}]`

func TestIncludeUsage(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	for _, tt := range []struct {
		path, body string
	}{
		{"/v1/chat/completions", `{"model":"tiny",` + hi + `,"stream":true,"max_tokens":3`},
		{"/v1/completions", `{"model":"tiny","prompt":"hi","stream":true,"max_tokens":3`},
	} {
		for _, include := range []bool{false, true} {
			body := tt.body + `}`
			if include {
				body = tt.body + `,"stream_options":{"include_usage":true}}`
			}
			resp, got := call(t, srv, "POST", tt.path, body)
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("%s: Content-Type %q", tt.path, ct)
			}
			evs := sseEvents(t, got)
			if len(evs) < 2 || evs[len(evs)-1].data != "[DONE]" {
				t.Fatalf("%s: stream does not end with [DONE]: %s", tt.path, got)
			}
			frames := evs[:len(evs)-1]
			last := dataOf(t, frames[len(frames)-1])
			if !include {
				if strings.Contains(string(got), `"usage"`) {
					t.Errorf("%s without include_usage has usage: %s", tt.path, got)
				}
				if fr := last["choices"].([]any)[0].(map[string]any)["finish_reason"]; fr != "length" {
					t.Errorf("%s: last chunk finish_reason %v, want length", tt.path, fr)
				}
				continue
			}
			if choices := last["choices"].([]any); len(choices) != 0 {
				t.Errorf("%s: usage chunk has choices %v", tt.path, choices)
			}
			u := last["usage"].(map[string]any)
			if u["completion_tokens"] != 3.0 || u["total_tokens"] != u["prompt_tokens"].(float64)+3 {
				t.Errorf("%s: usage %v", tt.path, u)
			}
			finish := dataOf(t, frames[len(frames)-2])
			if fr := finish["choices"].([]any)[0].(map[string]any)["finish_reason"]; fr != "length" {
				t.Errorf("%s: finish_reason %v before the usage chunk", tt.path, fr)
			}
		}
	}
}

func TestTinyErrorStreamed(t *testing.T) {
	srv := newTestServer(t, New(Options{}))

	// Native: three chunks, then the error object as the last line.
	for _, tt := range []struct{ path, body, field string }{
		{"/api/chat", `{"model":"tiny-error",` + hi + `}`, "message"},
		{"/api/generate", `{"model":"tiny-error","prompt":"hi"}`, "response"},
	} {
		resp, body := call(t, srv, "POST", tt.path, tt.body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("%s: %s %q", tt.path, resp.Status, resp.Header.Get("Content-Type"))
		}
		lines := strings.SplitAfter(string(body), "\n")
		if len(lines) != 5 || lines[4] != "" {
			t.Fatalf("%s: want 4 lines, got %q", tt.path, body)
		}
		if want := `{"error":"` + runnerError + `"}` + "\n"; lines[3] != want {
			t.Errorf("%s: last line %q, want %q", tt.path, lines[3], want)
		}
		for _, f := range ndjsonFrames(t, []byte(strings.Join(lines[:3], ""))) {
			if f["done"] != false || f[tt.field] == nil {
				t.Errorf("%s: bad chunk %v", tt.path, f)
			}
		}
	}

	// OpenAI-compatible: Ollama's middleware decodes the error object as an
	// empty answer, so three chunks are followed by an empty chunk with no
	// model, and no [DONE].
	for _, tt := range []struct{ path, body, empty string }{
		{"/v1/chat/completions", `{"model":"tiny-error",` + hi + `,"stream":true}`,
			`"object":"chat.completion.chunk","created":%d,"model":"","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`},
		{"/v1/completions", `{"model":"tiny-error","prompt":"hi","stream":true}`,
			`"object":"text_completion","created":%d,"choices":[{"text":"","index":0,"finish_reason":null}],"model":"","system_fingerprint":"fp_ollama"}`},
	} {
		_, body := call(t, srv, "POST", tt.path, tt.body)
		evs := sseEvents(t, body)
		if len(evs) != 4 {
			t.Fatalf("%s: want 4 events, got %s", tt.path, body)
		}
		first := dataOf(t, evs[0])
		created := int64(first["created"].(float64))
		want := `{"id":"` + first["id"].(string) + `",` + strings.Replace(tt.empty, "%d", itoa(created), 1)
		if evs[3].data != want {
			t.Errorf("%s: last event\n got %s\nwant %s", tt.path, evs[3].data, want)
		}
	}

	// Responses: the error gives no event; the stream ends without
	// response.completed.
	_, body := call(t, srv, "POST", "/v1/responses", `{"model":"tiny-error","input":"hi","stream":true}`)
	evs := sseEvents(t, body)
	if n := len(evs); n != 7 || evs[n-1].name != "response.output_text.delta" {
		t.Errorf("responses: got %d events, last %q", n, evs[n-1].name)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestTinyErrorUnstreamed(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	native := `{"error":"` + runnerError + `"}`
	oai := `{"error":{"message":"` + runnerError + `","type":"api_error","param":null,"code":null}}` + "\n"
	for _, tt := range []struct{ path, body, want, ctype string }{
		{"/api/chat", `{"model":"tiny-error",` + hi + `,"stream":false}`, native, "application/json; charset=utf-8"},
		{"/api/generate", `{"model":"tiny-error","prompt":"hi","stream":false}`, native, "application/json; charset=utf-8"},
		{"/api/embed", `{"model":"tiny-error","input":"hi"}`, native, "application/json; charset=utf-8"},
		{"/api/embeddings", `{"model":"tiny-error","prompt":"hi"}`, native, "application/json; charset=utf-8"},
		{"/v1/chat/completions", `{"model":"tiny-error",` + hi + `}`, oai, "application/json"},
		{"/v1/completions", `{"model":"tiny-error","prompt":"hi"}`, oai, "application/json"},
		{"/v1/embeddings", `{"model":"tiny-error","input":"hi"}`, oai, "application/json"},
		{"/v1/responses", `{"model":"tiny-error","input":"hi"}`, oai, "application/json"},
	} {
		resp, body := call(t, srv, "POST", tt.path, tt.body)
		if resp.StatusCode != 500 || string(body) != tt.want || resp.Header.Get("Content-Type") != tt.ctype {
			t.Errorf("%s: %s %q %s", tt.path, resp.Status, resp.Header.Get("Content-Type"), body)
		}
	}
}

// signalWriter reports its first write.
type signalWriter struct {
	*httptest.ResponseRecorder
	mu    sync.Mutex
	wrote chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.once.Do(func() { close(w.wrote) })
	return w.ResponseRecorder.Write(p)
}

func (w *signalWriter) body() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ResponseRecorder.Body.String()
}

func TestTinyStallCancel(t *testing.T) {
	for _, tt := range []struct{ path, body string }{
		{"/api/chat", `{"model":"tiny-stall",` + hi + `}`},
		{"/api/generate", `{"model":"tiny-stall","prompt":"hi"}`},
		{"/v1/chat/completions", `{"model":"tiny-stall",` + hi + `,"stream":true}`},
		{"/v1/responses", `{"model":"tiny-stall","input":"hi","stream":true}`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			var got []byte
			s := New(Options{OnResponse: func(_ string, _ int, body []byte) { got = body }})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, "POST", tt.path, strings.NewReader(tt.body))
			w := &signalWriter{ResponseRecorder: httptest.NewRecorder(), wrote: make(chan struct{})}
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.ServeHTTP(w, req)
			}()
			select {
			case <-w.wrote:
			case <-time.After(10 * time.Second):
				t.Fatal("no first chunk")
			}
			select {
			case <-done:
				t.Fatal("handler returned before the client went away")
			default:
			}
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("handler did not return after the client went away")
			}
			if w.body() != string(got) {
				t.Errorf("OnResponse got %q, client got %q", got, w.body())
			}
			if strings.Contains(w.body(), `"done":true`) || strings.Contains(w.body(), "[DONE]") || strings.Contains(w.body(), "response.completed") {
				t.Errorf("stream finished after the client went away: %s", w.body())
			}
		})
	}
}

func TestTinyStallUnstreamedCancel(t *testing.T) {
	s := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "POST", "/api/chat", strings.NewReader(`{"model":"tiny-stall",`+hi+`,"stream":false}`))
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(w, req)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return after the client went away")
	}
	if w.Code != 500 || w.Body.String() != `{"error":"context canceled"}` {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

func TestDelays(t *testing.T) {
	for _, tt := range []struct {
		model string
		delay time.Duration
		least time.Duration
	}{
		{"tiny-slow", 0, 3 * slowDelay},
		{"tiny", 15 * time.Millisecond, 45 * time.Millisecond},
	} {
		srv := newTestServer(t, New(Options{TokenDelay: tt.delay}))
		start := time.Now()
		_, body := call(t, srv, "POST", "/api/chat", `{"model":"`+tt.model+`",`+hi+`,"options":{"num_predict":3}}`)
		if took := time.Since(start); took < tt.least {
			t.Errorf("%s with delay %v took %v, want at least %v", tt.model, tt.delay, took, tt.least)
		}
		if n := len(ndjsonFrames(t, body)); n != 4 {
			t.Errorf("%s: %d frames", tt.model, n)
		}
	}
}

func TestResponsesStream(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	resp, body := call(t, srv, "POST", "/v1/responses", `{"model":"tiny","input":"hi","stream":true,"max_output_tokens":3}`)
	for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "Connection": "keep-alive"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	evs := sseEvents(t, body)
	var names []string
	var deltas strings.Builder
	for i, ev := range evs {
		names = append(names, ev.name)
		d := dataOf(t, ev)
		if d["type"] != ev.name || d["sequence_number"] != float64(i) {
			t.Errorf("event %d %s: type %v, sequence_number %v", i, ev.name, d["type"], d["sequence_number"])
		}
		if ev.name == "response.output_text.delta" {
			deltas.WriteString(d["delta"].(string))
		}
		if ev.name == "response.output_text.done" && d["text"] != deltas.String() {
			t.Errorf("done text %q, deltas %q", d["text"], deltas.String())
		}
		if ev.name == "response.completed" {
			r := d["response"].(map[string]any)
			u := r["usage"].(map[string]any)
			if r["status"] != "completed" || u["output_tokens"] != 3.0 || u["total_tokens"] != u["input_tokens"].(float64)+3 {
				t.Errorf("completed: %v", r)
			}
			out := r["output"].([]any)[0].(map[string]any)
			if out["content"].([]any)[0].(map[string]any)["text"] != deltas.String() {
				t.Errorf("completed output %v", out)
			}
		}
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added " +
		"response.output_text.delta response.output_text.delta response.output_text.delta " +
		"response.output_text.done response.content_part.done response.output_item.done response.completed"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
}

func TestResponsesUnstreamed(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	resp, body := call(t, srv, "POST", "/v1/responses", `{"model":"tiny","input":[{"role":"user","content":"hi"}],"instructions":"be brief","max_output_tokens":2}`)
	if resp.Header.Get("Content-Type") != "application/json" || !bytes.HasSuffix(body, []byte("}\n")) {
		t.Errorf("%q %s", resp.Header.Get("Content-Type"), body)
	}
	want := `{"id":"<s>","object":"response","created_at":<int>,"completed_at":<int>,"status":"completed","incomplete_details":null,` +
		`"model":"tiny","previous_response_id":null,"instructions":"be brief","output":[{"id":"<s>","type":"message","status":"completed",` +
		`"role":"assistant","content":[{"type":"output_text","text":"<s>","annotations":[],"logprobs":[]}]}],"error":null,"tools":[],` +
		`"tool_choice":"auto","truncation":"disabled","parallel_tool_calls":true,"text":{"format":{"type":"text"}},"top_p":<int>,` +
		`"presence_penalty":<int>,"frequency_penalty":<int>,"top_logprobs":<int>,"temperature":<int>,"reasoning":null,` +
		`"usage":{"input_tokens":<int>,"output_tokens":<int>,"total_tokens":<int>,"input_tokens_details":{"cached_tokens":<int>},` +
		`"output_tokens_details":{"reasoning_tokens":<int>}},"max_output_tokens":<int>,"max_tool_calls":null,"store":false,` +
		`"background":false,"service_tier":"default","metadata":{},"safety_identifier":null,"prompt_cache_key":null}`
	if got := skeleton(t, bytes.TrimSuffix(body, []byte("\n"))); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestThinking(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	_, body := call(t, srv, "POST", "/api/chat", `{"model":"tiny-think",`+hi+`,"options":{"num_predict":2}}`)
	frames := ndjsonFrames(t, body)
	var kinds []string
	for _, f := range frames[:len(frames)-1] {
		m := f["message"].(map[string]any)
		switch {
		case m["thinking"] != nil && m["content"] == "":
			kinds = append(kinds, "thinking")
		case m["thinking"] == nil && m["content"] != "":
			kinds = append(kinds, "content")
		default:
			t.Errorf("bad chunk %v", m)
		}
	}
	if got := strings.Join(kinds, ","); got != "thinking,thinking,thinking,thinking,content,content" {
		t.Errorf("chunks %s", got)
	}
	if done := frames[len(frames)-1]; done["eval_count"] != 6.0 || done["done_reason"] != "length" {
		t.Errorf("done %v", done)
	}

	_, body = call(t, srv, "POST", "/api/chat", `{"model":"tiny-think",`+hi+`,"think":false,"stream":false}`)
	if bytes.Contains(body, []byte("thinking")) {
		t.Errorf("think false still thinks: %s", body)
	}

	_, body = call(t, srv, "POST", "/v1/chat/completions", `{"model":"tiny-think",`+hi+`,"max_tokens":1}`)
	var cc struct {
		Choices []struct {
			Message struct{ Content, Reasoning string }
		}
	}
	json.Unmarshal(body, &cc)
	if len(cc.Choices) != 1 || cc.Choices[0].Message.Reasoning == "" || cc.Choices[0].Message.Content == "" {
		t.Errorf("no reasoning and content: %s", body)
	}

	_, body = call(t, srv, "POST", "/api/generate", `{"model":"tiny-think","prompt":"hi","stream":false}`)
	if !bytes.Contains(body, []byte(`"thinking":" `)) {
		t.Errorf("generate does not think: %s", body)
	}

	resp, body := call(t, srv, "POST", "/api/chat", `{"model":"tiny-think",`+hi+`,"think":"high"}`)
	if resp.StatusCode != 400 || string(body) != `{"error":"think value \"high\" is not supported for this model"}` {
		t.Errorf("think high: %s %s", resp.Status, body)
	}
}

const weatherTool = `"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}}}}}]`

func TestTools(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	checkArgs := func(args string) {
		t.Helper()
		keys, vals := objectKeys(json.RawMessage(args))
		if strings.Join(keys, ",") != "city,days,unit" {
			t.Errorf("arguments %s: keys %v", args, keys)
		}
		var city string
		var days int
		if json.Unmarshal(vals["city"], &city) != nil || json.Unmarshal(vals["days"], &days) != nil || string(vals["unit"]) != `"celsius"` {
			t.Errorf("arguments %s do not fit the schema", args)
		}
	}

	// Native, unstreamed: one message with one call.
	_, body := call(t, srv, "POST", "/api/chat", `{"model":"tiny-think","think":false,`+hi+`,"stream":false,`+weatherTool+`}`)
	var chat struct {
		Message struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string
				Function struct {
					Index     *int
					Name      string
					Arguments json.RawMessage
				}
			} `json:"tool_calls"`
		}
		DoneReason string `json:"done_reason"`
	}
	if err := json.Unmarshal(body, &chat); err != nil || len(chat.Message.ToolCalls) != 1 {
		t.Fatalf("%v: %s", err, body)
	}
	tc := chat.Message.ToolCalls[0]
	if !strings.HasPrefix(tc.ID, "call_") || len(tc.ID) != 13 || tc.Function.Name != "get_weather" || tc.Function.Index == nil || chat.DoneReason != "stop" || *chat.Message.Content != "" {
		t.Errorf("bad call: %s", body)
	}
	checkArgs(string(tc.Function.Arguments))

	// After the tool answered, the model says words.
	_, body = call(t, srv, "POST", "/api/chat", `{"model":"tiny-think","think":false,"stream":false,`+weatherTool+`,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},{"role":"tool","content":"sunny"}]}`)
	if bytes.Contains(body, []byte("tool_calls")) || !bytes.Contains(body, []byte(`"content":" `)) {
		t.Errorf("after the tool: %s", body)
	}

	// OpenAI, unstreamed and streamed.
	_, body = call(t, srv, "POST", "/v1/chat/completions", `{"model":"tiny-think",`+hi+`,`+weatherTool+`}`)
	var cc struct {
		Choices []struct {
			Message struct {
				ToolCalls []openaiToolCall `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
	}
	if err := json.Unmarshal(body, &cc); err != nil || len(cc.Choices) != 1 || len(cc.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("%v: %s", err, body)
	}
	otc := cc.Choices[0].Message.ToolCalls[0]
	if cc.Choices[0].FinishReason != "tool_calls" || otc.Type != "function" || !strings.HasPrefix(otc.ID, "call_") {
		t.Errorf("bad completion: %s", body)
	}
	checkArgs(otc.Function.Arguments)

	_, body = call(t, srv, "POST", "/v1/chat/completions", `{"model":"tiny-think",`+hi+`,"stream":true,`+weatherTool+`}`)
	evs := sseEvents(t, body)
	last := dataOf(t, evs[len(evs)-2])
	if fr := last["choices"].([]any)[0].(map[string]any)["finish_reason"]; fr != "tool_calls" {
		t.Errorf("streamed finish_reason %v", fr)
	}
	if !bytes.Contains(body, []byte(`"type":"function","function":{"name":"get_weather","arguments":"{\"city\":`)) {
		t.Errorf("no streamed call: %s", body)
	}

	// Responses: a function_call output item.
	tool := `"tools":[{"type":"function","name":"get_weather","description":null,"strict":null,"parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"type":"string","enum":["celsius"]}}}}]`
	_, body = call(t, srv, "POST", "/v1/responses", `{"model":"tiny-think","input":"hi","reasoning":{"effort":"none"},`+tool+`}`)
	var rr struct {
		Output []struct {
			Type, Name, Arguments string
			CallID                string `json:"call_id"`
		}
	}
	if err := json.Unmarshal(body, &rr); err != nil || len(rr.Output) != 1 || rr.Output[0].Type != "function_call" || !strings.HasPrefix(rr.Output[0].CallID, "call_") {
		t.Fatalf("%v: %s", err, body)
	}
	checkArgs(rr.Output[0].Arguments)
	_, body = call(t, srv, "POST", "/v1/responses", `{"model":"tiny-think","input":"hi","stream":true,`+tool+`}`)
	var names []string
	for _, ev := range sseEvents(t, body) {
		names = append(names, ev.name)
	}
	want := "response.created response.in_progress response.output_item.added" + strings.Repeat(" response.reasoning_summary_text.delta", thinkingTokens) +
		" response.reasoning_summary_text.done response.output_item.done response.output_item.added response.function_call_arguments.delta" +
		" response.function_call_arguments.done response.output_item.done response.completed"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
}

func TestDeterministic(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	content := func(body string) string {
		_, b := call(t, srv, "POST", "/api/chat", body)
		var r struct{ Message struct{ Content string } }
		json.Unmarshal(b, &r)
		return r.Message.Content
	}
	a := content(`{"model":"tiny",` + hi + `,"stream":false}`)
	if b := content(`{"model":"tiny",` + hi + `,"stream":false}`); a != b || words(a) != defaultTokens {
		t.Errorf("%q then %q", a, b)
	}
	if b := content(`{"model":"tiny",` + hi + `,"stream":false,"options":{"seed":1}}`); a == b {
		t.Errorf("seed does not change the words: %q", a)
	}
	for _, w := range strings.Fields(a) {
		found := false
		for _, v := range vocabulary {
			found = found || v == w
		}
		if !found {
			t.Errorf("word %q is not in the vocabulary", w)
		}
	}
}

func TestStopAndFormat(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	_, body := call(t, srv, "POST", "/api/generate", `{"model":"tiny","prompt":"hi","stream":false}`)
	var r struct {
		Response   string
		DoneReason string `json:"done_reason"`
		EvalCount  int    `json:"eval_count"`
	}
	json.Unmarshal(body, &r)
	stop := strings.Fields(r.Response)[3]
	_, body = call(t, srv, "POST", "/api/generate", `{"model":"tiny","prompt":"hi","stream":false,"options":{"stop":["`+stop+`"],"num_predict":12}}`)
	var s struct {
		Response   string
		DoneReason string `json:"done_reason"`
	}
	json.Unmarshal(body, &s)
	if strings.Contains(s.Response, stop) || !strings.HasPrefix(r.Response, s.Response) || s.DoneReason != "stop" {
		t.Errorf("stop %q: %q (%s), unstopped %q", stop, s.Response, s.DoneReason, r.Response)
	}

	_, body = call(t, srv, "POST", "/api/chat", `{"model":"tiny",`+hi+`,"stream":false,"format":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}}`)
	var c struct{ Message struct{ Content string } }
	json.Unmarshal(body, &c)
	keys, _ := objectKeys(json.RawMessage(c.Message.Content))
	if strings.Join(keys, ",") != "name,age" {
		t.Errorf("format: %s", body)
	}
}

func TestEmbeddings(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	_, body := call(t, srv, "POST", "/api/embed", `{"model":"tiny","input":"hello","dimensions":8}`)
	var e embedResponse
	json.Unmarshal(body, &e)
	if len(e.Embeddings) != 1 || len(e.Embeddings[0]) != 8 {
		t.Fatalf("%s", body)
	}
	var sum float64
	for _, x := range e.Embeddings[0] {
		sum += float64(x) * float64(x)
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Errorf("not normalized: %v", sum)
	}

	_, body = call(t, srv, "POST", "/v1/embeddings", `{"model":"tiny","input":["a","b"],"encoding_format":"base64"}`)
	var l struct {
		Data []struct {
			Embedding string
			Index     int
		}
	}
	json.Unmarshal(body, &l)
	if len(l.Data) != 2 || l.Data[1].Index != 1 {
		t.Fatalf("%s", body)
	}
	if b, err := base64.StdEncoding.DecodeString(l.Data[0].Embedding); err != nil || len(b) != 4*embedDim {
		t.Errorf("base64 embedding: %v, %d bytes", err, len(b))
	}

	_, body = call(t, srv, "POST", "/api/embeddings", `{"model":"tiny","prompt":"hello"}`)
	var legacy embeddingResponse
	json.Unmarshal(body, &legacy)
	if len(legacy.Embedding) != embedDim || !bytes.HasPrefix(body, []byte(`{"embedding":[`)) {
		t.Errorf("legacy: %s", body)
	}

	for _, tt := range []struct{ path, body, want string }{
		{"/api/embed", `{"model":"tiny","input":[1]}`, `{"error":"invalid input type"}`},
		{"/api/embed", `{"model":"nope","input":"x"}`, `{"error":"model \"nope\" not found, try pulling it first"}`},
		{"/api/embeddings", `{"model":"tiny"}`, `{"embedding":[]}`},
		{"/v1/embeddings", `{"model":"tiny","input":[]}`, `{"error":{"message":"invalid input","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/embeddings", `{"model":"tiny","input":"x","encoding_format":"hex"}`, `{"error":{"message":"Invalid value for 'encoding_format' = hex. Supported values: ['float', 'base64'].","type":"invalid_request_error","param":null,"code":null}}`},
	} {
		if _, got := call(t, srv, "POST", tt.path, tt.body); string(got) != tt.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tt.path, tt.body, got, tt.want)
		}
	}
}

func TestOnResponse(t *testing.T) {
	type record struct {
		path   string
		status int
		body   string
	}
	var mu sync.Mutex
	var recs []record
	srv := newTestServer(t, New(Options{OnResponse: func(path string, status int, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		recs = append(recs, record{path, status, string(body)})
	}}))
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/api/chat", `{"model":"tiny",` + hi + `}`},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + hi + `,"stream":true}`},
		{"POST", "/api/chat", `{"model":"tiny-error",` + hi + `}`},
		{"POST", "/v1/chat/completions", `{"model":"nope",` + hi + `}`},
		{"GET", "/api/chat", ``},
		{"POST", "/api/copy", `{"source":"tiny","destination":"copy"}`},
	} {
		resp, body := call(t, srv, tt.method, tt.path, tt.body)
		mu.Lock()
		got := recs[len(recs)-1]
		mu.Unlock()
		if got != (record{tt.path, resp.StatusCode, string(body)}) {
			t.Errorf("%s %s: recorded %d %q, sent %d %q", tt.method, tt.path, got.status, got.body, resp.StatusCode, body)
		}
	}
}

func TestRouting(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	for _, tt := range []struct {
		method, path  string
		status        int
		allow, body   string
		location      string
		contentLength int64
	}{
		{"GET", "/api/chat", 405, "POST", "405 method not allowed", "", 22},
		{"POST", "/api/tags", 405, "HEAD, GET", "405 method not allowed", "", 22},
		{"GET", "/api/delete", 405, "DELETE", "405 method not allowed", "", 22},
		{"POST", "/api/nope", 404, "", "404 page not found", "", 18},
		{"GET", "/v1/models/a/b", 404, "", "404 page not found", "", 18},
		{"POST", "/api/chat/", 307, "", "", "/api/chat", 0},
		{"GET", "/api/tags/", 301, "", "", "/api/tags", -1},
		{"GET", "/", 200, "", "Ollama is running", "", 17},
		{"HEAD", "/api/version", 200, "", "", "", 20},
	} {
		resp, body := call(t, srv, tt.method, tt.path, "")
		if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow || resp.Header.Get("Location") != tt.location ||
			(tt.body != "" && string(body) != tt.body) || (tt.contentLength >= 0 && resp.ContentLength != tt.contentLength) {
			t.Errorf("%s %s: %s Allow %q Location %q Content-Length %d %q", tt.method, tt.path, resp.Status,
				resp.Header.Get("Allow"), resp.Header.Get("Location"), resp.ContentLength, body)
		}
		if tt.status >= 404 && resp.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, resp.Header.Get("Content-Type"))
		}
	}
}

func TestModelManagement(t *testing.T) {
	s := New(Options{})
	srv := newTestServer(t, s)
	check := func(method, path, body string, status int, want string) {
		t.Helper()
		resp, got := call(t, srv, method, path, body)
		if resp.StatusCode != status || (want != "*" && string(got) != want) {
			t.Errorf("%s %s %s:\n got %d %s\nwant %d %s", method, path, body, resp.StatusCode, got, status, want)
		}
	}

	resp, body := call(t, srv, "POST", "/api/pull", `{"model":"tiny"}`)
	frames := ndjsonFrames(t, body)
	if resp.Header.Get("Content-Type") != "application/x-ndjson" || frames[0]["status"] != "pulling manifest" ||
		frames[1]["digest"] != "sha256:"+tinyBlob || frames[len(frames)-1]["status"] != "success" {
		t.Errorf("pull: %s", body)
	}
	check("POST", "/api/pull", `{"model":"tiny","stream":false}`, 200, `{"status":"success"}`)
	check("POST", "/api/pull", `{"model":"nope"}`, 200, `{"status":"pulling manifest"}`+"\n"+`{"error":"pull model manifest: file does not exist"}`+"\n")
	check("POST", "/api/pull", `{"model":"nope","stream":false}`, 500, `{"error":"pull model manifest: file does not exist"}`)
	check("POST", "/api/pull", `{"model":""}`, 400, `{"error":"invalid model name"}`)
	check("POST", "/api/push", `{}`, 400, `{"error":"model is required"}`)
	check("POST", "/api/push", `{"model":"tiny","stream":false}`, 200, `{"status":"success"}`)

	check("POST", "/api/copy", `{"source":"tiny","destination":"mine"}`, 200, "")
	check("POST", "/api/copy", `{"source":"nope","destination":"mine2"}`, 404, `{"error":"model \"nope\" not found"}`)
	check("POST", "/api/copy", `{"source":"","destination":"mine2"}`, 400, `{"error":"source \"\" is invalid"}`)
	check("POST", "/api/chat", `{"model":"mine:latest"}`, 200, "*")
	if got := s.Models(); len(got) != 6 || got[0] != "mine:latest" || got[1] != "tiny:latest" {
		t.Errorf("Models after copy: %v", got)
	}

	resp, body = call(t, srv, "POST", "/api/create", `{"model":"terse","from":"tiny-think","system":"Be terse.","stream":true}`)
	if frames := ndjsonFrames(t, body); frames[len(frames)-1]["status"] != "success" || !bytes.Contains(body, []byte("creating new layer")) {
		t.Errorf("create: %s %s", resp.Status, body)
	}
	_, body = call(t, srv, "POST", "/api/show", `{"model":"terse"}`)
	if !bytes.Contains(body, []byte(`"system":"Be terse."`)) || !bytes.Contains(body, []byte(`"capabilities":["completion","tools","thinking"]`)) {
		t.Errorf("show created model: %s", body)
	}
	check("POST", "/api/create", `{"model":"x"}`, 400, `{"error":"neither 'from' or 'files' was specified"}`)
	check("POST", "/api/create", `{"model":"x","from":"nope","stream":false}`, 500, `{"error":"pull model manifest: file does not exist"}`)

	check("DELETE", "/api/delete", `{"model":"mine"}`, 200, "")
	check("DELETE", "/api/delete", `{"model":"mine"}`, 404, `{"error":"model 'mine' not found"}`)
	check("DELETE", "/api/delete", `{"model":""}`, 400, `{"error":"name \"\" is invalid"}`)
	check("POST", "/api/chat", `{"model":"mine"}`, 404, `{"error":"model 'mine' not found"}`)
	check("POST", "/api/show", `{}`, 400, `{"error":"model is required"}`)
	check("GET", "/v1/models/tiny", "", 200, `{"id":"tiny","object":"model","created":1795412961,"owned_by":"library"}`+"\n")
}

func TestRequestChecks(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	for _, tt := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/api/chat", ``, 400, `{"error":"missing request body"}`},
		{"/api/chat", `{"model":"tiny",` + hi + `,"options":{"num_predict":"x"}}`, 500, `{"error":"option \"num_predict\" must be of type integer"}`},
		{"/api/chat", `{"model":"tiny",` + hi + `,"top_logprobs":21}`, 400, `{"error":"top_logprobs must be between 0 and 20"}`},
		{"/api/chat", `{"model":"tiny",` + hi + `,"keep_alive":true}`, 400, `{"error":"Unsupported type: 'bool'"}`},
		{"/api/chat", `{"model":"tiny",` + hi + `,"think":"x"}`, 400, `{"error":"invalid think value: \"x\" (must be \"high\", \"medium\", \"low\", true, or false)"}`},
		{"/api/chat", `{"model":"tiny","messages":[{"role":"user","content":5}]}`, 400, `{"error":"json: cannot unmarshal number into Go struct field ChatRequest.messages.content of type string"}`},
		{"/api/generate", `{"prompt":"hi"}`, 404, `{"error":"model '' not found"}`},
		{"/api/generate", `{"model":"tiny","prompt":"hi","suffix":"x"}`, 400, `{"error":"registry.ollama.ai/library/tiny:latest does not support insert"}`},
		{"/api/generate", `{"model":"tiny","prompt":"hi","think":true}`, 400, `{"error":"\"tiny\" does not support thinking"}`},
		{"/api/generate", `{"model":"tiny"}`, 200, "*load"},
		{"/api/generate", `{"model":"tiny","keep_alive":0}`, 200, "*unload"},
		{"/v1/chat/completions", `{"model":"tiny","messages":[]}`, 400, `{"error":{"message":"[] is too short - 'messages'","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":5}]}`, 400, `{"error":{"message":"invalid message content type: float64","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":5}]}`, 400, `{"error":{"message":"json: cannot unmarshal number into Go struct field Message.messages.role of type string","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/chat/completions", `{"model":"tiny",` + hi + `,"reasoning_effort":"huge"}`, 400, `{"error":{"message":"invalid reasoning value: 'huge' (must be \"high\", \"medium\", \"low\", or \"none\")","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/chat/completions", `{"model":"tiny",` + hi + `,"reasoning_effort":"high"}`, 400, `{"error":{"message":"\"tiny\" does not support thinking","type":"invalid_request_error","param":null,"code":null}}` + "\n"},
		{"/v1/completions", `{"model":"tiny","prompt":"hi","stop":[1]}`, 400, `{"error":{"message":"invalid type for 'stop' field: float64","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/responses", `{"model":"tiny","input":5}`, 400, `{"error":{"message":"input must be a string or array: json: cannot unmarshal number into Go value of type []json.RawMessage","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/responses", `{"model":"nope","input":"hi","stream":true}`, 404, `{"error":{"message":"model 'nope' not found","type":"not_found_error","param":null,"code":null}}` + "\n"},
	} {
		resp, got := call(t, srv, "POST", tt.path, tt.body)
		ok := resp.StatusCode == tt.status
		if strings.HasPrefix(tt.want, "*") {
			ok = ok && bytes.Contains(got, []byte(`"done_reason":"`+tt.want[1:]+`"`))
		} else {
			ok = ok && string(got) == tt.want
		}
		if !ok {
			t.Errorf("%s %s:\n got %d %s\nwant %d %s", tt.path, tt.body, resp.StatusCode, got, tt.status, tt.want)
		}
	}
}

func TestDecodeErrorNames(t *testing.T) {
	srv := newTestServer(t, New(Options{}))
	for _, tt := range []struct{ path, body, want string }{
		{"/api/chat", `{"model":"tiny","messages":[5]}`, `{"error":"json: cannot unmarshal number into Go struct field ChatRequest.messages of type api.Alias"}`},
		{"/api/chat", `{"model":"tiny","tools":5}`, `{"error":"json: cannot unmarshal number into Go struct field ChatRequest.tools of type api.Tools"}`},
		{"/api/chat", `{"model":"tiny","think":5}`, `{"error":"think must be a boolean or string (\"high\", \"medium\", \"low\", true, or false)"}`},
		{"/api/generate", `{"model":"tiny","images":["%%%"]}`, `{"error":"illegal base64 data at input byte 0"}`},
		{"/api/embed", `"x"`, `{"error":"json: cannot unmarshal string into Go value of type api.EmbedRequest"}`},
		{"/api/pull", `{"stream":"yes"}`, `{"error":"json: cannot unmarshal string into Go struct field PullRequest.stream of type bool"}`},
		{"/v1/embeddings", `{"model":5}`, `{"error":{"message":"json: cannot unmarshal number into Go struct field EmbedRequest.model of type string","type":"invalid_request_error","param":null,"code":null}}`},
	} {
		if _, got := call(t, srv, "POST", tt.path, tt.body); string(got) != tt.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tt.path, tt.body, got, tt.want)
		}
	}
}

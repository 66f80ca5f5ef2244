package dialect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// errorCase is one line of errors.txt: a request and the real server's
// status and body.
type errorCase struct {
	method, path, body string
	status             int
	reply              string
}

func readErrorCases(t *testing.T) []errorCase {
	t.Helper()
	var cases []errorCase
	for _, line := range strings.Split(string(readCapture(t, "errors.txt")), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		req, reply, ok := strings.Cut(line, " -> ")
		if !ok {
			t.Fatalf("errors.txt line %q: no ->", line)
		}
		i := strings.LastIndex(reply, " [")
		status, err := strconv.Atoi(strings.TrimSuffix(reply[i+2:], "]"))
		if i < 0 || err != nil {
			t.Fatalf("errors.txt line %q: no [status]", line)
		}
		f := strings.SplitN(req, " ", 3)
		c := errorCase{method: f[0], path: f[1], status: status, reply: reply[:i]}
		if len(f) == 3 {
			c.body = f[2]
		}
		cases = append(cases, c)
	}
	return cases
}

// TestParseRequestErrorsTxt replays every request of errors.txt: requests
// the real server refused with 400 must be refused with the same message
// (and ErrorBody must rebuild the server's body byte for byte); requests it
// accepted, or refused only because the model does not exist, must parse.
func TestParseRequestErrorsTxt(t *testing.T) {
	var refused int
	for _, c := range readErrorCases(t) {
		ep, ok := Lookup(c.path)
		if !ok || c.method != "POST" || !strings.HasPrefix(c.body, "{") && !strings.HasPrefix(c.body, "[") {
			continue // wrong method, unknown path, or a note rather than a body
		}
		t.Run(c.path+" "+c.body, func(t *testing.T) {
			r, err := ParseRequest(ep, []byte(c.body))
			if c.status != 400 {
				if err != nil {
					t.Fatalf("ParseRequest(%q) = %v, want success (upstream answered %d)", c.body, err, c.status)
				}
				if r.Model == "" {
					t.Errorf("ParseRequest(%q).Model is empty", c.body)
				}
				return
			}
			refused++
			want, _ := ParseResponse(ep, c.status, []byte(c.reply))
			if err == nil {
				t.Fatalf("ParseRequest(%q) = %+v, want error %q", c.body, r, want.Error)
			}
			if err.Error() != want.Error {
				t.Errorf("ParseRequest(%q) = %q, want %q", c.body, err, want.Error)
			}
			if got := string(ErrorBody(ep.API, 400, err.Error())); got != c.reply {
				t.Errorf("ErrorBody(%s, 400, %q) = %s, want %s", ep.API, err, got, c.reply)
			}
		})
	}
	if refused < 8 {
		t.Errorf("replayed %d refused requests of errors.txt, want at least 8", refused)
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		path, body, want string
	}{
		{"/api/chat", "", "missing request body"},
		{"/api/chat", " \n", "missing request body"},
		{"/v1/chat/completions", "", "EOF"},
		{"/api/chat", "{", "unexpected EOF"},
		{"/api/chat", `{"model":`, "unexpected EOF"},
		{"/api/chat", "null", "model is required"},
		{"/api/chat", `{"model":null}`, "model is required"},
		{"/api/chat", `{"model":""}`, "model is required"},
		{"/api/generate", `{"prompt":"hi"}`, "model is required"},
		{"/api/embed", `{"input":"hi"}`, "model is required"},
		{"/v1/responses", `{"input":"hi"}`, "model is required"},
		{"/api/chat", `"x"`, "json: cannot unmarshal string into Go value of type api.ChatRequest"},
		{"/api/generate", `5`, "json: cannot unmarshal number into Go value of type api.GenerateRequest"},
		{"/v1/completions", `true`, "json: cannot unmarshal bool into Go value of type openai.CompletionRequest"},
		{"/v1/embeddings", `[]`, "json: cannot unmarshal array into Go value of type openai.EmbedRequest"},
		{"/api/chat", `{"model":5}`, "json: cannot unmarshal number into Go struct field ChatRequest.model of type string"},
		{"/api/chat", `{"model":"m","stream":"yes"}`, "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool"},
		{"/api/chat", `{"model":"m","messages":["x"]}`, "json: cannot unmarshal string into Go struct field ChatRequest.messages of type api.Message"},
		{"/api/chat", `{"model":"m","messages":[{"role":5}]}`, "json: cannot unmarshal number into Go struct field Message.messages.role of type string"},
		{"/api/chat", `{"model":"m","messages":[{"role":"user","content":{}}]}`, "json: cannot unmarshal object into Go struct field Message.messages.content of type string"},
		{"/api/chat", `{"model":"m","messages":[{"role":"user","images":"x"}]}`, "json: cannot unmarshal string into Go struct field Message.messages.images of type []api.ImageData"},
		{"/api/chat", `{"model":"m","messages":[{"role":"user","images":[1]}]}`, "json: cannot unmarshal number into Go struct field Message.messages.images of type api.ImageData"},
		{"/api/chat", `{"model":"m","options":[]}`, "json: cannot unmarshal array into Go struct field ChatRequest.options of type map[string]interface {}"},
		{"/api/generate", `{"model":"m","system":1}`, "json: cannot unmarshal number into Go struct field GenerateRequest.system of type string"},
		{"/api/generate", `{"model":"m","images":"x"}`, "json: cannot unmarshal string into Go struct field GenerateRequest.images of type []api.ImageData"},
		{"/api/embeddings", `{"model":"m","prompt":[1]}`, "json: cannot unmarshal array into Go struct field EmbeddingRequest.prompt of type string"},
		{"/api/embed", `{"model":"m","input":{}}`, "invalid input type"},
		{"/api/embed", `{"model":"m","input":[{}]}`, "invalid input type"},
		{"/v1/embeddings", `{"model":"m","input":5}`, "invalid input type"},
		{"/v1/chat/completions", `{"model":"m"}`, "[] is too short - 'messages'"},
		{"/v1/chat/completions", `{"model":"m","messages":[]}`, "[] is too short - 'messages'"},
		{"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":5}`, "json: cannot unmarshal number into Go struct field ChatCompletionRequest.stream_options of type openai.StreamOptions"},
		{"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}}`, "json: cannot unmarshal number into Go struct field StreamOptions.stream_options.include_usage of type bool"},
		{"/v1/completions", `{"model":"m","prompt":{}}`, "json: cannot unmarshal object into Go struct field CompletionRequest.prompt of type string"},
		{"/v1/completions", `{"model":"m","prompt":[{}]}`, "json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string"},
		// The first type error in document order wins, before "model is required".
		{"/api/chat", `{"stream":1,"messages":"x"}`, "json: cannot unmarshal number into Go struct field ChatRequest.stream of type bool"},
	}
	for _, tt := range tests {
		r, err := ParseRequest(mustLookup(t, tt.path), []byte(tt.body))
		if err == nil {
			t.Errorf("ParseRequest(%s, %q) = %+v, want error %q", tt.path, tt.body, r, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseRequest(%s, %q) = %q, want %q", tt.path, tt.body, err, tt.want)
		}
	}
	if _, err := ParseRequest(mustLookup(t, "/api/chat"), []byte(`{}`)); !errors.Is(err, ErrModelRequired) {
		t.Errorf("ParseRequest(%q) = %v, want ErrModelRequired", "{}", err)
	}
}

func TestParseRequestStream(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		path, body   string
		stream, used bool
	}{
		{"/api/chat", `{"model":"m"}`, true, false},
		{"/api/chat", `{"model":"m","stream":null}`, true, false},
		{"/api/chat", `{"model":"m","stream":false}`, false, false},
		{"/api/chat", `{"model":"m","Stream":false}`, false, false},
		{"/api/generate", `{"model":"m","prompt":"p"}`, true, false},
		{"/api/generate", `{"model":"m","stream":false}`, false, false},
		{"/api/embed", `{"model":"m","input":"x","stream":true}`, false, false},
		{"/api/embed", `{"model":"m","stream":"not even a bool"}`, false, false},
		{"/api/embeddings", `{"model":"m","prompt":"x","stream":true}`, false, false},
		{"/v1/chat/completions", `{"model":"m",` + msgs + `}`, false, false},
		{"/v1/chat/completions", `{"model":"m",` + msgs + `,"stream":true}`, true, false},
		{"/v1/chat/completions", `{"model":"m",` + msgs + `,"stream":true,"stream_options":{"include_usage":true}}`, true, true},
		{"/v1/chat/completions", `{"model":"m",` + msgs + `,"stream":true,"stream_options":{"include_usage":false}}`, true, false},
		{"/v1/completions", `{"model":"m","prompt":"p","stream":true,"stream_options":{"include_usage":true}}`, true, true},
		{"/v1/embeddings", `{"model":"m","input":"x","stream":true}`, false, false},
		{"/v1/responses", `{"model":"m","input":"x"}`, false, false},
		{"/v1/responses", `{"model":"m","input":"x","stream":true}`, true, false},
	}
	for _, tt := range tests {
		r, err := ParseRequest(mustLookup(t, tt.path), []byte(tt.body))
		if err != nil {
			t.Errorf("ParseRequest(%s, %q) error: %v", tt.path, tt.body, err)
			continue
		}
		if r.Stream != tt.stream || r.IncludeUsage != tt.used {
			t.Errorf("ParseRequest(%s, %q) Stream, IncludeUsage = %v, %v, want %v, %v", tt.path, tt.body, r.Stream, r.IncludeUsage, tt.stream, tt.used)
		}
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestParseRequest(t *testing.T) {
	// "aGVsbG8=" is base64 for "hello", "d29ybGQ=" for "world".
	hello, world := sum("hello"), sum("world")
	tests := []struct {
		name string
		path string
		body string
		want Request
	}{
		{
			name: "ollama chat",
			path: "/api/chat",
			body: `{"model":"tiny","messages":[
				{"role":"system","content":"Be brief."},
				{"role":"user","content":"Look","images":["aGVsbG8=","d29ybGQ="]},
				{"role":"assistant","content":"","thinking":"hm","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},
				{"role":"tool","content":"42","tool_name":"f","tool_call_id":"c1"}],
				"options":{"seed":7,"num_predict":40,"temperature":0.5},
				"format":"json","keep_alive":"5m","think":false,"seed":8,
				"tools":[ {"type":"function","function":{"name":"f"}} ],
				"context":[1,2,3]}`,
			want: Request{
				Model: "tiny", Stream: true,
				Messages: []Message{
					{Role: "system", Content: "Be brief."},
					{Role: "user", Content: "Look", Images: []string{hello, world}},
					{Role: "assistant", Thinking: "hm", ToolCalls: json.RawMessage(`[{"function":{"name":"f","arguments":{"a":1}}}]`)},
					{Role: "tool", Content: "42", Name: "f", ToolCallID: "c1"},
				},
				Images: []string{hello, world},
				Params: json.RawMessage(`{"format":"json","keep_alive":"5m","num_predict":40,"seed":8,"temperature":0.5,"think":false}`),
				Tools:  json.RawMessage(`[ {"type":"function","function":{"name":"f"}} ]`),
			},
		},
		{
			name: "ollama chat without messages (a model load)",
			path: "/api/chat",
			body: `{"model":"tiny"}`,
			want: Request{Model: "tiny", Stream: true, Params: json.RawMessage(`{}`)},
		},
		{
			name: "ollama generate",
			path: "/api/generate",
			body: `{"model":"tiny","prompt":"Why?","suffix":"end","system":"sys","template":"{{ .Prompt }}","raw":true,
				"images":["aGVsbG8=","not base64!"],"stream":false,"options":{"stop":["\n", "x"]}}`,
			want: Request{
				Model: "tiny", Prompt: "Why?", Suffix: "end", System: "sys",
				Images: []string{hello, sum("not base64!")},
				Params: json.RawMessage(`{"raw":true,"stop":["\n","x"],"template":"{{ .Prompt }}"}`),
			},
		},
		{
			name: "ollama embed, array input, options",
			path: "/api/embed",
			body: `{"model":"tiny","input":["a","b"],"truncate":true,"dimensions":8,"keep_alive":0}`,
			want: Request{Model: "tiny", Input: []string{"a", "b"}, Params: json.RawMessage(`{"dimensions":8,"keep_alive":0,"truncate":true}`)},
		},
		{
			name: "ollama embed, no input",
			path: "/api/embed",
			body: `{"model":"tiny"}`,
			want: Request{Model: "tiny", Params: json.RawMessage(`{}`)},
		},
		{
			name: "ollama legacy embeddings",
			path: "/api/embeddings",
			body: `{"model":"tiny","prompt":"hello"}`,
			want: Request{Model: "tiny", Input: []string{"hello"}, Params: json.RawMessage(`{}`)},
		},
		{
			name: "openai chat with content parts",
			path: "/v1/chat/completions",
			body: `{"model":"gpt","messages":[
				{"role":"developer","content":"Rules."},
				{"role":"user","name":"ann","content":[
					{"type":"text","text":"What is"},
					{"type":"image_url","image_url":{"url":"data:image/png;base64,aGVsbG8=","detail":"low"}},
					{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},
					{"type":"text","text":"this?"}]},
				{"role":"assistant","content":null,"reasoning_content":"r","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},
				{"role":"tool","tool_call_id":"c","content":"ok"}],
				"temperature":0.2,"max_tokens":50,"response_format":{ "type": "json_object" },
				"stream":true,"stream_options":{"include_usage":true},"tools":[],"user":"u1","n":1}`,
			want: Request{
				Model: "gpt", Stream: true, IncludeUsage: true,
				Messages: []Message{
					{Role: "developer", Content: "Rules."},
					{Role: "user", Name: "ann", Content: "What is\nthis?", Images: []string{hello, "https://example.com/a.png"}},
					{Role: "assistant", Thinking: "r", ToolCalls: json.RawMessage(`[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]`)},
					{Role: "tool", ToolCallID: "c", Content: "ok"},
				},
				Images: []string{hello, "https://example.com/a.png"},
				Params: json.RawMessage(`{"max_tokens":50,"n":1,"response_format":{"type":"json_object"},"temperature":0.2,"user":"u1"}`),
				Tools:  json.RawMessage(`[]`),
			},
		},
		{
			name: "openai chat, reasoning field, image_url as string, non-base64 data URL",
			path: "/v1/chat/completions",
			body: `{"model":"m","messages":[{"role":"assistant","content":"","reasoning":"because"},
				{"role":"user","content":[{"type":"image_url","image_url":"data:text/plain,hello%20world"}]}]}`,
			want: Request{
				Model: "m",
				Messages: []Message{
					{Role: "assistant", Thinking: "because"},
					{Role: "user", Images: []string{sum("hello world")}},
				},
				Images: []string{sum("hello world")},
				Params: json.RawMessage(`{}`),
			},
		},
		{
			name: "openai completions, prompt array",
			path: "/v1/completions",
			body: `{"model":"m","prompt":["one","two"],"suffix":"s","max_tokens":5,"echo":false}`,
			want: Request{Model: "m", Prompt: "one\ntwo", Suffix: "s", Params: json.RawMessage(`{"echo":false,"max_tokens":5}`)},
		},
		{
			name: "openai completions, token ids",
			path: "/v1/completions",
			body: `{"model":"m","prompt":[1,2,3]}`,
			want: Request{Model: "m", Prompt: "[3 tokens]", Params: json.RawMessage(`{}`)},
		},
		{
			name: "openai embeddings, token arrays",
			path: "/v1/embeddings",
			body: `{"model":"m","input":[[1,2],[3]],"encoding_format":"float","dimensions":4}`,
			want: Request{Model: "m", Input: []string{"[2 tokens]", "[1 tokens]"}, Params: json.RawMessage(`{"dimensions":4,"encoding_format":"float"}`)},
		},
		{
			name: "openai embeddings, string",
			path: "/v1/embeddings",
			body: `{"model":"m","input":"x"}`,
			want: Request{Model: "m", Input: []string{"x"}, Params: json.RawMessage(`{}`)},
		},
		{
			name: "responses, string input",
			path: "/v1/responses",
			body: `{"model":"m","instructions":"Be nice.","input":"Hi","max_output_tokens":9,"reasoning":{"effort":"low"},"stream":true}`,
			want: Request{
				Model: "m", Stream: true, System: "Be nice.",
				Messages: []Message{{Role: "user", Content: "Hi"}},
				Params:   json.RawMessage(`{"max_output_tokens":9,"reasoning":{"effort":"low"}}`),
			},
		},
		{
			name: "responses, item input",
			path: "/v1/responses",
			body: `{"model":"m","input":[
				{"role":"user","content":[{"type":"input_text","text":"See"},{"type":"input_image","image_url":"data:image/png;base64,d29ybGQ="},{"type":"input_image","file_id":"file-1"}]},
				{"type":"reasoning","id":"rs","summary":[{"type":"summary_text","text":"thought"}]},
				{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
				{"type":"function_call_output","call_id":"c1","output":"42"},
				{"type":"item_reference","id":"x"},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Done."}]}],
				"tools":[{"type":"function","name":"f"}]}`,
			want: Request{
				Model: "m",
				Messages: []Message{
					{Role: "user", Content: "See", Images: []string{world, "file-1"}},
					{Role: "assistant", Thinking: "thought"},
					{Role: "assistant", ToolCalls: json.RawMessage(`[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}]`)},
					{Role: "tool", ToolCallID: "c1", Content: "42"},
					{Role: "assistant", Content: "Done."},
				},
				Images: []string{world, "file-1"},
				Params: json.RawMessage(`{}`),
				Tools:  json.RawMessage(`[{"type":"function","name":"f"}]`),
			},
		},
		{
			name: "case-insensitive keys and trailing data, as Go upstreams",
			path: "/api/generate",
			body: `{"Model":"m","PROMPT":"p","Options":{"Seed":1}} trailing`,
			want: Request{Model: "m", Prompt: "p", Stream: true, Params: json.RawMessage(`{"Seed":1}`)},
		},
		{
			name: "escapes and unicode",
			path: "/api/generate",
			body: `{"model":"m","prompt":"caf\u00e9 \ud83d\ude00 \"q\"\n","options":{"stop":["\u003c/s\u003e"]}}`,
			want: Request{Model: "m", Prompt: "café 😀 \"q\"\n", Stream: true, Params: json.RawMessage(`{"stop":["\u003c/s\u003e"]}`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest(mustLookup(t, tt.path), []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseRequest(%q) error: %v", tt.body, err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("ParseRequest(%q) =\n%+v\nwant\n%+v\nParams %s", tt.body, *got, tt.want, got.Params)
			}
			if !json.Valid(got.Params) {
				t.Errorf("Params %s is not valid JSON", got.Params)
			}
		})
	}
}

func TestParseRequestCopies(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"x","tool_calls":[1]}],"tools":[2],"temperature":1}`)
	r, err := ParseRequest(mustLookup(t, "/v1/chat/completions"), body)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Messages = append([]Message(nil), r.Messages...)
	clear(body)
	if !bytes.Equal(r.Tools, []byte("[2]")) || !bytes.Equal(r.Messages[0].ToolCalls, []byte("[1]")) || string(r.Params) != `{"temperature":1}` {
		t.Errorf("Request aliases the body: %+v", r)
	}
}

package dialect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCapturesIdentical checks that the copies in testdata are still
// byte-identical to the shared captures, when those are present.
func TestCapturesIdentical(t *testing.T) {
	entries, err := os.ReadDir(captures)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sharedCaptures); err != nil {
		t.Skipf("shared captures not present: %v", err)
	}
	for _, e := range entries {
		ours, err := os.ReadFile(filepath.Join(captures, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join(sharedCaptures, e.Name()))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("testdata copy of %s differs from %s", e.Name(), sharedCaptures)
		}
	}
}

func TestParseResponseCaptures(t *testing.T) {
	tests := []struct {
		file   string
		path   string
		status int
		want   Result
	}{
		{"chat_nostream.json", "/api/chat", 200, Result{
			Text:     " happy same city loud when blue sleeps should tells grows happy woman when now dog do happy friend cloud cloud swims big sky tells flies quiet same love flies such grows happy same cat test writes blue do light have",
			TokensIn: 31, TokensOut: 40, DoneReason: "length", Done: true,
		}},
		{"generate_nostream.json", "/api/generate", 200, Result{
			Text:     " happy cat do light tells grows happy same love no friend when blue sleeps can water how new loud do dog should tells loud just loud do who grows happy",
			TokensIn: 28, TokensOut: 30, DoneReason: "length", Done: true,
		}},
		{"oai_nostream.json", "/v1/chat/completions", 200, Result{
			Text:     " happy woman fear tells grows happy friend gold woman more flies goes just loud do light tells there do light when now when happy",
			TokensIn: 24, TokensOut: 25, DoneReason: "stop", Done: true, ResponseID: "chatcmpl-821",
		}},
		{"embed.json", "/api/embed", 200, Result{TokensIn: 12, TokensOut: -1, Embeddings: 2, Done: true}},
		{"v1_embeddings.json", "/v1/embeddings", 200, Result{TokensIn: 6, TokensOut: -1, Embeddings: 1, Done: true}},
		{"err_chat_404.json", "/api/chat", 404, Result{TokensIn: -1, TokensOut: -1, Error: "model 'nope' not found"}},
		{"err_oai_404.json", "/v1/chat/completions", 404, Result{TokensIn: -1, TokensOut: -1, Error: "model 'nope' not found"}},
		{"err_think.json", "/api/chat", 400, Result{TokensIn: -1, TokensOut: -1, Error: `"tiny" does not support thinking`}},
		{"err_tools.json", "/api/chat", 400, Result{TokensIn: -1, TokensOut: -1, Error: "registry.ollama.ai/library/tiny:latest does not support tools"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseResponse(mustLookup(t, tt.path), tt.status, readCapture(t, tt.file))
			if err != nil {
				t.Fatalf("ParseResponse(%s) error: %v", tt.file, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseResponse(%s) = %+v, want %+v", tt.file, got, tt.want)
			}
		})
	}
}

// TestParseResponseMatchesStream checks the non-streamed parse of a capture
// against what its streamed twin says (same model, seed and prompt).
func TestParseResponseMatchesStream(t *testing.T) {
	for _, pair := range [][3]string{
		{"/api/generate", "generate_nostream.json", "generate_stream.ndjson"},
		{"/v1/chat/completions", "oai_nostream.json", "oai_stream.sse"},
	} {
		ep := mustLookup(t, pair[0])
		whole, err := ParseResponse(ep, 200, readCapture(t, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		streamed := feed(t, ep, readCapture(t, pair[2]), nil).result
		whole.ResponseID, streamed.ResponseID = "", ""
		if !reflect.DeepEqual(whole, streamed) {
			t.Errorf("%s: ParseResponse = %+v, stream gives %+v", pair[1], whole, streamed)
		}
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		status int
		body   string
		want   Result
	}{
		{
			name: "ollama load", path: "/api/chat", status: 200,
			body: `{"model":"tiny","created_at":"2026-11-23T06:38:54.65486364Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}`,
			want: Result{TokensIn: -1, TokensOut: -1, DoneReason: "load", Done: true},
		},
		{
			name: "ollama chat with thinking and tool calls", path: "/api/chat", status: 200,
			body: `{"model":"q","message":{"role":"assistant","content":"","thinking":"t","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":4}`,
			want: Result{Thinking: "t", ToolCalls: json.RawMessage(`[{"function":{"name":"f","arguments":{}}}]`), TokensIn: 3, TokensOut: 4, DoneReason: "stop", Done: true},
		},
		{
			name: "ollama embed, empty", path: "/api/embed", status: 200,
			body: `{"model":"tiny","embeddings":[]}`,
			want: Result{TokensIn: -1, TokensOut: -1, Done: true},
		},
		{
			name: "ollama legacy embeddings", path: "/api/embeddings", status: 200,
			body: `{"embedding":[0.1,0.2]}`,
			want: Result{TokensIn: -1, TokensOut: -1, Embeddings: 1, Done: true},
		},
		{
			name: "openai embeddings, base64", path: "/v1/embeddings", status: 200,
			body: `{"object":"list","data":[{"object":"embedding","embedding":"AAAA","index":0},{"object":"embedding","embedding":"AAAA","index":1}],"model":"m","usage":{"prompt_tokens":4,"total_tokens":4}}`,
			want: Result{TokensIn: 4, TokensOut: -1, Embeddings: 2, Done: true},
		},
		{
			name: "openai chat with reasoning_content and tool calls", path: "/v1/chat/completions", status: 200,
			body: `{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"why","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},{"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}`,
			want: Result{
				Thinking:  "why",
				ToolCalls: json.RawMessage(`[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},{"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]`),
				TokensIn:  5, TokensOut: 6, DoneReason: "tool_calls", Done: true, ResponseID: "chatcmpl-1",
			},
		},
		{
			name: "openai chat, refusal", path: "/v1/chat/completions", status: 200,
			body: `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't."},"finish_reason":"stop"}]}`,
			want: Result{Text: "I can't.", TokensIn: -1, TokensOut: -1, DoneReason: "stop", Done: true},
		},
		{
			name: "openai completion", path: "/v1/completions", status: 200,
			body: `{"id":"cmpl-9","object":"text_completion","choices":[{"text":"Hello","index":0,"finish_reason":"length","logprobs":null}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}`,
			want: Result{Text: "Hello", TokensIn: 2, TokensOut: 1, DoneReason: "length", Done: true, ResponseID: "cmpl-9"},
		},
		{
			name: "responses", path: "/v1/responses", status: 200,
			body: `{"id":"resp_1","object":"response","status":"completed","output":[
				{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan."}]},
				{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi ","annotations":[]},{"type":"output_text","text":"there"}]},
				{"id":"fc_1","type":"function_call","call_id":"call_1","name":"f","arguments":"{}","status":"completed"}],
				"usage":{"input_tokens":10,"output_tokens":7,"total_tokens":17},"incomplete_details":null,"error":null}`,
			want: Result{
				Text: "Hi there", Thinking: "Plan.",
				ToolCalls: json.RawMessage(`[{"id":"fc_1","type":"function_call","call_id":"call_1","name":"f","arguments":"{}","status":"completed"}]`),
				TokensIn:  10, TokensOut: 7, DoneReason: "completed", Done: true, ResponseID: "resp_1",
			},
		},
		{
			name: "responses incomplete", path: "/v1/responses", status: 200,
			body: `{"id":"resp_2","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}`,
			want: Result{TokensIn: -1, TokensOut: -1, DoneReason: "max_output_tokens", Done: true, ResponseID: "resp_2"},
		},
		{
			name: "responses queued (background)", path: "/v1/responses", status: 200,
			body: `{"id":"resp_3","status":"queued","output":[]}`,
			want: Result{TokensIn: -1, TokensOut: -1, DoneReason: "queued", ResponseID: "resp_3"},
		},
		{
			name: "2xx body carrying an error", path: "/v1/chat/completions", status: 200,
			body: `{"error":{"message":"overloaded","type":"api_error"}}`,
			want: Result{TokensIn: -1, TokensOut: -1, Error: "overloaded"},
		},
		{
			name: "vllm error body", path: "/v1/chat/completions", status: 400,
			body: `{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}`,
			want: Result{TokensIn: -1, TokensOut: -1, Error: "This model's maximum context length is 4096 tokens."},
		},
		{
			name: "fastapi detail", path: "/v1/chat/completions", status: 404,
			body: `{"detail":"Not Found"}`,
			want: Result{TokensIn: -1, TokensOut: -1, Error: "Not Found"},
		},
		{
			name: "plain text error", path: "/api/chat", status: 405,
			body: "405 method not allowed\n",
			want: Result{TokensIn: -1, TokensOut: -1, Error: "405 method not allowed"},
		},
		{
			name: "json without a message", path: "/api/chat", status: 500,
			body: ` {"oops":1} `,
			want: Result{TokensIn: -1, TokensOut: -1, Error: `{"oops":1}`},
		},
		{
			name: "empty error body", path: "/api/chat", status: 502,
			body: "",
			want: Result{TokensIn: -1, TokensOut: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseResponse(mustLookup(t, tt.path), tt.status, []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseResponse(%d, %q) error: %v", tt.status, tt.body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseResponse(%d, %q) =\n%+v\nwant\n%+v", tt.status, tt.body, got, tt.want)
			}
		})
	}
}

func TestParseResponseErrorClipped(t *testing.T) {
	body := strings.Repeat("é", 1000) // 2000 bytes
	got, err := ParseResponse(mustLookup(t, "/api/chat"), 500, []byte("<html>"+body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Error) > maxErrorText || !strings.HasPrefix(got.Error, "<html>éé") || strings.ContainsRune(got.Error, '\uFFFD') {
		t.Errorf("ParseResponse(500, long html) Error = %q (%d bytes), want at most %d bytes of valid text", got.Error, len(got.Error), maxErrorText)
	}
}

func TestParseResponseInvalid(t *testing.T) {
	tests := []struct {
		path string
		body string
	}{
		{"/api/chat", ""},
		{"/api/chat", "not json"},
		{"/api/chat", "[1]"},
		{"/api/chat", `{"done":true`},
		{"/api/chat", "{\"done\":false}\nnot json\n"},
		{"/api/embed", `"x"`},
		{"/v1/embeddings", ""},
		{"/v1/chat/completions", "{"},
		{"/v1/chat/completions", "null"},
		{"/v1/chat/completions", ": only a comment\n\n"},
		{"/v1/responses", "[]"},
	}
	for _, tt := range tests {
		if got, err := ParseResponse(mustLookup(t, tt.path), 200, []byte(tt.body)); err == nil {
			t.Errorf("ParseResponse(%s, 200, %q) = %+v, want error", tt.path, tt.body, got)
		}
	}
}

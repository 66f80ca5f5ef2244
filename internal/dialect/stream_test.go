package dialect

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// ollamaExpect derives, with encoding/json, what a Stream should report for
// an NDJSON capture: the concatenated text and the index of the first
// done:true line.
func ollamaExpect(t *testing.T, data []byte) (text string, final int, in, out int64, reason string) {
	t.Helper()
	final = -1
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var f struct {
			Message  struct{ Content string }
			Response string
			Done     bool
			Reason   string `json:"done_reason"`
			In       int64  `json:"prompt_eval_count"`
			Out      int64  `json:"eval_count"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("capture line %d: %v", i, err)
		}
		text += f.Message.Content + f.Response
		if f.Done && final < 0 {
			final, in, out, reason = i, f.In, f.Out, f.Reason
		}
	}
	return text, final, in, out, reason
}

// openAIExpect derives, with encoding/json, what a Stream should report for
// an SSE chat capture: the concatenated text of choice 0, the index of the
// first final event (finish_reason, usage-only chunk or [DONE]), and usage.
func openAIExpect(t *testing.T, data []byte) (text string, final int, in, out int64, reason string) {
	t.Helper()
	final, in, out = -1, -1, -1
	events := strings.SplitAfter(string(data), "\n\n")
	for i, ev := range events {
		if ev == "" {
			continue
		}
		payload, ok := strings.CutPrefix(strings.TrimSpace(ev), "data: ")
		if !ok {
			t.Fatalf("event %d %q: no data", i, ev)
		}
		isFinal := payload == "[DONE]"
		if !isFinal {
			var c struct {
				Choices []struct {
					Index        int
					Delta        struct{ Content string }
					FinishReason *string `json:"finish_reason"`
				}
				Usage *struct {
					In  int64 `json:"prompt_tokens"`
					Out int64 `json:"completion_tokens"`
				}
			}
			if err := json.Unmarshal([]byte(payload), &c); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			for _, ch := range c.Choices {
				if ch.Index == 0 {
					text += ch.Delta.Content
				}
				if ch.FinishReason != nil {
					isFinal = true
					reason = *ch.FinishReason
				}
			}
			if c.Usage != nil {
				in, out = c.Usage.In, c.Usage.Out
				isFinal = isFinal || len(c.Choices) == 0
			}
		}
		if isFinal && final < 0 {
			final = i
		}
	}
	return text, final, in, out, reason
}

func TestStreamCaptures(t *testing.T) {
	tests := []struct {
		file      string
		path      string
		wantFinal int // the frame Observe must call final, checked against the derived one
		wantID    string
	}{
		{"chat_stream.ndjson", "/api/chat", 40, ""},
		{"generate_stream.ndjson", "/api/generate", 30, ""},
		{"oai_stream.sse", "/v1/chat/completions", 24, "chatcmpl-761"},
		{"oai_stream_nousage.sse", "/v1/chat/completions", 8, "chatcmpl-365"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readCapture(t, tt.file)
			ep := mustLookup(t, tt.path)
			var text, reason string
			var final int
			var in, out int64
			if ep.API == Ollama {
				text, final, in, out, reason = ollamaExpect(t, data)
			} else {
				text, final, in, out, reason = openAIExpect(t, data)
			}
			if final != tt.wantFinal {
				t.Fatalf("derived final frame %d, test expects %d", final, tt.wantFinal)
			}
			run := checkSplits(t, ep, data)
			r := run.result
			if r.Text != text {
				t.Errorf("Text = %q, want %q", r.Text, text)
			}
			if got := run.finalAt(); got != final {
				t.Errorf("final frame = %d (%q), want %d", got, run.frames[max(got, 0)], final)
			}
			if n := strings.Count(strings.Join(boolStrings(run.finals), ""), "T"); n != 1 {
				t.Errorf("%d frames reported final, want exactly 1", n)
			}
			if r.TokensIn != in || r.TokensOut != out {
				t.Errorf("tokens = %d/%d, want %d/%d", r.TokensIn, r.TokensOut, in, out)
			}
			if r.DoneReason != reason {
				t.Errorf("DoneReason = %q, want %q", r.DoneReason, reason)
			}
			if !r.Done || r.Error != "" || r.Thinking != "" || r.ToolCalls != nil {
				t.Errorf("Result = %+v, want Done, no error, thinking or tool calls", r)
			}
			if r.ResponseID != tt.wantID {
				t.Errorf("ResponseID = %q, want %q", r.ResponseID, tt.wantID)
			}
			// Whole body through ParseResponse gives the same Result.
			pr, err := ParseResponse(ep, 200, data)
			if err != nil {
				t.Fatalf("ParseResponse(streamed body) error: %v", err)
			}
			if !reflect.DeepEqual(pr, r) {
				t.Errorf("ParseResponse(streamed body) = %+v, want %+v", pr, r)
			}
		})
	}
}

func boolStrings(b []bool) []string {
	s := make([]string, len(b))
	for i, v := range b {
		s[i] = "F"
		if v {
			s[i] = "T"
		}
	}
	return s
}

// TestStreamCapturesKnownValues pins a few values of the captures by hand,
// in case the derivation above shares a mistake with the code.
func TestStreamCapturesKnownValues(t *testing.T) {
	r := feed(t, mustLookup(t, "/v1/chat/completions"), readCapture(t, "oai_stream.sse"), nil).result
	if want := " happy woman fear tells grows happy friend gold woman more flies goes just loud do light tells there do light when now when happy"; r.Text != want {
		t.Errorf("oai_stream.sse Text = %q, want %q", r.Text, want)
	}
	if r.TokensIn != 24 || r.TokensOut != 25 || r.DoneReason != "stop" {
		t.Errorf("oai_stream.sse = %d/%d %q, want 24/25 stop", r.TokensIn, r.TokensOut, r.DoneReason)
	}
	r = feed(t, mustLookup(t, "/api/chat"), readCapture(t, "chat_stream.ndjson"), nil).result
	if r.TokensIn != 69 || r.TokensOut != 40 || r.DoneReason != "length" || !strings.HasPrefix(r.Text, " happy same runs song") || !strings.HasSuffix(r.Text, " sleeps should") {
		t.Errorf("chat_stream.ndjson = %+v", r)
	}
}

func TestStreamChunks(t *testing.T) {
	s := NewStream(mustLookup(t, "/v1/chat/completions"))
	steps := []struct {
		frame        string
		chunks       int
		firstContent bool
	}{
		{": ping\n\n", 0, false},
		{"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n", 0, false},
		{"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":null}]}\n\n", 0, false},
		{"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hm\"},\"finish_reason\":null}]}\n\n", 1, true},
		{"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n", 2, true},
		{"data: not json\n\n", 2, true},
		{"data: [DONE]\n\n", 2, true},
	}
	for _, st := range steps {
		s.Observe([]byte(st.frame))
		if s.Chunks() != st.chunks || s.FirstContent() != st.firstContent {
			t.Errorf("after Observe(%q): Chunks() = %d, FirstContent() = %v, want %d, %v", st.frame, s.Chunks(), s.FirstContent(), st.chunks, st.firstContent)
		}
	}
}

// handStreams are hand-written streams for what the captures lack.
var handStreams = []struct {
	name  string
	path  string
	data  string
	want  Result
	final int // index of the final frame
}{
	{
		name: "ollama chat thinking and tool call",
		path: "/api/chat",
		data: `{"model":"q","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"","thinking":"Let me"},"done":false}
{"model":"q","message":{"role":"assistant","content":"","thinking":" think."},"done":false}
{"model":"q","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}
{"model":"q","message":{"role":"assistant","content":"Caf\u00e9 \ud83d\ude00 \"ok\"\n"},"done":false}
{"model":"q","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":1,"prompt_eval_count":10,"eval_count":5}
`,
		want: Result{
			Text:      "Café 😀 \"ok\"\n",
			Thinking:  "Let me think.",
			ToolCalls: json.RawMessage(`[{"id":"call_1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}}]`),
			TokensIn:  10, TokensOut: 5, DoneReason: "stop", Done: true,
		},
		final: 4,
	},
	{
		name: "ollama generate thinking",
		path: "/api/generate",
		data: "{\"model\":\"q\",\"response\":\"\",\"thinking\":\"Hmm\",\"done\":false}\r\n" +
			"{\"model\":\"q\",\"response\":\"Yes\",\"done\":false}\r\n" +
			"\n" +
			"{\"model\":\"q\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\",\"context\":[1,2,3],\"prompt_eval_count\":3,\"eval_count\":2}\n",
		want:  Result{Text: "Yes", Thinking: "Hmm", TokensIn: 3, TokensOut: 2, DoneReason: "stop", Done: true},
		final: 3,
	},
	{
		name:  "ollama load",
		path:  "/api/chat",
		data:  `{"model":"tiny","created_at":"2026-11-23T06:38:54.65486364Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}` + "\n",
		want:  Result{TokensIn: -1, TokensOut: -1, DoneReason: "load", Done: true},
		final: 0,
	},
	{
		name: "ollama error mid-stream",
		path: "/api/chat",
		data: `{"model":"q","message":{"role":"assistant","content":"Hel"},"done":false}
{"error":"an error was encountered while running the model: unexpected EOF"}
`,
		want:  Result{Text: "Hel", TokensIn: -1, TokensOut: -1, Error: "an error was encountered while running the model: unexpected EOF"},
		final: 1,
	},
	{
		name:  "ollama garbage and unterminated tail",
		path:  "/api/generate",
		data:  "not json\n{\"response\":\"a\",\"done\":false}\n{\"response\":\"b\",\"do",
		want:  Result{Text: "a", TokensIn: -1, TokensOut: -1, Malformed: 2},
		final: -1,
	},
	{
		name: "openai reasoning_content, CRLF, comments, data without space",
		path: "/v1/chat/completions",
		data: ": keep-alive\r\n\r\n" +
			"id: 1\r\nretry: 1000\r\ndata:{\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Think\"},\"finish_reason\":null}]}\r\n\r\n" +
			"data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"ing\",\"reasoning\":\"ing\"},\"finish_reason\":null}]}\r\n\r\n" +
			": ping\r\n\r\n" +
			"data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\n" +
			"data: \"finish_reason\":null}]}\r\n\r\n" +
			"data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"finish_reason\":\"stop\"}],\"usage\":null}\r\n\r\n" +
			"data: {\"id\":\"chatcmpl-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\r\n\r\n" +
			"data: [DONE]\r\n\r\n",
		want:  Result{Text: "Hi!", Thinking: "Thinking", TokensIn: 7, TokensOut: 3, DoneReason: "stop", Done: true, ResponseID: "chatcmpl-x"},
		final: 5,
	},
	{
		name: "openai reasoning (ollama style), bare CR lines",
		path: "/v1/chat/completions",
		data: "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":\"R\"},\"finish_reason\":null}]}\r\r" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"C\"},\"finish_reason\":null}]}\r\r" +
			"data: [DONE]\r\r",
		want:  Result{Text: "C", Thinking: "R", TokensIn: -1, TokensOut: -1, Done: true},
		final: 2,
	},
	{
		name: "openai tool call deltas",
		path: "/v1/chat/completions",
		data: "data: {\"id\":\"chatcmpl-t\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n" +
			"data: {\"id\":\"chatcmpl-t\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n" +
			"data: {\"id\":\"chatcmpl-t\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n\n" +
			"data: {\"id\":\"chatcmpl-t\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n" +
			"data: {\"id\":\"chatcmpl-t\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n" +
			"data: [DONE]\n\n",
		want: Result{
			ToolCalls: json.RawMessage(`[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]`),
			TokensIn:  -1, TokensOut: -1, DoneReason: "tool_calls", Done: true, ResponseID: "chatcmpl-t",
		},
		final: 4,
	},
	{
		name: "openai tool calls reusing index 0 with new ids (ollama)",
		path: "/v1/chat/completions",
		data: "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call_1\",\"index\":0,\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]},\"finish_reason\":null}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call_2\",\"index\":0,\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
		want: Result{
			ToolCalls: json.RawMessage(`[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]`),
			TokensIn:  -1, TokensOut: -1, DoneReason: "tool_calls", Done: true,
		},
		final: 1,
	},
	{
		name: "openai error mid-stream",
		path: "/v1/chat/completions",
		data: "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n" +
			"data: {\"error\":{\"message\":\"upstream crashed\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\n",
		want:  Result{Text: "par", TokensIn: -1, TokensOut: -1, Error: "upstream crashed"},
		final: 1,
	},
	{
		name:  "vllm error object",
		path:  "/v1/chat/completions",
		data:  "data: {\"object\":\"error\",\"message\":\"too long\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}\n\n",
		want:  Result{TokensIn: -1, TokensOut: -1, Error: "too long"},
		final: 0,
	},
	{
		name: "openai n=2, choice 1 finishes first",
		path: "/v1/chat/completions",
		data: "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null},{\"index\":1,\"delta\":{\"content\":\"X\"},\"finish_reason\":null}]}\n\n" +
			"data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"length\"}]}\n\n" +
			"data: [DONE]\n\n",
		want:  Result{Text: "ab", TokensIn: -1, TokensOut: -1, DoneReason: "length", Done: true},
		final: 1,
	},
	{
		name: "openai completions with usage on every chunk (ollama)",
		path: "/v1/completions",
		data: "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"Once\",\"index\":0,\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}\n\n" +
			"data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\" upon\",\"index\":0,\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}\n\n" +
			"data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\"total_tokens\":6}}\n\n" +
			"data: [DONE]\n\n",
		want:  Result{Text: "Once upon", TokensIn: 4, TokensOut: 2, DoneReason: "length", Done: true, ResponseID: "cmpl-1"},
		final: 1,
	},
	{
		name: "openai empty finish_reason on chunks that go on",
		path: "/v1/chat/completions",
		data: "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"\"}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"stop\"}]}\n\n",
		want:  Result{Text: "ab", TokensIn: -1, TokensOut: -1, DoneReason: "stop", Done: true},
		final: 1,
	},
	{
		name: "openai usage-only chunk without finish_reason",
		path: "/v1/chat/completions",
		data: "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n" +
			"data: {\"choices\":null,\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n",
		want:  Result{Text: "x", TokensIn: 1, TokensOut: 1},
		final: 1,
	},
	{
		name: "responses stream",
		path: "/v1/responses",
		data: "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[],\"usage\":null}}\n\n" +
			"event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\"}}\n\n" +
			"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}}\n\n" +
			"event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":3,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"Plan\"}\n\n" +
			"event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":4,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"ning\"}\n\n" +
			"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":5,\"output_index\":1,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\n\n" +
			"event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"sequence_number\":6,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\"}}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":7,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"delta\":\"Hello\"}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":8,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"delta\":\", world\"}\n\n" +
			"event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":9,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"text\":\"Hello, world\"}\n\n" +
			"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":10,\"output_index\":2,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"in_progress\",\"call_id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"\"}}\n\n" +
			"event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":11,\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"{\\\"city\\\":\"}\n\n" +
			"event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":12,\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"\\\"Paris\\\"}\"}\n\n" +
			"event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":13,\"output_index\":2,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"completed\",\"call_id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}\n\n" +
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":14,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"incomplete_details\":null,\"error\":null,\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello, world\"}]}],\"usage\":{\"input_tokens\":12,\"output_tokens\":9,\"total_tokens\":21}}}\n\n",
		want: Result{
			Text: "Hello, world", Thinking: "Planning",
			ToolCalls: json.RawMessage(`[{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}]`),
			TokensIn:  12, TokensOut: 9, DoneReason: "completed", Done: true, ResponseID: "resp_1",
		},
		final: 14,
	},
	{
		name: "responses aborted mid tool call",
		path: "/v1/responses",
		data: "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"f\",\"arguments\":\"\"}}\n\n" +
			"event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":0,\"delta\":\"{\\\"a\\\"\"}\n\n",
		want: Result{
			ToolCalls: json.RawMessage(`[{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{\"a\""}]`),
			TokensIn:  -1, TokensOut: -1,
		},
		final: -1,
	},
	{
		name: "responses incomplete, event names only",
		path: "/v1/responses",
		data: "event: response.output_text.delta\ndata: {\"delta\":\"Cut\"}\n\n" +
			"event: response.incomplete\ndata: {\"response\":{\"id\":\"resp_2\",\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":5,\"output_tokens\":16}}}\n\n",
		want:  Result{Text: "Cut", TokensIn: 5, TokensOut: 16, DoneReason: "max_output_tokens", Done: true, ResponseID: "resp_2"},
		final: 1,
	},
	{
		name:  "responses failed",
		path:  "/v1/responses",
		data:  "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_3\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model failed.\"}}}\n\n",
		want:  Result{TokensIn: -1, TokensOut: -1, DoneReason: "failed", Error: "The model failed.", Done: true, ResponseID: "resp_3"},
		final: 0,
	},
	{
		name: "responses error event",
		path: "/v1/responses",
		data: "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"So\"}\n\n" +
			"event: error\ndata: {\"type\":\"error\",\"code\":\"ERR_SOMETHING\",\"message\":\"Something went wrong\",\"param\":null,\"sequence_number\":1}\n\n",
		want:  Result{Text: "So", TokensIn: -1, TokensOut: -1, Error: "Something went wrong"},
		final: 1,
	},
}

func TestStreamHandWritten(t *testing.T) {
	for _, tt := range handStreams {
		t.Run(tt.name, func(t *testing.T) {
			ep := mustLookup(t, tt.path)
			run := checkSplits(t, ep, []byte(tt.data))
			if !reflect.DeepEqual(run.result, tt.want) {
				t.Errorf("Result = %+v\nwant     %+v\nToolCalls = %s", run.result, tt.want, run.result.ToolCalls)
			}
			if got := run.finalAt(); got != tt.final {
				t.Errorf("final frame = %d, want %d (frames %q)", got, tt.final, run.frames)
			}
			if tc := run.result.ToolCalls; tc != nil && !json.Valid(tc) {
				t.Errorf("ToolCalls %s is not valid JSON", tc)
			}
		})
	}
}

func TestStreamErrorFrameObserved(t *testing.T) {
	for _, path := range []string{"/api/chat", "/api/generate", "/v1/chat/completions", "/v1/completions", "/v1/responses"} {
		ep := mustLookup(t, path)
		s := NewStream(ep)
		frame := StreamErrorFrame(ep.API, "boom \"x\" <y>")
		if n := s.FrameLen(frame); n != len(frame) {
			t.Errorf("%s: FrameLen(%q) = %d, want %d", path, frame, n, len(frame))
		}
		if !s.Observe(frame) {
			t.Errorf("%s: Observe(%q) = false, want true", path, frame)
		}
		if got := s.Result().Error; got != "boom \"x\" <y>" {
			t.Errorf("%s: Result().Error = %q, want %q", path, got, "boom \"x\" <y>")
		}
	}
}

func TestStreamFinalOnlyOnce(t *testing.T) {
	s := NewStream(mustLookup(t, "/v1/chat/completions"))
	frames := []string{
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n",
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n",
		"data: [DONE]\n\n",
	}
	for i, f := range frames {
		if got, want := s.Observe([]byte(f)), i == 0; got != want {
			t.Errorf("Observe(%q) = %v, want %v", f, got, want)
		}
	}
	if r := s.Result(); r.TokensIn != 1 || r.TokensOut != 2 {
		t.Errorf("usage after the final frame: %d/%d, want 1/2", r.TokensIn, r.TokensOut)
	}
}

func TestStreamIgnoredFrames(t *testing.T) {
	tests := []struct {
		path      string
		frame     string
		malformed int // frames counted as not JSON
	}{
		{"/api/chat", "\n", 0},
		{"/api/chat", "   \r\n", 0},
		{"/api/chat", "[1,2]\n", 0},
		{"/api/chat", "{\"done\":tru}\n", 1},
		{"/v1/chat/completions", "\n", 0},
		{"/v1/chat/completions", ": comment\n\n", 0},
		{"/v1/chat/completions", "event: x\n\n", 0},
		{"/v1/chat/completions", "data: {\"choices\":[{\"finish_reason\":\"stop\"}\n\n", 1},
		{"/v1/chat/completions", "data: \"str\"\n\n", 0},
		{"/v1/chat/completions", "id: 5\nretry: 10\n\n", 0},
		{"/v1/responses", "event: response.completed\ndata: {oops}\n\n", 1},
	}
	for _, tt := range tests {
		s := NewStream(mustLookup(t, tt.path))
		if s.Observe([]byte(tt.frame)) {
			t.Errorf("%s: Observe(%q) = true, want false", tt.path, tt.frame)
		}
		if r := s.Result(); !reflect.DeepEqual(r, Result{TokensIn: -1, TokensOut: -1, Malformed: tt.malformed}) {
			t.Errorf("%s: after Observe(%q) Result() = %+v, want empty but Malformed %d", tt.path, tt.frame, r, tt.malformed)
		}
	}
}

func TestFrameLen(t *testing.T) {
	tests := []struct {
		api  API
		buf  string
		want int
	}{
		{Ollama, "", 0},
		{Ollama, "{}", 0},
		{Ollama, "{}\n{}", 3},
		{Ollama, "\n", 1},
		{Ollama, "{}\r\n", 4},
		{OpenAI, "", 0},
		{OpenAI, "data: x\n", 0},
		{OpenAI, "data: x\n\n", 9},
		{OpenAI, "data: x\n\ndata: y\n\n", 9},
		{OpenAI, "\n", 1},
		{OpenAI, "\ndata: x\n\n", 1},
		{OpenAI, "data: x\r\n\r\n", 11},
		{OpenAI, "data: x\r\n\r", 0}, // a "\n" may follow
		{OpenAI, "data: x\r\n\r\ndata", 11},
		{OpenAI, "data: x\r\n\n", 10},
		{OpenAI, "data: x\n\r\n", 10},
		{OpenAI, "data: x\r\r", 0},
		{OpenAI, "data: x\r\rd", 9},
		{OpenAI, "event: a\ndata: x\n\n", 18},
		{OpenAI, "data: a\r\ndata: b\n\n", 18},
	}
	for _, tt := range tests {
		s := NewStream(Endpoint{API: tt.api, Kind: Chat})
		if got := s.FrameLen([]byte(tt.buf)); got != tt.want {
			t.Errorf("FrameLen(%s, %q) = %d, want %d", tt.api, tt.buf, got, tt.want)
		}
		if tt.api == OpenAI {
			if got := sseFrameLenSlow([]byte(tt.buf)); got != tt.want {
				t.Errorf("sseFrameLenSlow(%q) = %d, want %d", tt.buf, got, tt.want)
			}
		}
	}
}

func TestObserveDoesNotRetainFrame(t *testing.T) {
	ep := mustLookup(t, "/v1/responses")
	s := NewStream(ep)
	frame := []byte("event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"id\":\"fc\",\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"n\",\"arguments\":\"\"}}\n\n")
	s.Observe(frame)
	done := []byte("event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"id\":\"fc\",\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"n\",\"arguments\":\"{}\"}}\n\n")
	s.Observe(done)
	want := s.Result()
	for i := range frame {
		frame[i] = 'X'
	}
	for i := range done {
		done[i] = 'Y'
	}
	if got := s.Result(); !reflect.DeepEqual(got, want) {
		t.Errorf("Result changed after the frames were overwritten: %+v, want %+v", got, want)
	}
}

package dialect

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestAskUsage(t *testing.T) {
	const added = `"stream_options":{"include_usage":true}`
	for _, tc := range []struct {
		path, in, want string // want "" means not asked
	}{
		{"/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`, `{` + added + `,"model":"m","stream":true,"messages":[]}`},
		{"/v1/completions", ` { "model":"m","stream":true} `, ` {` + added + `, "model":"m","stream":true} `},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":null}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{}}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{ "continuous_usage_stats":true}}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true, "continuous_usage_stats":true}}`},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":false}}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage": null ,"x":1}}`, `{"model":"m","stream":true,"stream_options":{"include_usage": true ,"x":1}}`},
		{"/v1/chat/completions", `{"model":"m","stream":true} trailing`, `{` + added + `,"model":"m","stream":true} trailing`},
		// Not asked: the caller asked already, or the change would be read
		// differently by different upstreams, or there is no stream.
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":false}`, ""},
		{"/v1/chat/completions", `{"model":"m"}`, ""},
		{"/v1/chat/completions", `{"model":"m","Stream":true}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream":true}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true,"Stream_Options":{}}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{},"stream_options":{}}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"Include_Usage":false}}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":true}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":"no"}}`, ""},
		{"/v1/chat/completions", `{"model":"m","stream":true`, ""},
		{"/v1/responses", `{"model":"m","stream":true}`, ""},
		{"/v1/embeddings", `{"model":"m","stream":true}`, ""},
		{"/api/chat", `{"model":"m","stream":true}`, ""},
	} {
		got, ok := AskUsage(mustLookup(t, tc.path), []byte(tc.in))
		if ok != (tc.want != "") || ok && string(got) != tc.want {
			t.Errorf("AskUsage(%s, %s) = %s, %v, want %q", tc.path, tc.in, got, ok, tc.want)
			continue
		}
		if !ok {
			continue
		}
		// (Read as a completions request, which needs no messages.)
		req, err := ParseRequest(mustLookup(t, "/v1/completions"), got)
		if err != nil || !req.IncludeUsage || !req.Stream {
			t.Errorf("ParseRequest(%s) = %+v, %v, want a streamed request with include_usage", got, req, err)
		}
	}
}

// strip runs data through a Stream with StripUsage the way the gateway
// relays it: pieces of the given sizes (nil: all at once), each complete
// frame observed, trimmed and compacted in place, the rest held; it
// returns what the client receives and the Result.
func strip(t testing.TB, ep Endpoint, data []byte, sizes []int, asked bool) ([]byte, Result) {
	t.Helper()
	s := NewStream(ep)
	if asked {
		s.StripUsage()
	}
	var out, pending []byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(sizes) > 0 {
			n = min(sizes[i%len(sizes)], len(data))
		}
		pending = append(pending, data[:n]...)
		data = data[n:]
		start, w := 0, 0
		for {
			l := s.FrameLen(pending[start:])
			if l == 0 {
				break
			}
			s.Observe(pending[start : start+l])
			frame := s.Trim(pending[start : start+l])
			w += copy(pending[w:], frame)
			start += l
		}
		out = append(out, pending[:w]...)
		pending = append(pending[:0], pending[start:]...)
	}
	if len(pending) > 0 {
		s.Observe(pending)
		out = append(out, s.Trim(pending)...)
	}
	return out, s.Result()
}

// stripCases are streams as an upstream sends them with include_usage, and
// what the caller would have received without it.
var stripCases = []struct {
	name, path, sent, want string
	in, out                int64
}{
	{
		name: "OpenAI chat: usage null on every chunk, a usage chunk at the end",
		path: "/v1/chat/completions",
		sent: `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}}}` + "\n\n" +
			"data: [DONE]\n\n",
		want: `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
			"data: [DONE]\n\n",
		in: 9, out: 2,
	},
	{
		name: "usage first, spaces, CRLF, no space after data:",
		path: "/v1/chat/completions",
		sent: "data:{\"usage\": null, \"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\r\n\r\n" +
			"data: {\"id\":\"c\", \"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}] , \"usage\" : null }\r\n\r\n" +
			"data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\r\n\r\n" +
			"data: [DONE]\r\n\r\n",
		want: "data:{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\r\n\r\n" +
			"data: {\"id\":\"c\", \"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}] }\r\n\r\n" +
			"data: [DONE]\r\n\r\n",
		in: 3, out: 1,
	},
	{
		name: "Ollama completions: a usage of zeros on every chunk",
		path: "/v1/completions",
		sent: `data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":" a","index":0,"finish_reason":null}],"model":"tiny","system_fingerprint":"fp_ollama","usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}` + "\n\n" +
			`data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"","index":0,"finish_reason":"stop"}],"model":"tiny","system_fingerprint":"fp_ollama","usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}` + "\n\n" +
			`data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[],"model":"tiny","system_fingerprint":"fp_ollama","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}` + "\n\n" +
			"data: [DONE]\n\n",
		want: `data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":" a","index":0,"finish_reason":null}],"model":"tiny","system_fingerprint":"fp_ollama"}` + "\n\n" +
			`data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"","index":0,"finish_reason":"stop"}],"model":"tiny","system_fingerprint":"fp_ollama"}` + "\n\n" +
			"data: [DONE]\n\n",
		in: 5, out: 2,
	},
	{
		name: "real counts next to choices are not what include_usage adds: left as sent",
		path: "/v1/chat/completions",
		sent: `data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1}}` + "\n\n" +
			"data: [DONE]\n\n",
		want: `data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1}}` + "\n\n" +
			"data: [DONE]\n\n",
		in: 4, out: 1,
	},
}

// TestStripUsage: what the client receives is the stream without what
// include_usage added, however the upstream's bytes are split across
// reads (the usage chunk included), and the counts are read all the same.
func TestStripUsage(t *testing.T) {
	for _, tc := range stripCases {
		ep := mustLookup(t, tc.path)
		for _, sizes := range [][]int{nil, {1}, {2}, {7}, {64}, {len(tc.sent) - 3}} {
			got, res := strip(t, ep, []byte(tc.sent), sizes, true)
			if string(got) != tc.want {
				t.Errorf("%s, read in pieces of %v: client gets\n%s\nwant\n%s", tc.name, sizes, got, tc.want)
			}
			if res.TokensIn != tc.in || res.TokensOut != tc.out || !res.Done {
				t.Errorf("%s, pieces %v: Result = %+v, want tokens %d/%d, done", tc.name, sizes, res, tc.in, tc.out)
			}
		}
		if got, _ := strip(t, ep, []byte(tc.sent), nil, false); string(got) != tc.sent {
			t.Errorf("%s: without StripUsage the client gets\n%s\nwant the bytes as sent", tc.name, got)
		}
	}
}

// TestStripUsageCapture: a real Ollama 0.24.0 stream with include_usage
// reaches the caller as it would have without: the same chunks, without
// the usage chunk, and with the counts recorded.
func TestStripUsageCapture(t *testing.T) {
	sent := readCapture(t, "oai_stream.sse")
	usageAt := bytes.Index(sent, []byte(`data: {"id":"chatcmpl-761","object":"chat.completion.chunk","created":1795413020,"model":"tiny","system_fingerprint":"fp_ollama","choices":[],"usage"`))
	if usageAt < 0 {
		t.Fatal("no usage chunk in the capture")
	}
	end := usageAt + bytes.Index(sent[usageAt:], []byte("\n\n")) + 2
	want := append(bytes.Clone(sent[:usageAt]), sent[end:]...)
	ep := mustLookup(t, "/v1/chat/completions")
	for _, sizes := range [][]int{nil, {1}, {13}, {usageAt + 5}, {end - 1}} {
		got, res := strip(t, ep, sent, sizes, true)
		if !bytes.Equal(got, want) {
			t.Errorf("pieces %v: client gets\n%s\nwant\n%s", sizes, got, want)
		}
		if res.TokensIn != 24 || res.TokensOut != 25 {
			t.Errorf("pieces %v: tokens %d/%d, want the capture's 24/25", sizes, res.TokensIn, res.TokensOut)
		}
	}
}

// FuzzStripUsage: whatever the upstream sends, a stripped stream gives the
// same Result as one not stripped, the same bytes however it is split, and
// every chunk that was valid JSON stays valid JSON.
func FuzzStripUsage(f *testing.F) {
	for _, tc := range stripCases {
		f.Add(tc.path == "/v1/completions", []byte(tc.sent), []byte{3, 50})
	}
	f.Add(false, []byte("data: {\"usage\":null}\n\ndata: {\"usage\":null,\"choices\":[1]}\n\ndata: {\"a\":1,\"usage\":{\"x\":0},\"choices\":[{}]}\n\n"), []byte{0})
	f.Add(false, []byte("data: {\"choices\":[{}],\n"+"data: \"usage\":null}\n\n: c\ndata: {\"choices\":[{}],\"usage\":null}\n\n"), []byte{1, 9})
	f.Fuzz(func(t *testing.T, completions bool, data, splits []byte) {
		ep := mustLookup(t, "/v1/chat/completions")
		if completions {
			ep = mustLookup(t, "/v1/completions")
		}
		sizes := make([]int, len(splits))
		for i, b := range splits {
			sizes[i] = int(b) + 1
		}
		whole, res := strip(t, ep, data, nil, true)
		_, plain := strip(t, ep, data, nil, false)
		if !reflect.DeepEqual(res, plain) {
			t.Fatalf("stripped Result = %+v, not stripped %+v", res, plain)
		}
		if split, _ := strip(t, ep, data, sizes, true); !bytes.Equal(split, whole) {
			t.Fatalf("split %v gives %q, whole %q", sizes, split, whole)
		}
		s := NewStream(ep)
		s.StripUsage()
		for rest := data; len(rest) > 0; {
			n := s.FrameLen(rest)
			if n == 0 {
				break
			}
			frame := bytes.Clone(rest[:n])
			s.Observe(frame)
			before := bytes.Clone(frame)
			after := s.Trim(frame)
			if b, a := dataJSON(before), dataJSON(after); b != nil && json.Valid(b) && a != nil && !json.Valid(a) {
				t.Fatalf("Trim(%q) = %q: valid JSON made invalid", before, after)
			}
			rest = rest[n:]
		}
	})
}

// dataJSON returns the value of the only data line of an SSE event ended
// by "\n\n", or nil.
func dataJSON(ev []byte) []byte {
	if bytes.Count(ev, []byte("data:")) != 1 || bytes.IndexByte(ev, '\r') >= 0 {
		return nil
	}
	lines := bytes.Split(ev, []byte("\n"))
	for _, l := range lines {
		if v, ok := bytes.CutPrefix(l, []byte("data:")); ok {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// FuzzAskUsage: a body AskUsage changes is still one valid JSON object
// (with what followed it), asks for usage, and streams as before.
func FuzzAskUsage(f *testing.F) {
	for _, s := range []string{`{"model":"m","stream":true}`, `{"model":"m","stream":true,"stream_options":{"x":1}}`,
		`{"model":"m","stream":true,"stream_options":{"include_usage":false}}`, `{"stream":true,"stream_options":null} x`, `{"stream":true,"stream_options":{}}`} {
		f.Add([]byte(s))
	}
	ep := mustLookup(f, "/v1/completions")
	f.Fuzz(func(t *testing.T, body []byte) {
		out, ok := AskUsage(ep, body)
		if !ok {
			return
		}
		req, err := ParseRequest(ep, out)
		if before, berr := ParseRequest(ep, body); berr == nil && (err != nil || !req.IncludeUsage || !req.Stream || string(req.Params) != string(before.Params) || req.Model != before.Model) {
			t.Fatalf("AskUsage(%q) = %q: parsed %+v, %v; before %+v", body, out, req, err, before)
		}
		i := skipWS(out, 0)
		if end := scanValue(out, i, 0); end < 0 || !json.Valid(out[i:end]) {
			t.Fatalf("AskUsage(%q) = %q, not a JSON value", body, out)
		}
	})
}

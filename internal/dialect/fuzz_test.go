package dialect

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fuzzEndpoints are the endpoints a fuzz input's first byte chooses from.
var fuzzEndpoints = []string{
	"/api/chat", "/api/generate", "/api/embed", "/api/embeddings",
	"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses",
}

func fuzzEndpoint(t testing.TB, i uint8) Endpoint {
	return mustLookup(t, fuzzEndpoints[int(i)%len(fuzzEndpoints)])
}

// FuzzJSON checks the hot-path JSON reader against encoding/json.
func FuzzJSON(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := validJSON(data)
		if want := json.Valid(data); valid != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", data, valid, want)
		}
		jsonInt(data)
		kindName(data)
		if !valid {
			// The iterators must stay in bounds on anything.
			m := objectMembers(data)
			for _, _, ok := m.next(); ok; _, _, ok = m.next() {
			}
			e := arrayElements(data)
			for _, ok := e.next(); ok; _, ok = e.next() {
			}
			return
		}
		d := bytes.TrimSpace(data)
		switch d[0] {
		case '"':
			var want string
			if err := json.Unmarshal(d, &want); err != nil {
				t.Fatal(err)
			}
			if got := unquote(d); got != want {
				t.Fatalf("unquote(%q) = %q, want %q", d, got, want)
			}
		case '{':
			dec := json.NewDecoder(bytes.NewReader(d))
			dec.Token() // {
			var kb keyBuf
			m := objectMembers(d)
			for {
				k, v, ok := m.next()
				if !ok {
					break
				}
				wantKey, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				var wantVal json.RawMessage
				if err := dec.Decode(&wantVal); err != nil {
					t.Fatal(err)
				}
				if got := validString(kb.name(k)); got != wantKey {
					t.Fatalf("key %q, want %q in %q", got, wantKey, d)
				}
				if !bytes.Equal(v, wantVal) {
					t.Fatalf("value %q, want %q in %q", v, wantVal, d)
				}
			}
			if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
				t.Fatalf("members of %q ended early (next token %v, %v)", d, tok, err)
			}
		case '[':
			var want []json.RawMessage
			if err := json.Unmarshal(d, &want); err != nil {
				t.Fatal(err)
			}
			var got []json.RawMessage
			e := arrayElements(d)
			for v, ok := e.next(); ok; v, ok = e.next() {
				got = append(got, bytes.Clone(v))
			}
			if len(got) != len(want) {
				t.Fatalf("arrayElements(%q) gave %d elements, want %d", d, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], bytes.TrimSpace(want[i])) {
					t.Fatalf("element %d = %q, want %q", i, got[i], want[i])
				}
			}
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"model":"tiny","messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"seed":7}}`))
	f.Add(uint8(1), []byte(`{"model":"tiny","prompt":"p","images":["aGVsbG8="],"system":"s"}`))
	f.Add(uint8(2), []byte(`{"model":"tiny","input":["a",[1,2]]}`))
	f.Add(uint8(4), []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,aGVsbG8="}}]}],"stream":true,"stream_options":{"include_usage":true}}`))
	f.Add(uint8(5), []byte(`{"model":"m","prompt":[[1],[2,3]]}`))
	f.Add(uint8(7), []byte(`{"model":"m","input":[{"type":"function_call","call_id":"c"},{"role":"user","content":"x"}],"instructions":"i"}`))
	f.Fuzz(func(t *testing.T, epi uint8, body []byte) {
		ep := fuzzEndpoint(t, epi)
		r, err := ParseRequest(ep, body)
		var raw json.RawMessage
		if json.NewDecoder(bytes.NewReader(body)).Decode(&raw) != nil && err == nil {
			t.Fatalf("ParseRequest(%s, %q) accepted a body encoding/json rejects", ep.Path, body)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseRequest(%s, %q): empty error text", ep.Path, body)
			}
			return
		}
		if r.Model == "" {
			t.Fatalf("ParseRequest(%s, %q) accepted a request without model", ep.Path, body)
		}
		if !json.Valid(r.Params) || r.Params[0] != '{' {
			t.Fatalf("ParseRequest(%s, %q).Params = %s, not a JSON object", ep.Path, body, r.Params)
		}
		if r.Tools != nil && !json.Valid(r.Tools) {
			t.Fatalf("ParseRequest(%s, %q).Tools = %s, not JSON", ep.Path, body, r.Tools)
		}
		for _, m := range r.Messages {
			if m.ToolCalls != nil && !json.Valid(m.ToolCalls) {
				t.Fatalf("ParseRequest(%s, %q): message tool calls %s, not JSON", ep.Path, body, m.ToolCalls)
			}
			if !utf8.ValidString(m.Content) {
				t.Fatalf("ParseRequest(%s, %q): content %q is not UTF-8", ep.Path, body, m.Content)
			}
		}
		if r.Stream && !ep.Streams() {
			t.Fatalf("ParseRequest(%s, %q).Stream = true on an embeddings endpoint", ep.Path, body)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add(uint8(0), uint16(200), []byte(`{"message":{"content":"a","thinking":"b","tool_calls":[{}]},"done":true,"prompt_eval_count":1,"eval_count":2}`))
	f.Add(uint8(0), uint16(200), []byte("{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":true}\n"))
	f.Add(uint8(2), uint16(200), []byte(`{"embeddings":[[1],[2]],"prompt_eval_count":3}`))
	f.Add(uint8(4), uint16(200), []byte(`{"id":"x","choices":[{"index":0,"message":{"content":"a","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`))
	f.Add(uint8(4), uint16(200), []byte("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add(uint8(7), uint16(200), []byte(`{"id":"r","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"t"}]}]}`))
	f.Add(uint8(4), uint16(404), []byte(`{"error":{"message":"m"}}`))
	f.Add(uint8(0), uint16(500), []byte("plain text"))
	f.Fuzz(func(t *testing.T, epi uint8, status uint16, body []byte) {
		ep := fuzzEndpoint(t, epi)
		st := int(status % 600)
		r, err := ParseResponse(ep, st, body)
		if st < 200 || st > 299 {
			if err != nil {
				t.Fatalf("ParseResponse(%s, %d, %q) error %v for an error status", ep.Path, st, body, err)
			}
			if len(r.Error) > maxErrorText+2 { // a clipped text may gain U+FFFD replacements
				if len(r.Error) > 3*maxErrorText {
					t.Fatalf("ParseResponse(%s, %d, %q).Error is %d bytes", ep.Path, st, body, len(r.Error))
				}
			}
		}
		if err != nil {
			return
		}
		if r.ToolCalls != nil && !json.Valid(r.ToolCalls) {
			t.Fatalf("ParseResponse(%s, %d, %q).ToolCalls = %s, not JSON", ep.Path, st, body, r.ToolCalls)
		}
		for _, s := range []string{r.Text, r.Thinking, r.Error, r.DoneReason, r.ResponseID} {
			if !utf8.ValidString(s) {
				t.Fatalf("ParseResponse(%s, %d, %q): %q is not UTF-8", ep.Path, st, body, s)
			}
		}
	})
}

func FuzzStream(f *testing.F) {
	for i, name := range []string{"chat_stream.ndjson", "generate_stream.ndjson", "", "", "oai_stream.sse", "oai_stream_nousage.sse"} {
		if name != "" {
			f.Add(uint8(i), readCapture(f, name), []byte{7, 0, 200})
		}
	}
	for _, hs := range handStreams {
		for i, p := range fuzzEndpoints {
			if p == hs.path {
				f.Add(uint8(i), []byte(hs.data), []byte{0, 3, 1, 31})
			}
		}
	}
	f.Add(uint8(4), []byte("data: x\r\n\r\ndata: y\r\r\n: c\n\ndata:[DONE]"), []byte{})
	f.Fuzz(func(t *testing.T, epi uint8, data, splits []byte) {
		ep := fuzzEndpoint(t, epi)
		if got, want := sseFrameLen(data), sseFrameLenSlow(data); got != want {
			t.Fatalf("sseFrameLen(%q) = %d, slow path says %d", data, got, want)
		}
		sizes := make([]int, len(splits))
		for i, b := range splits {
			sizes[i] = int(b) + 1
		}
		whole := feed(t, ep, data, nil)
		for _, run := range []feedRun{feed(t, ep, data, sizes), feed(t, ep, data, []int{1})} {
			if !reflect.DeepEqual(run.result, whole.result) {
				t.Fatalf("split feeding: Result = %+v, whole: %+v", run.result, whole.result)
			}
			if !reflect.DeepEqual(run.finals, whole.finals) || !reflect.DeepEqual(run.frames, whole.frames) {
				t.Fatalf("split feeding: frames %q finals %v, whole: %q %v", run.frames, run.finals, whole.frames, whole.finals)
			}
		}
		finals := 0
		for _, f := range whole.finals {
			if f {
				finals++
			}
		}
		if finals > 1 {
			t.Fatalf("%d frames reported final", finals)
		}
		r := whole.result
		if r.ToolCalls != nil && !json.Valid(r.ToolCalls) {
			t.Fatalf("ToolCalls = %s, not JSON", r.ToolCalls)
		}
		if !utf8.ValidString(r.Text) || !utf8.ValidString(r.Thinking) {
			t.Fatalf("Text %q / Thinking %q not UTF-8", r.Text, r.Thinking)
		}
	})
}

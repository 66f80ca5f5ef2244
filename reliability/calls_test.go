package reliability

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// A kind is one kind of model call a client makes.
type kind struct {
	name, path string
	stream     bool
	body       string // a format with one %s, the call id
}

// kinds are every call kind of both dialects, streamed and not. The
// generating ones use tiny-slow, which paces its tokens, so that a kill
// often lands while answers stream.
var kinds = []kind{
	{"ollama chat stream", "/api/chat", true, `{"model":"tiny-slow","messages":[{"role":"user","content":"%s"}]}`},
	{"ollama chat", "/api/chat", false, `{"model":"tiny-slow","stream":false,"messages":[{"role":"user","content":"%s"}]}`},
	{"ollama generate stream", "/api/generate", true, `{"model":"tiny-slow","prompt":"%s"}`},
	{"ollama generate", "/api/generate", false, `{"model":"tiny-slow","stream":false,"prompt":"%s"}`},
	{"ollama embed", "/api/embed", false, `{"model":"tiny","input":"%s"}`},
	{"openai chat stream", "/v1/chat/completions", true, `{"model":"tiny-slow","stream":true,"messages":[{"role":"user","content":"%s"}]}`},
	{"openai chat", "/v1/chat/completions", false, `{"model":"tiny-slow","messages":[{"role":"user","content":"%s"}]}`},
	{"openai completions stream", "/v1/completions", true, `{"model":"tiny-slow","stream":true,"prompt":"%s"}`},
	{"openai completions", "/v1/completions", false, `{"model":"tiny-slow","prompt":"%s"}`},
	{"openai embeddings", "/v1/embeddings", false, `{"model":"tiny","input":"%s"}`},
	{"openai responses stream", "/v1/responses", true, `{"model":"tiny-slow","stream":true,"input":"%s"}`},
	{"openai responses", "/v1/responses", false, `{"model":"tiny-slow","input":"%s"}`},
}

// outcome is what a client saw of one call.
type outcome struct {
	id     string
	kind   kind
	status int    // 0 if no answer's headers arrived
	body   []byte // what was read
	err    error  // from sending or reading; nil if the whole answer arrived
}

// complete reports whether the client saw the whole of a successful answer:
// all of it, or, streamed, its final frame (where the SDKs stop reading,
// without waiting for the end of the HTTP body).
func (o outcome) complete() bool {
	return o.status == http.StatusOK && (o.err == nil || o.kind.stream && sawFinal(o.body))
}

// sawFinal reports whether a streamed answer holds its final frame: Ollama's
// "done":true line, OpenAI's data: [DONE], or the Responses API's
// response.completed event.
func sawFinal(body []byte) bool {
	for _, end := range []string{`"done":true`, "data: [DONE]", "event: response.completed"} {
		if bytes.Contains(body, []byte(end)) {
			return true
		}
	}
	return false
}

// doCall makes one call of kind k with a fresh id and reads the whole answer.
func doCall(ctx context.Context, client *http.Client, base, key string, k kind) outcome {
	o := outcome{id: newID(), kind: k}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+k.path, strings.NewReader(fmt.Sprintf(k.body, o.id)))
	if err != nil {
		o.err = err
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", o.id)
	resp, err := client.Do(req)
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	o.status = resp.StatusCode
	o.body, o.err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return o
}

package dialect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Result is what aitrail records of a model call's response.
type Result struct {
	// Text is the full answer text; a streamed answer is reassembled from
	// its frames. For OpenAI answers it is the text of choice 0 (refusals
	// included); for embeddings it is empty. Invalid UTF-8 is replaced with
	// U+FFFD.
	Text string
	// Thinking is the reasoning text, kept apart from Text: Ollama's
	// thinking, OpenAI-compatible reasoning_content or reasoning, Responses
	// reasoning summaries and reasoning text.
	Thinking string
	// ToolCalls is a JSON array of the tool calls in the answer, nil if
	// none. Calls the upstream sends whole are kept as sent (Ollama
	// tool_calls elements, Responses function_call items). OpenAI tool-call
	// deltas are merged by index, their argument fragments concatenated, and
	// each call rendered as {"id":...,"type":"function","function":{"name":
	// ...,"arguments":"..."}}; non-streamed chat tool calls are rendered the
	// same way.
	ToolCalls json.RawMessage
	// TokensIn and TokensOut are the upstream's own token counts: Ollama's
	// prompt_eval_count and eval_count, OpenAI usage prompt_tokens and
	// completion_tokens, Responses usage input_tokens and output_tokens. A
	// count the upstream did not give is -1.
	TokensIn, TokensOut int64
	// DoneReason is why the answer ended: Ollama's done_reason ("stop",
	// "length", "load", ...), OpenAI's finish_reason of choice 0, or the
	// Responses status ("completed", "failed", ...) or, for an incomplete
	// response, its incomplete_details.reason.
	DoneReason string
	// Embeddings is the number of vectors in an embeddings answer.
	Embeddings int
	// Error is an error the upstream reported in the body, message only: a
	// non-2xx error body, a mid-stream error frame, or a failed response.
	Error string
	// Done reports that the upstream signalled the end of the answer: an
	// Ollama done:true, an OpenAI finish_reason or [DONE], a terminal
	// Responses event or status. A complete, non-streamed OpenAI chat,
	// completion or embeddings body counts as done.
	Done bool
	// ResponseID is the upstream's id of the answer (chatcmpl-..., resp_...),
	// if it gave one.
	ResponseID string
	// Malformed is the number of frames of a streamed answer whose payload
	// was not valid JSON (an NDJSON line, an SSE event's data other than
	// [DONE]), in either dialect; the gateway records such a stream as an
	// error, whatever followed.
	Malformed int
}

// maxErrorText bounds the error text kept from a non-JSON error body.
const maxErrorText = 1024

// ParseResponse decodes a complete (non-streamed) response body with the
// given HTTP status.
//
// For a status outside 2xx it fills Error from the dialect's error body:
// {"error":"MSG"}, {"error":{"message":"MSG",...}}, vLLM's
// {"object":"error","message":"MSG",...} or a {"detail":"MSG"} body. A body
// that is not JSON, or JSON without a message, gives its trimmed text, at
// most 1 KiB. No error is returned for a non-2xx status.
//
// For a 2xx status it returns an error only when the body is not a JSON
// object. A complete streamed body (NDJSON lines for Ollama, SSE events for
// OpenAI) is accepted as well and gives the same Result as following it with
// a Stream. A 2xx body carrying an "error" fills Error too.
func ParseResponse(ep Endpoint, status int, body []byte) (Result, error) {
	if status < 200 || status > 299 {
		return Result{TokensIn: -1, TokensOut: -1, Error: errorMessage(body)}, nil
	}
	st := newState(ep)
	d := bytes.TrimSpace(body)
	if ep.Kind == Embed {
		if !validJSON(d) || d[0] != '{' {
			return Result{}, fmt.Errorf("parse %s response: %w", ep.Path, errNotObject)
		}
		st.embedObject(d)
		return st.result(), nil
	}
	if len(d) > 0 && d[0] != '{' && ep.API == OpenAI || ep.API == Ollama && bytes.IndexByte(d, '\n') >= 0 && !validJSON(d) {
		return parseStreamed(ep, d)
	}
	if !validJSON(d) || d[0] != '{' {
		return Result{}, fmt.Errorf("parse %s response: %w", ep.Path, errNotObject)
	}
	switch {
	case ep.API == Ollama:
		st.ollamaObject(d)
	case ep.Kind == Responses:
		if errv := memberOf(d, "error"); !isNull(errv) && isNull(memberOf(d, "status")) {
			st.setError(errv)
			break
		}
		st.responseObject(d)
		st.done = isTerminalStatus(memberOf(d, "status"))
	default:
		st.chatChunk(d)
		st.done = st.errMsg == ""
	}
	return st.result(), nil
}

var errNotObject = errors.New("body is not a JSON object")

func isTerminalStatus(v []byte) bool {
	return strIs(v, "completed") || strIs(v, "incomplete") || strIs(v, "failed") || strIs(v, "cancelled")
}

// parseStreamed follows a complete streamed body with a Stream. Every
// NDJSON line must be valid JSON; SSE bodies must hold at least one event.
func parseStreamed(ep Endpoint, body []byte) (Result, error) {
	s := NewStream(ep)
	if ep.API == Ollama {
		for _, line := range bytes.Split(body, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if !validJSON(line) || line[0] != '{' {
				return Result{}, fmt.Errorf("parse %s response: line %.40q: %w", ep.Path, line, errNotObject)
			}
			s.Observe(line)
		}
		return s.Result(), nil
	}
	events := 0
	for len(body) > 0 {
		n := s.FrameLen(body)
		if n == 0 {
			n = len(body)
		}
		if bytes.Contains(body[:n], []byte("data:")) {
			events++
		}
		s.Observe(body[:n])
		body = body[n:]
	}
	if events == 0 {
		return Result{}, fmt.Errorf("parse %s response: %w", ep.Path, errNotObject)
	}
	return s.Result(), nil
}

// embedObject reads an embeddings answer: Ollama's /api/embed
// {"embeddings":[[...],...],"prompt_eval_count":N}, the legacy
// /api/embeddings {"embedding":[...]}, or OpenAI's {"data":[{"embedding":
// ...},...],"usage":{"prompt_tokens":N}}.
func (st *state) embedObject(d []byte) {
	var kb keyBuf
	m := objectMembers(d)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "embeddings", "data":
			st.embeddings = 0
			e := arrayElements(v)
			for _, ok := e.next(); ok; _, ok = e.next() {
				st.embeddings++
			}
		case "embedding":
			if !arrayEmpty(v) {
				st.embeddings = 1
			}
		case "prompt_eval_count":
			setInt(&st.tokensIn, v)
		case "usage":
			if len(v) > 0 && v[0] == '{' {
				st.usage(v)
			}
		case "error":
			if !isNull(v) {
				st.setError(v)
			}
		}
	}
	st.done = st.errMsg == ""
}

// errorMessage extracts the message of an error body.
func errorMessage(body []byte) string {
	d := bytes.TrimSpace(body)
	if validJSON(d) && d[0] == '{' {
		for _, key := range [...]string{"error", "message", "detail"} {
			v := memberOf(d, key)
			if isString(v) {
				return clip(appendUnquoted(nil, v))
			}
			if msg := memberOf(v, "message"); isString(msg) {
				return clip(appendUnquoted(nil, msg))
			}
		}
	}
	return clip(d)
}

// clip returns b as valid UTF-8, cut to at most maxErrorText bytes on a
// character boundary.
func clip(b []byte) string {
	if len(b) > maxErrorText {
		n := maxErrorText
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = b[:n]
	}
	return validString(b)
}

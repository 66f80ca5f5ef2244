package dialect

import (
	"encoding/json"
	"net/http"
)

// ErrorBody returns the body of an error reply in the dialect of api.
//
// Ollama: {"error":"MSG"}.
//
// OpenAI: {"error":{"message":"MSG","type":TYPE,"param":null,"code":CODE}},
// with TYPE chosen from status: 400 and 413 (and any other 4xx without a
// type of its own) "invalid_request_error", 401 "authentication_error", 403
// "permission_error", 404 "not_found_error", 429 "rate_limit_error", and
// "api_error" otherwise (5xx). CODE is "invalid_api_key" for 401,
// "rate_limit_exceeded" for 429, and null otherwise.
//
// MSG is escaped as encoding/json escapes strings (invalid UTF-8 becomes
// U+FFFD; <, > and & are written as \u003c, \u003e, \u0026, as Ollama's own
// Go server writes them). The body has no trailing newline.
func ErrorBody(api API, status int, msg string) []byte {
	m := jsonString(msg)
	if api == Ollama {
		b := make([]byte, 0, len(m)+11)
		b = append(b, `{"error":`...)
		b = append(b, m...)
		return append(b, '}')
	}
	return openAIError(make([]byte, 0, len(m)+96), status, m)
}

// StreamErrorFrame returns a frame that reports an error inside an
// already-started stream, in the stream's own framing, as Ollama itself does
// for errors after the first frame: for Ollama an NDJSON line
// {"error":"MSG"}\n; for OpenAI an SSE event data: {"error":{"message":
// "MSG","type":"api_error","param":null,"code":null}}\n\n, which the OpenAI
// SDKs raise as an API error on chat, completion and Responses streams
// alike. Stream.Observe takes either frame as a final error frame.
func StreamErrorFrame(api API, msg string) []byte {
	m := jsonString(msg)
	if api == Ollama {
		b := make([]byte, 0, len(m)+12)
		b = append(b, `{"error":`...)
		b = append(b, m...)
		return append(b, '}', '\n')
	}
	b := append(make([]byte, 0, len(m)+104), "data: "...)
	b = openAIError(b, http.StatusInternalServerError, m)
	return append(b, '\n', '\n')
}

// openAIError appends an OpenAI error object whose message is the JSON
// string m.
func openAIError(b []byte, status int, m []byte) []byte {
	typ, code := `"api_error"`, `null`
	switch {
	case status == http.StatusUnauthorized:
		typ, code = `"authentication_error"`, `"invalid_api_key"`
	case status == http.StatusForbidden:
		typ = `"permission_error"`
	case status == http.StatusNotFound:
		typ = `"not_found_error"`
	case status == http.StatusTooManyRequests:
		typ, code = `"rate_limit_error"`, `"rate_limit_exceeded"`
	case status >= 400 && status < 500:
		typ = `"invalid_request_error"`
	}
	b = append(b, `{"error":{"message":`...)
	b = append(b, m...)
	b = append(b, `,"type":`...)
	b = append(b, typ...)
	b = append(b, `,"param":null,"code":`...)
	b = append(b, code...)
	return append(b, `}}`...)
}

// jsonString returns s as a JSON string, escaped as encoding/json does.
func jsonString(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // unreachable: strings always marshal
		return []byte(`""`)
	}
	return b
}

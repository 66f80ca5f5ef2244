// Package dialect understands the request and response bodies of the model
// APIs that aitrail records: Ollama's native API (/api/chat, /api/generate,
// /api/embed, /api/embeddings) and the OpenAI-compatible API served by
// Ollama, vLLM and others (/v1/chat/completions, /v1/completions,
// /v1/embeddings, /v1/responses).
//
// The package reads. Nothing in it re-encodes or buffers the bytes the
// gateway forwards: [ParseRequest] and [ParseResponse] decode copies for the
// record, and [Stream] follows a streamed answer frame by frame
// ([Stream.FrameLen], [Stream.Observe]) while the caller forwards the very
// same bytes untouched. The one exception is usage: [AskUsage] adds
// stream_options.include_usage to a streamed OpenAI-compatible request whose
// caller did not ask for counts, and [Stream.Trim] then takes back out of
// the answer, in place, exactly what that added (see usage.go).
//
// # Wire formats
//
// Ollama native streams are NDJSON: one JSON object per line, each line ended
// by "\n". Chat lines carry message.content / message.thinking /
// message.tool_calls, generate lines carry response / thinking / tool_calls;
// the last line has "done":true with done_reason, prompt_eval_count and
// eval_count. An error inside a started stream is a line {"error":"MSG"}.
//
// OpenAI-compatible streams are server-sent events: lines "field: value"
// (the space after the colon is optional), events separated by a blank line.
// Chat and completion chunks come as "data: {json}" events whose JSON holds
// choices[].delta (chat) or choices[].text (completions), a finish_reason per
// choice, and, when the request set stream_options.include_usage, a last
// chunk with an empty choices array and a usage object. The stream ends with
// "data: [DONE]". Responses API streams send typed events ("event: NAME" and
// a JSON object whose "type" repeats NAME): response.output_text.delta,
// response.reasoning_summary_text.delta, response.function_call_arguments.delta
// and so on, ending with response.completed, response.incomplete or
// response.failed; they have no [DONE] line.
//
// Error bodies are {"error":"MSG"} on native paths and
// {"error":{"message":"MSG","type":TYPE,"param":null,"code":CODE}} on
// OpenAI-compatible paths.
package dialect

import "strconv"

// API is the family of an endpoint: it decides the error format and the
// stream framing (NDJSON for Ollama, server-sent events for OpenAI).
type API int

// The API families.
const (
	// Ollama is Ollama's native API under /api/.
	Ollama API = iota + 1
	// OpenAI is the OpenAI-compatible API under /v1/.
	OpenAI
)

// String returns "ollama" or "openai", or "API(N)" for an unknown value.
func (a API) String() string {
	switch a {
	case Ollama:
		return "ollama"
	case OpenAI:
		return "openai"
	}
	return "API(" + strconv.Itoa(int(a)) + ")"
}

// Kind is what an endpoint does.
type Kind int

// The endpoint kinds.
const (
	// Chat answers a list of messages (/api/chat, /v1/chat/completions).
	Chat Kind = iota + 1
	// Generate completes a raw prompt on Ollama's /api/generate.
	Generate
	// Embed returns embedding vectors (/api/embed, /api/embeddings,
	// /v1/embeddings).
	Embed
	// Completion completes a raw prompt on /v1/completions.
	Completion
	// Responses is OpenAI's Responses API, /v1/responses.
	Responses
)

// String returns the lower-case name of the kind ("chat", "generate",
// "embed", "completion", "responses"), or "Kind(N)" for an unknown value.
func (k Kind) String() string {
	switch k {
	case Chat:
		return "chat"
	case Generate:
		return "generate"
	case Embed:
		return "embed"
	case Completion:
		return "completion"
	case Responses:
		return "responses"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Endpoint describes one recorded model endpoint.
type Endpoint struct {
	// API is the family, which decides error bodies and stream framing.
	API API
	// Kind is what the endpoint does.
	Kind Kind
	// Path is the request path, e.g. "/api/chat".
	Path string
}

// Streams reports whether the endpoint can answer with a stream at all.
// Embedding endpoints never stream.
func (ep Endpoint) Streams() bool { return ep.Kind != Embed }

var endpoints = map[string]Endpoint{
	"/api/chat":            {Ollama, Chat, "/api/chat"},
	"/api/generate":        {Ollama, Generate, "/api/generate"},
	"/api/embed":           {Ollama, Embed, "/api/embed"},
	"/api/embeddings":      {Ollama, Embed, "/api/embeddings"},
	"/v1/chat/completions": {OpenAI, Chat, "/v1/chat/completions"},
	"/v1/completions":      {OpenAI, Completion, "/v1/completions"},
	"/v1/embeddings":       {OpenAI, Embed, "/v1/embeddings"},
	"/v1/responses":        {OpenAI, Responses, "/v1/responses"},
}

// Lookup returns the model endpoint for a request path: "/api/chat",
// "/api/generate", "/api/embed", "/api/embeddings", "/v1/chat/completions",
// "/v1/completions", "/v1/embeddings" or "/v1/responses". The path must match
// exactly (no query string, no trailing slash); any other path, including the
// metadata endpoints (/api/tags, /v1/models, ...), reports false.
func Lookup(path string) (Endpoint, bool) {
	ep, ok := endpoints[path]
	return ep, ok
}

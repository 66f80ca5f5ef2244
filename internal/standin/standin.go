// Package standin implements a small stand-in model server that answers
// the way a real Ollama 0.24.0 server does, byte for byte, for a handful of
// tiny models whose replies it makes up. End-to-end tests use it as a fake
// upstream, and it lets people without Ollama try the gateway.
//
// It serves Ollama's native API (/api/...) and its OpenAI-compatible API
// (/v1/...). Statuses, the headers a handler sets, field order, number and
// timestamp formats, NDJSON and SSE framing and error texts follow captures
// of a real server (see testdata); only values that legitimately vary from
// run to run differ: generated words, timestamps, durations, ids, token
// counts and embedding values.
//
// Generated text is deterministic: words from a small vocabulary, chosen by
// a generator seeded from the input text and the seed option. A model says
// num_predict (or max_tokens, or max_output_tokens) tokens, with done
// reason "length", or else 12 tokens with done reason "stop". Every token
// is a word with a space before it. The prompt token count is the number of
// whitespace-separated words of the input plus a fixed overhead per
// message; the eval count is the number of tokens said, plus one for the
// end-of-sequence token when the reason is "stop".
package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// version is the Ollama version the stand-in answers as.
const version = "0.24.0"

// Options configures a [Server].
type Options struct {
	// TokenDelay is the pause between streamed chunks (0: none).
	// Unstreamed replies take the same total time before they are written.
	TokenDelay time.Duration

	// OnResponse, if set, is called once per request after the handler has
	// written its whole response, with the request path and exactly the body
	// bytes written (all frames concatenated), for tests that compare what a
	// client received with what the upstream sent. It must be safe to call
	// concurrently.
	OnResponse func(path string, status int, body []byte)

	// Now returns the time stamped into responses (default time.Now).
	Now func() time.Time
}

// Server is an http.Handler that answers like an Ollama 0.24.0 server.
//
// The models it serves are:
//
//   - tiny (also tiny:latest): the captured model; it streams words from a
//     small vocabulary and supports neither thinking nor tools.
//   - tiny-slow: like tiny, but waits at least 20ms between streamed chunks.
//   - tiny-error: streamed requests get three normal chunks and then a
//     mid-stream error, written exactly as Ollama writes one, and the
//     stream ends. On the native API that is an {"error":"..."} line. On
//     /v1/chat/completions and /v1/completions Ollama's middleware decodes
//     that line as an empty answer, so the error becomes an empty chunk
//     whose model is "" and no [DONE] follows; on /v1/responses it gives no
//     event at all and the stream just stops. Unstreamed requests get
//     status 500 and the error in the dialect of the path.
//   - tiny-stall: streams one chunk, then blocks until the client goes away
//     (the request context is cancelled) or ten minutes pass.
//   - tiny-think: supports thinking (on by default, as for real thinking
//     models) and tools; with tools, it answers with one tool call.
//
// /api/copy, /api/create and /api/delete change the set of models of the
// Server they are sent to. A Server is safe for concurrent use.
type Server struct {
	opts Options
	seq  atomic.Uint64

	mu     sync.Mutex
	models map[string]*model    // by lower-cased full name
	loaded map[string]time.Time // full name -> expiry, as /api/ps lists
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{
		opts:   opts,
		models: make(map[string]*model),
		loaded: make(map[string]time.Time),
	}
	for _, m := range builtinModels() {
		s.models[m.key()] = m
	}
	return s
}

// Models lists the names of the models s serves, as /api/tags does (for
// example "tiny:latest"), most recently modified first.
func (s *Server) Models() []string {
	var names []string
	for _, m := range s.sortedModels() {
		names = append(names, m.name.displayShortest())
	}
	return names
}

// now returns the current time in UTC, as Ollama stamps responses.
func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// next returns a new number for ids.
func (s *Server) next() uint64 { return s.seq.Add(1) }

// ServeHTTP answers r as Ollama 0.24.0 would. It writes every frame of a
// streamed answer and flushes it before the next, waiting
// Options.TokenDelay between frames; it stops when the request context
// ends (the client went away). Once the whole response is written it calls
// Options.OnResponse, if set.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, keep: s.opts.OnResponse != nil && r.Method != http.MethodHead}
	s.route(rec, r)
	if s.opts.OnResponse != nil {
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		s.opts.OnResponse(r.URL.Path, status, rec.body.Bytes())
	}
}

// A handler serves one route; param is the value of the route's :model
// segment, if it has one.
type handler func(s *Server, w http.ResponseWriter, r *http.Request, param string)

type route struct {
	method  string
	pattern string // a trailing ":model" segment matches one path segment
	serve   handler
}

// methodOrder is the order in which Ollama's router first registers each
// method, which is the order of the methods in an Allow header.
var methodOrder = []string{http.MethodHead, http.MethodGet, http.MethodPost, http.MethodDelete}

var routes = []route{
	{http.MethodHead, "/", (*Server).handleRoot},
	{http.MethodGet, "/", (*Server).handleRoot},
	{http.MethodHead, "/api/version", (*Server).handleVersion},
	{http.MethodGet, "/api/version", (*Server).handleVersion},
	{http.MethodPost, "/api/pull", (*Server).handlePull},
	{http.MethodPost, "/api/push", (*Server).handlePush},
	{http.MethodHead, "/api/tags", (*Server).handleTags},
	{http.MethodGet, "/api/tags", (*Server).handleTags},
	{http.MethodPost, "/api/show", (*Server).handleShow},
	{http.MethodDelete, "/api/delete", (*Server).handleDelete},
	{http.MethodPost, "/api/create", (*Server).handleCreate},
	{http.MethodPost, "/api/copy", (*Server).handleCopy},
	{http.MethodGet, "/api/ps", (*Server).handlePs},
	{http.MethodPost, "/api/generate", (*Server).handleGenerate},
	{http.MethodPost, "/api/chat", (*Server).handleChat},
	{http.MethodPost, "/api/embed", (*Server).handleEmbed},
	{http.MethodPost, "/api/embeddings", (*Server).handleEmbeddings},
	{http.MethodPost, "/v1/chat/completions", (*Server).handleChatCompletions},
	{http.MethodPost, "/v1/completions", (*Server).handleCompletions},
	{http.MethodPost, "/v1/embeddings", (*Server).handleOpenAIEmbeddings},
	{http.MethodGet, "/v1/models", (*Server).handleOpenAIModels},
	{http.MethodGet, "/v1/models/:model", (*Server).handleOpenAIModel},
	{http.MethodPost, "/v1/responses", (*Server).handleResponses},
}

// match reports whether path matches pattern, and the :model segment.
func match(pattern, path string) (string, bool) {
	if prefix, ok := strings.CutSuffix(pattern, ":model"); ok {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok || rest == "" || strings.Contains(rest, "/") {
			return "", false
		}
		return rest, true
	}
	return "", pattern == path
}

func find(method, path string) (handler, string) {
	for _, rt := range routes {
		if rt.method != method {
			continue
		}
		if param, ok := match(rt.pattern, path); ok {
			return rt.serve, param
		}
	}
	return nil, ""
}

// route dispatches r the way Ollama's router (gin, with
// HandleMethodNotAllowed and trailing-slash redirects) does.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if h, param := find(r.Method, p); h != nil {
		h(s, w, r, param)
		return
	}
	if p != "/" && r.Method != http.MethodConnect {
		alt := p + "/"
		if len(p) > 1 && strings.HasSuffix(p, "/") {
			alt = p[:len(p)-1]
		}
		if h, _ := find(r.Method, alt); h != nil {
			code := http.StatusMovedPermanently
			if r.Method != http.MethodGet {
				code = http.StatusTemporaryRedirect
			}
			u := *r.URL
			u.Path = alt
			u.RawPath = ""
			http.Redirect(w, r, u.String(), code)
			return
		}
	}
	var allowed []string
	for _, m := range methodOrder {
		if m == r.Method {
			continue
		}
		if h, _ := find(m, p); h != nil {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writePlain(w, http.StatusMethodNotAllowed, "405 method not allowed")
		return
	}
	writePlain(w, http.StatusNotFound, "404 page not found")
}

// writePlain writes gin's default 404 and 405 bodies.
func writePlain(w http.ResponseWriter, status int, body string) {
	w.Header()["Content-Type"] = []string{"text/plain"}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request, _ string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "Ollama is running")
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, struct {
		Version string `json:"version"`
	}{version})
}

// A recorder passes a response through and keeps its status and, if keep
// is set, its body bytes.
type recorder struct {
	http.ResponseWriter
	keep   bool
	status int
	body   bytes.Buffer
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.keep {
		rec.body.Write(p)
	}
	return rec.ResponseWriter.Write(p)
}

// Flush sends buffered data to the client, if the underlying writer can.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// errorBody is Ollama's native error object, {"error":"..."}.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON writes v as gin's c.JSON does: a Content-Type of
// "application/json; charset=utf-8" unless one is already set, the status,
// and the compact JSON with no trailing newline in one write (so net/http
// adds a Content-Length to small bodies).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"json: unsupported value"}`)
	}
	h := w.Header()
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
	}
	w.WriteHeader(status)
	w.Write(b)
}

// encode returns v as json.Encoder writes it: compact, with a newline.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{}`)
	}
	return append(b, '\n')
}

// decodeJSON decodes the first JSON value of body into v, as gin's
// ShouldBindJSON does (trailing data is ignored).
func decodeJSON(body io.Reader, v any) error {
	return json.NewDecoder(body).Decode(v)
}

// bindError returns the message Ollama gives for a request body that did
// not decode.
func bindError(err error) string {
	if errors.Is(err, io.EOF) {
		return "missing request body"
	}
	return errorText(err)
}

// wireNames maps the Go names of the request types of this package to the
// names their counterparts have in Ollama, which appear in decoding errors.
var wireNames = map[string]string{
	"chatRequest":               "api.ChatRequest",
	"generateRequest":           "api.GenerateRequest",
	"embedRequest":              "api.EmbedRequest",
	"embeddingRequest":          "api.EmbeddingRequest",
	"message":                   "api.Message",
	"Alias":                     "api.Alias", // in message.UnmarshalJSON, as in Ollama's
	"toolCall":                  "api.ToolCall",
	"toolCallFunction":          "api.ToolCallFunction",
	"toolCallFunctionArguments": "api.ToolCallFunctionArguments",
	"tool":                      "api.Tool",
	"tools":                     "api.Tools",
	"toolFunction":              "api.ToolFunction",
	"toolFunctionParameters":    "api.ToolFunctionParameters",
	"imageData":                 "api.ImageData",
	"duration":                  "api.Duration",
	"thinkValue":                "api.ThinkValue",
	"pullRequest":               "api.PullRequest",
	"pushRequest":               "api.PushRequest",
	"createRequest":             "api.CreateRequest",
	"copyRequest":               "api.CopyRequest",
	"deleteRequest":             "api.DeleteRequest",
	"showRequest":               "api.ShowRequest",
	"openaiMessage":             "openai.Message",
	"openaiToolCall":            "openai.ToolCall",
	"openaiEmbedRequest":        "openai.EmbedRequest",
	"chatCompletionRequest":     "openai.ChatCompletionRequest",
	"completionRequest":         "openai.CompletionRequest",
	"streamOptions":             "openai.StreamOptions",
	"responseFormat":            "openai.ResponseFormat",
	"jsonSchema":                "openai.JsonSchema",
	"reasoning":                 "openai.Reasoning",
	"responsesRequest":          "openai.ResponsesRequest",
	"responsesInput":            "openai.ResponsesInput",
	"responsesInputMessage":     "openai.ResponsesInputMessage",
	"responsesReasoning":        "openai.ResponsesReasoning",
	"responsesText":             "openai.ResponsesText",
	"responsesTextFormat":       "openai.ResponsesTextFormat",
	"responsesTool":             "openai.ResponsesTool",
	"responsesFunctionCall":     "openai.ResponsesFunctionCall",
	"responsesFunctionCallOut":  "openai.ResponsesFunctionCallOutput",
	"responsesReasoningInput":   "openai.ResponsesReasoningInput",
}

var qualifiedName = regexp.MustCompile(`\bstandin\.([A-Za-z0-9_]+)`)

// wireType renames the types of this package in a type string as Ollama
// names them.
func wireType(s string) string {
	return qualifiedName.ReplaceAllStringFunc(s, func(q string) string {
		if n, ok := wireNames[strings.TrimPrefix(q, "standin.")]; ok {
			return n
		}
		return q
	})
}

// errorText returns the text of a decoding error as Ollama, whose request
// types live in its packages api and openai, reports it.
func errorText(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Type != nil {
		st := te.Struct
		if n, ok := wireNames[st]; ok {
			_, st, _ = strings.Cut(n, ".")
		}
		typ := wireType(te.Type.String())
		if st != "" || te.Field != "" {
			return "json: cannot unmarshal " + te.Value + " into Go struct field " + st + "." + te.Field + " of type " + typ
		}
		return "json: cannot unmarshal " + te.Value + " into Go value of type " + typ
	}
	return wireType(err.Error())
}

// typeName returns the name of v's dynamic type as %T prints it, with this
// package's types named as Ollama names its own.
func typeName(v any) string {
	if v == nil {
		return "<nil>"
	}
	return wireType(reflect.TypeOf(v).String())
}

// A sink receives what a native handler produces. The native endpoints
// write it to the client as Ollama's handlers do; the OpenAI-compatible
// endpoints translate it first, as Ollama's middleware does.
type sink interface {
	// header returns the response header.
	header() http.Header
	// reply writes a whole, unstreamed response: an errorBody if status
	// is not 200.
	reply(status int, v any)
	// frame writes one frame of a streamed response and flushes it. An
	// errorBody is a mid-stream error. frame reports whether the write
	// succeeded.
	frame(v any) bool
}

// nativeSink writes what native handlers produce unchanged.
type nativeSink struct{ w http.ResponseWriter }

func (n nativeSink) header() http.Header     { return n.w.Header() }
func (n nativeSink) reply(status int, v any) { writeJSON(n.w, status, v) }

func (n nativeSink) frame(v any) bool {
	_, err := n.w.Write(encode(v))
	flush(n.w)
	return err == nil
}

// pause waits d, or until ctx is done; it reports whether ctx is still live.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// stallTime is how long tiny-stall blocks.
const stallTime = 10 * time.Minute

// An outcome is how a run of steps ended.
type outcome int

const (
	finished outcome = iota // every step was taken
	failed                  // tiny-error failed, and fail wrote the error
	gone                    // the client went away
)

// steps paces the n chunks of an answer by model m: it waits the token
// delay before every chunk but the first and before the final one, and it
// applies the behaviour of the control models. step(i) emits chunk i and
// reports whether that worked; tiny-error calls fail instead of emitting
// chunk errorAfter (or the final chunk, if there are fewer). steps returns
// the time spent waiting.
func (s *Server) steps(ctx context.Context, m *model, n int, step func(i int) bool, fail func(msg string)) (time.Duration, outcome) {
	d := s.delay(m)
	var waited time.Duration
	for i := range n {
		if i > 0 {
			if !pause(ctx, d) {
				return waited, gone
			}
			waited += d
		}
		if m.kind == kindError && i == errorAfter {
			fail(runnerError)
			return waited, failed
		}
		if !step(i) {
			return waited, gone
		}
		if m.kind == kindStall && i == 0 && !pause(ctx, stallTime) {
			return waited, gone
		}
	}
	if n > 0 {
		if !pause(ctx, d) {
			return waited, gone
		}
		waited += d
	}
	if m.kind == kindError {
		fail(runnerError)
		return waited, failed
	}
	if ctx.Err() != nil {
		return waited, gone
	}
	return waited, finished
}

const (
	// errorAfter is the number of chunks tiny-error sends before failing.
	errorAfter = 3
	// runnerError is the error tiny-error fails with, as Ollama reports a
	// model runner that died.
	runnerError = "an error was encountered while running the model: unexpected EOF"
	// slowDelay is tiny-slow's least pause between chunks.
	slowDelay = 20 * time.Millisecond
)

// delay returns the pause between chunks for m.
func (s *Server) delay(m *model) time.Duration {
	d := s.opts.TokenDelay
	if m.kind == kindSlow && d < slowDelay {
		d = slowDelay
	}
	return d
}

// errCanceled is the error a model runner reports when its client went
// away.
var errCanceled = context.Canceled.Error()

// sortedModels returns the models, most recently modified first.
func (s *Server) sortedModels() []*model {
	s.mu.Lock()
	ms := make([]*model, 0, len(s.models))
	for _, m := range s.models {
		ms = append(ms, m)
	}
	s.mu.Unlock()
	slices.SortStableFunc(ms, func(a, b *model) int {
		if c := b.modified.Unix() - a.modified.Unix(); c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key(), b.key())
	})
	return ms
}

// lookup returns the model called n, or nil.
func (s *Server) lookup(n modelName) *model {
	if !n.valid() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.models[n.key()]
}

// load records that m is loaded, as /api/ps shows, for keepAlive (nil: the
// default five minutes; negative: forever; zero: unload after use).
func (s *Server) load(m *model, keepAlive *duration) {
	d := 5 * time.Minute
	if keepAlive != nil {
		d = keepAlive.Duration
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == 0 {
		delete(s.loaded, m.key())
		return
	}
	s.loaded[m.key()] = s.now().Add(d)
}

// unload records that m is no longer loaded.
func (s *Server) unload(m *model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.loaded, m.key())
}

package standin

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The request types below mirror Ollama's, field for field, so that
// encoding/json reports the same errors for malformed requests; errorText
// renames them as Ollama's packages name them.

type chatRequest struct {
	Model           string          `json:"model"`
	Messages        []message       `json:"messages"`
	Stream          *bool           `json:"stream,omitempty"`
	Format          json.RawMessage `json:"format,omitempty"`
	KeepAlive       *duration       `json:"keep_alive,omitempty"`
	Tools           tools           `json:"tools,omitempty"`
	Options         map[string]any  `json:"options"`
	Think           *thinkValue     `json:"think,omitempty"`
	Truncate        *bool           `json:"truncate,omitempty"`
	Shift           *bool           `json:"shift,omitempty"`
	DebugRenderOnly bool            `json:"_debug_render_only,omitempty"`
	Logprobs        bool            `json:"logprobs,omitempty"`
	TopLogprobs     int             `json:"top_logprobs,omitempty"`
}

type generateRequest struct {
	Model           string          `json:"model"`
	Prompt          string          `json:"prompt"`
	Suffix          string          `json:"suffix"`
	System          string          `json:"system"`
	Template        string          `json:"template"`
	Context         []int           `json:"context,omitempty"`
	Stream          *bool           `json:"stream,omitempty"`
	Raw             bool            `json:"raw,omitempty"`
	Format          json.RawMessage `json:"format,omitempty"`
	KeepAlive       *duration       `json:"keep_alive,omitempty"`
	Images          []imageData     `json:"images,omitempty"`
	Options         map[string]any  `json:"options"`
	Think           *thinkValue     `json:"think,omitempty"`
	Truncate        *bool           `json:"truncate,omitempty"`
	Shift           *bool           `json:"shift,omitempty"`
	DebugRenderOnly bool            `json:"_debug_render_only,omitempty"`
	Logprobs        bool            `json:"logprobs,omitempty"`
	TopLogprobs     int             `json:"top_logprobs,omitempty"`
	Width           int32           `json:"width,omitempty"`
	Height          int32           `json:"height,omitempty"`
	Steps           int32           `json:"steps,omitempty"`
}

type embedRequest struct {
	Model      string         `json:"model"`
	Input      any            `json:"input"`
	KeepAlive  *duration      `json:"keep_alive,omitempty"`
	Truncate   *bool          `json:"truncate,omitempty"`
	Dimensions int            `json:"dimensions,omitempty"`
	Options    map[string]any `json:"options"`
}

type embeddingRequest struct {
	Model     string         `json:"model"`
	Prompt    string         `json:"prompt"`
	KeepAlive *duration      `json:"keep_alive,omitempty"`
	Options   map[string]any `json:"options"`
}

type pullRequest struct {
	Model    string `json:"model"`
	Insecure bool   `json:"insecure,omitempty"`
	Username string `json:"username"`
	Password string `json:"password"`
	Stream   *bool  `json:"stream,omitempty"`
	Name     string `json:"name"`
}

type pushRequest pullRequest

type createRequest struct {
	Model        string            `json:"model"`
	Stream       *bool             `json:"stream,omitempty"`
	Quantize     string            `json:"quantize,omitempty"`
	From         string            `json:"from,omitempty"`
	RemoteHost   string            `json:"remote_host,omitempty"`
	Files        map[string]string `json:"files,omitempty"`
	Adapters     map[string]string `json:"adapters,omitempty"`
	Template     string            `json:"template,omitempty"`
	License      any               `json:"license,omitempty"`
	System       string            `json:"system,omitempty"`
	Parameters   map[string]any    `json:"parameters,omitempty"`
	Messages     []message         `json:"messages,omitempty"`
	Renderer     string            `json:"renderer,omitempty"`
	Parser       string            `json:"parser,omitempty"`
	Requires     string            `json:"requires,omitempty"`
	Info         map[string]any    `json:"info,omitempty"`
	Name         string            `json:"name"`
	Quantization string            `json:"quantization,omitempty"`
}

type copyRequest struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

type deleteRequest struct {
	Model string `json:"model"`
	Name  string `json:"name"`
}

type showRequest struct {
	Model    string         `json:"model"`
	System   string         `json:"system"`
	Template string         `json:"template"`
	Verbose  bool           `json:"verbose"`
	Options  map[string]any `json:"options"`
	Name     string         `json:"name"`
}

// message is a chat message, in requests and in responses.
type message struct {
	Role       string      `json:"role"`
	Content    string      `json:"content"`
	Thinking   string      `json:"thinking,omitempty"`
	Images     []imageData `json:"images,omitempty"`
	ToolCalls  []toolCall  `json:"tool_calls,omitempty"`
	ToolName   string      `json:"tool_name,omitempty"`
	ToolCallID string      `json:"tool_call_id,omitempty"`
}

// UnmarshalJSON decodes a message and lower-cases its role, as Ollama does.
func (m *message) UnmarshalJSON(b []byte) error {
	type Alias message
	var a Alias
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*m = message(a)
	m.Role = strings.ToLower(m.Role)
	return nil
}

type imageData []byte

type toolCall struct {
	ID       string           `json:"id,omitempty"`
	Function toolCallFunction `json:"function"`
}

type toolCallFunction struct {
	Index     int                       `json:"index"`
	Name      string                    `json:"name"`
	Arguments toolCallFunctionArguments `json:"arguments"`
}

// toolCallFunctionArguments holds a JSON object, its keys in order.
type toolCallFunctionArguments struct {
	raw []byte
}

// UnmarshalJSON keeps a JSON object (or null) as it is.
func (a *toolCallFunctionArguments) UnmarshalJSON(b []byte) error {
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	a.raw = nil
	if obj != nil {
		a.raw = compact(b)
	}
	return nil
}

// MarshalJSON returns the object, or {} if there is none.
func (a toolCallFunctionArguments) MarshalJSON() ([]byte, error) {
	if len(a.raw) == 0 {
		return []byte("{}"), nil
	}
	return a.raw, nil
}

type tools []tool

type tool struct {
	Type     string       `json:"type"`
	Items    any          `json:"items,omitempty"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string                 `json:"name"`
	Description string                 `json:"description,omitempty"`
	Parameters  toolFunctionParameters `json:"parameters"`
}

type toolFunctionParameters struct {
	Type       string          `json:"type"`
	Defs       any             `json:"$defs,omitempty"`
	Items      any             `json:"items,omitempty"`
	Required   []string        `json:"required,omitempty"`
	Properties json.RawMessage `json:"properties"`
}

// thinkValue is a think setting: true, false, "high", "medium" or "low".
type thinkValue struct {
	Value any
}

// UnmarshalJSON accepts a boolean or one of the effort levels.
func (t *thinkValue) UnmarshalJSON(data []byte) error {
	var b bool
	if err := json.Unmarshal(data, &b); err == nil {
		t.Value = b
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		if s != "high" && s != "medium" && s != "low" {
			return fmt.Errorf("invalid think value: %q (must be \"high\", \"medium\", \"low\", true, or false)", s)
		}
		t.Value = s
		return nil
	}
	return fmt.Errorf("think must be a boolean or string (\"high\", \"medium\", \"low\", true, or false)")
}

// on reports whether thinking is asked for.
func (t *thinkValue) on() bool {
	if t == nil {
		return false
	}
	switch v := t.Value.(type) {
	case bool:
		return v
	case string:
		return v == "high" || v == "medium" || v == "low"
	}
	return false
}

// level returns the effort level, if t is one.
func (t *thinkValue) level() (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(string)
	return s, ok
}

// duration is a keep_alive value: seconds, or a Go duration string.
type duration struct {
	time.Duration
}

// UnmarshalJSON decodes a number of seconds or a duration string; negative
// values mean forever.
func (d *duration) UnmarshalJSON(b []byte) (err error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	d.Duration = 5 * time.Minute
	switch t := v.(type) {
	case float64:
		if t < 0 {
			d.Duration = time.Duration(math.MaxInt64)
		} else {
			d.Duration = time.Duration(t * float64(time.Second))
		}
	case string:
		d.Duration, err = time.ParseDuration(t)
		if err != nil {
			return err
		}
		if d.Duration < 0 {
			d.Duration = time.Duration(math.MaxInt64)
		}
	default:
		//lint:ignore ST1005 Ollama's own message, reproduced byte for byte
		return fmt.Errorf("Unsupported type: '%s'", reflect.TypeOf(v))
	}
	return nil
}

// metrics are the timings and counts of a finished generation.
type metrics struct {
	TotalDuration      time.Duration `json:"total_duration,omitempty"`
	LoadDuration       time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount    int           `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration time.Duration `json:"prompt_eval_duration,omitempty"`
	EvalCount          int           `json:"eval_count,omitempty"`
	EvalDuration       time.Duration `json:"eval_duration,omitempty"`
}

type chatResponse struct {
	Model      string    `json:"model"`
	CreatedAt  time.Time `json:"created_at"`
	Message    message   `json:"message"`
	Done       bool      `json:"done"`
	DoneReason string    `json:"done_reason,omitempty"`
	metrics
}

type generateResponse struct {
	Model      string    `json:"model"`
	CreatedAt  time.Time `json:"created_at"`
	Response   string    `json:"response"`
	Thinking   string    `json:"thinking,omitempty"`
	Done       bool      `json:"done"`
	DoneReason string    `json:"done_reason,omitempty"`
	Context    []int     `json:"context,omitempty"`
	metrics
}

type embedResponse struct {
	Model           string        `json:"model"`
	Embeddings      [][]float32   `json:"embeddings"`
	TotalDuration   time.Duration `json:"total_duration,omitempty"`
	LoadDuration    time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount int           `json:"prompt_eval_count,omitempty"`
}

type embeddingResponse struct {
	Embedding []float64 `json:"embedding"`
}

type progressResponse struct {
	Status    string `json:"status"`
	Digest    string `json:"digest,omitempty"`
	Total     int64  `json:"total,omitempty"`
	Completed int64  `json:"completed,omitempty"`
}

type listModel struct {
	Name       string       `json:"name"`
	Model      string       `json:"model"`
	ModifiedAt time.Time    `json:"modified_at"`
	Size       int64        `json:"size"`
	Digest     string       `json:"digest"`
	Details    modelDetails `json:"details,omitempty"`
}

type listResponse struct {
	Models []listModel `json:"models"`
}

type processModel struct {
	Name          string       `json:"name"`
	Model         string       `json:"model"`
	Size          int64        `json:"size"`
	Digest        string       `json:"digest"`
	Details       modelDetails `json:"details,omitempty"`
	ExpiresAt     time.Time    `json:"expires_at"`
	SizeVRAM      int64        `json:"size_vram"`
	ContextLength int          `json:"context_length"`
}

type showResponse struct {
	License      string         `json:"license,omitempty"`
	Modelfile    string         `json:"modelfile,omitempty"`
	Parameters   string         `json:"parameters,omitempty"`
	Template     string         `json:"template,omitempty"`
	System       string         `json:"system,omitempty"`
	Details      modelDetails   `json:"details,omitempty"`
	ModelInfo    map[string]any `json:"model_info"`
	Tensors      []tensor       `json:"tensors,omitempty"`
	Capabilities []string       `json:"capabilities,omitempty"`
	ModifiedAt   time.Time      `json:"modified_at,omitempty"`
}

// genOptions are the model options the stand-in heeds.
type genOptions struct {
	seed       *int
	numPredict int
	stop       []string
}

// optionKinds gives the kind of each model option Ollama knows.
var optionKinds = map[string]string{
	"num_keep": "int", "seed": "int", "num_predict": "int", "top_k": "int",
	"repeat_last_n": "int", "num_ctx": "int", "num_batch": "int",
	"num_gpu": "int", "main_gpu": "int", "num_thread": "int",
	"top_p": "float32", "min_p": "float32", "typical_p": "float32",
	"temperature": "float32", "repeat_penalty": "float32",
	"presence_penalty": "float32", "frequency_penalty": "float32",
	"stop": "array", "use_mmap": "boolean",
}

// parseOptions checks model options as Ollama does and returns the ones
// that shape the answer.
func parseOptions(opts map[string]any) (genOptions, error) {
	var g genOptions
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := opts[k]
		kind, known := optionKinds[k]
		if !known || v == nil {
			continue
		}
		switch kind {
		case "int":
			var n int
			switch t := v.(type) {
			case float64:
				n = int(t)
			case int:
				n = t
			case int64:
				n = int(t)
			default:
				return g, fmt.Errorf("option %q must be of type integer", k)
			}
			switch k {
			case "seed":
				g.seed = &n
			case "num_predict":
				g.numPredict = n
			}
		case "float32":
			if _, ok := v.(float64); !ok {
				return g, fmt.Errorf("option %q must be of type float32", k)
			}
		case "boolean":
			if _, ok := v.(bool); !ok {
				return g, fmt.Errorf("option %q must be of type boolean", k)
			}
		case "array":
			items, ok := v.([]any)
			if !ok {
				return g, fmt.Errorf("option %q must be of type array", k)
			}
			g.stop = g.stop[:0]
			for _, it := range items {
				str, ok := it.(string)
				if !ok {
					return g, fmt.Errorf("option %q must be of an array of strings", k)
				}
				g.stop = append(g.stop, str)
			}
		}
	}
	return g, nil
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, _ string) {
	var req chatRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	s.chat(r.Context(), &req, nativeSink{w})
}

// chat answers a chat request as Ollama's chat handler does, checking the
// request in the same order.
func (s *Server) chat(ctx context.Context, req *chatRequest, out sink) {
	fail := func(status int, format string, args ...any) {
		out.reply(status, errorBody{fmt.Sprintf(format, args...)})
	}
	if req.TopLogprobs < 0 || req.TopLogprobs > 20 {
		fail(http.StatusBadRequest, "top_logprobs must be between 0 and 20")
		return
	}
	name := parseName(req.Model)
	if !name.valid() {
		fail(http.StatusBadRequest, "model is required")
		return
	}
	m := s.lookup(name)
	if m == nil {
		fail(http.StatusNotFound, "model '%s' not found", req.Model)
		return
	}
	if len(req.Messages) == 0 && req.KeepAlive != nil && req.KeepAlive.Duration == 0 {
		s.unload(m)
		out.reply(http.StatusOK, chatResponse{Model: req.Model, CreatedAt: s.now(), Message: message{Role: "assistant"}, Done: true, DoneReason: "unload"})
		return
	}
	think := req.Think
	if m.thinks() {
		if think == nil {
			think = &thinkValue{Value: true}
		}
	} else if think.on() {
		fail(http.StatusBadRequest, "%q does not support thinking", req.Model)
		return
	}
	if len(req.Tools) > 0 && !m.usesTools() {
		fail(http.StatusBadRequest, "%s does not support tools", m.name)
		return
	}
	opts, err := parseOptions(req.Options)
	if err != nil {
		fail(http.StatusInternalServerError, "%s", err)
		return
	}
	s.load(m, req.KeepAlive)
	if len(req.Messages) == 0 {
		out.reply(http.StatusOK, chatResponse{Model: req.Model, CreatedAt: s.now(), Message: message{Role: "assistant"}, Done: true, DoneReason: "load"})
		return
	}
	if level, ok := think.level(); ok {
		fail(http.StatusBadRequest, "think value %q is not supported for this model", level)
		return
	}

	msgs := req.Messages
	if m.system != "" && msgs[0].Role != "system" {
		msgs = append([]message{{Role: "system", Content: m.system}}, msgs...)
	}
	var text strings.Builder
	prompt := 3
	for _, msg := range msgs {
		text.WriteString(msg.Role + "\n" + msg.Content + "\n")
		prompt += words(msg.Content) + 4
	}
	in := genInput{text: text.String(), promptTokens: prompt, opts: opts, think: think.on(), format: req.Format}
	if len(req.Tools) > 0 && msgs[len(msgs)-1].Role != "tool" {
		in.tools = req.Tools
	}
	g := s.generate(in)
	stream := req.Stream == nil || *req.Stream
	s.runChat(ctx, m, req.Model, g, stream, out)
}

// chatFrames returns the streamed messages of g, before the final one.
func (g *generation) chatFrames() []message {
	var fs []message
	for _, t := range g.thinking {
		fs = append(fs, message{Role: "assistant", Thinking: t})
	}
	if len(g.calls) > 0 {
		fs = append(fs, message{Role: "assistant", ToolCalls: g.calls})
	}
	for _, t := range g.content {
		fs = append(fs, message{Role: "assistant", Content: t})
	}
	return fs
}

// runChat writes g as a chat answer.
func (s *Server) runChat(ctx context.Context, m *model, name string, g *generation, stream bool, out sink) {
	frames := g.chatFrames()
	if stream {
		out.header().Set("Content-Type", "application/x-ndjson")
	}
	wrote := false
	waited, res := s.steps(ctx, m, len(frames), func(i int) bool {
		if !stream {
			return true
		}
		wrote = true
		return out.frame(chatResponse{Model: name, CreatedAt: s.now(), Message: frames[i]})
	}, func(msg string) { s.failGeneration(stream, wrote, msg, out) })
	switch res {
	case failed:
		return
	case gone:
		if !stream {
			out.reply(http.StatusInternalServerError, errorBody{errCanceled})
		}
		return
	}
	done := chatResponse{Model: name, CreatedAt: s.now(), Message: message{Role: "assistant"}, Done: true, DoneReason: g.reason, metrics: g.metrics(waited)}
	if stream {
		out.frame(done)
		return
	}
	done.Message.Content = g.text()
	done.Message.Thinking = g.thought()
	done.Message.ToolCalls = g.calls
	out.reply(http.StatusOK, done)
}

// failGeneration writes a model runner's error as Ollama does: as the
// whole reply if nothing was streamed yet, else as a last frame.
func (s *Server) failGeneration(stream, wrote bool, msg string, out sink) {
	switch {
	case !stream:
		out.reply(http.StatusInternalServerError, errorBody{msg})
	case !wrote:
		out.header().Set("Content-Type", "application/json")
		out.reply(http.StatusInternalServerError, errorBody{msg})
	default:
		out.frame(errorBody{msg})
	}
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request, _ string) {
	var req generateRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	s.complete(r.Context(), &req, nativeSink{w})
}

// complete answers a generate request as Ollama's generate handler does.
func (s *Server) complete(ctx context.Context, req *generateRequest, out sink) {
	fail := func(status int, format string, args ...any) {
		out.reply(status, errorBody{fmt.Sprintf(format, args...)})
	}
	if req.TopLogprobs < 0 || req.TopLogprobs > 20 {
		fail(http.StatusBadRequest, "top_logprobs must be between 0 and 20")
		return
	}
	m := s.lookup(parseName(req.Model))
	if m == nil {
		fail(http.StatusNotFound, "model '%s' not found", req.Model)
		return
	}
	if req.Prompt == "" && req.KeepAlive != nil && req.KeepAlive.Duration == 0 {
		s.unload(m)
		out.reply(http.StatusOK, generateResponse{Model: req.Model, CreatedAt: s.now(), Done: true, DoneReason: "unload"})
		return
	}
	if req.Raw && (req.Template != "" || req.System != "" || len(req.Context) > 0) {
		fail(http.StatusBadRequest, "raw mode does not support template, system, or context")
		return
	}
	if level, ok := req.Think.level(); ok {
		fail(http.StatusBadRequest, "think value %q is not supported for this model", level)
		return
	}
	think := req.Think
	if m.thinks() {
		if think == nil {
			think = &thinkValue{Value: true}
		}
	} else if think.on() {
		fail(http.StatusBadRequest, "%q does not support thinking", req.Model)
		return
	}
	if req.Suffix != "" {
		fail(http.StatusBadRequest, "%s does not support insert", m.name)
		return
	}
	opts, err := parseOptions(req.Options)
	if err != nil {
		fail(http.StatusInternalServerError, "%s", err)
		return
	}
	s.load(m, req.KeepAlive)
	if req.Prompt == "" {
		out.reply(http.StatusOK, generateResponse{Model: req.Model, CreatedAt: s.now(), Done: true, DoneReason: "load"})
		return
	}

	system := cmp.Or(req.System, m.system)
	prompt := 3 + words(req.Prompt) + 4 + len(req.Context)
	if system != "" && !req.Raw {
		prompt += words(system) + 4
	}
	g := s.generate(genInput{
		text:         system + "\n" + req.Prompt,
		promptTokens: prompt,
		opts:         opts,
		think:        think.on(),
		format:       req.Format,
	})
	stream := req.Stream == nil || *req.Stream
	var ctxTokens []int
	if !req.Raw {
		ctxTokens = g.context(req.Prompt)
	}

	var frames []generateResponse
	for _, t := range g.thinking {
		frames = append(frames, generateResponse{Thinking: t})
	}
	for _, t := range g.content {
		frames = append(frames, generateResponse{Response: t})
	}
	if stream {
		out.header().Set("Content-Type", "application/x-ndjson")
	}
	wrote := false
	waited, res := s.steps(ctx, m, len(frames), func(i int) bool {
		if !stream {
			return true
		}
		wrote = true
		f := frames[i]
		f.Model, f.CreatedAt = req.Model, s.now()
		return out.frame(f)
	}, func(msg string) { s.failGeneration(stream, wrote, msg, out) })
	switch res {
	case failed:
		return
	case gone:
		if !stream {
			out.reply(http.StatusInternalServerError, errorBody{errCanceled})
		}
		return
	}
	done := generateResponse{Model: req.Model, CreatedAt: s.now(), Done: true, DoneReason: g.reason, Context: ctxTokens, metrics: g.metrics(waited)}
	if stream {
		out.frame(done)
		return
	}
	done.Response = g.text()
	done.Thinking = g.thought()
	out.reply(http.StatusOK, done)
}

func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request, _ string) {
	var req embedRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	s.embed(r.Context(), &req, nativeSink{w})
}

// embed answers an embed request as Ollama's embed handler does.
func (s *Server) embed(ctx context.Context, req *embedRequest, out sink) {
	fail := func(status int, format string, args ...any) {
		out.reply(status, errorBody{fmt.Sprintf(format, args...)})
	}
	var input []string
	switch in := req.Input.(type) {
	case string:
		if in != "" {
			input = append(input, in)
		}
	case []any:
		for _, v := range in {
			str, ok := v.(string)
			if !ok {
				fail(http.StatusBadRequest, "invalid input type")
				return
			}
			input = append(input, str)
		}
	case []string:
		input = in
	default:
		if req.Input != nil {
			fail(http.StatusBadRequest, "invalid input type")
			return
		}
	}
	m := s.lookup(parseName(req.Model))
	if m == nil {
		fail(http.StatusNotFound, "model %q not found, try pulling it first", req.Model)
		return
	}
	if _, err := parseOptions(req.Options); err != nil {
		fail(http.StatusInternalServerError, "%s", err)
		return
	}
	s.load(m, req.KeepAlive)
	if len(input) == 0 {
		out.reply(http.StatusOK, embedResponse{Model: req.Model, Embeddings: [][]float32{}})
		return
	}
	if !s.embedding(ctx, m, out) {
		return
	}
	resp := embedResponse{Model: req.Model, Embeddings: make([][]float32, len(input))}
	for i, text := range input {
		resp.Embeddings[i] = truncateEmbedding(embedding(text), req.Dimensions)
		resp.PromptEvalCount += embedTokens(text)
	}
	r := newRand("embed-timing", fmt.Sprint(input))
	resp.LoadDuration = time.Duration(1_500_000 + r.IntN(500_000))
	resp.TotalDuration = resp.LoadDuration + time.Duration(resp.PromptEvalCount*1_000_000+r.IntN(4_000_000))
	out.reply(http.StatusOK, resp)
}

// embedding applies the behaviour of the control models to an embedding
// request; it reports whether to go on.
func (s *Server) embedding(ctx context.Context, m *model, out sink) bool {
	switch m.kind {
	case kindError:
		out.reply(http.StatusInternalServerError, errorBody{runnerError})
		return false
	case kindStall:
		if !pause(ctx, stallTime) {
			out.reply(http.StatusInternalServerError, errorBody{errCanceled})
			return false
		}
	default:
		if !pause(ctx, s.delay(m)) {
			out.reply(http.StatusInternalServerError, errorBody{errCanceled})
			return false
		}
	}
	return true
}

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request, _ string) {
	var req embeddingRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	out := nativeSink{w}
	name := parseName(req.Model)
	if !name.valid() {
		out.reply(http.StatusBadRequest, errorBody{"model is required"})
		return
	}
	m := s.lookup(name)
	if m == nil {
		out.reply(http.StatusNotFound, errorBody{fmt.Sprintf("model %q not found, try pulling it first", req.Model)})
		return
	}
	if _, err := parseOptions(req.Options); err != nil {
		out.reply(http.StatusInternalServerError, errorBody{err.Error()})
		return
	}
	s.load(m, req.KeepAlive)
	if req.Prompt == "" {
		out.reply(http.StatusOK, embeddingResponse{Embedding: []float64{}})
		return
	}
	if !s.embedding(r.Context(), m, out) {
		return
	}
	var e []float64
	for _, v := range rawEmbedding(req.Prompt) {
		e = append(e, float64(v))
	}
	out.reply(http.StatusOK, embeddingResponse{Embedding: e})
}

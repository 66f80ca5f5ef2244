package standin

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The OpenAI-compatible endpoints translate requests into native ones and
// the native answers back, as Ollama's middleware does, quirks included.

type openaiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   any     `json:"param"`
	Code    *string `json:"code"`
}

type openaiErrorResponse struct {
	Error openaiError `json:"error"`
}

// newOpenAIError returns OpenAI's error object for status and msg.
func newOpenAIError(status int, msg string) openaiErrorResponse {
	typ := "api_error"
	switch status {
	case http.StatusBadRequest:
		typ = "invalid_request_error"
	case http.StatusNotFound:
		typ = "not_found_error"
	}
	return openaiErrorResponse{openaiError{Message: msg, Type: typ}}
}

// abortOpenAI writes an error found by the middleware, before the native
// handler runs: as gin's c.AbortWithStatusJSON does.
func abortOpenAI(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, newOpenAIError(status, msg))
}

// writeOpenAIError writes an error the native handler gave, as the
// middleware's response writers translate it: Content-Type
// application/json and a trailing newline.
func writeOpenAIError(w http.ResponseWriter, status int, v any) {
	msg := ""
	if e, ok := v.(errorBody); ok {
		msg = e.Error
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(encode(newOpenAIError(status, msg)))
}

// writeOpenAI writes a translated answer with Content-Type
// application/json, as json.Encoder writes it.
func writeOpenAI(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(encode(v))
}

// writeEvent writes one server-sent event and flushes it.
func writeEvent(w http.ResponseWriter, data []byte) bool {
	w.Header().Set("Content-Type", "text/event-stream")
	_, err := w.Write(data)
	flush(w)
	return err == nil
}

func dataEvent(v any) []byte {
	b, _ := json.Marshal(v)
	return []byte(fmt.Sprintf("data: %s\n\n", b))
}

var doneEvent = []byte("data: [DONE]\n\n")

type openaiMessage struct {
	Role       string           `json:"role"`
	Content    any              `json:"content"`
	Reasoning  string           `json:"reasoning,omitempty"`
	ToolCalls  []openaiToolCall `json:"tool_calls,omitempty"`
	Name       string           `json:"name,omitempty"`
	ToolCallID string           `json:"tool_call_id,omitempty"`
}

type openaiToolCall struct {
	ID       string `json:"id"`
	Index    int    `json:"index"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JsonSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Schema json.RawMessage `json:"schema"`
}

type reasoning struct {
	Effort string `json:"effort,omitempty"`
}

type chatCompletionRequest struct {
	Model            string          `json:"model"`
	Messages         []openaiMessage `json:"messages"`
	Stream           bool            `json:"stream"`
	StreamOptions    *streamOptions  `json:"stream_options"`
	MaxTokens        *int            `json:"max_tokens"`
	Seed             *int            `json:"seed"`
	Stop             any             `json:"stop"`
	Temperature      *float64        `json:"temperature"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	TopP             *float64        `json:"top_p"`
	ResponseFormat   *responseFormat `json:"response_format"`
	Tools            []tool          `json:"tools"`
	Reasoning        *reasoning      `json:"reasoning,omitempty"`
	ReasoningEffort  *string         `json:"reasoning_effort,omitempty"`
	Logprobs         *bool           `json:"logprobs"`
	TopLogprobs      int             `json:"top_logprobs"`
	DebugRenderOnly  bool            `json:"_debug_render_only"`
}

type completionRequest struct {
	Model            string         `json:"model"`
	Prompt           string         `json:"prompt"`
	FrequencyPenalty float32        `json:"frequency_penalty"`
	MaxTokens        *int           `json:"max_tokens"`
	PresencePenalty  float32        `json:"presence_penalty"`
	Seed             *int           `json:"seed"`
	Stop             any            `json:"stop"`
	Stream           bool           `json:"stream"`
	StreamOptions    *streamOptions `json:"stream_options"`
	Temperature      *float32       `json:"temperature"`
	TopP             float32        `json:"top_p"`
	Suffix           string         `json:"suffix"`
	Logprobs         *int           `json:"logprobs"`
	DebugRenderOnly  bool           `json:"_debug_render_only"`
}

type openaiEmbedRequest struct {
	Input          any    `json:"input"`
	Model          string `json:"model"`
	Dimensions     int    `json:"dimensions,omitempty"`
	EncodingFormat string `json:"encoding_format,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(m metrics) usage {
	return usage{m.PromptEvalCount, m.EvalCount, m.PromptEvalCount + m.EvalCount}
}

type choice struct {
	Index        int           `json:"index"`
	Message      openaiMessage `json:"message"`
	FinishReason *string       `json:"finish_reason"`
}

type chunkChoice struct {
	Index        int           `json:"index"`
	Delta        openaiMessage `json:"delta"`
	FinishReason *string       `json:"finish_reason"`
}

type chatCompletion struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	SystemFingerprint string   `json:"system_fingerprint"`
	Choices           []choice `json:"choices"`
	Usage             usage    `json:"usage,omitempty"`
}

type chatCompletionChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             *usage        `json:"usage,omitempty"`
}

type completeChoice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	FinishReason *string `json:"finish_reason"`
}

type completion struct {
	ID                string           `json:"id"`
	Object            string           `json:"object"`
	Created           int64            `json:"created"`
	Model             string           `json:"model"`
	SystemFingerprint string           `json:"system_fingerprint"`
	Choices           []completeChoice `json:"choices"`
	Usage             usage            `json:"usage,omitempty"`
}

type completionChunk struct {
	ID                string           `json:"id"`
	Object            string           `json:"object"`
	Created           int64            `json:"created"`
	Choices           []completeChoice `json:"choices"`
	Model             string           `json:"model"`
	SystemFingerprint string           `json:"system_fingerprint"`
	Usage             *usage           `json:"usage,omitempty"`
}

// reasonPtr returns reason, or nil if it is empty.
func reasonPtr(reason string) *string {
	if reason == "" {
		return nil
	}
	return &reason
}

// openaiToolCalls translates native tool calls.
func openaiToolCalls(calls []toolCall) []openaiToolCall {
	var out []openaiToolCall
	for _, c := range calls {
		var tc openaiToolCall
		tc.ID = c.ID
		tc.Index = c.Function.Index
		tc.Type = "function"
		tc.Function.Name = c.Function.Name
		args, _ := c.Function.Arguments.MarshalJSON()
		tc.Function.Arguments = string(args)
		out = append(out, tc)
	}
	return out
}

func (s *Server) handleChatCompletions(w http.ResponseWriter, r *http.Request, _ string) {
	var req chatCompletionRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		abortOpenAI(w, http.StatusBadRequest, errorText(err))
		return
	}
	if len(req.Messages) == 0 {
		abortOpenAI(w, http.StatusBadRequest, "[] is too short - 'messages'")
		return
	}
	chat, err := fromChatRequest(&req)
	if err != nil {
		abortOpenAI(w, http.StatusBadRequest, err.Error())
		return
	}
	out := &chatSink{w: w, stream: req.Stream, id: fmt.Sprintf("chatcmpl-%d", s.next()%999), created: s.now().Unix()}
	out.usage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	s.chat(r.Context(), chat, out)
}

// fromChatRequest translates a chat completion request.
func fromChatRequest(r *chatCompletionRequest) (*chatRequest, error) {
	var msgs []message
	for _, msg := range r.Messages {
		role := strings.ToLower(msg.Role)
		toolName := ""
		if role == "tool" {
			toolName = msg.Name
			if toolName == "" && msg.ToolCallID != "" {
				toolName = nameFromToolCallID(r.Messages, msg.ToolCallID)
			}
		}
		switch content := msg.Content.(type) {
		case string:
			calls, err := fromOpenAIToolCalls(msg.ToolCalls)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, message{Role: role, Content: content, Thinking: msg.Reasoning, ToolCalls: calls, ToolName: toolName, ToolCallID: msg.ToolCallID})
		case []any:
			for _, c := range content {
				data, ok := c.(map[string]any)
				if !ok {
					return nil, errors.New("invalid message format")
				}
				switch data["type"] {
				case "text":
					text, ok := data["text"].(string)
					if !ok {
						return nil, errors.New("invalid message format")
					}
					msgs = append(msgs, message{Role: role, Content: text})
				case "image_url":
					var url string
					if m, ok := data["image_url"].(map[string]any); ok {
						if url, ok = m["url"].(string); !ok {
							return nil, errors.New("invalid message format")
						}
					} else if url, ok = data["image_url"].(string); !ok {
						return nil, errors.New("invalid message format")
					}
					img, err := decodeImageURL(url)
					if err != nil {
						return nil, err
					}
					msgs = append(msgs, message{Role: role, Images: []imageData{img}})
				default:
					return nil, errors.New("invalid message format")
				}
			}
			if len(msgs) > 0 && len(msg.ToolCalls) > 0 {
				calls, err := fromOpenAIToolCalls(msg.ToolCalls)
				if err != nil {
					return nil, err
				}
				last := &msgs[len(msgs)-1]
				last.ToolCalls, last.ToolName, last.ToolCallID, last.Thinking = calls, toolName, msg.ToolCallID, msg.Reasoning
			}
		default:
			if msg.ToolCalls == nil {
				return nil, fmt.Errorf("invalid message content type: %s", typeName(content))
			}
			calls, err := fromOpenAIToolCalls(msg.ToolCalls)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, message{Role: role, Thinking: msg.Reasoning, ToolCalls: calls, ToolCallID: msg.ToolCallID})
		}
	}

	opts := map[string]any{}
	switch stop := r.Stop.(type) {
	case string:
		opts["stop"] = []any{stop}
	case []any:
		var stops []any
		for _, st := range stop {
			if str, ok := st.(string); ok {
				stops = append(stops, str)
			}
		}
		opts["stop"] = stops
	}
	if r.MaxTokens != nil {
		opts["num_predict"] = *r.MaxTokens
	}
	opts["temperature"] = 1.0
	if r.Temperature != nil {
		opts["temperature"] = *r.Temperature
	}
	if r.Seed != nil {
		opts["seed"] = *r.Seed
	}
	if r.FrequencyPenalty != nil {
		opts["frequency_penalty"] = *r.FrequencyPenalty
	}
	if r.PresencePenalty != nil {
		opts["presence_penalty"] = *r.PresencePenalty
	}
	opts["top_p"] = 1.0
	if r.TopP != nil {
		opts["top_p"] = *r.TopP
	}

	var format json.RawMessage
	if r.ResponseFormat != nil {
		switch strings.ToLower(strings.TrimSpace(r.ResponseFormat.Type)) {
		case "json_object":
			format = json.RawMessage(`"json"`)
		case "json_schema":
			if r.ResponseFormat.JsonSchema != nil {
				format = r.ResponseFormat.JsonSchema.Schema
			}
		}
	}

	var think *thinkValue
	effort := ""
	if r.Reasoning != nil {
		effort = r.Reasoning.Effort
	} else if r.ReasoningEffort != nil {
		effort = *r.ReasoningEffort
	}
	if effort != "" {
		if !slices.Contains([]string{"high", "medium", "low", "none"}, effort) {
			return nil, fmt.Errorf("invalid reasoning value: '%s' (must be \"high\", \"medium\", \"low\", or \"none\")", effort)
		}
		think = &thinkValue{Value: effort}
		if effort == "none" {
			think.Value = false
		}
	}

	stream := r.Stream
	return &chatRequest{
		Model:       r.Model,
		Messages:    msgs,
		Format:      format,
		Options:     opts,
		Stream:      &stream,
		Tools:       r.Tools,
		Think:       think,
		Logprobs:    r.Logprobs != nil && *r.Logprobs,
		TopLogprobs: r.TopLogprobs,
	}, nil
}

func nameFromToolCallID(msgs []openaiMessage, id string) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, tc := range msgs[i].ToolCalls {
			if tc.ID == id {
				return tc.Function.Name
			}
		}
	}
	return ""
}

func fromOpenAIToolCalls(calls []openaiToolCall) ([]toolCall, error) {
	var out []toolCall
	for _, tc := range calls {
		c := toolCall{ID: tc.ID}
		c.Function.Name = tc.Function.Name
		if err := json.Unmarshal([]byte(tc.Function.Arguments), &c.Function.Arguments); err != nil {
			return nil, errors.New("invalid tool call arguments")
		}
		out = append(out, c)
	}
	return out, nil
}

// decodeImageURL decodes a base64 data URL.
func decodeImageURL(url string) (imageData, error) {
	if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
		return nil, errors.New("image URLs are not currently supported, please use base64 encoded data instead")
	}
	data, ok := strings.CutPrefix(url, "data:;base64,")
	for _, t := range []string{"jpeg", "jpg", "png", "webp"} {
		if ok {
			break
		}
		data, ok = strings.CutPrefix(url, "data:image/"+t+";base64,")
	}
	if !ok {
		return nil, errors.New("invalid image input")
	}
	img, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, errors.New("invalid image input")
	}
	return img, nil
}

// chatSink translates chat answers into chat completions.
type chatSink struct {
	w            http.ResponseWriter
	stream       bool
	usage        bool
	id           string
	created      int64
	toolCallSent bool
}

func (c *chatSink) header() http.Header { return c.w.Header() }

func (c *chatSink) reply(status int, v any) {
	if status != http.StatusOK {
		writeOpenAIError(c.w, status, v)
		return
	}
	resp, _ := v.(chatResponse)
	if c.stream {
		c.chunk(resp)
		return
	}
	calls := openaiToolCalls(resp.Message.ToolCalls)
	reason := resp.DoneReason
	if len(calls) > 0 {
		reason = "tool_calls"
	}
	writeOpenAI(c.w, chatCompletion{
		ID:                c.id,
		Object:            "chat.completion",
		Created:           resp.CreatedAt.Unix(),
		Model:             resp.Model,
		SystemFingerprint: "fp_ollama",
		Choices: []choice{{
			Message:      openaiMessage{Role: resp.Message.Role, Content: resp.Message.Content, Reasoning: resp.Message.Thinking, ToolCalls: calls},
			FinishReason: reasonPtr(reason),
		}},
		Usage: usageOf(resp.metrics),
	})
}

// frame translates one streamed chat answer. A mid-stream error object
// decodes, in Ollama's middleware, into an empty chat answer, which
// becomes an empty chunk with no model; the stream then ends without
// [DONE]. The stand-in does the same.
func (c *chatSink) frame(v any) bool {
	resp, _ := v.(chatResponse)
	return c.chunk(resp)
}

func (c *chatSink) chunk(resp chatResponse) bool {
	calls := openaiToolCalls(resp.Message.ToolCalls)
	var reason *string
	if resp.DoneReason != "" {
		reason = reasonPtr(resp.DoneReason)
		if c.toolCallSent || len(calls) > 0 {
			reason = reasonPtr("tool_calls")
		}
	}
	ch := chatCompletionChunk{
		ID:                c.id,
		Object:            "chat.completion.chunk",
		Created:           c.created,
		Model:             resp.Model,
		SystemFingerprint: "fp_ollama",
		Choices: []chunkChoice{{
			Delta:        openaiMessage{Role: "assistant", Content: resp.Message.Content, Reasoning: resp.Message.Thinking, ToolCalls: calls},
			FinishReason: reason,
		}},
	}
	if len(calls) > 0 {
		c.toolCallSent = true
	}
	if !writeEvent(c.w, dataEvent(ch)) {
		return false
	}
	if !resp.Done {
		return true
	}
	if c.usage {
		u := usageOf(resp.metrics)
		ch.Usage = &u
		ch.Choices = []chunkChoice{}
		if !writeEvent(c.w, dataEvent(ch)) {
			return false
		}
	}
	return writeEvent(c.w, doneEvent)
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request, _ string) {
	var req completionRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		abortOpenAI(w, http.StatusBadRequest, errorText(err))
		return
	}
	opts := map[string]any{}
	switch stop := req.Stop.(type) {
	case string:
		opts["stop"] = []any{stop}
	case []any:
		var stops []any
		for _, st := range stop {
			str, ok := st.(string)
			if !ok {
				abortOpenAI(w, http.StatusBadRequest, fmt.Sprintf("invalid type for 'stop' field: %s", typeName(st)))
				return
			}
			stops = append(stops, str)
		}
		opts["stop"] = stops
	}
	if req.MaxTokens != nil {
		opts["num_predict"] = *req.MaxTokens
	}
	opts["temperature"] = 1.0
	if req.Temperature != nil {
		opts["temperature"] = float64(*req.Temperature)
	}
	if req.Seed != nil {
		opts["seed"] = *req.Seed
	}
	opts["frequency_penalty"] = float64(req.FrequencyPenalty)
	opts["presence_penalty"] = float64(req.PresencePenalty)
	opts["top_p"] = 1.0
	if req.TopP != 0 {
		opts["top_p"] = float64(req.TopP)
	}
	stream := req.Stream
	gen := &generateRequest{Model: req.Model, Prompt: req.Prompt, Options: opts, Stream: &stream, Suffix: req.Suffix,
		Logprobs: req.Logprobs != nil && *req.Logprobs > 0}
	if gen.Logprobs {
		gen.TopLogprobs = *req.Logprobs
	}
	out := &completionSink{w: w, stream: req.Stream, id: fmt.Sprintf("cmpl-%d", s.next()%999), created: s.now().Unix()}
	out.usage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	s.complete(r.Context(), gen, out)
}

// completionSink translates generate answers into completions.
type completionSink struct {
	w       http.ResponseWriter
	stream  bool
	usage   bool
	id      string
	created int64
}

func (c *completionSink) header() http.Header { return c.w.Header() }

func (c *completionSink) reply(status int, v any) {
	if status != http.StatusOK {
		writeOpenAIError(c.w, status, v)
		return
	}
	resp, _ := v.(generateResponse)
	if c.stream {
		c.chunk(resp)
		return
	}
	writeOpenAI(c.w, completion{
		ID:                c.id,
		Object:            "text_completion",
		Created:           resp.CreatedAt.Unix(),
		Model:             resp.Model,
		SystemFingerprint: "fp_ollama",
		Choices:           []completeChoice{{Text: resp.Response, FinishReason: reasonPtr(resp.DoneReason)}},
		Usage:             usageOf(resp.metrics),
	})
}

// frame translates one streamed generate answer; a mid-stream error
// becomes an empty chunk, as in Ollama.
func (c *completionSink) frame(v any) bool {
	resp, _ := v.(generateResponse)
	return c.chunk(resp)
}

func (c *completionSink) chunk(resp generateResponse) bool {
	ch := completionChunk{
		ID:                c.id,
		Object:            "text_completion",
		Created:           c.created,
		Choices:           []completeChoice{{Text: resp.Response, FinishReason: reasonPtr(resp.DoneReason)}},
		Model:             resp.Model,
		SystemFingerprint: "fp_ollama",
	}
	if c.usage {
		ch.Usage = &usage{}
	}
	if !writeEvent(c.w, dataEvent(ch)) {
		return false
	}
	if !resp.Done {
		return true
	}
	if c.usage {
		u := usageOf(resp.metrics)
		ch.Usage = &u
		ch.Choices = []completeChoice{}
		if !writeEvent(c.w, dataEvent(ch)) {
			return false
		}
	}
	return writeEvent(c.w, doneEvent)
}

type embedding1 struct {
	Object    string `json:"object"`
	Embedding any    `json:"embedding"`
	Index     int    `json:"index"`
}

type embeddingList struct {
	Object string       `json:"object"`
	Data   []embedding1 `json:"data"`
	Model  string       `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage,omitempty"`
}

func (s *Server) handleOpenAIEmbeddings(w http.ResponseWriter, r *http.Request, _ string) {
	var req openaiEmbedRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		abortOpenAI(w, http.StatusBadRequest, errorText(err))
		return
	}
	if req.EncodingFormat != "" && !strings.EqualFold(req.EncodingFormat, "float") && !strings.EqualFold(req.EncodingFormat, "base64") {
		abortOpenAI(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for 'encoding_format' = %s. Supported values: ['float', 'base64'].", req.EncodingFormat))
		return
	}
	if req.Input == "" {
		req.Input = []any{""}
	}
	if req.Input == nil {
		abortOpenAI(w, http.StatusBadRequest, "invalid input")
		return
	}
	if v, ok := req.Input.([]any); ok && len(v) == 0 {
		abortOpenAI(w, http.StatusBadRequest, "invalid input")
		return
	}
	s.embed(r.Context(), &embedRequest{Model: req.Model, Input: req.Input, Dimensions: req.Dimensions},
		&embedSink{w: w, model: req.Model, base64: strings.EqualFold(req.EncodingFormat, "base64")})
}

// embedSink translates embed answers into embedding lists.
type embedSink struct {
	w      http.ResponseWriter
	model  string
	base64 bool
}

func (e *embedSink) header() http.Header { return e.w.Header() }
func (e *embedSink) frame(v any) bool    { return false }

func (e *embedSink) reply(status int, v any) {
	if status != http.StatusOK {
		writeOpenAIError(e.w, status, v)
		return
	}
	resp, _ := v.(embedResponse)
	var list embeddingList
	if resp.Embeddings != nil {
		list.Object, list.Model = "list", e.model
		for i, vec := range resp.Embeddings {
			var emb any = vec
			if e.base64 {
				var buf bytes.Buffer
				binary.Write(&buf, binary.LittleEndian, vec)
				emb = base64.StdEncoding.EncodeToString(buf.Bytes())
			}
			list.Data = append(list.Data, embedding1{Object: "embedding", Embedding: emb, Index: i})
		}
		list.Usage.PromptTokens = resp.PromptEvalCount
		list.Usage.TotalTokens = resp.PromptEvalCount
	}
	writeOpenAI(e.w, list)
}

type openaiModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) handleOpenAIModels(w http.ResponseWriter, r *http.Request, _ string) {
	s.list(&listSink{w: w})
}

// listSink translates /api/tags into a model list.
type listSink struct{ w http.ResponseWriter }

func (l *listSink) header() http.Header { return l.w.Header() }
func (l *listSink) frame(v any) bool    { return false }

func (l *listSink) reply(status int, v any) {
	if status != http.StatusOK {
		writeOpenAIError(l.w, status, v)
		return
	}
	resp, _ := v.(listResponse)
	list := struct {
		Object string        `json:"object"`
		Data   []openaiModel `json:"data"`
	}{Object: "list"}
	for _, m := range resp.Models {
		list.Data = append(list.Data, openaiModel{ID: m.Name, Object: "model", Created: m.ModifiedAt.Unix(), OwnedBy: parseName(m.Name).namespace})
	}
	writeOpenAI(l.w, list)
}

func (s *Server) handleOpenAIModel(w http.ResponseWriter, r *http.Request, name string) {
	s.show(&showRequest{Name: name}, &modelSink{w: w, name: name})
}

// modelSink translates /api/show into a model object.
type modelSink struct {
	w    http.ResponseWriter
	name string
}

func (m *modelSink) header() http.Header { return m.w.Header() }
func (m *modelSink) frame(v any) bool    { return false }

func (m *modelSink) reply(status int, v any) {
	if status != http.StatusOK {
		writeOpenAIError(m.w, status, v)
		return
	}
	resp, _ := v.(showResponse)
	writeOpenAI(m.w, openaiModel{ID: m.name, Object: "model", Created: resp.ModifiedAt.Unix(), OwnedBy: parseName(m.name).namespace})
}

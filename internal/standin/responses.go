package standin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The Responses API, as Ollama implements it on /v1/responses: requests are
// translated into chat requests, and chat answers into a response object
// or a stream of named server-sent events.

type responsesRequest struct {
	Model           string             `json:"model"`
	Background      bool               `json:"background"`
	Conversation    json.RawMessage    `json:"conversation"`
	Include         []string           `json:"include"`
	Input           responsesInput     `json:"input"`
	Instructions    string             `json:"instructions,omitempty"`
	MaxOutputTokens *int               `json:"max_output_tokens,omitempty"`
	Reasoning       responsesReasoning `json:"reasoning"`
	Temperature     *float64           `json:"temperature"`
	Text            *responsesText     `json:"text,omitempty"`
	TopP            *float64           `json:"top_p"`
	Truncation      *string            `json:"truncation"`
	Tools           []responsesTool    `json:"tools,omitempty"`
	Stream          *bool              `json:"stream,omitempty"`
}

type responsesReasoning struct {
	Effort          string `json:"effort,omitempty"`
	GenerateSummary string `json:"generate_summary,omitempty"`
	Summary         string `json:"summary,omitempty"`
}

type responsesText struct {
	Format *responsesTextFormat `json:"format,omitempty"`
}

type responsesTextFormat struct {
	Type   string          `json:"type"`
	Name   string          `json:"name,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"`
	Strict *bool           `json:"strict,omitempty"`
}

type responsesTool struct {
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Description *string        `json:"description"`
	Strict      *bool          `json:"strict"`
	Parameters  map[string]any `json:"parameters"`
}

// responsesInput is a string, or a list of input items.
type responsesInput struct {
	Text  string
	Items []any // responsesInputMessage, responsesFunctionCall, responsesFunctionCallOut or responsesReasoningInput
}

// UnmarshalJSON decodes a string or a list of input items.
func (r *responsesInput) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		r.Text = s
		return nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return fmt.Errorf("input must be a string or array: %w", err)
	}
	r.Items = make([]any, 0, len(raws))
	for i, raw := range raws {
		item, err := decodeInputItem(raw)
		if err != nil {
			return fmt.Errorf("input[%d]: %w", i, err)
		}
		r.Items = append(r.Items, item)
	}
	return nil
}

type responsesInputMessage struct {
	Type    string
	Role    string
	Content []responsesContent
}

// responsesContent is one part of an input message.
type responsesContent struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL string `json:"image_url,omitempty"`
}

// UnmarshalJSON decodes a message whose content is a string or a list of
// parts.
func (m *responsesInputMessage) UnmarshalJSON(data []byte) error {
	var aux struct {
		Type    string          `json:"type"`
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	m.Type, m.Role = aux.Type, aux.Role
	if len(aux.Content) == 0 {
		return nil
	}
	var s string
	if err := json.Unmarshal(aux.Content, &s); err == nil {
		m.Content = []responsesContent{{Type: "input_text", Text: s}}
		return nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(aux.Content, &raws); err != nil {
		return fmt.Errorf("content must be a string or array: %w", err)
	}
	for i, raw := range raws {
		var c responsesContent
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("content[%d]: %w", i, err)
		}
		switch c.Type {
		case "input_text", "output_text", "input_image", "input_file":
		default:
			return fmt.Errorf("content[%d]: unknown content type: %s", i, c.Type)
		}
		m.Content = append(m.Content, c)
	}
	return nil
}

type responsesFunctionCall struct {
	ID        string `json:"id,omitempty"`
	Type      string `json:"type"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type responsesFunctionCallOut struct {
	Type   string `json:"type"`
	CallID string `json:"call_id"`
	Output any    `json:"output"`
}

type responsesReasoningInput struct {
	ID               string `json:"id,omitempty"`
	Type             string `json:"type"`
	Summary          []any  `json:"summary,omitempty"`
	EncryptedContent string `json:"encrypted_content,omitempty"`
}

func decodeInputItem(data []byte) (any, error) {
	var head struct {
		Type string `json:"type"`
		Role string `json:"role"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, err
	}
	typ := head.Type
	if typ == "" && head.Role != "" {
		typ = "message"
	}
	var item any
	switch typ {
	case "message":
		item = &responsesInputMessage{}
	case "function_call":
		item = &responsesFunctionCall{}
	case "function_call_output":
		item = &responsesFunctionCallOut{}
	case "reasoning":
		item = &responsesReasoningInput{}
	default:
		return nil, fmt.Errorf("unknown input item type: %s", head.Type)
	}
	if err := json.Unmarshal(data, item); err != nil {
		return nil, err
	}
	return item, nil
}

// contentText joins the text of content parts, and fails on parts the
// server does not take.
func contentText(parts []responsesContent) (string, []imageData, error) {
	var text strings.Builder
	var images []imageData
	for _, c := range parts {
		switch c.Type {
		case "input_text", "output_text":
			text.WriteString(c.Text)
		case "input_image":
			if c.ImageURL == "" {
				continue
			}
			img, err := decodeImageURL(c.ImageURL)
			if err != nil {
				return "", nil, err
			}
			images = append(images, img)
		case "input_file":
			return "", nil, fmt.Errorf("file inputs are not currently supported")
		}
	}
	return text.String(), images, nil
}

// fromResponsesRequest translates a Responses request into a chat request.
func fromResponsesRequest(r *responsesRequest) (*chatRequest, error) {
	var msgs []message
	if r.Instructions != "" {
		msgs = append(msgs, message{Role: "system", Content: r.Instructions})
	}
	if r.Input.Text != "" {
		msgs = append(msgs, message{Role: "user", Content: r.Input.Text})
	}
	pending := ""
	for _, item := range r.Input.Items {
		switch v := item.(type) {
		case *responsesReasoningInput:
			pending = v.EncryptedContent
		case *responsesInputMessage:
			text, images, err := contentText(v.Content)
			if err != nil {
				return nil, err
			}
			msg := message{Role: strings.ToLower(v.Role), Content: text, Images: images}
			if msg.Role == "assistant" && pending != "" {
				msg.Thinking, pending = pending, ""
			}
			msgs = append(msgs, msg)
		case *responsesFunctionCall:
			call := toolCall{ID: v.CallID}
			call.Function.Name = v.Name
			if v.Arguments != "" {
				if err := json.Unmarshal([]byte(v.Arguments), &call.Function.Arguments); err != nil {
					return nil, fmt.Errorf("failed to parse function call arguments: %w", err)
				}
			}
			if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
				msgs[n-1].ToolCalls = append(msgs[n-1].ToolCalls, call)
				if pending != "" {
					msgs[n-1].Thinking, pending = pending, ""
				}
			} else {
				msgs = append(msgs, message{Role: "assistant", ToolCalls: []toolCall{call}, Thinking: pending})
				pending = ""
			}
		case *responsesFunctionCallOut:
			content := ""
			switch out := v.Output.(type) {
			case string:
				content = out
			case []any:
				b, _ := json.Marshal(out)
				var parts []responsesContent
				json.Unmarshal(b, &parts)
				text, _, err := contentText(parts)
				if err != nil {
					return nil, err
				}
				content = text
			}
			msgs = append(msgs, message{Role: "tool", Content: content, ToolCallID: v.CallID})
		}
	}
	if pending != "" {
		msgs = append(msgs, message{Role: "assistant", Thinking: pending})
	}

	opts := map[string]any{"temperature": 1.0}
	if r.Temperature != nil {
		opts["temperature"] = *r.Temperature
	}
	if r.TopP != nil {
		opts["top_p"] = *r.TopP
	}
	if r.MaxOutputTokens != nil {
		opts["num_predict"] = *r.MaxOutputTokens
	}

	var think *thinkValue
	switch effort := r.Reasoning.Effort; effort {
	case "":
	case "none":
		think = &thinkValue{Value: false}
	case "low", "medium", "high", "max":
		think = &thinkValue{Value: effort}
	default:
		return nil, fmt.Errorf("invalid reasoning value: %q (must be \"high\", \"medium\", \"low\", \"max\", or \"none\")", effort)
	}

	var ts tools
	for _, t := range r.Tools {
		var params toolFunctionParameters
		if t.Parameters != nil {
			b, err := json.Marshal(t.Parameters)
			if err != nil {
				return nil, fmt.Errorf("failed to marshal tool parameters: %w", err)
			}
			if err := json.Unmarshal(b, &params); err != nil {
				return nil, fmt.Errorf("failed to unmarshal tool parameters: %w", err)
			}
		}
		desc := ""
		if t.Description != nil {
			desc = *t.Description
		}
		ts = append(ts, tool{Type: t.Type, Function: toolFunction{Name: t.Name, Description: desc, Parameters: params}})
	}

	var format json.RawMessage
	if r.Text != nil && r.Text.Format != nil && r.Text.Format.Type == "json_schema" && r.Text.Format.Schema != nil {
		format = r.Text.Format.Schema
	}
	stream := r.Stream != nil && *r.Stream
	return &chatRequest{Model: r.Model, Messages: msgs, Options: opts, Tools: ts, Format: format, Think: think, Stream: &stream}, nil
}

func (s *Server) handleResponses(w http.ResponseWriter, r *http.Request, _ string) {
	if r.Header.Get("Content-Encoding") == "zstd" {
		// Ollama decompresses zstd bodies; the standard library cannot.
		abortOpenAI(w, http.StatusBadRequest, "failed to decompress zstd body")
		return
	}
	var req responsesRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		abortOpenAI(w, http.StatusBadRequest, errorText(err))
		return
	}
	chat, err := fromResponsesRequest(&req)
	if err != nil {
		abortOpenAI(w, http.StatusBadRequest, err.Error())
		return
	}
	stream := *chat.Stream
	out := &responsesSink{
		s:       s,
		w:       w,
		stream:  stream,
		id:      fmt.Sprintf("resp_%d", s.next()%999999),
		itemID:  fmt.Sprintf("msg_%d", s.next()%999999),
		model:   req.Model,
		request: &req,
		first:   true,
	}
	if stream {
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("Connection", "keep-alive")
	}
	s.chat(r.Context(), chat, out)
}

type responsesOutputContent struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
}

type responsesSummary struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type responsesOutputItem struct {
	ID               string                   `json:"id"`
	Type             string                   `json:"type"`
	Status           string                   `json:"status,omitempty"`
	Role             string                   `json:"role,omitempty"`
	Content          []responsesOutputContent `json:"content,omitempty"`
	CallID           string                   `json:"call_id,omitempty"`
	Name             string                   `json:"name,omitempty"`
	Arguments        string                   `json:"arguments,omitempty"`
	Summary          []responsesSummary       `json:"summary,omitempty"`
	EncryptedContent string                   `json:"encrypted_content,omitempty"`
}

type responsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	TotalTokens        int `json:"total_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

type responsesReasoningOutput struct {
	Effort  *string `json:"effort,omitempty"`
	Summary *string `json:"summary,omitempty"`
}

type responsesResponse struct {
	ID                 string                `json:"id"`
	Object             string                `json:"object"`
	CreatedAt          int64                 `json:"created_at"`
	CompletedAt        *int64                `json:"completed_at"`
	Status             string                `json:"status"`
	IncompleteDetails  any                   `json:"incomplete_details"`
	Model              string                `json:"model"`
	PreviousResponseID *string               `json:"previous_response_id"`
	Instructions       *string               `json:"instructions"`
	Output             []responsesOutputItem `json:"output"`
	Error              any                   `json:"error"`
	Tools              []responsesTool       `json:"tools"`
	ToolChoice         any                   `json:"tool_choice"`
	Truncation         string                `json:"truncation"`
	ParallelToolCalls  bool                  `json:"parallel_tool_calls"`
	Text               struct {
		Format any `json:"format"`
	} `json:"text"`
	TopP             float64                   `json:"top_p"`
	PresencePenalty  float64                   `json:"presence_penalty"`
	FrequencyPenalty float64                   `json:"frequency_penalty"`
	TopLogprobs      int                       `json:"top_logprobs"`
	Temperature      float64                   `json:"temperature"`
	Reasoning        *responsesReasoningOutput `json:"reasoning"`
	Usage            *responsesUsage           `json:"usage"`
	MaxOutputTokens  *int                      `json:"max_output_tokens"`
	MaxToolCalls     *int                      `json:"max_tool_calls"`
	Store            bool                      `json:"store"`
	Background       bool                      `json:"background"`
	ServiceTier      string                    `json:"service_tier"`
	Metadata         map[string]any            `json:"metadata"`
	SafetyIdentifier *string                   `json:"safety_identifier"`
	PromptCacheKey   *string                   `json:"prompt_cache_key"`
}

// responsesSink translates chat answers into the Responses API.
type responsesSink struct {
	s       *Server
	w       http.ResponseWriter
	stream  bool
	id      string
	itemID  string
	model   string
	request *responsesRequest

	// Streaming state.
	first          bool
	seq            int
	outputIndex    int
	contentStarted bool
	callsSent      bool
	text           strings.Builder
	thinking       strings.Builder
	reasoningID    string
	reasoningDone  bool
	callItems      []any
}

func (rs *responsesSink) header() http.Header { return rs.w.Header() }

func (rs *responsesSink) reply(status int, v any) {
	if status != http.StatusOK {
		writeOpenAIError(rs.w, status, v)
		return
	}
	resp, _ := v.(chatResponse)
	if rs.stream {
		rs.frame(resp)
		return
	}
	writeOpenAI(rs.w, rs.response(resp))
}

// response returns the unstreamed response object for resp.
func (rs *responsesSink) response(resp chatResponse) responsesResponse {
	req := rs.request
	var output []responsesOutputItem
	if resp.Message.Thinking != "" {
		output = append(output, responsesOutputItem{
			ID:               "rs_" + rs.id,
			Type:             "reasoning",
			Summary:          []responsesSummary{{"summary_text", resp.Message.Thinking}},
			EncryptedContent: resp.Message.Thinking,
		})
	}
	if calls := openaiToolCalls(resp.Message.ToolCalls); len(calls) > 0 {
		for i, c := range calls {
			output = append(output, responsesOutputItem{
				ID: fmt.Sprintf("fc_%s_%d", rs.id, i), Type: "function_call", Status: "completed",
				CallID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments,
			})
		}
	} else {
		output = append(output, responsesOutputItem{
			ID: rs.itemID, Type: "message", Status: "completed", Role: "assistant",
			Content: []responsesOutputContent{{Type: "output_text", Text: resp.Message.Content, Annotations: []any{}, Logprobs: []any{}}},
		})
	}
	out := responsesResponse{
		ID:                rs.id,
		Object:            "response",
		CreatedAt:         resp.CreatedAt.Unix(),
		Status:            "completed",
		Model:             rs.model,
		Output:            output,
		Tools:             req.Tools,
		ToolChoice:        "auto",
		Truncation:        "disabled",
		ParallelToolCalls: true,
		TopP:              1,
		Temperature:       1,
		MaxOutputTokens:   req.MaxOutputTokens,
		Background:        req.Background,
		ServiceTier:       "default",
		Metadata:          map[string]any{},
	}
	if req.Instructions != "" {
		out.Instructions = &req.Instructions
	}
	if req.Truncation != nil {
		out.Truncation = *req.Truncation
	}
	if out.Tools == nil {
		out.Tools = []responsesTool{}
	}
	out.Text.Format = responsesTextFormat{Type: "text"}
	if req.Text != nil && req.Text.Format != nil {
		out.Text.Format = *req.Text.Format
	}
	if req.TopP != nil {
		out.TopP = *req.TopP
	}
	if req.Temperature != nil {
		out.Temperature = *req.Temperature
	}
	if req.Reasoning.Effort != "" || req.Reasoning.Summary != "" {
		out.Reasoning = &responsesReasoningOutput{}
		if req.Reasoning.Effort != "" {
			out.Reasoning.Effort = &req.Reasoning.Effort
		}
		if req.Reasoning.Summary != "" {
			out.Reasoning.Summary = &req.Reasoning.Summary
		}
	}
	u := &responsesUsage{InputTokens: resp.PromptEvalCount, OutputTokens: resp.EvalCount, TotalTokens: resp.PromptEvalCount + resp.EvalCount}
	out.Usage = u
	completed := rs.s.now().Unix()
	out.CompletedAt = &completed
	return out
}

// frame translates one streamed chat answer into events. A mid-stream
// error decodes, in Ollama's middleware, into an empty chat answer, which
// gives no events: the stream just ends.
func (rs *responsesSink) frame(v any) bool {
	resp, _ := v.(chatResponse)
	for _, ev := range rs.events(resp) {
		b, _ := json.Marshal(ev.data)
		if !writeEvent(rs.w, fmt.Appendf(nil, "event: %s\ndata: %s\n\n", ev.name, b)) {
			return false
		}
	}
	return true
}

type event struct {
	name string
	data map[string]any
}

// newEvent numbers an event. Event data are maps, so their keys are
// sorted when marshalled, as Ollama's are.
func (rs *responsesSink) newEvent(name string, data map[string]any) event {
	data["type"] = name
	data["sequence_number"] = rs.seq
	rs.seq++
	return event{name, data}
}

// events returns the events for one chat answer.
func (rs *responsesSink) events(resp chatResponse) []event {
	var evs []event
	if rs.first {
		rs.first = false
		evs = append(evs,
			rs.newEvent("response.created", map[string]any{"response": rs.object("in_progress", []any{}, nil)}),
			rs.newEvent("response.in_progress", map[string]any{"response": rs.object("in_progress", []any{}, nil)}))
	}
	if t := resp.Message.Thinking; t != "" {
		if rs.reasoningID == "" {
			rs.reasoningID = fmt.Sprintf("rs_%d", rs.s.next()%999999)
			evs = append(evs, rs.newEvent("response.output_item.added", map[string]any{
				"output_index": rs.outputIndex,
				"item":         map[string]any{"id": rs.reasoningID, "type": "reasoning", "summary": []any{}},
			}))
		}
		rs.thinking.WriteString(t)
		evs = append(evs, rs.newEvent("response.reasoning_summary_text.delta", map[string]any{
			"item_id": rs.reasoningID, "output_index": rs.outputIndex, "summary_index": 0, "delta": t,
		}))
	}
	if calls := openaiToolCalls(resp.Message.ToolCalls); len(calls) > 0 {
		evs = append(evs, rs.finishReasoning()...)
		for i, c := range calls {
			id := fmt.Sprintf("fc_%d_%d", rs.s.next()%999999, i)
			item := func(status, args string) map[string]any {
				return map[string]any{"id": id, "type": "function_call", "status": status, "call_id": c.ID, "name": c.Function.Name, "arguments": args}
			}
			rs.callItems = append(rs.callItems, item("completed", c.Function.Arguments))
			idx := rs.outputIndex + i
			evs = append(evs, rs.newEvent("response.output_item.added", map[string]any{"output_index": idx, "item": item("in_progress", "")}))
			if c.Function.Arguments != "" {
				evs = append(evs, rs.newEvent("response.function_call_arguments.delta", map[string]any{"item_id": id, "output_index": idx, "delta": c.Function.Arguments}))
			}
			evs = append(evs,
				rs.newEvent("response.function_call_arguments.done", map[string]any{"item_id": id, "output_index": idx, "arguments": c.Function.Arguments}),
				rs.newEvent("response.output_item.done", map[string]any{"output_index": idx, "item": item("completed", c.Function.Arguments)}))
		}
		rs.callsSent = true
	} else if !rs.callsSent && resp.Message.Content != "" {
		evs = append(evs, rs.finishReasoning()...)
		if !rs.contentStarted {
			rs.contentStarted = true
			evs = append(evs,
				rs.newEvent("response.output_item.added", map[string]any{
					"output_index": rs.outputIndex,
					"item":         map[string]any{"id": rs.itemID, "type": "message", "status": "in_progress", "role": "assistant", "content": []any{}},
				}),
				rs.newEvent("response.content_part.added", map[string]any{
					"item_id": rs.itemID, "output_index": rs.outputIndex, "content_index": 0, "part": outputText(""),
				}))
		}
		rs.text.WriteString(resp.Message.Content)
		evs = append(evs, rs.newEvent("response.output_text.delta", map[string]any{
			"item_id": rs.itemID, "output_index": rs.outputIndex, "content_index": 0, "delta": resp.Message.Content, "logprobs": []any{},
		}))
	}
	if resp.Done {
		evs = append(evs, rs.complete(resp)...)
	}
	return evs
}

func outputText(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
}

func (rs *responsesSink) finishReasoning() []event {
	if rs.reasoningID == "" || rs.reasoningDone {
		return nil
	}
	rs.reasoningDone = true
	t := rs.thinking.String()
	evs := []event{
		rs.newEvent("response.reasoning_summary_text.done", map[string]any{
			"item_id": rs.reasoningID, "output_index": rs.outputIndex, "summary_index": 0, "text": t,
		}),
		rs.newEvent("response.output_item.done", map[string]any{
			"output_index": rs.outputIndex,
			"item":         rs.reasoningItem(),
		}),
	}
	rs.outputIndex++
	return evs
}

func (rs *responsesSink) reasoningItem() map[string]any {
	t := rs.thinking.String()
	return map[string]any{
		"id": rs.reasoningID, "type": "reasoning",
		"summary":           []map[string]any{{"type": "summary_text", "text": t}},
		"encrypted_content": t,
	}
}

func (rs *responsesSink) messageItem() map[string]any {
	return map[string]any{
		"id": rs.itemID, "type": "message", "status": "completed", "role": "assistant",
		"content": []map[string]any{outputText(rs.text.String())},
	}
}

// complete returns the closing events.
func (rs *responsesSink) complete(resp chatResponse) []event {
	evs := rs.finishReasoning()
	if !rs.callsSent && rs.contentStarted {
		text := rs.text.String()
		evs = append(evs,
			rs.newEvent("response.output_text.done", map[string]any{
				"item_id": rs.itemID, "output_index": rs.outputIndex, "content_index": 0, "text": text, "logprobs": []any{},
			}),
			rs.newEvent("response.content_part.done", map[string]any{
				"item_id": rs.itemID, "output_index": rs.outputIndex, "content_index": 0, "part": outputText(text),
			}),
			rs.newEvent("response.output_item.done", map[string]any{"output_index": rs.outputIndex, "item": rs.messageItem()}))
	}
	var output []any
	if rs.reasoningID != "" {
		output = append(output, rs.reasoningItem())
	}
	if len(rs.callItems) > 0 {
		output = append(output, rs.callItems...)
	} else if rs.contentStarted {
		output = append(output, rs.messageItem())
	}
	u := map[string]any{
		"input_tokens":          resp.PromptEvalCount,
		"output_tokens":         resp.EvalCount,
		"total_tokens":          resp.PromptEvalCount + resp.EvalCount,
		"input_tokens_details":  map[string]any{"cached_tokens": 0},
		"output_tokens_details": map[string]any{"reasoning_tokens": 0},
	}
	obj := rs.object("completed", output, u)
	obj["completed_at"] = rs.s.now().Unix()
	return append(evs, rs.newEvent("response.completed", map[string]any{"response": obj}))
}

// object returns the response object carried by streamed events.
func (rs *responsesSink) object(status string, output []any, usage map[string]any) map[string]any {
	req := rs.request
	var instructions any
	if req.Instructions != "" {
		instructions = req.Instructions
	}
	truncation := "disabled"
	if req.Truncation != nil {
		truncation = *req.Truncation
	}
	toolList := []any{}
	for _, t := range req.Tools {
		toolList = append(toolList, map[string]any{"type": t.Type, "name": t.Name, "description": t.Description, "strict": t.Strict, "parameters": t.Parameters})
	}
	format := map[string]any{"type": "text"}
	if req.Text != nil && req.Text.Format != nil {
		f := req.Text.Format
		format = map[string]any{"type": f.Type}
		if f.Name != "" {
			format["name"] = f.Name
		}
		if f.Schema != nil {
			format["schema"] = f.Schema
		}
		if f.Strict != nil {
			format["strict"] = *f.Strict
		}
	}
	var reasoning any
	if req.Reasoning.Effort != "" || req.Reasoning.Summary != "" {
		r := map[string]any{"effort": nil, "summary": nil}
		if req.Reasoning.Effort != "" {
			r["effort"] = req.Reasoning.Effort
		}
		if req.Reasoning.Summary != "" {
			r["summary"] = req.Reasoning.Summary
		}
		reasoning = r
	}
	topP, temperature := 1.0, 1.0
	if req.TopP != nil {
		topP = *req.TopP
	}
	if req.Temperature != nil {
		temperature = *req.Temperature
	}
	var us any
	if usage != nil {
		us = usage
	}
	return map[string]any{
		"id":                   rs.id,
		"object":               "response",
		"created_at":           rs.s.now().Unix(),
		"completed_at":         nil,
		"status":               status,
		"incomplete_details":   nil,
		"model":                rs.model,
		"previous_response_id": nil,
		"instructions":         instructions,
		"output":               output,
		"error":                nil,
		"tools":                toolList,
		"tool_choice":          "auto",
		"truncation":           truncation,
		"parallel_tool_calls":  true,
		"text":                 map[string]any{"format": format},
		"top_p":                topP,
		"presence_penalty":     0,
		"frequency_penalty":    0,
		"top_logprobs":         0,
		"temperature":          temperature,
		"reasoning":            reasoning,
		"usage":                us,
		"max_output_tokens":    req.MaxOutputTokens,
		"max_tool_calls":       nil,
		"store":                false,
		"background":           req.Background,
		"service_tier":         "default",
		"metadata":             map[string]any{},
		"safety_identifier":    nil,
		"prompt_cache_key":     nil,
	}
}

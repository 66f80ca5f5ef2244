package record

import (
	"encoding/json"
	"strings"
)

// RequestBody is the stored, readable body of a request record: what the
// model was asked. Images are kept as SHA-256 hashes, never as images.
type RequestBody struct {
	System   string          `json:"system,omitempty"`
	Messages []Message       `json:"messages,omitempty"`
	Prompt   string          `json:"prompt,omitempty"`
	Suffix   string          `json:"suffix,omitempty"`
	Input    []string        `json:"input,omitempty"`
	Images   []string        `json:"images,omitempty"`
	Tools    json.RawMessage `json:"tools,omitempty"`
}

// A Message is one message of a chat.
type Message struct {
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	Thinking   string          `json:"thinking,omitempty"`
	Images     []string        `json:"images,omitempty"`
	ToolCalls  json.RawMessage `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Name       string          `json:"name,omitempty"`
}

// ResponseBody is the stored, readable body of a response record: what the
// model answered (streams reassembled).
type ResponseBody struct {
	Text       string          `json:"text"`
	Thinking   string          `json:"thinking,omitempty"`
	ToolCalls  json.RawMessage `json:"tool_calls,omitempty"`
	Embeddings int             `json:"embeddings,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// Text renders a request body as plain text for people: the system prompt,
// then one "role: content" line per message, or the prompt, or the inputs.
func (b *RequestBody) Text() string {
	var sb strings.Builder
	line := func(prefix, s string) {
		if sb.Len() > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(prefix)
		sb.WriteString(s)
	}
	if b.System != "" {
		line("system: ", b.System)
	}
	for _, m := range b.Messages {
		switch {
		case m.Content != "":
			line(m.Role+": ", m.Content)
		case len(m.ToolCalls) > 0:
			line(m.Role+": [tool calls] ", string(m.ToolCalls))
		}
	}
	if b.Prompt != "" {
		line("", b.Prompt)
	}
	for _, in := range b.Input {
		line("input: ", in)
	}
	return sb.String()
}

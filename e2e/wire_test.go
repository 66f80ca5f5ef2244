package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// answer is what an upstream said in a response body, read independently
// of aitrail's own parser: the text, the thinking, the token counts it gave (-1 when it
// gave none), the number of embedding vectors, and an error message.
type answer struct {
	text       string
	thinking   string
	tokensIn   int64
	tokensOut  int64
	embeddings int
	err        string
}

// answerOf reads a response body of the endpoint path, streamed (NDJSON or
// server-sent events) or not.
func answerOf(t testing.TB, path string, body []byte) answer {
	t.Helper()
	a := answer{tokensIn: -1, tokensOut: -1}
	trimmed := bytes.TrimSpace(body)
	if strings.HasPrefix(path, "/v1/") && !bytes.HasPrefix(trimmed, []byte("{")) {
		for _, ev := range sseEvents(body) {
			if ev.data == "[DONE]" || ev.data == "" {
				continue
			}
			a.add(t, path, []byte(ev.data), true)
		}
		return a
	}
	for _, line := range bytes.Split(trimmed, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			a.add(t, path, line, false)
		}
	}
	return a
}

// add reads one JSON object: an NDJSON line, an SSE event's data, or a
// whole body.
func (a *answer) add(t testing.TB, path string, obj []byte, streamed bool) {
	t.Helper()
	var v struct {
		// Ollama
		Message         *message          `json:"message"`
		Thinking        string            `json:"thinking"`
		Response        json.RawMessage   `json:"response"` // a string from /api/generate
		PromptEvalCount *int64            `json:"prompt_eval_count"`
		EvalCount       *int64            `json:"eval_count"`
		Embeddings      []json.RawMessage `json:"embeddings"`
		Embedding       []json.RawMessage `json:"embedding"`
		Error           json.RawMessage   `json:"error"`
		// OpenAI
		Choices []struct {
			Delta   *message `json:"delta"`
			Message *message `json:"message"`
			Text    string   `json:"text"`
		} `json:"choices"`
		Usage *usage            `json:"usage"`
		Data  []json.RawMessage `json:"data"`
		// Responses
		Type  string `json:"type"`
		Delta string `json:"delta"`
	}
	if err := json.Unmarshal(obj, &v); err != nil {
		t.Fatalf("the upstream's answer on %s has %q: %v", path, obj, err)
	}
	if len(v.Error) > 0 && string(v.Error) != "null" {
		var msg string
		if json.Unmarshal(v.Error, &msg) != nil {
			var e struct {
				Message string `json:"message"`
			}
			json.Unmarshal(v.Error, &e)
			msg = e.Message
		}
		a.err = msg
	}
	switch {
	case path == "/v1/responses":
		if streamed {
			if v.Type == "response.output_text.delta" {
				a.text += v.Delta
			}
			if strings.HasPrefix(v.Type, "response.") {
				var ev struct {
					Response struct {
						Usage *usage `json:"usage"`
					} `json:"response"`
				}
				json.Unmarshal(obj, &ev)
				ev.Response.Usage.set(a, true)
			}
			return
		}
		var r struct {
			Output []responseItem `json:"output"`
			Usage  *usage         `json:"usage"`
		}
		json.Unmarshal(obj, &r)
		for _, it := range r.Output {
			for _, c := range it.Content {
				if c.Type == "output_text" {
					a.text += c.Text
				}
			}
		}
		r.Usage.set(a, true)
	case strings.HasPrefix(path, "/v1/"):
		if len(v.Choices) > 0 {
			c := v.Choices[0]
			switch {
			case c.Delta != nil:
				a.text += c.Delta.Content
				a.thinking += c.Delta.Reasoning
			case c.Message != nil:
				a.text += c.Message.Content
				a.thinking += c.Message.Reasoning
			default:
				a.text += c.Text
			}
		}
		v.Usage.set(a, false)
		a.embeddings += len(v.Data)
	default:
		if v.Message != nil {
			a.text += v.Message.Content
			a.thinking += v.Message.Thinking
		}
		a.thinking += v.Thinking
		var resp string
		json.Unmarshal(v.Response, &resp)
		a.text += resp
		if v.PromptEvalCount != nil {
			a.tokensIn = *v.PromptEvalCount
		}
		if v.EvalCount != nil {
			a.tokensOut = *v.EvalCount
		}
		a.embeddings += len(v.Embeddings)
		if len(v.Embedding) > 0 {
			a.embeddings++
		}
	}
}

// message is a message or a delta of one: Ollama's thinking, the
// OpenAI-compatible reasoning.
type message struct {
	Content   string `json:"content"`
	Thinking  string `json:"thinking"`
	Reasoning string `json:"reasoning"`
}

type responseItem struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
}

// usage is an OpenAI usage object, of chat and completions
// (prompt_tokens, completion_tokens) or of the Responses API
// (input_tokens, output_tokens).
type usage struct {
	PromptTokens     *int64 `json:"prompt_tokens"`
	CompletionTokens *int64 `json:"completion_tokens"`
	InputTokens      *int64 `json:"input_tokens"`
	OutputTokens     *int64 `json:"output_tokens"`
}

func (u *usage) set(a *answer, responses bool) {
	if u == nil {
		return
	}
	in, out := u.PromptTokens, u.CompletionTokens
	if responses {
		in, out = u.InputTokens, u.OutputTokens
	}
	if in != nil {
		a.tokensIn = *in
	}
	if out != nil {
		a.tokensOut = *out
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	event, data string
}

// sseEvents splits a server-sent events body into its events.
func sseEvents(body []byte) []sseEvent {
	var out []sseEvent
	var cur sseEvent
	var data []string
	flush := func() {
		if len(data) > 0 || cur.event != "" {
			cur.data = strings.Join(data, "\n")
			out = append(out, cur)
		}
		cur, data = sseEvent{}, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			cur.event = value
		case "data":
			data = append(data, value)
		}
	}
	flush()
	return out
}

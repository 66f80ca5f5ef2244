package dialect

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Request is what aitrail records of a model call's request. It holds copies:
// nothing in it aliases the body given to ParseRequest.
type Request struct {
	// Model is the requested model name, as sent.
	Model string
	// Stream is the effective streaming mode: the "stream" field, or its
	// default when absent or null. Ollama's native chat and generate default
	// to true; /api/embed and /api/embeddings never stream (the field is
	// ignored there); OpenAI-compatible endpoints default to false, and
	// /v1/embeddings never streams.
	Stream bool
	// IncludeUsage is OpenAI's stream_options.include_usage: a streamed
	// answer then ends with a usage-only chunk.
	IncludeUsage bool
	// System is the request's top-level system prompt: Ollama's "system"
	// (meaningful on /api/generate), or the Responses API's "instructions".
	// OpenAI system and developer messages stay in Messages.
	System string
	// Messages are the chat messages (/api/chat, /v1/chat/completions), or
	// the input items of a Responses request (a string input becomes one
	// user message).
	Messages []Message
	// Prompt is the /api/generate prompt or the /v1/completions prompt. An
	// array prompt is joined with "\n"; an array of token ids becomes
	// "[N tokens]".
	Prompt string
	// Suffix is the text after the insertion point for fill-in-the-middle
	// (/api/generate, /v1/completions).
	Suffix string
	// Input holds the inputs of an embeddings request: one entry for a
	// string input, one per element for an array. An array of token ids
	// becomes "[N tokens]". The legacy /api/embeddings "prompt" is recorded
	// here too.
	Input []string
	// Images lists every image in the request, in order. Ollama's base64
	// "images" (top-level, as on /api/generate, and on messages) and OpenAI
	// image parts (image_url, Responses input_image) given as data: URLs
	// are recorded as the lowercase hex SHA-256 of the decoded bytes; an
	// image given by http(s) URL or by file id is kept as that URL or id. A
	// base64 string or data: URL that does not decode is hashed over its
	// text. The image itself is never kept.
	Images []string
	// Params is a compact JSON object, keys sorted, of the generation
	// parameters: every top-level key the other fields do not record, that
	// is all but model, messages, prompt, suffix, input, stream,
	// stream_options, system, instructions, images and tools where the
	// endpoint takes them (a "prompt" sent to /api/chat lands here). On
	// Ollama, "context" (the previous answer's token state) is dropped and
	// the keys of "options" are flattened into Params; a top-level key wins
	// over an option of the same name. Values are the raw JSON as sent,
	// compacted. It is "{}" when there are none.
	Params json.RawMessage
	// Tools is the request's "tools" value exactly as sent, or nil when
	// absent or null.
	Tools json.RawMessage
}

// Message is one chat message, or one input item of a Responses request.
type Message struct {
	// Role is "system", "developer", "user", "assistant" or "tool" as sent.
	// Responses input items without a role are recorded as "assistant"
	// (function_call, reasoning) or "tool" (function_call_output).
	Role string
	// Content is the text. OpenAI content-part arrays contribute their text
	// parts (text, input_text, output_text, refusal) joined with "\n"; their
	// image parts are hashed into Images. A content of another JSON kind is
	// kept as its raw JSON text.
	Content string
	// Thinking is the reasoning of an assistant turn: Ollama's "thinking",
	// OpenAI-compatible "reasoning_content" or "reasoning", or the summary
	// and text of a Responses reasoning item.
	Thinking string
	// Images are the message's images, hashed as in Request.Images.
	Images []string
	// ToolCalls is the message's "tool_calls" value as sent; for a Responses
	// function_call item it is a one-element array holding the item.
	ToolCalls json.RawMessage
	// ToolCallID is the id of the call a tool message answers
	// ("tool_call_id", or a Responses item's "call_id").
	ToolCallID string
	// Name is OpenAI's message "name", or Ollama's "tool_name".
	Name string
}

// ErrModelRequired is returned by ParseRequest when the request names no
// model. Its text, "model is required", is Ollama's own.
var ErrModelRequired = errors.New("model is required")

// errMessagesRequired is the text OpenAI and Ollama give for a chat
// completion request without messages.
var errMessagesRequired = errors.New("[] is too short - 'messages'")

// schema holds the upstream's Go names for a request type, so that type
// errors can be worded as the upstream words them.
type schema struct {
	strct string // the struct's name, e.g. "ChatRequest"
	typ   string // its qualified name, e.g. "api.ChatRequest"
	msg   string // the qualified name of one message
}

func schemaFor(ep Endpoint) schema {
	switch {
	case ep.API == Ollama && ep.Kind == Chat:
		return schema{"ChatRequest", "api.ChatRequest", "api.Message"}
	case ep.API == Ollama && ep.Kind == Generate:
		return schema{"GenerateRequest", "api.GenerateRequest", "api.Message"}
	case ep.API == Ollama && ep.Path == "/api/embeddings":
		return schema{"EmbeddingRequest", "api.EmbeddingRequest", "api.Message"}
	case ep.API == Ollama:
		return schema{"EmbedRequest", "api.EmbedRequest", "api.Message"}
	case ep.Kind == Chat:
		return schema{"ChatCompletionRequest", "openai.ChatCompletionRequest", "openai.Message"}
	case ep.Kind == Completion:
		return schema{"CompletionRequest", "openai.CompletionRequest", "openai.Message"}
	case ep.Kind == Embed:
		return schema{"EmbedRequest", "openai.EmbedRequest", "openai.Message"}
	default:
		return schema{"ResponsesRequest", "openai.ResponsesRequest", "openai.Message"}
	}
}

// ParseRequest decodes a request body for ep. A non-nil error means the
// request cannot be recorded and the caller answers 400 with the error's
// text (in the dialect's format, see ErrorBody); the text is the one the
// upstream gives for the same body, so the client sees no difference:
//
//   - no JSON value at all: "missing request body" (Ollama native) or "EOF"
//     (OpenAI-compatible);
//   - malformed JSON: encoding/json's syntax error, e.g. "invalid character
//     'n' looking for beginning of object key string" or "unexpected EOF";
//     as upstream, anything after the first JSON value is ignored;
//   - a body or field of the wrong JSON kind: "json: cannot unmarshal KIND
//     into Go value of type api.ChatRequest", "json: cannot unmarshal KIND
//     into Go struct field ChatRequest.messages of type []api.Message", and
//     so on, using Ollama's Go type names. Only the fields recorded here are
//     checked (model, messages and their role/content/images, prompt,
//     suffix, system, images, input, options, stream, stream_options), so a
//     request with a wrong-typed field recorded nowhere is passed on and
//     the upstream answers it;
//   - an embeddings input that is not a string or an array of strings or
//     token ids: "invalid input type";
//   - a chat completion without messages: "[] is too short - 'messages'";
//   - no model: ErrModelRequired, "model is required". (Ollama itself
//     answers /api/generate without a model with a 404 "not found" error
//     naming the empty model; the gateway says "model is required" there
//     too.)
//
// Keys are matched case-insensitively, as Go's encoding/json does upstream.
// Everything else is accepted and recorded leniently: unknown keys go to
// Params, content of an unexpected kind is kept as raw JSON text.
func ParseRequest(ep Endpoint, body []byte) (*Request, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&raw); err != nil {
		if err == io.EOF {
			if ep.API == Ollama {
				return nil, errors.New("missing request body")
			}
			return nil, errors.New("EOF")
		}
		return nil, err
	}
	p := reqParser{ep: ep, sc: schemaFor(ep), req: &Request{}}
	switch raw[0] {
	case '{':
		if err := p.parse(raw); err != nil {
			return nil, err
		}
	case 'n': // null decodes to the zero request
	default:
		return nil, fmt.Errorf("json: cannot unmarshal %s into Go value of type %s", kindName(raw), p.sc.typ)
	}
	r := p.req
	if ep.API == OpenAI && ep.Kind == Chat && len(r.Messages) == 0 {
		return nil, errMessagesRequired
	}
	if r.Model == "" {
		return nil, ErrModelRequired
	}
	switch {
	case !ep.Streams():
		r.Stream = false
	case p.stream == nil:
		r.Stream = ep.API == Ollama
	default:
		r.Stream = *p.stream
	}
	r.Params = buildParams(p.options, p.params)
	return r, nil
}

type reqParser struct {
	ep      Endpoint
	sc      schema
	req     *Request
	stream  *bool
	params  map[string][]byte // top-level parameters, by key as sent
	options map[string][]byte // Ollama options, by key as sent
}

func (p *reqParser) typeErr(v []byte, field, goType string) error {
	return fmt.Errorf("json: cannot unmarshal %s into Go struct field %s.%s of type %s", kindName(v), p.sc.strct, field, goType)
}

// stringField decodes a string field that the upstream declares as string.
func (p *reqParser) stringField(v []byte, field string) (string, error) {
	if isNull(v) {
		return "", nil
	}
	if !isString(v) {
		return "", p.typeErr(v, field, "string")
	}
	return unquote(v), nil
}

func (p *reqParser) parse(obj []byte) error {
	r := p.req
	ollama := p.ep.API == Ollama
	m := objectMembers(obj)
	var kb keyBuf
	for {
		k, v, ok := m.next()
		if !ok {
			return nil
		}
		key := strings.ToLower(string(kb.name(k)))
		var err error
		switch key {
		case "model":
			r.Model, err = p.stringField(v, "model")
		case "stream":
			if !p.ep.Streams() {
				break // not a field of the embeddings requests
			}
			switch {
			case isNull(v):
				p.stream = nil
			case isTrue(v) || string(v) == "false":
				b := isTrue(v)
				p.stream = &b
			default:
				err = p.typeErr(v, "stream", "bool")
			}
		case "stream_options":
			if ollama || p.ep.Kind == Responses || p.ep.Kind == Embed {
				break
			}
			err = p.streamOptions(v)
		case "messages":
			err = p.messages(v)
		case "prompt":
			err = p.prompt(v)
		case "suffix":
			switch {
			case ollama && p.ep.Kind == Generate || p.ep.Kind == Completion:
				r.Suffix, err = p.stringField(v, "suffix")
			case isString(v):
				r.Suffix = unquote(v)
			default:
				p.param(string(kb.name(k)), v)
			}
		case "system", "instructions":
			switch {
			case ollama && p.ep.Kind == Generate && key == "system":
				r.System, err = p.stringField(v, "system")
			case isString(v):
				r.System = unquote(v)
			case !isNull(v):
				p.param(string(kb.name(k)), v)
			}
		case "input":
			err = p.input(v)
		case "images":
			err = p.images(v)
		case "tools":
			if isNull(v) {
				r.Tools = nil
			} else {
				r.Tools = bytes.Clone(v)
			}
		case "options":
			if !ollama {
				p.param(string(kb.name(k)), v)
				break
			}
			err = p.optionsField(v)
		case "context":
			if !ollama {
				p.param(string(kb.name(k)), v)
			}
		default:
			p.param(string(kb.name(k)), v)
		}
		if err != nil {
			return err
		}
	}
}

func (p *reqParser) param(key string, v []byte) {
	if p.params == nil {
		p.params = make(map[string][]byte)
	}
	p.params[key] = v
}

func (p *reqParser) optionsField(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return p.typeErr(v, "options", "map[string]interface {}")
	}
	if p.options == nil {
		p.options = make(map[string][]byte)
	}
	m := objectMembers(v)
	for {
		k, ov, ok := m.next()
		if !ok {
			return nil
		}
		p.options[unquote(k)] = ov
	}
}

func (p *reqParser) streamOptions(v []byte) error {
	if isNull(v) {
		p.req.IncludeUsage = false
		return nil
	}
	if v[0] != '{' {
		return p.typeErr(v, "stream_options", "openai.StreamOptions")
	}
	m := objectMembers(v)
	var kb keyBuf
	for {
		k, ov, ok := m.next()
		if !ok {
			return nil
		}
		if strings.ToLower(string(kb.name(k))) != "include_usage" {
			continue
		}
		switch {
		case isNull(ov):
		case isTrue(ov) || string(ov) == "false":
			p.req.IncludeUsage = isTrue(ov)
		default:
			return fmt.Errorf("json: cannot unmarshal %s into Go struct field StreamOptions.stream_options.include_usage of type bool", kindName(ov))
		}
	}
}

func (p *reqParser) prompt(v []byte) error {
	r := p.req
	switch {
	case p.ep.Kind == Embed && p.ep.API == Ollama:
		if p.ep.Path != "/api/embeddings" {
			p.param("prompt", v) // not a field of /api/embed
			return nil
		}
		s, err := p.stringField(v, "prompt")
		if err == nil && !isNull(v) {
			r.Input = []string{s}
		}
		return err
	case p.ep.Kind == Completion:
		if isNull(v) {
			r.Prompt = ""
			return nil
		}
		texts, ok := textsOf(v)
		if !ok {
			return p.typeErr(v, "prompt", "string")
		}
		r.Prompt = strings.Join(texts, "\n")
		return nil
	case p.ep.Kind == Generate:
		var err error
		r.Prompt, err = p.stringField(v, "prompt")
		return err
	default: // not a prompt-taking endpoint: record as a parameter
		p.param("prompt", v)
		return nil
	}
}

func (p *reqParser) input(v []byte) error {
	r := p.req
	switch p.ep.Kind {
	case Embed:
		if isNull(v) {
			r.Input = nil
			return nil
		}
		texts, ok := textsOf(v)
		if !ok {
			return errors.New("invalid input type")
		}
		r.Input = texts
		return nil
	case Responses:
		p.responsesInput(v)
		return nil
	}
	p.param("input", v)
	return nil
}

// textsOf reads a string, an array of strings, an array of token ids or an
// array of token-id arrays. A token-id array becomes "[N tokens]".
func textsOf(v []byte) ([]string, bool) {
	switch v[0] {
	case '"':
		return []string{unquote(v)}, true
	case '[':
	default:
		return nil, false
	}
	if n, ok := tokenCount(v); ok && n > 0 {
		return []string{tokensNote(n)}, true
	}
	texts := []string{}
	e := arrayElements(v)
	for {
		el, ok := e.next()
		if !ok {
			return texts, true
		}
		switch el[0] {
		case '"':
			texts = append(texts, unquote(el))
		case '[':
			n, ok := tokenCount(el)
			if !ok {
				return nil, false
			}
			texts = append(texts, tokensNote(n))
		default:
			return nil, false
		}
	}
}

// tokenCount counts the elements of an array made only of numbers.
func tokenCount(v []byte) (int, bool) {
	n := 0
	e := arrayElements(v)
	for {
		el, ok := e.next()
		if !ok {
			return n, true
		}
		if c := el[0]; c != '-' && (c < '0' || c > '9') {
			return 0, false
		}
		n++
	}
}

func tokensNote(n int) string { return "[" + strconv.Itoa(n) + " tokens]" }

// images reads a top-level "images" array of base64 strings (Ollama).
func (p *reqParser) images(v []byte) error {
	if isNull(v) {
		return nil
	}
	strict := p.ep.API == Ollama && p.ep.Kind == Generate
	if v[0] != '[' {
		if strict {
			return p.typeErr(v, "images", "[]api.ImageData")
		}
		return nil
	}
	e := arrayElements(v)
	for {
		el, ok := e.next()
		if !ok {
			return nil
		}
		switch {
		case isString(el):
			p.req.Images = append(p.req.Images, hashBase64(unquote(el)))
		case isNull(el):
		case strict:
			return p.typeErr(el, "images", "api.ImageData")
		}
	}
}

func (p *reqParser) messages(v []byte) error {
	if p.ep.Kind != Chat {
		p.param("messages", v)
		return nil
	}
	if isNull(v) {
		p.req.Messages = nil
		return nil
	}
	if v[0] != '[' {
		return p.typeErr(v, "messages", "[]"+p.sc.msg)
	}
	msgs := []Message{}
	e := arrayElements(v)
	for {
		el, ok := e.next()
		if !ok {
			break
		}
		if isNull(el) {
			msgs = append(msgs, Message{})
			continue
		}
		if el[0] != '{' {
			return p.typeErr(el, "messages", p.sc.msg)
		}
		msg, err := p.message(el)
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
		p.req.Images = append(p.req.Images, msg.Images...)
	}
	p.req.Messages = msgs
	return nil
}

func msgTypeErr(v []byte, field, goType string) error {
	return fmt.Errorf("json: cannot unmarshal %s into Go struct field Message.messages.%s of type %s", kindName(v), field, goType)
}

func (p *reqParser) message(obj []byte) (Message, error) {
	var msg Message
	ollama := p.ep.API == Ollama
	m := objectMembers(obj)
	var kb keyBuf
	var reasoningContent, reasoning string
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch strings.ToLower(string(kb.name(k))) {
		case "role":
			if !isNull(v) && !isString(v) {
				return msg, msgTypeErr(v, "role", "string")
			}
			msg.Role = unquote(v)
		case "content":
			if ollama && !isNull(v) && !isString(v) && v[0] != '[' {
				return msg, msgTypeErr(v, "content", "string")
			}
			msg.Content, msg.Images = contentOf(v, msg.Images)
		case "thinking":
			msg.Thinking = unquote(v)
		case "reasoning_content":
			reasoningContent = unquote(v)
		case "reasoning":
			reasoning = unquote(v)
		case "images":
			if !ollama || isNull(v) {
				break
			}
			if v[0] != '[' {
				return msg, msgTypeErr(v, "images", "[]api.ImageData")
			}
			e := arrayElements(v)
			for {
				el, ok := e.next()
				if !ok {
					break
				}
				if isNull(el) {
					continue
				}
				if !isString(el) {
					return msg, msgTypeErr(el, "images", "api.ImageData")
				}
				msg.Images = append(msg.Images, hashBase64(unquote(el)))
			}
		case "tool_calls":
			if isNull(v) {
				msg.ToolCalls = nil
			} else {
				msg.ToolCalls = bytes.Clone(v)
			}
		case "tool_call_id":
			msg.ToolCallID = unquote(v)
		case "tool_name":
			if ollama {
				msg.Name = unquote(v)
			}
		case "name":
			if !ollama {
				msg.Name = unquote(v)
			}
		}
	}
	if msg.Thinking == "" {
		msg.Thinking = reasoningContent
	}
	if msg.Thinking == "" {
		msg.Thinking = reasoning
	}
	return msg, nil
}

// contentOf reads a message content: a string, null, an array of content
// parts, or anything else (kept as raw JSON text). Image parts are hashed
// and appended to images.
func contentOf(v []byte, images []string) (string, []string) {
	switch {
	case isNull(v):
		return "", images
	case isString(v):
		return unquote(v), images
	case v[0] != '[':
		return validString(v), images
	}
	var texts []string
	e := arrayElements(v)
	for {
		part, ok := e.next()
		if !ok {
			break
		}
		if isString(part) { // a bare string part
			texts = append(texts, unquote(part))
			continue
		}
		var typ, text, imageURL, fileID []byte
		var kb keyBuf
		m := objectMembers(part)
		for {
			k, pv, ok := m.next()
			if !ok {
				break
			}
			switch string(kb.name(k)) {
			case "type":
				typ = pv
			case "text", "refusal":
				text = pv
			case "image_url":
				imageURL = pv
			case "file_id":
				fileID = pv
			}
		}
		switch {
		case strIs(typ, "image_url") || strIs(typ, "input_image") || typ == nil && imageURL != nil:
			if u := imageURLOf(imageURL); u != "" {
				images = append(images, hashImageURL(u))
			} else if isString(fileID) {
				images = append(images, unquote(fileID))
			}
		case isString(text):
			texts = append(texts, unquote(text))
		}
	}
	return strings.Join(texts, "\n"), images
}

// imageURLOf reads an image_url value: a string, or an object {"url": ...}.
func imageURLOf(v []byte) string {
	if isString(v) {
		return unquote(v)
	}
	m := objectMembers(v)
	var kb keyBuf
	for {
		k, uv, ok := m.next()
		if !ok {
			return ""
		}
		if string(kb.name(k)) == "url" {
			return unquote(uv)
		}
	}
}

// hashBase64 hashes the bytes a base64 string encodes, or the string itself
// if it is not base64.
func hashBase64(s string) string {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return sha256Hex(b)
		}
	}
	return sha256Hex([]byte(s))
}

// hashImageURL hashes the bytes of a data: URL, or returns any other URL
// unchanged.
func hashImageURL(u string) string {
	rest, ok := cutPrefixFold(u, "data:")
	if !ok {
		return u
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return sha256Hex([]byte(u))
	}
	if strings.HasSuffix(strings.ToLower(meta), ";base64") {
		return hashBase64(strings.TrimSpace(data))
	}
	if b, err := url.PathUnescape(data); err == nil {
		return sha256Hex([]byte(b))
	}
	return sha256Hex([]byte(u))
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// responsesInput reads a Responses API "input": a string (one user message)
// or an array of input items.
func (p *reqParser) responsesInput(v []byte) {
	r := p.req
	switch {
	case isNull(v):
		return
	case isString(v):
		r.Messages = []Message{{Role: "user", Content: unquote(v)}}
		return
	case v[0] != '[':
		p.param("input", v)
		return
	}
	msgs := []Message{}
	e := arrayElements(v)
	for {
		item, ok := e.next()
		if !ok {
			break
		}
		if isString(item) { // tolerated: a bare string item
			msgs = append(msgs, Message{Role: "user", Content: unquote(item)})
			continue
		}
		var typ, role, content, callID, output, summary []byte
		var kb keyBuf
		m := objectMembers(item)
		for {
			k, iv, ok := m.next()
			if !ok {
				break
			}
			switch string(kb.name(k)) {
			case "type":
				typ = iv
			case "role":
				role = iv
			case "content":
				content = iv
			case "call_id":
				callID = iv
			case "output":
				output = iv
			case "summary":
				summary = iv
			}
		}
		var msg Message
		switch {
		case isNull(typ) || strIs(typ, "message"):
			msg.Role = unquote(role)
			msg.Content, msg.Images = contentOf(content, nil)
		case strIs(typ, "function_call") || strIs(typ, "custom_tool_call"):
			msg.Role = "assistant"
			msg.ToolCalls = append(append([]byte{'['}, item...), ']')
		case strIs(typ, "function_call_output") || strIs(typ, "custom_tool_call_output"):
			msg.Role = "tool"
			msg.ToolCallID = unquote(callID)
			msg.Content, msg.Images = contentOf(output, nil)
		case strIs(typ, "reasoning"):
			msg.Role = "assistant"
			s, _ := contentOf(summary, nil)
			c, _ := contentOf(content, nil)
			msg.Thinking = joinNonEmpty(s, c)
		default:
			continue // item references and hosted-tool items carry no text
		}
		msgs = append(msgs, msg)
		r.Images = append(r.Images, msg.Images...)
	}
	r.Messages = msgs
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

// buildParams merges Ollama options and top-level parameters into a compact
// JSON object with sorted keys.
func buildParams(options, params map[string][]byte) json.RawMessage {
	all := make(map[string][]byte, len(options)+len(params))
	for k, v := range options {
		all[k] = v
	}
	for k, v := range params {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		buf.Write(kj)
		buf.WriteByte(':')
		if err := json.Compact(&buf, all[k]); err != nil {
			buf.WriteString("null") // unreachable: values come from a checked body
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

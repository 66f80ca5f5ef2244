package dialect

import (
	"bytes"
	"encoding/json"
)

// Stream follows a streamed response frame by frame, for the record. It
// never modifies, re-encodes or keeps the bytes it is shown: the caller
// forwards every frame unchanged and only lets the Stream look at it.
//
// Framing depends on the endpoint's API. Ollama native streams are NDJSON:
// a frame is one line ending with "\n". OpenAI-compatible streams are
// server-sent events: a frame is one event, its lines ended by "\n", "\r\n"
// or "\r", the event ended by an empty line (so "\n\n" or "\r\n\r\n").
// Within an event, "data:" lines carry the payload (the space after the
// colon is optional; several data lines are joined with "\n"), "event:"
// names the event (Responses API), lines starting with ":" are comments,
// and "id:", "retry:" and unknown fields are ignored.
//
// The usual loop reads into a buffer, forwards what arrives, and hands each
// complete frame to Observe:
//
//	for n := s.FrameLen(buf); n > 0; n = s.FrameLen(buf) {
//		final := s.Observe(buf[:n])
//		buf = buf[n:]
//		...
//	}
//
// When the upstream closes the connection with bytes left that FrameLen
// never delimited, the caller may pass them to Observe as a last frame.
//
// A Stream is not safe for concurrent use.
type Stream struct {
	ep  Endpoint
	sse bool
	st  state
	// scratch joins the lines of a multi-line SSE data field.
	scratch []byte
	// cut is what Trim takes out of the frame Observe saw last (see
	// StripUsage): the whole frame if drop, else frame[from:to].
	cut struct {
		drop     bool
		from, to int
	}
}

// NewStream returns a Stream for a streamed answer from ep.
func NewStream(ep Endpoint) *Stream {
	return &Stream{ep: ep, sse: ep.API != Ollama, st: newState(ep)}
}

// FrameLen returns the length of the first complete frame at the start of
// buf, including its terminator, or 0 if buf does not yet hold a complete
// frame. The result depends only on buf, never on earlier calls, so feeding
// a stream in any split gives the same frames. For SSE, a "\r" at the very
// end of buf that would end the event is not taken as a terminator yet,
// since a "\n" may follow it.
func (s *Stream) FrameLen(buf []byte) int {
	if !s.sse {
		return bytes.IndexByte(buf, '\n') + 1
	}
	return sseFrameLen(buf)
}

// sseFrameLen finds the end of the first SSE event in buf: the end of its
// first empty line.
func sseFrameLen(buf []byte) int {
	if len(buf) > 0 && buf[0] == '\n' {
		return 1
	}
	// Fast path: no CR before the first "\n\n".
	j := bytes.Index(buf, []byte("\n\n"))
	lim := len(buf)
	if j >= 0 {
		lim = j
	}
	if bytes.IndexByte(buf[:lim], '\r') < 0 {
		if j < 0 {
			return 0
		}
		return j + 2
	}
	return sseFrameLenSlow(buf)
}

// sseFrameLenSlow is the general form of sseFrameLen, for lines ended by
// CR LF or CR.
func sseFrameLenSlow(buf []byte) int {
	lineStart := 0
	for i := 0; i < len(buf); {
		c := buf[i]
		if c != '\n' && c != '\r' {
			i++
			continue
		}
		end := i + 1
		if c == '\r' {
			if end == len(buf) {
				return 0
			}
			if buf[end] == '\n' {
				end++
			}
		}
		if i == lineStart {
			return end
		}
		lineStart, i = end, end
	}
	return 0
}

// Observe accounts for one complete frame, as delimited by FrameLen, and
// reports whether it is final: the frame that ends the answer, after which
// the gateway holds back every remaining byte until the response record is
// durable. Only the first final frame reports true; later frames are still
// observed (an OpenAI usage chunk comes after the finish_reason chunk).
//
// Final frames are:
//   - Ollama: a line with "done":true, or an {"error":...} line;
//   - OpenAI chat and completions: the first chunk where a choice has a
//     finish_reason other than null or "", a usage-only chunk (usage set,
//     no choices), an error frame ({"error":...}, or vLLM's
//     {"object":"error",...}), or "data: [DONE]", whichever comes first;
//   - Responses: the response.completed, response.incomplete,
//     response.failed and error events.
//
// Comment-only and empty frames are not final. A frame that is not valid
// JSON (or not an event with data) is not final, and is otherwise ignored
// but counted (Result.Malformed). Observe
// does not retain frame after it returns. Given several frames at once it
// accounts for each and reports whether any was final.
func (s *Stream) Observe(frame []byte) (final bool) {
	s.cut.drop, s.cut.from, s.cut.to = false, 0, 0
	if s.sse {
		final = s.observeSSE(frame)
	} else {
		final = s.observeNDJSON(frame)
	}
	if final && !s.st.final {
		s.st.final = true
		return true
	}
	return false
}

func (s *Stream) observeNDJSON(frame []byte) bool {
	final := false
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		f, valid := s.st.ollamaObject(line)
		if f {
			final = true
		}
		if !valid && len(bytes.TrimSpace(line)) > 0 {
			s.st.malformed++
		}
	}
	return final
}

func (s *Stream) observeSSE(frame []byte) bool {
	final := false
	var event, data []byte
	nData, events, dataAt := 0, 0, 0
	whole := len(frame)
	for len(frame) > 0 {
		line := frame
		lineAt := whole - len(frame)
		frame = nil
		if i := indexEOL(line); i >= 0 {
			j := i + 1
			if line[i] == '\r' && j < len(line) && line[j] == '\n' {
				j++
			}
			line, frame = line[:i], line[j:]
		}
		if len(line) == 0 { // end of an event
			if nData > 0 {
				events++
				if s.dispatch(event, data) {
					final = true
				}
				s.placeCut(events, nData, dataAt, data)
			}
			event, data, nData = nil, nil, 0
			continue
		}
		if line[0] == ':' {
			continue
		}
		name, value := line, []byte(nil)
		valueAt := lineAt
		if k := bytes.IndexByte(line, ':'); k >= 0 {
			name, value = line[:k], line[k+1:]
			valueAt += k + 1
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
				valueAt++
			}
		}
		switch string(name) {
		case "data":
			switch nData {
			case 0:
				data, dataAt = value, valueAt
			case 1:
				s.scratch = append(append(append(s.scratch[:0], data...), '\n'), value...)
				data = s.scratch
			default:
				s.scratch = append(append(s.scratch, '\n'), value...)
				data = s.scratch
			}
			nData++
		case "event":
			event = value
		}
	}
	if nData > 0 {
		events++
		if s.dispatch(event, data) {
			final = true
		}
		s.placeCut(events, nData, dataAt, data)
	}
	return final
}

// StripUsage tells the Stream that the gateway asked the upstream for usage
// (see AskUsage) on the caller's behalf: Trim then takes out of each frame
// what only that request added. It must be called before the first
// Observe.
func (s *Stream) StripUsage() { s.st.strip = true }

// Trim returns frame, the frame Observe was last given, without what the
// gateway's own request for usage added to it (see StripUsage): nothing for
// the usage-only chunk, the frame without its "usage" member for a chunk
// with a null or all-zero usage, and frame itself otherwise. It works in
// place, moving bytes within frame, and allocates nothing. Without
// StripUsage it returns frame unchanged.
func (s *Stream) Trim(frame []byte) []byte {
	switch {
	case s.cut.drop:
		return frame[:0]
	case s.cut.to > s.cut.from && s.cut.to <= len(frame):
		n := copy(frame[s.cut.from:], frame[s.cut.to:])
		return frame[:s.cut.from+n]
	}
	return frame
}

// placeCut turns what the chunk just dispatched asked to take out into a
// cut of the frame, whose only event it must be. A member is cut only out
// of a chunk sent on one data line, where its place in the frame is known.
func (s *Stream) placeCut(events, nData, dataAt int, data []byte) {
	st := &s.st
	drop, from, to := st.dropChunk, st.cutFrom, st.cutTo
	st.dropChunk, st.cutFrom, st.cutTo = false, 0, 0
	if events > 1 {
		s.cut.drop, s.cut.from, s.cut.to = false, 0, 0
		return
	}
	if drop {
		s.cut.drop = true
		return
	}
	if to > from && nData == 1 {
		lead := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
		s.cut.from, s.cut.to = dataAt+lead+from, dataAt+lead+to
	}
}

// indexEOL returns the index of the first "\n" or "\r" in b, or -1.
func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	lim := i
	if i < 0 {
		lim = len(b)
	}
	if j := bytes.IndexByte(b[:lim], '\r'); j >= 0 {
		return j
	}
	return i
}

// dispatch accounts for one SSE event's data and reports whether it is
// final.
func (s *Stream) dispatch(event, data []byte) bool {
	d := bytes.TrimSpace(data)
	if string(d) == "[DONE]" {
		s.st.done = true
		return true
	}
	var f, valid bool
	if s.ep.Kind == Responses {
		f, valid = s.st.responsesEvent(event, d)
	} else {
		f, valid = s.st.chatChunk(d)
	}
	if !valid && len(d) > 0 {
		s.st.malformed++
	}
	return f
}

// Result returns what has been observed so far. It is valid at any time,
// also mid-stream (after the client aborted, Text holds the text so far).
func (s *Stream) Result() Result { return s.st.result() }

// Chunks returns the number of content-bearing frames seen so far: frames
// that added text, thinking or a tool call.
func (s *Stream) Chunks() int { return s.st.chunks }

// FirstContent reports whether any content (text, thinking or a tool call)
// has arrived yet. The gateway times the first token by its transition from
// false to true.
func (s *Stream) FirstContent() bool { return s.st.chunks > 0 }

// state accumulates what a response says, streamed or not.
type state struct {
	ep         Endpoint
	text       []byte
	thinking   []byte
	calls      []toolCall
	tokensIn   int64
	tokensOut  int64
	doneReason string
	errMsg     string
	id         string
	embeddings int
	done       bool
	final      bool
	chunks     int
	malformed  int
	// strip is set when the gateway asked for usage (Stream.StripUsage);
	// chatChunk then says what of the chunk only that request added: all
	// of it (dropChunk), or d[cutFrom:cutTo].
	strip          bool
	dropChunk      bool
	cutFrom, cutTo int
}

// toolCall is one tool call of an answer. raw holds the complete call when
// the upstream sent one whole (Ollama tool_calls elements, a Responses
// output_item.done item); otherwise the call is assembled from deltas.
type toolCall struct {
	key    int // OpenAI delta index, Responses output_index; -1-n if unknown
	id     string
	callID string // Responses call_id
	typ    string
	name   string
	args   []byte
	raw    []byte
}

func newState(ep Endpoint) state {
	return state{ep: ep, tokensIn: -1, tokensOut: -1}
}

func (st *state) result() Result {
	return Result{
		Text:       validString(st.text),
		Thinking:   validString(st.thinking),
		ToolCalls:  st.toolCallsJSON(),
		TokensIn:   st.tokensIn,
		TokensOut:  st.tokensOut,
		DoneReason: st.doneReason,
		Embeddings: st.embeddings,
		Error:      st.errMsg,
		Done:       st.done,
		ResponseID: st.id,
		Malformed:  st.malformed,
	}
}

// toolCallsJSON renders the tool calls as a JSON array: raw calls as sent,
// assembled chat calls as {"id","type","function":{"name","arguments"}},
// assembled Responses calls as {"type","id","call_id","name","arguments"}.
func (st *state) toolCallsJSON() json.RawMessage {
	if len(st.calls) == 0 {
		return nil
	}
	out := []byte{'['}
	for i, c := range st.calls {
		if i > 0 {
			out = append(out, ',')
		}
		if c.raw != nil {
			out = append(out, c.raw...)
			continue
		}
		var v any
		if st.ep.Kind == Responses {
			typ := c.typ
			if typ == "" {
				typ = "function_call"
			}
			v = struct {
				Type      string `json:"type"`
				ID        string `json:"id,omitempty"`
				CallID    string `json:"call_id"`
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			}{typ, c.id, c.callID, c.name, validString(c.args)}
		} else {
			typ := c.typ
			if typ == "" {
				typ = "function"
			}
			type fn struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			}
			v = struct {
				ID       string `json:"id,omitempty"`
				Type     string `json:"type"`
				Function fn     `json:"function"`
			}{c.id, typ, fn{c.name, validString(c.args)}}
		}
		b, err := json.Marshal(v)
		if err != nil { // unreachable: plain strings only
			b = []byte("null")
		}
		out = append(out, b...)
	}
	return append(out, ']')
}

// addText appends the text of string token v and reports whether it added
// anything.
func addText(dst *[]byte, v []byte) bool {
	n := len(*dst)
	*dst = appendUnquoted(*dst, v)
	return len(*dst) > n
}

// setError records the message of an error value: a string, an object with
// a "message", or, failing that, the value's JSON text.
func (st *state) setError(v []byte) {
	if isString(v) {
		st.errMsg = unquote(v)
		return
	}
	if msg := memberOf(v, "message"); isString(msg) {
		st.errMsg = unquote(msg)
		return
	}
	st.errMsg = validString(v)
}

// memberOf returns the value of the first member of object v named key, or
// nil.
func memberOf(v []byte, key string) []byte {
	var kb keyBuf
	m := objectMembers(v)
	for {
		k, mv, ok := m.next()
		if !ok {
			return nil
		}
		if string(kb.name(k)) == key {
			return mv
		}
	}
}

// setInt stores the number token v into *dst if it is an integer.
func setInt(dst *int64, v []byte) {
	if n, ok := jsonInt(v); ok {
		*dst = n
	}
}

// ollamaObject accounts for one Ollama chat or generate object (a stream
// line or a whole non-streamed body). It reports whether the object ends
// the answer, and whether it was valid JSON at all.
func (st *state) ollamaObject(line []byte) (final, valid bool) {
	if !validJSON(line) {
		return false, false
	}
	var errv, msg, resp, think, tools, done, reason, pin, pout []byte
	var kb keyBuf
	m := objectMembers(line)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "error":
			errv = v
		case "message":
			msg = v
		case "response":
			resp = v
		case "thinking":
			think = v
		case "tool_calls":
			tools = v
		case "done":
			done = v
		case "done_reason":
			reason = v
		case "prompt_eval_count":
			pin = v
		case "eval_count":
			pout = v
		}
	}
	if !isNull(errv) {
		st.setError(errv)
		return true, true
	}
	var content, mthink, mtools []byte
	if msg != nil {
		mm := objectMembers(msg)
		for {
			k, v, ok := mm.next()
			if !ok {
				break
			}
			switch string(kb.name(k)) {
			case "content":
				content = v
			case "thinking":
				mthink = v
			case "tool_calls":
				mtools = v
			}
		}
	}
	added := addText(&st.text, resp)
	added = addText(&st.text, content) || added
	added = addText(&st.thinking, think) || added
	added = addText(&st.thinking, mthink) || added
	added = st.rawToolCalls(tools) || added
	added = st.rawToolCalls(mtools) || added
	if added {
		st.chunks++
	}
	setInt(&st.tokensIn, pin)
	setInt(&st.tokensOut, pout)
	if isTrue(done) {
		st.done = true
		if isString(reason) {
			st.doneReason = unquote(reason)
		}
		return true, true
	}
	return false, true
}

// rawToolCalls keeps each element of an array of complete tool calls.
func (st *state) rawToolCalls(v []byte) bool {
	added := false
	e := arrayElements(v)
	for {
		el, ok := e.next()
		if !ok {
			return added
		}
		if isNull(el) {
			continue
		}
		st.calls = append(st.calls, toolCall{key: -1 - len(st.calls), raw: bytes.Clone(el)})
		added = true
	}
}

// chatChunk accounts for one OpenAI chat completion or completion object: a
// stream chunk, or a whole non-streamed body (choices[].message instead of
// choices[].delta). It reports whether the chunk ends the answer, and
// whether it was valid JSON at all.
func (st *state) chatChunk(d []byte) (final, valid bool) {
	if !validJSON(d) {
		return false, false
	}
	var id, choices, usage, errv, object, message []byte
	var kb keyBuf
	m := objectMembers(d)
	usageFrom, usageTo := 0, 0
	for first := true; ; first = false {
		before := m.i
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "id":
			id = v
		case "choices":
			choices = v
		case "usage":
			usage = v
			if st.strip {
				usageFrom, usageTo = memberSpan(d, before, m.i, first)
			}
		case "error":
			errv = v
		case "object":
			object = v
		case "message":
			message = v
		}
	}
	if !isNull(errv) {
		st.setError(errv)
		return true, true
	}
	if strIs(object, "error") { // vLLM's bare error object
		if isString(message) {
			st.errMsg = unquote(message)
		} else {
			st.errMsg = validString(d)
		}
		return true, true
	}
	if st.id == "" && isString(id) {
		st.id = unquote(id)
	}
	if len(usage) > 0 && usage[0] == '{' {
		st.usage(usage)
		if arrayEmpty(choices) {
			final = true
			st.dropChunk = st.strip
		}
	}
	if st.strip && !st.dropChunk && usage != nil && !arrayEmpty(choices) && allZero(usage) {
		st.cutFrom, st.cutTo = usageFrom, usageTo
	}
	added := false
	e := arrayElements(choices)
	for {
		c, ok := e.next()
		if !ok {
			break
		}
		var index, delta, text, finish []byte
		cm := objectMembers(c)
		for {
			k, v, ok := cm.next()
			if !ok {
				break
			}
			switch string(kb.name(k)) {
			case "index":
				index = v
			case "delta", "message":
				delta = v
			case "text":
				text = v
			case "finish_reason":
				finish = v
			}
		}
		idx := int64(0)
		if index != nil {
			if n, ok := jsonInt(index); ok {
				idx = n
			}
		}
		if idx == 0 {
			added = addText(&st.text, text) || added
			added = st.chatDelta(delta) || added
		}
		// Some servers send "" rather than null on chunks that go on.
		if !isNull(finish) && !strIs(finish, "") {
			final = true
			if idx == 0 {
				st.done = true
				st.doneReason = unquote(finish)
			}
		}
	}
	if added {
		st.chunks++
	}
	return final, true
}

// arrayEmpty reports whether v is absent, null or an empty array.
func arrayEmpty(v []byte) bool {
	if isNull(v) {
		return true
	}
	e := arrayElements(v)
	_, ok := e.next()
	return !ok
}

// usage reads an OpenAI usage object (chat and completions name the counts
// prompt_tokens and completion_tokens, the Responses API input_tokens and
// output_tokens).
func (st *state) usage(v []byte) {
	var kb keyBuf
	m := objectMembers(v)
	for {
		k, uv, ok := m.next()
		if !ok {
			return
		}
		switch string(kb.name(k)) {
		case "prompt_tokens", "input_tokens":
			setInt(&st.tokensIn, uv)
		case "completion_tokens", "output_tokens":
			setInt(&st.tokensOut, uv)
		}
	}
}

// chatDelta accounts for the delta (or message) of choice 0 and reports
// whether it added content.
func (st *state) chatDelta(d []byte) bool {
	var content, refusal, reasoningContent, reasoning, tools []byte
	var kb keyBuf
	m := objectMembers(d)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "content":
			content = v
		case "refusal":
			refusal = v
		case "reasoning_content":
			reasoningContent = v
		case "reasoning":
			reasoning = v
		case "tool_calls":
			tools = v
		}
	}
	added := false
	if len(content) > 0 && content[0] == '[' { // content parts
		e := arrayElements(content)
		for {
			part, ok := e.next()
			if !ok {
				break
			}
			added = addText(&st.text, memberOf(part, "text")) || added
		}
	} else {
		added = addText(&st.text, content)
	}
	added = addText(&st.text, refusal) || added
	// Servers send one or the other; some send both with the same text.
	if !addText(&st.thinking, reasoningContent) {
		added = addText(&st.thinking, reasoning) || added
	} else {
		added = true
	}
	return st.chatToolCalls(tools) || added
}

// chatToolCalls merges OpenAI tool-call deltas into st.calls by index,
// concatenating the argument fragments.
func (st *state) chatToolCalls(v []byte) bool {
	added := false
	var kb keyBuf
	e := arrayElements(v)
	for {
		el, ok := e.next()
		if !ok {
			return added
		}
		var index, id, typ, fn, name, args []byte
		m := objectMembers(el)
		for {
			k, tv, ok := m.next()
			if !ok {
				break
			}
			switch string(kb.name(k)) {
			case "index":
				index = tv
			case "id":
				id = tv
			case "type":
				typ = tv
			case "function":
				fn = tv
			}
		}
		fm := objectMembers(fn)
		for {
			k, fv, ok := fm.next()
			if !ok {
				break
			}
			switch string(kb.name(k)) {
			case "name":
				name = fv
			case "arguments":
				args = fv
			}
		}
		c := st.callFor(index, id, name)
		if c.id == "" && isString(id) {
			c.id = unquote(id)
		}
		if c.typ == "" && isString(typ) {
			c.typ = unquote(typ)
		}
		if c.name == "" && isString(name) {
			c.name = unquote(name)
		}
		switch {
		case isString(args):
			c.args = appendUnquoted(c.args, args)
		case !isNull(args): // an object where a string belongs: keep its JSON
			c.args = append(c.args, args...)
		}
		added = true
	}
}

// callFor returns the call a tool-call delta continues, or a new one. A
// delta continues the call with the same index unless it carries a
// different id; a delta without index continues the last call unless it
// carries an id or a name.
func (st *state) callFor(index, id, name []byte) *toolCall {
	if n, ok := jsonInt(index); ok && index != nil {
		key := int(n)
		for i := len(st.calls) - 1; i >= 0; i-- {
			c := &st.calls[i]
			if c.key != key {
				continue
			}
			if c.id != "" && isString(id) && len(id) > 2 && !strIs(id, c.id) {
				break // same index, another call
			}
			return c
		}
		for i := range st.calls { // the index now names the new call
			if st.calls[i].key == key {
				st.calls[i].key = -1 - i
			}
		}
		st.calls = append(st.calls, toolCall{key: key})
		return &st.calls[len(st.calls)-1]
	}
	starts := isString(id) && len(id) > 2 || isString(name) && len(name) > 2
	if len(st.calls) > 0 && !starts {
		return &st.calls[len(st.calls)-1]
	}
	st.calls = append(st.calls, toolCall{key: -1 - len(st.calls)})
	return &st.calls[len(st.calls)-1]
}

// responsesEvent accounts for one Responses API event (or, for a
// non-streamed body, the response object itself, with event
// "response.completed"). It reports whether the event ends the answer, and
// whether it was valid JSON at all.
func (st *state) responsesEvent(event, d []byte) (final, valid bool) {
	if !validJSON(d) {
		return false, false
	}
	var typ, delta, resp, item, outIdx, itemID, errv []byte
	var kb keyBuf
	m := objectMembers(d)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "type":
			typ = v
		case "delta":
			delta = v
		case "response":
			resp = v
		case "item":
			item = v
		case "output_index":
			outIdx = v
		case "item_id":
			itemID = v
		case "error":
			errv = v
		}
	}
	var name []byte
	var nb keyBuf
	if isString(typ) {
		name = nb.name(typ)
	} else {
		name = event
	}
	switch string(name) {
	case "response.output_text.delta", "response.refusal.delta":
		if addText(&st.text, delta) {
			st.chunks++
		}
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		if addText(&st.thinking, delta) {
			st.chunks++
		}
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		c := st.responsesCall(outIdx, itemID)
		n := len(c.args)
		c.args = appendUnquoted(c.args, delta)
		if len(c.args) > n {
			st.chunks++
		}
	case "response.output_item.added", "response.output_item.done":
		if st.responsesItem(outIdx, item, string(name) == "response.output_item.done") {
			st.chunks++
		}
	case "response.created", "response.in_progress", "response.queued":
		if st.id == "" {
			if id := memberOf(resp, "id"); isString(id) {
				st.id = unquote(id)
			}
		}
	case "response.completed", "response.incomplete", "response.failed", "response.cancelled":
		st.responseObject(resp)
		st.done = true
		return true, true
	case "error":
		if !isNull(errv) {
			st.setError(errv)
		} else {
			st.setError(d)
		}
		return true, true
	default:
		if len(name) == 0 && !isNull(errv) { // {"error":{...}} as in StreamErrorFrame
			st.setError(errv)
			return true, true
		}
	}
	return false, true
}

// responsesCall returns the tool call at output index outIdx (or, without
// one, the call whose item id is itemID, or the last call), creating it if
// needed.
func (st *state) responsesCall(outIdx, itemID []byte) *toolCall {
	if n, ok := jsonInt(outIdx); ok {
		for i := range st.calls {
			if st.calls[i].key == int(n) {
				return &st.calls[i]
			}
		}
		st.calls = append(st.calls, toolCall{key: int(n)})
		return &st.calls[len(st.calls)-1]
	}
	for i := range st.calls {
		if isString(itemID) && strIs(itemID, st.calls[i].id) {
			return &st.calls[i]
		}
	}
	if len(st.calls) == 0 {
		st.calls = append(st.calls, toolCall{key: -1})
	}
	return &st.calls[len(st.calls)-1]
}

// responsesItem accounts for an output item that was added or is done; it
// only cares about tool calls. It reports whether a call was new.
func (st *state) responsesItem(outIdx, item []byte, done bool) bool {
	var typ, id, callID, name, args []byte
	var kb keyBuf
	m := objectMembers(item)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "type":
			typ = v
		case "id":
			id = v
		case "call_id":
			callID = v
		case "name":
			name = v
		case "arguments", "input":
			args = v
		}
	}
	if !strIs(typ, "function_call") && !strIs(typ, "custom_tool_call") {
		return false
	}
	n := len(st.calls)
	c := st.responsesCall(outIdx, id)
	isNew := len(st.calls) > n
	if done {
		c.raw = bytes.Clone(item)
		return isNew
	}
	c.typ, c.id, c.callID, c.name = unquote(typ), unquote(id), unquote(callID), unquote(name)
	c.args = appendUnquoted(c.args[:0], args)
	return isNew
}

// responseObject reads a Responses API response object: its id, status,
// incomplete reason, error, usage and, for whatever the events did not
// already deliver, its output.
func (st *state) responseObject(resp []byte) {
	var id, status, incomplete, errv, usage, output []byte
	var kb keyBuf
	m := objectMembers(resp)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch string(kb.name(k)) {
		case "id":
			id = v
		case "status":
			status = v
		case "incomplete_details":
			incomplete = v
		case "error":
			errv = v
		case "usage":
			usage = v
		case "output":
			output = v
		}
	}
	if isString(id) {
		st.id = unquote(id)
	}
	st.doneReason = unquote(status)
	if r := memberOf(incomplete, "reason"); isString(r) {
		st.doneReason = unquote(r)
	}
	if !isNull(errv) {
		st.setError(errv)
	}
	if len(usage) > 0 && usage[0] == '{' {
		st.usage(usage)
	}
	fillText, fillThinking, fillCalls := len(st.text) == 0, len(st.thinking) == 0, len(st.calls) == 0
	e := arrayElements(output)
	for {
		item, ok := e.next()
		if !ok {
			return
		}
		typ := memberOf(item, "type")
		switch {
		case strIs(typ, "message"):
			if fillText {
				parts := arrayElements(memberOf(item, "content"))
				for {
					p, ok := parts.next()
					if !ok {
						break
					}
					if pt := memberOf(p, "type"); strIs(pt, "refusal") {
						st.text = appendUnquoted(st.text, memberOf(p, "refusal"))
					} else {
						st.text = appendUnquoted(st.text, memberOf(p, "text"))
					}
				}
			}
		case strIs(typ, "reasoning"):
			if fillThinking {
				for _, key := range [...]string{"summary", "content"} {
					parts := arrayElements(memberOf(item, key))
					for {
						p, ok := parts.next()
						if !ok {
							break
						}
						st.thinking = appendUnquoted(st.thinking, memberOf(p, "text"))
					}
				}
			}
		case strIs(typ, "function_call") || strIs(typ, "custom_tool_call"):
			if fillCalls {
				st.calls = append(st.calls, toolCall{key: -1 - len(st.calls), raw: bytes.Clone(item)})
			}
		}
	}
}

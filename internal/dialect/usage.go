package dialect

import "bytes"

// Asking for usage.
//
// An OpenAI-compatible stream reports token counts only when the request
// sets stream_options.include_usage. So that every streamed call is
// recorded with its counts, the gateway asks for them itself when the
// caller did not ([AskUsage]), and takes out of the stream what the caller
// did not ask for ([Stream.StripUsage]), so that the caller receives the
// bytes it would have received without aitrail.
//
// With include_usage the upstream adds, before "data: [DONE]", one chunk
// whose choices array is empty and whose usage object holds the counts
// (OpenAI, Ollama, vLLM). OpenAI also adds "usage":null to every other
// chunk; Ollama's /v1/completions adds a usage object of zeros to every
// other chunk. What is taken out is exactly that: the usage-only chunk,
// and on the other chunks a top-level "usage" member whose value is null
// or holds only zeros. A chunk whose usage holds real counts next to its
// choices is not the form include_usage asks for, and is left as sent.

// AskUsage returns a copy of body, a streamed /v1/chat/completions or
// /v1/completions request, that asks the upstream for usage: it sets
// stream_options.include_usage to true, adding the member (or the whole
// stream_options object) if need be and changing nothing else. It reports
// false, and the caller forwards body as it is, for other endpoints, for a
// body whose top-level "stream" is not one member spelt "stream" with the
// value true, and wherever the change would not be read alike by every
// upstream (stream_options or include_usage given twice or in another
// case, stream_options neither an object nor null, include_usage already
// true).
func AskUsage(ep Endpoint, body []byte) ([]byte, bool) {
	if ep.API != OpenAI || ep.Kind != Chat && ep.Kind != Completion {
		return nil, false
	}
	start := skipWS(body, 0)
	end := scanValue(body, start, 0)
	if end < 0 || body[start] != '{' {
		return nil, false
	}
	obj := body[start:end]
	streamOK, soAt, soLen, ok := findStreamOptions(obj)
	if !ok || !streamOK {
		return nil, false
	}
	out := make([]byte, 0, len(body)+len(`"stream_options":{"include_usage":true},`))
	if soAt < 0 { // no stream_options: add one as the first member
		i := start + skipWS(obj, 1)
		out = append(append(out, body[:start+1]...), `"stream_options":{"include_usage":true}`...)
		if body[i] != '}' {
			out = append(out, ',')
		}
		return append(out, body[start+1:]...), true
	}
	so := obj[soAt : soAt+soLen]
	soAt += start
	if isNull(so) {
		out = append(append(out, body[:soAt]...), `{"include_usage":true}`...)
		return append(out, body[soAt+soLen:]...), true
	}
	if so[0] != '{' {
		return nil, false
	}
	iuAt, iuLen, ok := findMember(so, "include_usage")
	switch {
	case !ok:
		return nil, false
	case iuAt < 0: // add include_usage as the first member
		out = append(append(out, body[:soAt+1]...), `"include_usage":true`...)
		if so[skipWS(so, 1)] != '}' {
			out = append(out, ',')
		}
		return append(out, body[soAt+1:]...), true
	}
	iu := so[iuAt : iuAt+iuLen]
	if isTrue(iu) || !isNull(iu) && string(iu) != "false" {
		return nil, false
	}
	iuAt += soAt
	out = append(append(out, body[:iuAt]...), "true"...)
	return append(out, body[iuAt+iuLen:]...), true
}

// findStreamOptions reads the top-level members of obj, a checked object:
// streamOK reports one member named "stream" in any case, spelt so, with
// the value true; the stream_options value is at obj[at:at+n] (at is -1
// without one). ok is false if stream_options is given twice or in another
// case.
func findStreamOptions(obj []byte) (streamOK bool, at, n int, ok bool) {
	at, ok = -1, true
	streams := 0
	var kb keyBuf
	m := objectMembers(obj)
	for {
		k, v, more := m.next()
		if !more {
			return streams == 1 && streamOK, at, n, ok
		}
		name := kb.name(k)
		switch {
		case bytes.EqualFold(name, []byte("stream")):
			streams++
			streamOK = string(name) == "stream" && isTrue(v)
		case bytes.EqualFold(name, []byte("stream_options")):
			if at >= 0 || string(name) != "stream_options" {
				ok = false
			}
			at, n = m.i-len(v), len(v)
		}
	}
}

// findMember finds the member named key in obj, a checked object: its value
// is at obj[at:at+n], at is -1 if there is none; ok is false if key is
// given twice or in another case.
func findMember(obj []byte, key string) (at, n int, ok bool) {
	at, ok = -1, true
	var kb keyBuf
	m := objectMembers(obj)
	for {
		k, v, more := m.next()
		if !more {
			return at, n, ok
		}
		if name := kb.name(k); bytes.EqualFold(name, []byte(key)) {
			if at >= 0 || string(name) != key {
				ok = false
			}
			at, n = m.i-len(v), len(v)
		}
	}
}

// memberSpan returns the bytes of a member to take out of the object d so
// that the rest stays valid JSON: from the end of the previous member's
// value (before) to the end of its own (end), or, for the first member,
// from its key to the next member's key.
func memberSpan(d []byte, before, end int, first bool) (from, to int) {
	if !first {
		return before, end
	}
	from, to = skipWS(d, before), end
	if j := skipWS(d, end); j < len(d) && d[j] == ',' {
		to = skipWS(d, j+1)
	}
	return from, to
}

// allZero reports whether v, a checked JSON value, is null, the number 0,
// or an object whose members are all zero that way (a usage of zeros, with
// its details).
func allZero(v []byte) bool {
	switch {
	case isNull(v):
		return true
	case v[0] == '{':
		m := objectMembers(v)
		for {
			_, mv, ok := m.next()
			if !ok {
				return true
			}
			if !allZero(mv) {
				return false
			}
		}
	}
	n, ok := jsonInt(v)
	return ok && n == 0
}

package dialect

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file holds a small JSON reader for the stream hot path. It works on
// byte slices in place: validJSON checks a frame once, with the same rules as
// encoding/json's json.Valid, and the iterators below then walk the checked
// value without allocating, handing out sub-slices ("tokens") of the frame.
// Tokens are raw JSON: a string token includes its quotes and escapes.
// The iterators assume a checked value; on anything else they stop early but
// never index out of range.

// maxDepth is the nesting limit of encoding/json, which validJSON shares.
const maxDepth = 10000

// strPlain marks the bytes that may appear unescaped inside a JSON string
// and need no attention: everything from 0x20 up, except '"' and '\\'.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// validJSON reports whether b holds exactly one JSON value, optionally
// surrounded by whitespace (space, tab, CR, LF). Like encoding/json it
// accepts any bytes of 0x80 and above inside strings.
func validJSON(b []byte) bool {
	i := scanValue(b, skipWS(b, 0), 0)
	return i >= 0 && skipWS(b, i) == len(b)
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue checks the value starting at b[i] and returns the index just
// after it, or -1 if it is not valid JSON.
func scanValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; c {
	case '"':
		return scanString(b, i)
	case '{':
		if depth >= maxDepth {
			return -1
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = scanString(b, i); i < 0 {
				return -1
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = scanValue(b, skipWS(b, i+1), depth+1); i < 0 {
				return -1
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case '}':
				return i + 1
			default:
				return -1
			}
		}
	case '[':
		if depth >= maxDepth {
			return -1
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = scanValue(b, i, depth+1); i < 0 {
				return -1
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case ']':
				return i + 1
			default:
				return -1
			}
		}
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return scanNumber(b, i)
		}
		return -1
	}
}

func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanString checks the string starting at the quote b[i].
func scanString(b []byte, i int) int {
	i++
	for {
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || hex4(b[i+2:i+6]) < 0 {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // control character
			return -1
		}
	}
}

// scanNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skipValue returns the index just after the checked value starting at b[i]
// (whitespace before it already skipped). It only tracks strings and
// brackets, which is enough for a value validJSON accepted.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	default: // a scalar; always consume at least one byte
		for i++; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return i
			}
		}
		return len(b)
	}
}

// skipString returns the index just after the string starting at the quote
// b[i]. Strings in stream frames are short, so a table loop beats
// bytes.IndexByte here.
func skipString(b []byte, i int) int {
	i++
	for {
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return len(b)
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default: // a control character: not in a checked value
			i++
		}
	}
}

// members iterates over the members of a checked JSON object.
type members struct {
	b []byte
	i int
}

// objectMembers starts an iteration over v, a checked JSON value. If v is
// not an object the iteration is empty.
func objectMembers(v []byte) members {
	i := skipWS(v, 0)
	if i >= len(v) || v[i] != '{' {
		return members{}
	}
	return members{b: v, i: i + 1}
}

// next returns the next member's key token (quoted) and value token.
func (m *members) next() (key, val []byte, ok bool) {
	b := m.b
	i := skipWS(b, m.i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		m.b = nil
		return nil, nil, false
	}
	k := skipString(b, i)
	key = b[i:k]
	i = skipWS(b, k)
	if i >= len(b) || b[i] != ':' {
		m.b = nil
		return nil, nil, false
	}
	i = skipWS(b, i+1)
	e := skipValue(b, i)
	m.i = e
	return key, b[i:e], true
}

// elements iterates over the elements of a checked JSON array.
type elements struct {
	b []byte
	i int
}

// arrayElements starts an iteration over v, a checked JSON value. If v is
// not an array the iteration is empty.
func arrayElements(v []byte) elements {
	i := skipWS(v, 0)
	if i >= len(v) || v[i] != '[' {
		return elements{}
	}
	return elements{b: v, i: i + 1}
}

// next returns the next element's token.
func (e *elements) next() (val []byte, ok bool) {
	b := e.b
	i := skipWS(b, e.i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		e.b = nil
		return nil, false
	}
	end := skipValue(b, i)
	if end <= i { // cannot happen on a checked value
		e.b = nil
		return nil, false
	}
	e.i = end
	return b[i:end], true
}

// keyBuf is scratch space for decoding keys that contain escapes.
type keyBuf [64]byte

// name returns the text of the key token k, decoding escapes into buf if
// there are any; without escapes it returns a sub-slice of k.
func (buf *keyBuf) name(k []byte) []byte {
	if len(k) < 2 {
		return nil
	}
	s := k[1 : len(k)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	return appendUnquoted(buf[:0], k)
}

// isString reports whether the token is a JSON string.
func isString(v []byte) bool { return len(v) >= 2 && v[0] == '"' }

// isNull reports whether the token is absent or JSON null.
func isNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// isTrue reports whether the token is JSON true.
func isTrue(v []byte) bool { return string(v) == "true" }

// strIs reports whether the token is a JSON string whose text equals s.
func strIs(v []byte, s string) bool {
	if !isString(v) {
		return false
	}
	t := v[1 : len(v)-1]
	if bytes.IndexByte(t, '\\') < 0 {
		return string(t) == s
	}
	var buf keyBuf
	return string(appendUnquoted(buf[:0], v)) == s
}

// appendUnquoted appends the text of the string token v to dst, decoding
// escapes. Like encoding/json it turns an unpaired surrogate escape into
// U+FFFD; unlike it, raw bytes are copied as they are, invalid UTF-8
// included, so that a character split across two stream frames is joined
// again. Callers clean the finished text with validString. A token that is
// not a string appends nothing.
func appendUnquoted(dst, v []byte) []byte {
	if !isString(v) {
		return dst
	}
	s := v[1 : len(v)-1]
	for {
		k := bytes.IndexByte(s, '\\')
		if k < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:k]...)
		s = s[k:]
		if len(s) < 2 {
			return dst
		}
		switch c := s[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if len(s) < 6 {
				return dst
			}
			r := hex4(s[2:6])
			s = s[6:]
			if r < 0 {
				continue
			}
			if r >= 0xD800 && r < 0xDC00 && len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
				if r2 := hex4(s[2:6]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
					s = s[6:]
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		s = s[2:]
	}
}

// unquote returns the text of the string token v as valid UTF-8, or "" for
// any other token.
func unquote(v []byte) string {
	if !isString(v) {
		return ""
	}
	t := v[1 : len(v)-1]
	if bytes.IndexByte(t, '\\') < 0 {
		return validString(t)
	}
	return validString(appendUnquoted(make([]byte, 0, len(t)), v))
}

// validString converts b to a string, replacing each byte that is not part
// of valid UTF-8 with U+FFFD, as encoding/json does when it decodes a string.
func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

// jsonInt returns the value of a number token as an int64. Integral values
// written with a fraction or exponent (3.0, 1e3) are accepted; anything else
// reports false.
func jsonInt(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	neg := v[0] == '-'
	d := v
	if neg {
		d = v[1:]
	}
	if len(d) > 0 && len(d) <= 18 {
		var n int64
		plain := true
		for _, c := range d {
			if c < '0' || c > '9' {
				plain = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if plain {
			if neg {
				n = -n
			}
			return n, true
		}
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != math.Trunc(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// kindName names the JSON kind of a token the way encoding/json's
// UnmarshalTypeError does: "string", "number", "object", "array", "bool" or
// "null".
func kindName(v []byte) string {
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

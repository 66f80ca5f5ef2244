package redact

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// A cand is a candidate finding, before overlaps are resolved.
type cand struct {
	start, end int
	typ        Type
	prio       int
	key        string // canonical value for numbering, or "" for canonical(typ, value)
}

type span struct{ start, end int }

// A detector holds the state of one pass over one text.
type detector struct {
	r      *Redactor
	s      string // the text, with placeholders masked
	now    time.Time
	digits []span // maximal runs of ASCII digits that are whole tokens
	cands  []cand
}

var detectors = sync.Pool{New: func() any { return new(detector) }}

// mask is the byte that hides placeholders from the recognizers: no
// recognizer accepts it as part of a value or as filler between a keyword
// and a value.
const mask = 0

// detect returns the findings in text, resolved: sorted, not overlapping,
// none overlapping a placeholder already in the text.
func (r *Redactor) detect(text string, now time.Time) []cand {
	s, holes := r.maskPlaceholders(text)
	d := detectors.Get().(*detector)
	*d = detector{r: r, s: s, now: now, digits: d.digits[:0], cands: d.cands[:0]}
	d.scan()
	if strings.IndexByte(s, '@') >= 0 {
		d.emails()
	}
	if strings.Contains(s, "://") {
		d.urls()
	}
	if strings.Contains(s, "-----BEGIN ") {
		d.pemBlocks()
	}
	if len(d.digits) > 0 {
		d.numbers()
		d.phones()
	}
	if strings.Contains(s, "::") || strings.Count(s, ":") >= 2 {
		d.ipv6()
	}
	d.custom()
	cs := d.resolve(holes)
	// Keep no text or value alive in the pool.
	clear(d.cands[:cap(d.cands)])
	*d = detector{digits: d.digits[:0], cands: d.cands[:0]}
	detectors.Put(d)
	return cs
}

// add records a candidate of a built-in type.
func (d *detector) add(t Type, start, end int, key string) {
	if start < end {
		d.cands = append(d.cands, cand{start: start, end: end, typ: t, prio: builtinPrio[t], key: key})
	}
}

// maskPlaceholders returns text with every placeholder of a known type
// ("[EMAIL_3]") overwritten with mask bytes, and their spans.
func (r *Redactor) maskPlaceholders(text string) (string, []span) {
	var holes []span
	for i := strings.IndexByte(text, '['); i >= 0 && i < len(text); {
		j := i + 1
		for j < len(text) && (isUpper(text[j]) || isDigit(text[j]) || text[j] == '_') {
			j++
		}
		if j < len(text) && text[j] == ']' && isPlaceholderName(text[i+1:j], r.known) {
			holes = append(holes, span{i, j + 1})
		}
		k := strings.IndexByte(text[i+1:], '[')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	if holes == nil {
		return text, nil
	}
	b := []byte(text)
	for _, h := range holes {
		for k := h.start; k < h.end; k++ {
			b[k] = mask
		}
	}
	return string(b), holes
}

// isPlaceholderName reports whether name is TYPE_N for a known type and a
// number without leading zeros.
func isPlaceholderName(name string, known map[string]bool) bool {
	u := strings.LastIndexByte(name, '_')
	if u <= 0 {
		return false
	}
	n := name[u+1:]
	if len(n) == 0 || len(n) > 9 || n[0] == '0' {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isDigit(n[i]) {
			return false
		}
	}
	return known[name[:u]]
}

// scan walks the text once, token by token, collecting runs of digits and
// running the recognizers that start at a word: secrets with a known
// prefix, IBANs, and everything anchored on a keyword.
func (d *detector) scan() {
	s := d.s
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !isWordByte(c) {
			i++
			continue
		}
		// A token is a run of ASCII letters, digits and underscores, or of
		// other letters; a token never mixes ASCII digits with non-ASCII
		// letters, so that "電話03-1234-5678" has a number in it.
		start := i
		allDigits := true
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !isWordByte(c) {
					break
				}
				if !isDigit(c) {
					allDigits = false
				} else if i > start && s[i-1] >= utf8.RuneSelf {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsLetter(r) && !unicode.IsMark(r) {
				break
			}
			if i > start && isDigit(s[i-1]) {
				break
			}
			allDigits = false
			i += n
		}
		if i == start { // a lone non-letter rune
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		if allDigits {
			d.digits = append(d.digits, span{start, i})
			continue
		}
		if next := d.token(start, i); next > i {
			// A recognizer consumed more than the token. Digits inside it
			// belong to it and are not looked at again.
			i = next
		}
	}
}

// token runs the recognizers that start at the word s[a:b] and returns
// the end of what they consumed (or b).
func (d *detector) token(a, b int) int {
	s := d.s
	t := s[a:b]
	switch t[0] {
	case 'A':
		if end := d.awsKeyID(a, b); end > 0 {
			return end
		}
	case 'g':
		if end := d.githubToken(a, b); end > 0 {
			return end
		}
	case 'x':
		if end := d.slackToken(a, b); end > 0 {
			return end
		}
	case 's':
		if end := d.openAIKey(a, b); end > 0 {
			return end
		}
	case 'e':
		if end := d.jwt(a, b); end > 0 {
			return end
		}
	}
	if len(t) >= 4 && isLetter(t[0]) && isLetter(t[1]) && isDigit(t[2]) && isDigit(t[3]) {
		if end := d.iban(a, b); end > 0 {
			return end
		}
	}
	if (t == "D" || t == "d") && hasPrefixFold(s[b:], ".o.b") { // D.O.B.
		return d.anchored(kwDOBAbbrev, a, b, nil)
	}
	if t == "p" && a >= 2 && s[a-1] == '-' && s[a-2] == ' ' {
		d.mysqlPassword(b)
		return b
	}
	if len(t) < 2 || len(t) > 48 {
		return b
	}
	var buf [48 * 2]byte
	lower := appendLowerASCII(buf[:0], t)
	k := keywordKinds(lower)
	if k == 0 {
		if t == "DL" {
			k = kwDL
		} else {
			return b
		}
	}
	return d.anchored(k, a, b, lower)
}

// resolve filters, adjusts and de-overlaps the candidates.
func (d *detector) resolve(holes []span) []cand {
	s := d.s
	cs := d.cands[:0]
	for _, c := range d.cands {
		if d.r.actions[c.typ] == Allow {
			continue
		}
		c.start, c.end = escapeSafe(s, c.start, c.end)
		if c.start >= c.end || overlapsAny(holes, c.start, c.end) {
			continue
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		d.cands = cs
		return nil
	}
	slices.SortFunc(cs, func(x, y cand) int {
		if x.start != y.start {
			return x.start - y.start
		}
		return y.end - x.end
	})
	out := make([]cand, 0, len(cs))
	for i := 0; i < len(cs); {
		// A cluster is a run of transitively overlapping candidates.
		best := cs[i]
		lo, hi := cs[i].start, cs[i].end
		j := i + 1
		for ; j < len(cs) && cs[j].start < hi; j++ {
			c := cs[j]
			hi = max(hi, c.end)
			if l, bl := c.end-c.start, best.end-best.start; l > bl || l == bl && c.prio > best.prio {
				best = c
			}
		}
		if best.start != lo || best.end != hi {
			best.start, best.end, best.key = lo, hi, ""
		}
		out = append(out, best)
		i = j
	}
	d.cands = cs
	return out
}

// overlapsAny reports whether [start, end) overlaps one of spans, which
// are sorted and do not overlap.
func overlapsAny(spans []span, start, end int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].end > start })
	return i < len(spans) && spans[i].start < end
}

// escapeSafe moves the bounds of a span so that it does not split a
// backslash escape: in JSON text "\nalice@example.com" the address starts
// after the "n" of "\n", and replacing it must leave "\n" whole.
func escapeSafe(s string, start, end int) (int, int) {
	// Inside or right after a backslash?
	for q := start - 1; q >= 0 && q >= start-5; q-- {
		if s[q] != '\\' || !oddBackslashes(s, q+1) {
			continue
		}
		if q+1 < len(s) && s[q+1] == 'u' {
			if start < q+6 {
				start = min(q+6, len(s))
			}
		} else if start == q+1 {
			start = q + 2
		}
		break
	}
	// Ending on a backslash, or inside \uXXXX?
	for q := end - 1; q >= start && q >= end-5; q-- {
		if s[q] != '\\' || !oddBackslashes(s, q+1) {
			continue
		}
		if q == end-1 || q+1 < len(s) && s[q+1] == 'u' && end < q+6 {
			end = q
		}
		break
	}
	return start, end
}

// oddBackslashes reports whether the run of backslashes that ends at i
// (exclusive) has odd length.
func oddBackslashes(s string, i int) bool {
	n := 0
	for i > 0 && s[i-1] == '\\' {
		n++
		i--
	}
	return n%2 == 1
}

// custom runs the configuration's rules and dictionaries.
func (d *detector) custom() {
	s := d.s
	for _, ru := range d.r.rules {
		for _, m := range ru.re.FindAllStringSubmatchIndex(s, -1) {
			a, b := m[0], m[1]
			if ru.group > 0 {
				a, b = m[2*ru.group], m[2*ru.group+1]
			}
			if a >= 0 && a < b {
				d.cands = append(d.cands, cand{start: a, end: b, typ: ru.typ, prio: prioRule})
			}
		}
	}
	for _, di := range d.r.dicts {
		for i := 0; i < len(s); {
			m := di.re.FindStringIndex(s[i:])
			if m == nil {
				break
			}
			a, b := i+m[0], i+m[1]
			if a == b {
				i = b + 1
				continue
			}
			if wordBoundary(s, a) && wordBoundary(s, b) {
				d.cands = append(d.cands, cand{start: a, end: b, typ: di.typ, prio: prioDict})
				i = b
				continue
			}
			_, n := utf8.DecodeRuneInString(s[a:])
			i = a + n
		}
	}
}

// wordBoundary reports whether i is not inside a word (in Unicode).
func wordBoundary(s string, i int) bool {
	if i == 0 || i == len(s) {
		return true
	}
	r1, _ := utf8.DecodeLastRuneInString(s[:i])
	r2, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordRune(r1) || !isWordRune(r2)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Byte classes.

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isUpper(c byte) bool    { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool    { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool   { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool    { return isLetter(c) || isDigit(c) }
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }
func isHex(c byte) bool      { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isSpace(c byte) bool    { return c == ' ' || c == '\t' }

func appendLowerASCII(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// in any case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// prevWord returns the word (ASCII letters) that ends before i, skipping
// at most max bytes of spaces and punctuation in chars, and its start.
func prevWord(s string, i int, chars string, max int) (string, int) {
	j := i
	for j > 0 && i-j < max && (isSpace(s[j-1]) || strings.IndexByte(chars, s[j-1]) >= 0) {
		j--
	}
	e := j
	for j > 0 && isLetter(s[j-1]) && e-j < 32 {
		j--
	}
	if j > 0 && isWordByte(s[j-1]) {
		return "", j
	}
	return s[j:e], j
}

// mysqlPassword records the password of "mysql -p'secret'" and
// "mysql -psecret": -p with the password attached (psql's -p 5432 is a
// port).
func (d *detector) mysqlPassword(b int) {
	s := d.s
	if b >= len(s) || s[b] <= ' ' || s[b] == '-' {
		return
	}
	vs, ve, _ := readValue(s, b, false)
	if vs >= ve || strings.Trim(s[vs:ve], "0123456789") == "" || isPlaceholderValue(s[vs:ve]) {
		return
	}
	d.add(Password, vs, ve, "")
}

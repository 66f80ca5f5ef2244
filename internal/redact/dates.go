package redact

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// dateOfBirth records the date that follows a birth keyword ("DOB:",
// "date of birth", "born on", "geboren am", "né le"...) within a few words
// on the same line, if it is a real date in the past.
func (d *detector) dateOfBirth(b int) {
	s := d.s
	words := 0
	for i := b; i < len(s) && i-b < 48; {
		c := s[i]
		switch {
		case isSpace(c) || strings.IndexByte(":#=-\"'(),*/.", c) >= 0:
			i++
		case isDigit(c):
			if i > 0 && isWordByte(s[i-1]) {
				return
			}
			if e, ok := parseDate(s, i, d.now); ok {
				d.add(DateOfBirth, i, e, "")
			}
			return
		case isLetter(c) || c >= utf8.RuneSelf && c != mask:
			if n := fillerRune(s[i:]); n > 0 {
				i += n
				continue
			}
			if e, ok := parseDate(s, i, d.now); ok {
				d.add(DateOfBirth, i, e, "")
				return
			}
			j := wordEnd(s, i)
			if j == i || words == 6 {
				return
			}
			words++
			i = j
		default:
			return
		}
	}
}

// wordEnd returns the end of the word (letters, in Unicode) at s[i:].
func wordEnd(s string, i int) int {
	for i < len(s) {
		if isLetter(s[i]) {
			i++
			continue
		}
		if s[i] < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsMark(r) {
			break
		}
		i += n
	}
	return i
}

// parseDate reads a date at s[i:] and returns its end, if it is a real
// date from 1900 to now. Accepted forms:
//
//	1980-03-14  1980/03/14  14.03.1980  14/03/1980  03/14/1980  14-03-80
//	14 March 1980  14th of March, 1980  14. März 1980  14 de marzo de 1980
//	March 14, 1980  Mar. 14th 1980  1980年3月14日
//
// Numeric day/month order is ambiguous; a date is accepted if it is real
// in either order.
func parseDate(s string, i int, now time.Time) (int, bool) {
	if isDigit(s[i]) {
		if e, ok := parseNumericDate(s, i, now); ok {
			return e, true
		}
		return parseDayFirst(s, i, now)
	}
	return parseMonthFirst(s, i, now)
}

func readNum(s string, i, maxDigits int) (n, end int) {
	end = i
	for end < len(s) && isDigit(s[end]) && end-i < maxDigits+1 {
		n = n*10 + int(s[end]-'0')
		end++
	}
	return n, end
}

func parseNumericDate(s string, i int, now time.Time) (int, bool) {
	a, e1 := readNum(s, i, 4)
	la := e1 - i
	if e1 >= len(s) || la > 4 {
		return 0, false
	}
	sep := s[e1]
	if strings.HasPrefix(s[e1:], "年") { // 1980年3月14日
		m, e2 := readNum(s, e1+len("年"), 2)
		if e2 == e1+len("年") || !strings.HasPrefix(s[e2:], "月") {
			return 0, false
		}
		dd, e3 := readNum(s, e2+len("月"), 2)
		if e3 == e2+len("月") || !strings.HasPrefix(s[e3:], "日") || la != 4 {
			return 0, false
		}
		return e3 + len("日"), realDate(a, m, dd, now)
	}
	if sep != '/' && sep != '.' && sep != '-' {
		return 0, false
	}
	b, e2 := readNum(s, e1+1, 2)
	lb := e2 - e1 - 1
	if lb < 1 || lb > 2 || e2 >= len(s) || s[e2] != sep {
		return 0, false
	}
	c, e3 := readNum(s, e2+1, 4)
	lc := e3 - e2 - 1
	if !dateRightOK(s, e3) {
		return 0, false
	}
	switch {
	case la == 4 && (lc == 1 || lc == 2):
		return e3, realDate(a, b, c, now)
	case la <= 2 && (lc == 4 || lc == 2):
		y := c
		if lc == 2 {
			y = twoDigitYear(c, now)
		}
		return e3, realDate(y, b, a, now) || realDate(y, a, b, now)
	}
	return 0, false
}

func twoDigitYear(y int, now time.Time) int {
	if 2000+y > now.Year() {
		return 1900 + y
	}
	return 2000 + y
}

// dateRightOK reports whether a date may end at i: not inside a longer
// number or word (an ISO time "T10:00" may follow).
func dateRightOK(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c := s[i]
	if c == 'T' && i+1 < len(s) && isDigit(s[i+1]) {
		return true
	}
	if isWordByte(c) {
		return false
	}
	if (c == '.' || c == '/' || c == '-') && i+1 < len(s) && isDigit(s[i+1]) {
		return false
	}
	return true
}

// parseDayFirst reads "14 March 1980", "14th of March, 1980",
// "14. März 1980", "14 de marzo de 1980", "1er mars 1980".
func parseDayFirst(s string, i int, now time.Time) (int, bool) {
	day, j := readNum(s, i, 2)
	if j-i > 2 {
		return 0, false
	}
	for _, suf := range []string{"st", "nd", "rd", "th", "er", "º", "."} {
		if hasPrefixFold(s[j:], suf) && (suf == "." || suf == "º" || j+len(suf) >= len(s) || !isLetter(s[j+len(suf)])) {
			j += len(suf)
			break
		}
	}
	j = skipDateFiller(s, j)
	m, e := monthAt(s, j)
	if m == 0 {
		return 0, false
	}
	j = skipDateFiller(s, e)
	y, e := readNum(s, j, 4)
	if e-j != 4 || !dateRightOK(s, e) {
		return 0, false
	}
	return e, realDate(y, m, day, now)
}

// parseMonthFirst reads "March 14, 1980" and "Mar. 14th 1980".
func parseMonthFirst(s string, i int, now time.Time) (int, bool) {
	m, j := monthAt(s, i)
	if m == 0 {
		return 0, false
	}
	if j < len(s) && s[j] == '.' {
		j++
	}
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	day, e := readNum(s, j, 2)
	if e == j || e-j > 2 {
		return 0, false
	}
	j = e
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if hasPrefixFold(s[j:], suf) {
			j += len(suf)
			break
		}
	}
	if j < len(s) && s[j] == ',' {
		j++
	}
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	y, e := readNum(s, j, 4)
	if e-j != 4 || !dateRightOK(s, e) {
		return 0, false
	}
	return e, realDate(y, m, day, now)
}

// skipDateFiller skips spaces, commas, dots and the words "of" and "de"
// between the parts of a written date.
func skipDateFiller(s string, j int) int {
	for j < len(s) {
		switch {
		case isSpace(s[j]) || s[j] == ',' || s[j] == '.':
			j++
		case (hasPrefixFold(s[j:], "of") || hasPrefixFold(s[j:], "de")) && j+2 < len(s) && isSpace(s[j+2]):
			j += 2
		default:
			return j
		}
	}
	return j
}

// monthAt reads a month name (English, German, French, Spanish, Italian,
// Portuguese, Dutch; full or abbreviated) at s[i:].
func monthAt(s string, i int) (month, end int) {
	e := wordEnd(s, i)
	if e == i || e-i > 12 {
		return 0, i
	}
	m := months[strings.ToLower(s[i:e])]
	if m == 0 {
		return 0, i
	}
	return m, e
}

var months = func() map[string]int {
	m := make(map[string]int)
	for n, names := range [][]string{
		{"january", "jan", "januar", "janvier", "enero", "gennaio", "janeiro", "januari", "jänner"},
		{"february", "feb", "februar", "février", "fevrier", "febrero", "febbraio", "fevereiro", "februari", "févr", "fév"},
		{"march", "mar", "märz", "maerz", "mars", "marzo", "março", "marco", "maart", "mär", "mrt"},
		{"april", "apr", "avril", "abril", "aprile", "avr"},
		{"may", "mai", "mayo", "maggio", "maio", "mei"},
		{"june", "jun", "juni", "juin", "junio", "giugno", "junho"},
		{"july", "jul", "juli", "juillet", "julio", "luglio", "julho", "juil"},
		{"august", "aug", "août", "aout", "agosto", "augustus", "ago"},
		{"september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "setembro", "set"},
		{"october", "oct", "oktober", "octobre", "octubre", "ottobre", "outubro", "okt", "out"},
		{"november", "nov", "novembre", "noviembre", "novembro"},
		{"december", "dec", "dezember", "décembre", "decembre", "diciembre", "dicembre", "dezembro", "dez", "déc", "dic"},
	} {
		for _, name := range names {
			m[name] = n + 1
		}
	}
	return m
}()

// realDate reports whether y-m-d is a calendar date from 1900 up to now.
func realDate(y, m, d int, now time.Time) bool {
	if y < 1900 || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 April
		return false
	}
	return !t.After(now)
}

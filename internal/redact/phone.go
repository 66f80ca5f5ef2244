package redact

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// phones recognizes phone numbers: chains of digit runs joined by the
// punctuation people write in numbers (spaces, dashes, dots, slashes,
// parentheses), optionally after "+". Within a chain, every run of whole
// words (split at spaces) is a candidate, longest first, so that "call
// 415-555-0132 2 times" finds the number. A candidate is a phone number if
// libphonenumber says it is valid: in international form (+CC or 00CC),
// for its country; in national form, for the default region, and then only
// if its digits are grouped the way that country groups them (so "92 88 75
// 64 81", a list of scores, is not the Arizona number 928-875-6481). A
// single unbroken run of digits is a phone number only after a keyword
// ("phone: 4155550132", see phoneAfter). Dates, IPv4 addresses and ISBNs
// are never phone numbers, nor numbers after "order", "invoice",
// "tracking"...
func (d *detector) phones() {
	g := d.digits
	for i := 0; i < len(g); {
		n := 1
		for i+n < len(g) && n < 12 && validJoint(d.joint(i+n-1)) {
			n++
		}
		d.phoneChain(i, n)
		i += n
	}
}

// validJoint reports whether j may join two groups of digits of one phone
// number.
func validJoint(j string) bool {
	switch j {
	case " ", "-", ".", "/", ")", ") ", ")-", " (", "(", "-(", " - ", " / ", ". ":
		return true
	}
	return false
}

// phoneChain tries the windows of words of the chain of n digit runs that
// starts at run i.
func (d *detector) phoneChain(i, n int) {
	s, g := d.s, d.digits
	// Words: runs of groups not separated by a space.
	var wordStart [13]int // index of the first group of each word
	words := 0
	for k := 0; k < n; k++ {
		if k == 0 || strings.IndexByte(d.joint(i+k-1), ' ') >= 0 {
			wordStart[words] = i + k
			words++
		}
	}
	wordStart[words] = i + n
	for a := 0; a < words; {
		first := wordStart[a]
		start := g[first].start
		if a == 0 {
			start = phonePrefix(s, start)
			if !phoneLeftOK(s, start) {
				a++
				continue
			}
		} else if start > 0 && s[start-1] == '(' {
			start--
		}
		found := false
		for b := words - 1; b >= a; b-- {
			last := wordStart[b+1] - 1
			end := g[last].end
			if b == words-1 && !numRightOK(s, end) {
				continue
			}
			if e164, ok := d.phoneWindow(start, end, first, last); ok {
				st := start
				if s[st] == '(' && strings.IndexByte(s[st:end], ')') < 0 {
					st++ // keep a parenthesis that the number does not close
				}
				d.add(Phone, st, end, e164)
				a = b + 1
				found = true
				break
			}
		}
		if !found {
			a++
		}
	}
}

// phonePrefix moves the start of a number back over "+", "(" and "(+".
func phonePrefix(s string, p int) int {
	if p > 0 && s[p-1] == '(' {
		p--
	}
	if p > 0 && s[p-1] == '+' {
		p--
	}
	if p > 0 && s[p-1] == '(' && s[p] == '+' {
		p--
	}
	return p
}

func phoneLeftOK(s string, p int) bool {
	if p == 0 {
		return true
	}
	c := s[p-1]
	if isWordByte(c) || c == '+' {
		return false
	}
	if s[p] == '+' || s[p] == '(' {
		return true
	}
	return numLeftOK(s, p)
}

// phoneWindow checks one candidate: s[start:end], digit runs first..last.
func (d *detector) phoneWindow(start, end, first, last int) (string, bool) {
	s, g := d.s, d.digits
	ndig := 0
	var lens [12]int
	for k := first; k <= last; k++ {
		lens[k-first] = g[k].end - g[k].start
		ndig += lens[k-first]
	}
	groups := lens[:last-first+1]
	text := s[start:end]
	intl := text[0] == '+' || strings.HasPrefix(text, "(+")
	if ndig < 7 || ndig > 17 || !intl && ndig > 15 && !strings.HasPrefix(s[g[first].start:], "00") {
		return "", false
	}
	if len(groups) == 1 && !intl {
		return "", false // unbroken digits need a keyword
	}
	if !d.r.phoneLengths.possible(s[g[first].start:end], intl, ndig) {
		return "", false
	}
	if d.r.nanp && !intl && !strings.HasPrefix(s[g[first].start:], "0") && !nanpShape(s, g[first:last+1]) {
		return "", false
	}
	if d.notPhone(start, first, last) {
		return "", false
	}
	return d.validPhone(text, groups, false)
}

// notPhone reports whether digit runs first..last are something else that
// looks like a phone number: a date, an IPv4 address, an ISBN, or a number
// after a word like "order" or "version".
func (d *detector) notPhone(start, first, last int) bool {
	s, g := d.s, d.digits
	for k := first; k+2 <= last; k++ {
		j1, j2 := d.joint(k), d.joint(k+1)
		if j1 != j2 || (j1 != "." && j1 != "/" && j1 != "-") {
			continue
		}
		l1, l3 := g[k].end-g[k].start, g[k+2].end-g[k+2].start
		if l1 != 4 && l3 != 4 {
			continue // with a four-digit year only: 12-10-65 ends a Swedish number
		}
		if e, ok := parseNumericDate(s, g[k].start, d.now); ok && e == g[k+2].end {
			return true
		}
	}
	if last-first == 3 {
		ip := true
		for k := first; k <= last; k++ {
			ip = ip && g[k].end-g[k].start <= 3 && (k == last || d.joint(k) == ".")
		}
		if ip {
			return true
		}
	}
	if isISBN(s[start:g[last].end], last-first+1) {
		return true
	}
	w, ws := prevWord(s, start, ":#.=", 4)
	lw := strings.ToLower(w)
	if notPhoneWords[lw] {
		return true
	}
	switch lw {
	case "no", "nr", "number", "num", "nummer", "numéro", "número", "numero", "code", "n":
		// "order no. 415-555-0132": the word before says what it is.
		w2, _ := prevWord(s, ws, ":#.", 3)
		return notPhoneWords[strings.ToLower(w2)]
	}
	return false
}

var notPhoneWords = map[string]bool{
	"order": true, "invoice": true, "inv": true, "ticket": true, "tracking": true, "case": true,
	"ref": true, "reference": true, "po": true, "sku": true, "serial": true, "isbn": true,
	"issn": true, "account": true, "acct": true, "iban": true, "bic": true, "swift": true,
	"routing": true, "ssn": true, "policy": true, "claim": true, "transaction": true, "txn": true,
	"receipt": true, "confirmation": true, "booking": true, "version": true, "ver": true, "v": true,
	"release": true, "build": true, "patent": true, "part": true, "model": true, "lot": true,
	"batch": true, "item": true, "product": true, "pid": true, "port": true, "uid": true,
	"gid": true, "vin": true, "imei": true, "bestellung": true, "rechnung": true,
	"commande": true, "facture": true, "pedido": true, "factura": true, "auftrag": true,
	"kundennummer": true, "sendungsnummer": true, "mrn": true, "passport": true, "ein": true,
	"tin": true, "isin": true, "doi": true, "pmid": true, "arxiv": true, "shipment": true,
	"parcel": true, "awb": true, "container": true, "docket": true, "rma": true, "ip": true,
	"id": true, "meeting": true, "zoom": true, "webinar": true, "conference": true, "passcode": true,
	"pin": true, "otp": true,
}

// isISBN reports whether a hyphenated number is an ISBN: 13 digits with
// prefix 978 or 979 and a valid check digit, or 10 digits in four groups
// with a valid ISBN-10 check digit.
func isISBN(text string, groups int) bool {
	var v [13]int
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if isDigit(c) {
			if n == 13 {
				return false
			}
			v[n] = int(c - '0')
			n++
		}
	}
	switch {
	case n == 13 && v[0] == 9 && v[1] == 7 && (v[2] == 8 || v[2] == 9):
		sum := 0
		for i := 0; i < 13; i++ {
			if i%2 == 0 {
				sum += v[i]
			} else {
				sum += 3 * v[i]
			}
		}
		return sum%10 == 0
	case n == 10 && groups == 4:
		sum := 0
		for i := 0; i < 10; i++ {
			sum += (10 - i) * v[i]
		}
		return sum%11 == 0
	}
	return false
}

// validPhone parses a candidate with libphonenumber. groups, if not nil,
// are the lengths of its digit groups, checked against the way the
// number's country groups it when the candidate is in national form.
func (d *detector) validPhone(text string, groups []int, keyword bool) (string, bool) {
	parse := text
	body := strings.TrimLeft(text, "(")
	intl := strings.HasPrefix(body, "+")
	if !intl && len(body) > 3 && body[0] == '0' && body[1] == '0' && body[2] != '0' {
		parse = "+" + body[2:] // 00 44 ..., the international prefix of most countries
		intl = true
	}
	if intl && !callingCodePrefix(parse) {
		return "", false
	}
	num, err := phonenumbers.Parse(parse, d.r.region)
	if err != nil {
		return "", false
	}
	// Most numbers are of the default region, and validating for one
	// region is much cheaper than finding the region (+1 is shared by 25).
	if !phonenumbers.IsValidNumberForRegion(num, d.r.region) && !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	if !intl && !keyword && groups != nil && body[0] != '0' && !phoneGrouping(num, groups) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// callingCodePrefix reports whether "+..." starts with a country calling
// code, a cheap test before parsing.
func callingCodePrefix(s string) bool {
	v := 0
	n := 0
	for i := 1; i < len(s) && n < 3; i++ {
		c := s[i]
		if c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' {
			if n > 0 {
				break
			}
			continue
		}
		if !isDigit(c) {
			break
		}
		v = v*10 + int(c-'0')
		n++
		if callingCodes[v] {
			return true
		}
	}
	return false
}

var callingCodes = phonenumbers.GetSupportedCallingCodes()

// phoneGrouping reports whether the candidate's groups (after its
// country code or national prefix) only merge groups of the number's
// national or international format: 415-555-0132 and 415 5550132 are
// American groupings, 41 555 50 132 is not.
func phoneGrouping(num *phonenumbers.PhoneNumber, groups []int) bool {
	nsn := len(phonenumbers.GetNationalSignificantNumber(num))
	total := 0
	for _, l := range groups {
		total += l
	}
	var cand [12]int
	nc := 0
	cum := -(total - nsn)
	for _, l := range groups[:len(groups)-1] {
		cum += l
		if cum > 0 && cum < nsn {
			cand[nc] = cum
			nc++
		}
	}
	for _, f := range []phonenumbers.PhoneNumberFormat{phonenumbers.NATIONAL, phonenumbers.INTERNATIONAL} {
		if boundariesWithin(cand[:nc], phonenumbers.Format(num, f), nsn) {
			return true
		}
	}
	return false
}

// boundariesWithin reports whether every boundary in cand (a count of
// national significant digits) is a group boundary of formatted.
func boundariesWithin(cand []int, formatted string, nsn int) bool {
	var fb [16]int
	nf := 0
	total := 0
	for i := 0; i < len(formatted); i++ {
		if isDigit(formatted[i]) {
			total++
		}
	}
	cum := -(total - nsn)
	for i := 0; i < len(formatted); i++ {
		if !isDigit(formatted[i]) {
			continue
		}
		cum++
		if i+1 < len(formatted) && !isDigit(formatted[i+1]) && cum > 0 && nf < len(fb) {
			fb[nf] = cum
			nf++
		}
	}
outer:
	for _, b := range cand {
		for _, f := range fb[:nf] {
			if f == b {
				continue outer
			}
		}
		return false
	}
	return true
}

// phoneLengths holds, for a cheap test before parsing, the lengths that
// national significant numbers have: in the default region, and for each
// country calling code.
type phoneLengths struct {
	national map[int]bool // total digits of a national number of the default region, with or without its prefix
	byCode   map[int]map[int]bool
}

var (
	lengthsOnce   sync.Once
	lengthsByCode map[int]map[int]bool
	lengthsByReg  map[string]map[int]bool
	prefixByReg   map[string]string
)

func loadLengths() {
	lengthsByCode = make(map[int]map[int]bool)
	lengthsByReg = make(map[string]map[int]bool)
	prefixByReg = make(map[string]string)
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return // possible() then accepts everything and parsing decides
	}
	for _, m := range coll.GetMetadata() {
		ls := make(map[int]bool)
		for _, l := range m.GetGeneralDesc().GetPossibleLength() {
			ls[int(l)] = true
		}
		lengthsByReg[m.GetId()] = ls
		prefixByReg[m.GetId()] = m.GetNationalPrefix()
		cc := int(m.GetCountryCode())
		if lengthsByCode[cc] == nil {
			lengthsByCode[cc] = make(map[int]bool)
		}
		for l := range ls {
			lengthsByCode[cc][l] = true
		}
	}
}

func newPhoneLengths(region string) phoneLengths {
	lengthsOnce.Do(loadLengths)
	pl := phoneLengths{national: make(map[int]bool), byCode: lengthsByCode}
	np := len(prefixByReg[region])
	for l := range lengthsByReg[region] {
		pl.national[l] = true
		pl.national[l+np] = true
	}
	return pl
}

// possible reports whether a candidate of ndig digits, starting with
// digits, can be a phone number: its length, less its country code or
// national prefix, is one that numbers have. A "(0)" trunk prefix or an
// international prefix (00, 011) may add up to three digits.
func (pl phoneLengths) possible(digits string, intl bool, ndig int) bool {
	if len(pl.byCode) == 0 {
		return true
	}
	if !intl && !strings.HasPrefix(digits, "00") && !strings.HasPrefix(digits, "011") {
		return pl.national[ndig]
	}
	if strings.HasPrefix(digits, "00") {
		ndig -= 2
		digits = digits[2:]
	} else if strings.HasPrefix(digits, "011") && !intl {
		ndig -= 3
		digits = digits[3:]
	}
	cc := 0
	n := 0
	for i := 0; i < len(digits) && n < 3; i++ {
		c := digits[i]
		if !isDigit(c) {
			if n > 0 {
				break
			}
			continue
		}
		cc = cc*10 + int(c-'0')
		n++
		if ls := pl.byCode[cc]; ls != nil {
			rest := ndig - n
			return ls[rest] || ls[rest-1] // with "(0)"
		}
	}
	return false
}

// nanpShape is a cheap test of a national number of the North American
// Numbering Plan before parsing: an optional 1, then NXX-NXX-XXXX (N is
// 2-9, the area code is not N11), grouped 3-3-4 or coarser.
func nanpShape(s string, groups []span) bool {
	var d [11]byte
	n := 0
	var bounds [11]int
	nb := 0
	for k, gr := range groups {
		for i := gr.start; i < gr.end; i++ {
			if n == len(d) {
				return false
			}
			d[n] = s[i]
			n++
		}
		if k < len(groups)-1 {
			bounds[nb] = n
			nb++
		}
	}
	off := 0
	if n == 11 {
		if d[0] != '1' {
			return false
		}
		off = 1
	} else if n != 10 {
		return false
	}
	nsn := d[off:n]
	if nsn[0] < '2' || nsn[3] < '2' || nsn[1] == '1' && nsn[2] == '1' {
		return false
	}
	for _, b := range bounds[:nb] {
		switch b - off {
		case 0, 3, 6:
		default:
			return false
		}
	}
	return true
}

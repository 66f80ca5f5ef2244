package redact

import (
	"net/netip"
	"strconv"
	"strings"
)

// numbers runs the recognizers that start at a run of digits: card
// numbers, dashed social security numbers and IPv4 addresses.
func (d *detector) numbers() {
	for i := 0; i < len(d.digits); i++ {
		if n := d.card(i); n > 0 {
			i += n - 1
			continue
		}
		if d.dashedSSN(i) {
			i += 2
			continue
		}
		if d.ipv4(i) {
			i += 3
		}
	}
}

// joint returns the text between digit runs i and i+1.
func (d *detector) joint(i int) string {
	if i+1 >= len(d.digits) {
		return ""
	}
	return d.s[d.digits[i].end:d.digits[i+1].start]
}

// numLeftOK reports whether a number may start at p: it does not continue
// a word ("x123"), a dotted or dashed token ("v1.2", "AB-12"), or a time.
func numLeftOK(s string, p int) bool {
	if p == 0 {
		return true
	}
	c := s[p-1]
	if isWordByte(c) {
		return false
	}
	if p >= 2 {
		b := s[p-2]
		if (c == '.' || c == '-' || c == '/') && isAlnum(b) || c == ':' && isDigit(b) {
			return false
		}
	}
	return true
}

// numRightOK is numLeftOK at the end of a number.
func numRightOK(s string, q int) bool {
	if q >= len(s) {
		return true
	}
	c := s[q]
	if isWordByte(c) {
		return false
	}
	if q+1 < len(s) {
		n := s[q+1]
		if (c == '.' || c == '-' || c == '/') && isAlnum(n) || c == ':' && isDigit(n) {
			return false
		}
	}
	return true
}

// card recognizes a payment card number at digit run i: 13 to 19 digits,
// either unbroken or in groups of four (the last shorter) or Amex/Diners
// 4-6-5/4-6-4 groups separated by single spaces or dashes, with a known
// issuer prefix and a valid Luhn check digit. It returns the number of
// runs used.
func (d *detector) card(i int) int {
	s, g := d.s, d.digits
	if !numLeftOK(s, g[i].start) {
		return 0
	}
	if l := g[i].end - g[i].start; l != 4 {
		if l >= 13 && l <= 19 && numRightOK(s, g[i].end) && validCard(s[g[i].start:g[i].end]) {
			d.add(CreditCard, g[i].start, g[i].end, s[g[i].start:g[i].end])
			return 1
		}
		return 0
	}
	sep := d.joint(i)
	if sep != " " && sep != "-" {
		return 0
	}
	if p := g[i].start; p >= 2 && s[p-1] == ' ' && isDigit(s[p-2]) {
		// Not the start of its run of groups: the middle of a tracking
		// number ("9400 1000 0000 ...") is not a card. A card may be
		// followed by more digits (its CVV), not preceded.
		return 0
	}
	var lens [5]int
	n := 0
	for k := i; k < len(g) && n < 5; k++ {
		lens[n] = g[k].end - g[k].start
		n++
		if d.joint(k) != sep {
			break
		}
	}
	var buf [19]byte
	for m := n; m >= 3; m-- {
		if !cardShape(lens[:m]) || !numRightOK(s, g[i+m-1].end) {
			continue
		}
		num := buf[:0]
		for k := i; k < i+m; k++ {
			num = append(num, s[g[k].start:g[k].end]...)
		}
		if validCard(string(num)) {
			d.add(CreditCard, g[i].start, g[i+m-1].end, string(num))
			return m
		}
	}
	return 0
}

// cardShape accepts the ways card numbers are printed: 4-4-4-4, 4-4-4-4-3,
// 4-4-4-1..4 and 4-6-5 or 4-6-4.
func cardShape(lens []int) bool {
	if len(lens) == 3 {
		return lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4)
	}
	for _, l := range lens[:len(lens)-1] {
		if l != 4 {
			return false
		}
	}
	last := lens[len(lens)-1]
	total := 4*(len(lens)-1) + last
	return last >= 1 && last <= 4 && total >= 13 && total <= 19
}

// validCard reports whether digits is a card number: Luhn-valid, with the
// length and prefix of a known issuer.
func validCard(digits string) bool {
	if !luhn(digits) {
		return false
	}
	n := len(digits)
	p := func(k int) int { // the first k digits
		v := 0
		for i := 0; i < k; i++ {
			v = v*10 + int(digits[i]-'0')
		}
		return v
	}
	switch {
	case digits[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p(2) >= 51 && p(2) <= 55, p(4) >= 2221 && p(4) <= 2720: // Mastercard
		return n == 16
	case p(2) == 34 || p(2) == 37: // American Express
		return n == 15
	case p(4) == 6011, p(3) >= 644 && p(3) <= 649, p(2) == 65: // Discover
		return n >= 16
	case p(4) >= 3528 && p(4) <= 3589: // JCB
		return n >= 16
	case p(2) == 36, p(2) == 38, p(2) == 39, p(3) >= 300 && p(3) <= 305, p(3) == 309: // Diners Club
		return n >= 14
	case p(2) == 62: // UnionPay
		return n >= 16
	case p(2) == 50, p(2) >= 56 && p(2) <= 58, p(4) == 6304, p(2) == 67: // Maestro
		return n >= 13
	case p(4) >= 2200 && p(4) <= 2204: // Mir
		return n >= 16
	}
	return false
}

func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		v := int(digits[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// dashedSSN recognizes AAA-GG-SSSS at digit run i; other forms need a
// keyword (ssnAfter).
func (d *detector) dashedSSN(i int) bool {
	s, g := d.s, d.digits
	if i+2 >= len(g) || g[i].end-g[i].start != 3 || g[i+1].end-g[i+1].start != 2 || g[i+2].end-g[i+2].start != 4 ||
		d.joint(i) != "-" || d.joint(i+1) != "-" || !numLeftOK(s, g[i].start) || !numRightOK(s, g[i+2].end) {
		return false
	}
	v := s[g[i].start:g[i].end] + s[g[i+1].start:g[i+1].end] + s[g[i+2].start:g[i+2].end]
	if !validSSN(v) {
		return false
	}
	d.add(USSSN, g[i].start, g[i+2].end, v)
	return true
}

// validSSN reports whether nine digits can be a social security number:
// area not 000, 666 or 900-999, group not 00, serial not 0000, and not one
// of the numbers known never to be anyone's (the Woolworth wallet card
// 078-05-1120, the advertising 219-09-9999, 123-45-6789, and numbers of one
// repeated digit).
func validSSN(v string) bool {
	if len(v) != 9 {
		return false
	}
	area, group, serial := v[:3], v[3:5], v[5:]
	if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
		return false
	}
	switch v {
	case "078051120", "219099999", "123456789":
		return false
	}
	return strings.Count(v, v[:1]) != 9
}

// ipv4 recognizes a dotted-quad IPv4 address at digit run i: four
// numbers from 0 to 255 without leading zeros, not part of a longer dotted
// number, not after "v" or "version". Loopback (127.0.0.0/8), 0.0.0.0 and
// addresses starting with 255 (netmasks, broadcast) are not sensitive.
func (d *detector) ipv4(i int) bool {
	s, g := d.s, d.digits
	if i+3 >= len(g) {
		return false
	}
	var oct [4]int
	for k := 0; k < 4; k++ {
		r := g[i+k]
		l := r.end - r.start
		if l > 3 || l > 1 && s[r.start] == '0' || k < 3 && d.joint(i+k) != "." {
			return false
		}
		v := 0
		for j := r.start; j < r.end; j++ {
			v = v*10 + int(s[j]-'0')
		}
		if v > 255 {
			return false
		}
		oct[k] = v
	}
	start, end := g[i].start, g[i+3].end
	if start > 0 {
		c := s[start-1]
		if isWordByte(c) || c == '.' || c == ':' && start >= 2 && isDigit(s[start-2]) {
			return false
		}
	}
	if end < len(s) {
		c := s[end]
		if isWordByte(c) || c == '.' && end+1 < len(s) && isAlnum(s[end+1]) {
			return false
		}
	}
	if oct[0] == 127 || oct[0] == 255 || oct == [4]int{} || isNetwork(s, end, netip.AddrFrom4([4]byte{byte(oct[0]), byte(oct[1]), byte(oct[2]), byte(oct[3])})) {
		return false
	}
	w, _ := prevWord(s, start, ":=/", 3)
	switch strings.ToLower(w) {
	case "v", "ver", "version", "release", "build", "firmware", "fw", "rev", "revision", "kernel", "chrome", "firefox", "safari", "edge", "android", "ios", "os",
		"section", "sec", "chapter", "clause", "paragraph", "para", "rule", "figure", "fig", "table", "step", "appendix", "article", "art", "oid":
		return false
	}
	d.add(IPAddress, start, end, "")
	return true
}

// iban recognizes an IBAN at the token s[a:b] (two letters and two
// digits): compact, or printed in groups of four separated by single
// spaces; with its country's length and a valid mod-97 check.
func (d *detector) iban(a, b int) int {
	s := d.s
	cc := [2]byte{s[a] &^ 0x20, s[a+1] &^ 0x20}
	want := ibanLength[string(cc[:])]
	if want == 0 {
		return 0
	}
	end := b
	switch {
	case b-a == want:
	case b-a == 4:
		n := 4
		for n < want && end+1 < len(s) && s[end] == ' ' && isAlnum(s[end+1]) {
			k := end + 1
			for k < len(s) && isAlnum(s[k]) {
				k++
			}
			l := k - end - 1
			if l > 4 || l < 4 && n+l != want {
				return 0
			}
			n += l
			end = k
		}
		if n != want || end < len(s) && isWordByte(s[end]) {
			return 0
		}
	default:
		return 0
	}
	var buf [34]byte
	v := buf[:0]
	for i := a; i < end; i++ {
		c := s[i]
		switch {
		case c == ' ':
		case isDigit(c) || isUpper(c):
			v = append(v, c)
		case isLower(c):
			v = append(v, c-'a'+'A')
		default:
			return 0
		}
	}
	if !mod97(v) {
		return 0
	}
	d.add(IBAN, a, end, string(v))
	return end
}

// mod97 reports whether an IBAN's check digits are right: moved to the
// end, with letters as numbers (A=10...), it is 1 modulo 97.
func mod97(v []byte) bool {
	r := 0
	for i := 0; i < len(v); i++ {
		c := v[(i+4)%len(v)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r == 1
}

// ibanLength is the length of IBANs by country (the SWIFT IBAN registry).
var ibanLength = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
	"DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27,
	"MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
	"SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
	"TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// isNetwork reports whether the address that ends at s[end] is followed by
// a prefix length ("/24") for which it is the network address: 10.0.0.0/8
// and 2001:db8::/32 are networks, not hosts. 10.1.2.3/24 is a host.
func isNetwork(s string, end int, addr netip.Addr) bool {
	if end >= len(s) || s[end] != '/' {
		return false
	}
	j := end + 1
	for j < len(s) && isDigit(s[j]) && j-end <= 3 {
		j++
	}
	bits, err := strconv.Atoi(s[end+1 : j])
	if err != nil {
		return false
	}
	p, err := addr.Prefix(bits)
	return err == nil && p.Addr() == addr
}

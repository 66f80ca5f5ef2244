package redact

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// emails recognizes e-mail addresses around each "@": a local part of
// letters, digits and ._%+- (and Latin letters beyond ASCII), not starting
// or ending with a dot, and a domain of at least two labels whose last is a
// known top-level domain (every two-letter country code, the common generic
// ones, and xn-- IDNs). The address must not continue a word on either
// side. Not addresses: user@localhost, lodash@4.17.21, icon@2x.png, and the
// user:password@host of a URL (see urls).
func (d *detector) emails() {
	s := d.s
	for off := 0; off < len(s); {
		k := strings.IndexByte(s[off:], '@')
		if k < 0 {
			return
		}
		at := off + k
		off = at + 1
		if strings.HasPrefix(s[at+1:], "tcp(") || strings.HasPrefix(s[at+1:], "unix(") {
			d.goDSN(at)
			continue
		}
		start := localStart(s, at)
		for start < at && s[start] == '.' {
			start++
		}
		if start == at || at-start > 64 || s[at-1] == '.' || strings.Contains(s[start:at], "..") {
			continue
		}
		if start > 0 && (s[start-1] == '@' || s[start-1] == '/' || inURLAuthority(s, start)) {
			continue
		}
		end, ok := domainEnd(s, at+1)
		if !ok {
			continue
		}
		if end < len(s) && (isWordByte(s[end]) || s[end] == '@') {
			continue
		}
		if end < len(s) && s[end] == ':' && s[start:at] == "git" {
			continue // git@github.com:org/repo.git is a Git remote
		}

		d.add(Email, start, end, "")
		off = end
	}
}

// localStart returns where the local part that ends at at begins.
func localStart(s string, at int) int {
	i := at
	for i > 0 && at-i <= 64 { // a longer local part is not an address
		c := s[i-1]
		if isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' {
			i--
			continue
		}
		if c == '\'' && i > 1 && i < at && isAlnum(s[i-2]) && isAlnum(s[i]) { // o'brien@
			i--
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeLastRuneInString(s[:i])
			if isLatinLetter(r) {
				i -= n
				continue
			}
		}
		break
	}
	return i
}

// isLatinLetter reports whether r is a letter of the Latin-1 Supplement
// or Latin Extended blocks (ü, é, ł...), which addresses may contain; a
// letter of another script next to an address is text, not address.
func isLatinLetter(r rune) bool {
	return r >= 0xC0 && r <= 0x24F && unicode.IsLetter(r)
}

// inURLAuthority reports whether i is in the authority of a URL
// ("scheme://user:pass@host"): the user:password@host of a URL is not an
// address, though an address in its path or query is.
func inURLAuthority(s string, i int) bool {
	for j := i - 1; j >= 0 && i-j < 256; j-- {
		switch c := s[j]; {
		case c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '?' || c == '#' || c == '&' || c == '=':
			return false
		case c == '/':
			return j >= 2 && s[j-1] == '/' && s[j-2] == ':'
		}
	}
	return false
}

// domainEnd reads a domain name at s[i:] and returns its end, if it has
// at least two labels and a known top-level domain.
func domainEnd(s string, i int) (int, bool) {
	labels := 0
	lastLabel, firstEnd := i, i
	j := i
	for j < len(s) && j-i <= 253 {
		ls := j
		for j < len(s) {
			c := s[j]
			if isAlnum(c) || c == '-' {
				j++
				continue
			}
			if c >= utf8.RuneSelf {
				r, n := utf8.DecodeRuneInString(s[j:])
				if isLatinLetter(r) {
					j += n
					continue
				}
			}
			break
		}
		if j == ls || j-ls > 63 || s[ls] == '-' || s[j-1] == '-' {
			return 0, false
		}
		labels++
		if labels == 1 {
			firstEnd = j
		}
		lastLabel = ls
		// A dot continues the domain only if a label follows: "alice@example.com." ends a sentence.
		if j+1 < len(s) && s[j] == '.' && (isAlnum(s[j+1]) || s[j+1] >= utf8.RuneSelf) {
			j++
			continue
		}
		break
	}
	if labels < 2 || !knownTLD(s[lastLabel:j]) {
		return 0, false
	}
	// "icon@2x.png" is an image.
	if first := s[i:firstEnd]; len(first) == 2 && first[1] == 'x' && isDigit(first[0]) {
		return 0, false
	}
	return j, true
}

// knownTLD reports whether tld is a top-level domain: any two letters (the
// country codes), xn-- (IDNs), or a generic one in the list.
func knownTLD(tld string) bool {
	if len(tld) == 2 {
		return isLetter(tld[0]) && isLetter(tld[1])
	}
	if len(tld) > 24 {
		return false
	}
	var buf [24]byte
	l := appendLowerASCII(buf[:0], tld)
	if len(l) > 4 && string(l[:4]) == "xn--" {
		return true
	}
	return genericTLDs[string(l)]
}

var genericTLDs = func() map[string]bool {
	m := make(map[string]bool)
	for _, t := range strings.Fields(`com net org edu gov mil int info biz name pro aero coop museum
		mobi jobs travel tel asia cat post app dev page cloud tech online site store shop blog
		news email mail link live life world today agency company solutions services systems
		network digital media studio design global group center zone team works tools academy
		consulting finance financial bank insurance health care clinic hospital law legal
		pharmacy dental doctor energy engineering education school university college careers
		club community foundation church social software host hosting website space
		support ventures capital partners holdings international institute science
		technology marketing events photography art fashion games ltd llc inc gmbh
		london berlin paris nyc tokyo amsterdam wien bayern vegas miami boston moscow
		google amazon apple microsoft aws azure gle youtube
		local internal corp lan intranet home localdomain example test invalid`) {
		m[t] = true
	}
	return m
}()

// urls reads each "scheme://" URL's authority: the password of
// user:password@host is a PASSWORD, or a CONNECTION_STRING for database
// schemes (postgres, mysql, mongodb, redis, amqp..., and jdbc: URLs); only
// the password is redacted, so the scheme, user, host and database stay
// readable. A Slack webhook URL (hooks.slack.com/services/...) is a
// SLACK_TOKEN, whole.
func (d *detector) urls() {
	s := d.s
	for off := 0; off < len(s); {
		k := strings.Index(s[off:], "://")
		if k < 0 {
			return
		}
		idx := off + k
		off = idx + 3
		ss := idx
		for ss > 0 && idx-ss < 32 && (isAlnum(s[ss-1]) || s[ss-1] == '+' || s[ss-1] == '.' || s[ss-1] == '-') {
			ss--
		}
		scheme := strings.ToLower(s[ss:idx])
		jdbc := ss >= 5 && strings.EqualFold(s[ss-5:ss], "jdbc:")
		a := idx + 3
		e := a
		for e < len(s) {
			c := s[e]
			if c <= ' ' || c == mask || strings.IndexByte("/?#\"'<>`\\", c) >= 0 {
				break
			}
			if c == ';' && jdbc {
				break
			}
			e++
		}
		auth := s[a:e]
		if at := strings.LastIndexByte(auth, '@'); at > 0 {
			ui := auth[:at]
			if c := strings.IndexByte(ui, ':'); c >= 0 && c+1 < len(ui) {
				pw := ui[c+1:]
				if !isPlaceholderValue(pw) {
					t := Password
					if jdbc || isDBScheme(scheme) {
						t = ConnectionString
					}
					d.add(t, a+c+1, a+at, "")
				}
			}
		}
		if strings.EqualFold(auth, "hooks.slack.com") && (scheme == "https" || scheme == "http") {
			p := e
			for p < len(s) && (isWordByte(s[p]) || s[p] == '/' || s[p] == '-') {
				p++
			}
			path := s[e:p]
			if strings.HasPrefix(path, "/services/") || strings.HasPrefix(path, "/workflows/") || strings.HasPrefix(path, "/triggers/") {
				if strings.Count(path, "/") >= 3 {
					d.add(SlackToken, ss, p, "")
				}
			}
		}
		off = max(off, e)
	}
}

// schemeBefore returns the URL scheme that ends at i in lower-case s.
func schemeBefore(s string, i int) string {
	j := i
	for j > 0 && i-j < 32 && (isAlnum(s[j-1]) || s[j-1] == '+' || s[j-1] == '.' || s[j-1] == '-') {
		j--
	}
	return s[j:i]
}

// isDBScheme reports whether a URL scheme is a database's or a broker's.
func isDBScheme(scheme string) bool {
	if i := strings.IndexByte(scheme, '+'); i > 0 && scheme != "mongodb+srv" {
		scheme = scheme[:i] // postgresql+psycopg2
	}
	switch scheme {
	case "postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss",
		"amqp", "amqps", "mssql", "sqlserver", "oracle", "cockroachdb", "clickhouse", "cassandra",
		"couchdb", "neo4j", "bolt", "memcached", "db2", "snowflake", "redshift", "influxdb",
		"nats", "kafka", "mqtt", "mqtts", "ldap", "ldaps", "sqlite", "timescale":
		return true
	}
	return false
}

// ipv6 recognizes IPv6 addresses: runs of hex digits, colons and dots
// with at least two colons, one decimal digit, and a valid parse by
// net/netip. Loopback (::1) and the unspecified address (::) are not
// sensitive.
func (d *detector) ipv6() {
	s := d.s
	for off := 0; off < len(s); {
		k := strings.IndexByte(s[off:], ':')
		if k < 0 {
			return
		}
		i := off + k
		off = i + 1
		if !(i > 0 && (isHex(s[i-1]) || s[i-1] == ':')) && !(i+1 < len(s) && s[i+1] == ':') {
			continue
		}
		a := i
		for a > 0 && (isHex(s[a-1]) || s[a-1] == ':') && i-a < 40 {
			a--
		}
		b := i
		for b < len(s) && (isHex(s[b]) || s[b] == ':' || s[b] == '.') && b-a < 45 {
			b++
		}
		for b > i && (s[b-1] == '.' || s[b-1] == ':' && (b-2 < 0 || s[b-2] != ':')) {
			b--
		}
		off = max(off, b)
		if a > 0 && (isWordByte(s[a-1]) || s[a-1] == '.') || b < len(s) && isWordByte(s[b]) {
			continue
		}
		tok := s[a:b]
		colons := strings.Count(tok, ":")
		if colons < 2 || colons < 6 && !strings.Contains(tok, "::") || !strings.ContainsAny(tok, "0123456789") ||
			strings.HasPrefix(tok, "::") && strings.Count(tok, ":") < 4 && !strings.Contains(tok, ".") {
			continue // "::1:3306" is the loopback and a port
		}
		addr, err := netip.ParseAddr(tok)
		if err != nil {
			// An unbracketed address and port, as some logs write them.
			if k := strings.LastIndexByte(tok, ':'); len(tok)-k <= 6 && strings.Trim(tok[k+1:], "0123456789") == "" {
				b = a + k
				tok = tok[:k]
				addr, err = netip.ParseAddr(tok)
			}
		}
		if err != nil || !addr.Is6() || addr.IsLoopback() || addr.IsUnspecified() || isNetwork(s, b, addr) {
			continue
		}
		d.add(IPAddress, a, b, addr.Unmap().String())
	}
}

// goDSN records the password of a Go MySQL driver DSN,
// "user:password@tcp(host:3306)/db", whose "@" is at at.
func (d *detector) goDSN(at int) {
	s := d.s
	i := at
	for i > 0 && at-i < 256 {
		c := s[i-1]
		if c <= ' ' || c == '"' || c == '\'' || c == '`' || c == mask {
			break
		}
		i--
	}
	if c := strings.IndexByte(s[i:at], ':'); c >= 0 && i+c+1 < at {
		d.add(ConnectionString, i+c+1, at, "")
	}
}

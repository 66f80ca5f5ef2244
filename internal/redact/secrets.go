package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// awsKeyID recognizes an AWS access key ID at the token s[a:b]: a known
// four-letter prefix (AKIA for long-term keys, ASIA for temporary ones, and
// the prefixes of other IAM identifiers) and 16 upper-case letters or
// digits.
func (d *detector) awsKeyID(a, b int) int {
	t := d.s[a:b]
	if len(t) != 20 {
		return 0
	}
	switch t[:4] {
	case "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA":
	default:
		return 0
	}
	for i := 4; i < 20; i++ {
		if !isUpper(t[i]) && !isDigit(t[i]) {
			return 0
		}
	}
	if placeholderRun(t[4:]) {
		return 0
	}
	d.add(AWSAccessKey, a, b, "")
	d.awsSecretNear(b)
	return b
}

// awsSecretNear records the secret access key that is usually written
// right after its key ID, without a name: 40 characters of base64 within
// the next 200 bytes, with upper- and lower-case letters and digits.
func (d *detector) awsSecretNear(b int) {
	s := d.s
	for i := b; i < len(s) && i-b < 200; {
		if !isAlnum(s[i]) && s[i] != '/' && s[i] != '+' {
			i++
			continue
		}
		j := i
		var up, low, dig bool
		for j < len(s) && (isAlnum(s[j]) || s[j] == '/' || s[j] == '+') {
			up = up || isUpper(s[j])
			low = low || isLower(s[j])
			dig = dig || isDigit(s[j])
			j++
		}
		if j-i == 40 && up && low && dig && (j == len(s) || s[j] != '=' && !isWordByte(s[j])) {
			d.add(AWSAccessKey, i, j, "")
			return
		}
		i = j
	}
}

// githubToken recognizes GitHub tokens: ghp_ (personal), gho_ (OAuth),
// ghu_ (user-to-server), ghs_ (server-to-server), ghr_ (refresh) and 36 or
// more letters and digits; github_pat_ (fine-grained) and 40 or more
// letters, digits and underscores.
func (d *detector) githubToken(a, b int) int {
	t := d.s[a:b]
	if strings.HasPrefix(t, "github_pat_") {
		if len(t) >= 11+40 {
			d.add(GitHubToken, a, b, "")
			return b
		}
		return 0
	}
	if len(t) < 40 || t[0] != 'g' || t[1] != 'h' || t[3] != '_' || strings.IndexByte("pousr", t[2]) < 0 {
		return 0
	}
	for i := 4; i < len(t); i++ {
		if !isAlnum(t[i]) {
			return 0
		}
	}
	if placeholderRun(t[4:]) {
		return 0
	}
	d.add(GitHubToken, a, b, "")
	return b
}

// slackToken recognizes Slack tokens: xoxb- (bot), xoxp- (user), xoxa-,
// xoxr- (refresh), xoxs-, xoxe- and xapp- (app-level), followed by
// letters, digits and dashes, 20 or more characters in all.
func (d *detector) slackToken(a, b int) int {
	s := d.s
	switch s[a:b] {
	case "xoxb", "xoxp", "xoxa", "xoxr", "xoxs", "xoxe", "xapp":
	default:
		return 0
	}
	if b >= len(s) || s[b] != '-' {
		return 0
	}
	e := b
	digits := 0
	for e < len(s) && (isAlnum(s[e]) || s[e] == '-') {
		if isDigit(s[e]) {
			digits++
		}
		e++
	}
	for e > b && s[e-1] == '-' {
		e--
	}
	if e-a < 20 || digits == 0 || e < len(s) && s[e] == '_' || placeholderRun(s[b:e]) {
		return 0
	}
	d.add(SlackToken, a, e, "")
	return e
}

// openAIKey recognizes OpenAI API keys: "sk-", optionally a kind
// ("proj-", "svcacct-", "admin-"), and 20 or more letters, digits, dashes
// and underscores with upper-case, lower-case and digits among them. Other
// vendors' keys of the same shape (sk-ant-...) are reported as OPENAI_KEY
// too.
func (d *detector) openAIKey(a, b int) int {
	s := d.s
	if s[a:b] != "sk" || b >= len(s) || s[b] != '-' {
		return 0
	}
	e := b + 1
	var up, low, dig bool
	for e < len(s) && (isWordByte(s[e]) || s[e] == '-') {
		c := s[e]
		up = up || isUpper(c)
		low = low || isLower(c)
		dig = dig || isDigit(c)
		e++
	}
	if e-b-1 < 20 || !up || !low || !dig || placeholderRun(s[b:e]) {
		return 0
	}
	d.add(OpenAIKey, a, e, "")
	return e
}

// jwt recognizes JSON Web Tokens at a token starting "eyJ": three
// base64url segments separated by dots, the first of which decodes to a
// JSON object with an "alg" member, the second to a JSON object. The
// signature may be empty (alg "none").
func (d *detector) jwt(a, b int) int {
	s := d.s
	if !strings.HasPrefix(s[a:b], "eyJ") || b >= len(s) || s[b] != '.' {
		return 0
	}
	var dots [2]int
	n := 0
	e := a
	for e < len(s) && (isWordByte(s[e]) || s[e] == '-' || s[e] == '.') {
		if s[e] == '.' {
			if n == 2 {
				break
			}
			dots[n] = e
			n++
		}
		e++
	}
	if n != 2 || dots[1] == dots[0]+1 {
		return 0
	}
	if !jsonObject(s[a:dots[0]], true) || !jsonObject(s[dots[0]+1:dots[1]], false) {
		return 0
	}
	if e == dots[1]+1 && e < len(s) && isAlnum(s[e]) {
		return 0
	}
	d.add(JWT, a, e, "")
	return e
}

// jsonObject reports whether seg is base64url of a JSON object (with an
// "alg" member if alg).
func jsonObject(seg string, alg bool) bool {
	var buf [1024]byte
	if base64.RawURLEncoding.DecodedLen(len(seg)) > len(buf) {
		return false
	}
	n, err := base64.RawURLEncoding.Decode(buf[:], []byte(strings.TrimRight(seg, "=")))
	b := buf[:n]
	if err != nil || len(b) < 2 || b[0] != '{' || !json.Valid(b) {
		return false
	}
	return !alg || bytes.Contains(b, []byte(`"alg"`))
}

// pemBlocks recognizes PEM private keys, whole: from "-----BEGIN ...
// PRIVATE KEY-----" (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... BLOCK) to the
// matching END line. A key without its END line (a truncated paste) is
// redacted to the end of the JSON string it is in, the next blank line or
// the end of the text.
func (d *detector) pemBlocks() {
	s := d.s
	const begin = "-----BEGIN "
	for off := 0; off < len(s); {
		k := strings.Index(s[off:], begin)
		if k < 0 {
			return
		}
		i := off + k
		off = i + len(begin)
		le := strings.Index(s[off:min(len(s), off+64)], "-----")
		if le < 0 {
			continue
		}
		label := s[off : off+le]
		if !strings.HasSuffix(label, "PRIVATE KEY") && !strings.HasSuffix(label, "PRIVATE KEY BLOCK") {
			continue
		}
		body := off + le + 5
		end := len(s)
		marker := "-----END " + label + "-----"
		if j := strings.Index(s[body:], marker); j >= 0 {
			end = body + j + len(marker)
		} else {
			if j := strings.IndexByte(s[body:], '"'); j >= 0 {
				end = body + j
			}
			if j := strings.Index(s[body:], "\n\n"); j >= 0 && body+j < end {
				end = body + j
			}
		}
		d.add(PrivateKey, i, end, "")
		off = end
	}
}

// placeholderRun reports whether a secret holds a run of eight identical
// characters, as the placeholders of documentation do
// (AKIAXXXXXXXXXXXXXXXX, ghp_xxxxxxxx...). Random secrets almost never do.
func placeholderRun(v string) bool {
	run := 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1] {
			run++
			if run >= 8 {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

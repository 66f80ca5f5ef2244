package redact

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kinds of keyword. A token may anchor a recognizer that reads what
// follows it.
const (
	kwSecret    uint32 = 1 << iota // a password: any value
	kwToken                        // a token, secret or API key: a token-shaped value
	kwAWSSecret                    // an AWS secret access key
	kwBearer                       // "Bearer" credentials
	kwBasic                        // "Basic" credentials, after "Authorization:"
	kwDOB                          // a date of birth follows
	kwSSN                          // a social security number follows
	kwSecurity                     // "security", an SSN keyword after "social"
	kwPhone                        // a phone number follows
	kwNumber                       // "number": a phone number follows after "my", "your"...
	kwMRN                          // a medical record number follows
	kwPatient                      // "patient", "chart"...: an MRN keyword before "id", "number"...
	kwRecord                       // "record", an MRN keyword after "medical"
	kwPassport                     // a passport number follows
	kwDL                           // a driving licence number follows
	kwLicense                      // "license", a DL keyword after "driver's"...
	kwDOBAbbrev                    // "d" of "D.O.B."
	kwSS                           // "ss" of "SS#"
)

var keywords = map[string]uint32{
	// Passwords, in several languages.
	"password": kwSecret, "passwd": kwSecret, "passphrase": kwSecret, "pwd": kwSecret,
	"passwort": kwSecret, "kennwort": kwSecret, "contraseña": kwSecret, "contrasena": kwSecret,
	"senha": kwSecret, "wachtwoord": kwSecret, "motdepasse": kwSecret, "mot_de_passe": kwSecret,
	"parola": kwSecret, "db_pass": kwSecret, "pass": kwToken,
	// Tokens and keys.
	"secret": kwToken, "token": kwToken, "apikey": kwToken, "api_key": kwToken,
	"secret_key": kwToken, "secretkey": kwToken, "access_token": kwToken, "auth_token": kwToken,
	"refresh_token": kwToken, "client_secret": kwToken, "private_token": kwToken,
	// AWS.
	"aws_secret_access_key": kwAWSSecret, "secret_access_key": kwAWSSecret,
	"secretaccesskey": kwAWSSecret, "aws_secret_key": kwAWSSecret, "awssecretaccesskey": kwAWSSecret,
	"bearer": kwBearer, "basic": kwBasic,
	// Dates of birth.
	"dob": kwDOB, "birth": kwDOB, "birthday": kwDOB, "birthdate": kwDOB, "born": kwDOB,
	"geboren": kwDOB, "geb": kwDOB, "geburtsdatum": kwDOB, "geburtstag": kwDOB,
	"naissance": kwDOB, "né": kwDOB, "née": kwDOB,
	"nacimiento": kwDOB, "nacido": kwDOB, "nacida": kwDOB, "nascita": kwDOB, "nato": kwDOB,
	"nata": kwDOB, "nascimento": kwDOB, "nascido": kwDOB, "nascida": kwDOB,
	"geboortedatum": kwDOB, "生年月日": kwDOB,
	// Social security numbers.
	"ssn": kwSSN, "ssns": kwSSN, "security": kwSecurity, "ss": kwSS,
	// Phones.
	"phone": kwPhone, "telephone": kwPhone, "tel": kwPhone, "mobile": kwPhone, "cell": kwPhone,
	"cellphone": kwPhone, "fax": kwPhone, "whatsapp": kwPhone, "sms": kwPhone, "call": kwPhone,
	"contact": kwPhone, "ph": kwPhone, "mob": kwPhone, "telefon": kwPhone, "telefono": kwPhone,
	"teléfono": kwPhone, "téléphone": kwPhone, "tél": kwPhone, "handy": kwPhone,
	"celular": kwPhone, "telefone": kwPhone, "portable": kwPhone, "phonenumber": kwPhone,
	"phone_number": kwPhone, "mobilnummer": kwPhone, "telefonnummer": kwPhone,
	"電話": kwPhone, "電話番号": kwPhone, "携帯": kwPhone, "number": kwNumber,
	// Medical record numbers.
	"mrn": kwMRN, "mrns": kwMRN, "patientid": kwMRN, "patient_id": kwMRN,
	"patientennummer": kwMRN, "fallnummer": kwMRN, "medical_record_number": kwMRN,
	"medicalrecordnumber": kwMRN, "patient": kwPatient, "chart": kwPatient, "nhs": kwPatient,
	"hospital": kwPatient, "pt": kwPatient, "record": kwRecord,
	// Passports.
	"passport": kwPassport, "reisepass": kwPassport, "reisepassnummer": kwPassport,
	"passnummer": kwPassport, "passeport": kwPassport, "pasaporte": kwPassport,
	"passaporto": kwPassport, "passaporte": kwPassport,
	// Driving licences.
	"license": kwLicense, "licence": kwLicense, "führerschein": kwDL, "führerscheinnummer": kwDL,
	"conduire": kwLicense, "conducir": kwLicense, "drivers_license": kwDL, "driverslicense": kwDL,
	"driver_license": kwDL, "driverlicense": kwDL, "driving_licence": kwDL, "dl_number": kwDL,
}

// keywordShapes has, for each first byte, a bit for each length of a
// keyword: most words are not looked up.
var keywordShapes = func() (m [256]uint64) {
	for k := range keywords {
		if len(k) < 64 {
			m[k[0]] |= 1 << len(k)
		}
	}
	return m
}()

// keywordKinds returns the kinds of a lower-case token: its own, or those of
// a compound identifier that ends (or starts) with a keyword, like
// DB_PASSWORD, clientSecret, date_of_birth or phoneNumber.
func keywordKinds(lower []byte) uint32 {
	if len(lower) < 64 && keywordShapes[lower[0]]&(1<<len(lower)) != 0 {
		if k, ok := keywords[string(lower)]; ok {
			return k
		}
	}
	if len(lower) < 8 && bytes.IndexByte(lower, '_') < 0 {
		return 0 // too short to be a compound identifier
	}
	w := lower
	suffix := func(x string) bool { return bytes.HasSuffix(w, []byte(x)) }
	prefix := func(x string) bool { return bytes.HasPrefix(w, []byte(x)) }
	switch {
	case suffix("secret_access_key") || suffix("secretaccesskey"):
		return kwAWSSecret
	case suffix("password") || suffix("passwd") || suffix("passphrase") || suffix("_pwd") || suffix("_pass"):
		return kwSecret
	case suffix("secret") || suffix("token") || suffix("apikey") || suffix("api_key") ||
		suffix("secretkey") || suffix("secret_key"):
		return kwToken
	case bytes.Contains(w, []byte("birth")) || suffix("_dob") || prefix("dob_"):
		return kwDOB
	case suffix("ssn"):
		return kwSSN
	case prefix("phone") || suffix("phone") || prefix("mobile") || suffix("mobile"):
		return kwPhone
	case prefix("passport"):
		return kwPassport
	case suffix("_mrn") || prefix("mrn_"):
		return kwMRN
	}
	return 0
}

// anchored runs the recognizer that a keyword at s[a:b] anchors, and
// returns the end of what it consumed (or b).
func (d *detector) anchored(k uint32, a, b int, lower []byte) int {
	s := d.s
	switch {
	case k&kwAWSSecret != 0:
		return d.keyValue(a, b, kvAWS)
	case k&kwSecret != 0:
		mode := kvSecret
		if string(lower) == "pwd" {
			mode = kvPwd
		}
		return d.keyValue(a, b, mode)
	case k&kwToken != 0:
		return d.keyValue(a, b, kvToken)
	case k&kwBearer != 0:
		return d.bearer(b)
	case k&kwBasic != 0:
		if w, _ := prevWord(s, a, ":", 3); strings.EqualFold(w, "authorization") {
			return d.bearer(b)
		}
	case k&kwDOB != 0:
		d.dateOfBirth(b)
	case k&kwDOBAbbrev != 0:
		if hasPrefixFold(s[b:], ".o.b") {
			e := b + 4
			if e < len(s) && s[e] == '.' {
				e++
			}
			d.dateOfBirth(e)
		}
	case k&kwSSN != 0:
		d.ssnAfter(b)
	case k&kwSecurity != 0:
		if w, _ := prevWord(s, a, "", 2); strings.EqualFold(w, "social") {
			d.ssnAfter(b)
		}
	case k&kwSS != 0:
		if b < len(s) && s[b] == '#' {
			d.ssnAfter(b + 1)
		}
	case k&kwPhone != 0:
		d.phoneAfter(b)
	case k&kwNumber != 0:
		switch w, _ := prevWord(s, a, "", 2); strings.ToLower(w) {
		case "my", "your", "his", "her", "our", "their", "phone", "mobile", "cell", "contact", "home", "work", "office":
			d.phoneAfter(b)
		}
	case k&kwMRN != 0:
		d.identifier(b, MedicalRecordNumber)
	case k&kwPatient != 0:
		// "patient ID", "chart number", "NHS no": the keyword is two words.
		e := b
		for e < len(s) && (isSpace(s[e]) || s[e] == '_' || s[e] == '-') {
			e++
		}
		f := e
		for f < len(s) && isLetter(s[f]) {
			f++
		}
		switch strings.ToLower(s[e:f]) {
		case "id", "identifier", "number", "no", "nr", "num":
			d.identifier(f, MedicalRecordNumber)
		case "":
			if f < len(s) && s[f] == '#' {
				d.identifier(f, MedicalRecordNumber)
			}
		}
	case k&kwRecord != 0:
		if w, _ := prevWord(s, a, "", 2); strings.EqualFold(w, "medical") {
			d.identifier(b, MedicalRecordNumber)
		}
	case k&kwPassport != 0:
		d.identifier(b, Passport)
	case k&kwDL != 0:
		d.identifier(b, DriversLicense)
	case k&kwLicense != 0:
		w, ws := prevWord(s, a, "", 3)
		switch strings.ToLower(w) {
		case "s": // driver's, driver’s
			if v, _ := prevWord(s, ws, "'’", 4); !strings.EqualFold(v, "driver") {
				return b
			}
		case "driver", "drivers", "driving", "de":
		default:
			return b
		}
		d.identifier(b, DriversLicense)
	}
	return b
}

// Modes of keyValue.
const (
	kvSecret = iota // any value
	kvPwd           // any value but a path (PWD is also the working directory)
	kvToken         // a token-shaped value
	kvAWS           // 40 characters of base64, or a token-shaped value
)

// keyValue reads the value assigned to the key s[a:b] in key=value,
// key: value, "key": "value", key := "value", 'key' => 'value' and
// config['key'] = 'value' forms, and records it as a PASSWORD (a
// CONNECTION_STRING in a connection string, an AWS_ACCESS_KEY for AWS
// secret keys). Only the value is recorded.
func (d *detector) keyValue(a, b int, mode int) int {
	s := d.s
	i := b
	// The end of a quoted key.
	if i < len(s) && (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
		i++
	} else if i+1 < len(s) && s[i] == '\\' && s[i+1] == '"' {
		i += 2
	}
	if i < len(s) && s[i] == ']' {
		i++
	}
	sp := i
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return b
	}
	sep := s[i]
	if i > sp && !(sep == '=' || sep == ':') {
		sep, i = ' ', sp
	}
	prose := false
	switch {
	case sep == '=':
		i++
		for i < len(s) && (s[i] == '=' || s[i] == '>') && i-b < 8 {
			i++
		}
	case sep == ':':
		i++
		if i < len(s) && s[i] == '=' {
			i++
		}
	case sep == ' ' && a >= 2 && s[a-1] == '-' && s[a-2] == '-' && i+1 < len(s) && s[i+1] != '-':
		i++ // --password secret
	default:
		// "my password is hunter2", "das Passwort ist ..."
		n := 0
		for _, w := range []string{" is ", " was ", " ist ", " est ", " es ", " é "} {
			if i == b && hasPrefixFold(s[i:], w) {
				n = len(w)
				break
			}
		}
		if n == 0 || mode == kvPwd {
			return b
		}
		i += n
		prose = true
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return b
	}
	conn := sep == '=' && mode <= kvPwd && connContext(s, a)
	vs, ve, quoted := readValue(s, i, conn)
	if prose && !quoted {
		// In prose a value ends at white space only: "is Tr0ub4dor&3, don't".
		ve = vs
		for ve < len(s) && s[ve] > ' ' && s[ve] != '"' && s[ve] != '\'' && s[ve] != mask {
			ve++
		}
		for ve > vs && strings.IndexByte(",.;:)", s[ve-1]) >= 0 {
			ve--
		}
	}
	if vs >= ve {
		return b
	}
	v := s[vs:ve]
	t := Password
	if conn {
		t = ConnectionString
	}
	switch {
	case strings.IndexByte(v, mask) >= 0 || isPlaceholderValue(v) || !quoted && looksLikeCode(v):
		return b
	case mode == kvAWS && len(v) == 40 && isBase64Std(v):
		t = AWSAccessKey
	case mode == kvToken || mode == kvAWS:
		if !tokenShaped(v) {
			return b
		}
	case prose && !quoted && onlyLetters(v):
		return b // "the password is incorrect"
	case mode == kvPwd:
		if v[0] == '/' || v[0] == '~' || len(v) > 2 && v[1] == ':' && v[2] == '\\' {
			return b
		}
	}
	if !quoted && isStopword(v) {
		return b
	}
	d.add(t, vs, ve, "")
	// The value is not consumed: the token recognizers still read it, so
	// that "token": "xoxb-..." is a SLACK_TOKEN (the more specific type
	// wins the tie).
	return b
}

func onlyLetters(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isLetter(v[i]) && v[i] < utf8.RuneSelf {
			return false
		}
	}
	return true
}

// readValue reads a value at s[i:]: the inside of a quoted string (with
// its escapes), or an unquoted run that ends at white space or
// punctuation (at ';' in a connection string, where values may hold
// spaces).
func readValue(s string, i int, conn bool) (start, end int, quoted bool) {
	const maxLen = 512
	q := s[i]
	if q == '\\' && i+1 < len(s) && s[i+1] == '"' { // \"value\" inside a JSON string
		start = i + 2
		e := strings.Index(s[start:min(len(s), start+maxLen)], `\"`)
		if e < 0 {
			return 0, 0, false
		}
		return start, start + e, true
	}
	if q == '"' || q == '\'' || q == '`' {
		start = i + 1
		for j := start; j < len(s) && j-start < maxLen; j++ {
			switch s[j] {
			case '\\':
				j++
			case q:
				return start, j, true
			case '\n', '\r':
				return start, j, true // unterminated: redact to the end of the line
			}
		}
		return start, min(len(s), start+maxLen), true
	}
	j := i
	for j < len(s) && j-i < maxLen {
		c := s[j]
		if conn {
			if c == ';' || c == '&' || c == '"' || c == '\'' || c == '\n' || c == '\r' || c == mask || c == '\\' {
				break
			}
		} else if c <= ' ' || strings.IndexByte(",;&\"'}])<>\\|`", c) >= 0 {
			break
		}
		j++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '.' && !conn) {
		j-- // "password: hunter2." ends a sentence
	}
	return i, j, false
}

// connContext reports whether the key at s[a:] is inside a connection
// string: an ADO/ODBC "Server=...;Password=..." string, a JDBC URL or a
// database URL's query.
func connContext(s string, a int) bool {
	lo := a
	for lo > 0 && a-lo < 512 {
		c := s[lo-1]
		if c == '"' || c == '\'' || c == '\n' || c == '`' || c == mask {
			break
		}
		lo--
	}
	seg := strings.ToLower(s[lo:a])
	if strings.Contains(seg, "jdbc:") {
		return true
	}
	if i := strings.Index(seg, "://"); i >= 0 && isDBScheme(schemeBefore(seg, i)) {
		return true
	}
	if !strings.Contains(seg, ";") && !strings.HasSuffix(strings.TrimSpace(seg), ";") {
		return false
	}
	for _, k := range []string{"server=", "data source=", "host=", "user id=", "uid=", "initial catalog=", "database=", "address="} {
		if strings.Contains(seg, k) {
			return true
		}
	}
	return false
}

// isPlaceholderValue reports whether a value is a template or a reference
// rather than a secret: ${DB_PASSWORD}, {{ .Values.password }}, <your
// password>, ***, an environment variable.
func isPlaceholderValue(v string) bool {
	switch {
	case strings.HasPrefix(v, "${"), strings.HasPrefix(v, "$("), strings.HasPrefix(v, "{{"),
		strings.HasPrefix(v, "%("), strings.HasPrefix(v, "<%"), strings.HasPrefix(v, "#{"),
		strings.HasPrefix(v, "process.env"), strings.HasPrefix(v, "os.environ"):
		return true
	case v[0] == '$' && len(v) > 1 && (isLetter(v[1]) || v[1] == '_'):
		return true
	case v[0] == '<' && v[len(v)-1] == '>':
		return true
	}
	same := true
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			same = false
			break
		}
	}
	return same && (v[0] == '*' || v[0] == 'x' || v[0] == 'X' || v[0] == '.' || v[0] == '-')
}

// looksLikeCode reports whether an unquoted value is an expression rather
// than a literal: a call, an index, a dotted name (args.password).
func looksLikeCode(v string) bool {
	if strings.ContainsAny(v, "([") {
		return true
	}
	if !strings.Contains(v, ".") {
		return false
	}
	for _, part := range strings.Split(v, ".") {
		if part == "" || !(isLetter(part[0]) || part[0] == '_') {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isWordByte(part[i]) {
				return false
			}
		}
	}
	return true
}

var stopwords = map[string]bool{
	"null": true, "nil": true, "none": true, "true": true, "false": true, "undefined": true,
	"str": true, "string": true, "int": true, "bool": true, "boolean": true, "bytes": true,
	"optional": true, "required": true, "any": true, "object": true, "redacted": true,
	"hidden": true, "empty": true, "must": true, "should": true, "will": true, "can": true,
	"is": true, "was": true, "be": true, "the": true, "a": true, "an": true, "and": true,
	"or": true, "not": true, "of": true, "to": true, "in": true, "on": true, "for": true,
	"your": true, "my": true, "our": true, "their": true, "here": true, "below": true,
	"above": true, "see": true, "same": true, "reset": true, "expired": true, "changed": true,
	"missing": true, "invalid": true, "incorrect": true, "wrong": true, "set": true,
	"unset": true, "yes": true, "no": true, "n/a": true, "tbd": true, "todo": true,
	"char": true, "text": true, "varchar": true, "type": true, "field": true, "value": true,
}

func isStopword(v string) bool {
	if len(v) > 9 {
		return false
	}
	var buf [9]byte
	return stopwords[string(appendLowerASCII(buf[:0], v))]
}

// tokenShaped reports whether v looks like a machine-made secret: at
// least 8 characters without spaces, with letters and digits.
func tokenShaped(v string) bool {
	if len(v) < 8 {
		return false
	}
	var letter, digit bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isLetter(c):
			letter = true
		case isDigit(c):
			digit = true
		case c <= ' ':
			return false
		}
	}
	return letter && digit
}

func isBase64Std(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isAlnum(c) && c != '+' && c != '/' && c != '=' {
			return false
		}
	}
	return true
}

// bearer records the credential after "Bearer " or "Authorization: Basic ".
func (d *detector) bearer(b int) int {
	s := d.s
	if b >= len(s) || s[b] != ' ' {
		return b
	}
	i := b + 1
	j := i
	for j < len(s) && (isAlnum(s[j]) || strings.IndexByte("-._~+/=", s[j]) >= 0) {
		j++
	}
	for j > i && s[j-1] == '.' {
		j--
	}
	if j-i < 12 || !tokenShaped(s[i:j]) {
		return b
	}
	d.add(Password, i, j, "")
	return b
}

// skipFiller skips, from i, white space, the punctuation that separates a
// keyword from its value (": ", " #", "=\"") and at most maxWords words
// that pass ok (nil accepts any), within maxBytes. It returns where the
// value may start.
func skipFiller(s string, i, maxBytes, maxWords int, ok func(string) bool) int {
	start := i
	words := 0
	for i < len(s) && i-start < maxBytes {
		c := s[i]
		if isSpace(c) || strings.IndexByte(":#=-.\"'()*", c) >= 0 {
			i++
			continue
		}
		if n := fillerRune(s[i:]); n > 0 {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			if isLetter(s[j]) {
				j++
				continue
			}
			if s[j] < utf8.RuneSelf {
				break
			}
			r, n := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsLetter(r) && !unicode.IsMark(r) {
				break
			}
			j += n
		}
		if j == i || words == maxWords || j < len(s) && isWordByte(s[j]) || ok != nil && !ok(s[i:j]) {
			return i // not a word but the start of the value ("N0426593")
		}
		words++
		i = j
	}
	return i
}

// fillerRune returns the length of the non-ASCII punctuation at the start
// of s that may separate a keyword from its value, or 0.
func fillerRune(s string) int {
	for _, p := range []string{"°", "№", "：", "–"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// idFiller accepts the words between an identifier's keyword and the
// identifier: "passport number is", "MRN no.".
func idFiller(w string) bool {
	switch strings.ToLower(w) {
	case "number", "no", "nr", "num", "is", "was", "id", "identifier", "nummer", "numéro",
		"número", "numero", "n", "nº", "of", "the", "de", "du", "card", "issued":
		return true
	}
	return false
}

// identifier records the identifier that follows a keyword: a medical
// record, passport or driving licence number. Its shape is checked
// loosely (letters, digits and inner dashes, enough digits): the keyword
// carries the evidence.
func (d *detector) identifier(b int, t Type) {
	s := d.s
	i := skipFiller(s, b, 32, 3, idFiller)
	if i >= len(s) || !isAlnum(s[i]) {
		return
	}
	if i > 0 && isWordByte(s[i-1]) {
		return
	}
	j := i
	digits, letters := 0, 0
	for j < len(s) {
		c := s[j]
		if isDigit(c) {
			digits++
		} else if isLetter(c) {
			letters++
		} else if c == '-' && j+1 < len(s) && isAlnum(s[j+1]) && isAlnum(s[j-1]) {
			// an inner dash
		} else {
			break
		}
		j++
	}
	if j < len(s) && (s[j] == '_' || s[j] >= 0x80 && s[j] != mask) {
		return
	}
	n := digits + letters
	switch t {
	case MedicalRecordNumber:
		if n < 4 || n > 20 || digits < 4 || letters > 4 {
			return
		}
	case Passport:
		// German passport numbers may hold a single digit (C9LGFYJTY).
		if n < 6 || n > 12 || digits < 1 || j-i != n || strings.ToUpper(s[i:j]) != s[i:j] && digits < 4 {
			return
		}
	case DriversLicense:
		if n < 5 || n > 20 || digits < 3 {
			return
		}
	}
	d.add(t, i, j, "")
}

// ssnAfter records a social security number after its keyword: a
// nine-digit number in any of AAA-GG-SSSS, AAA GG SSSS or AAAGGSSSS.
func (d *detector) ssnAfter(b int) {
	s := d.s
	i := skipFiller(s, b, 24, 2, idFiller)
	if i >= len(s) || !isDigit(s[i]) || i > 0 && isWordByte(s[i-1]) {
		return
	}
	j := i
	var ds [9]byte
	n := 0
	var sep byte
	for j < len(s) && n < 9 {
		c := s[j]
		if isDigit(c) {
			ds[n] = c
			n++
			j++
			continue
		}
		if (n == 3 || n == 5) && (c == '-' || c == ' ' || c == '.') && (sep == 0 || sep == c) && j+1 < len(s) && isDigit(s[j+1]) {
			if n == 5 && sep == 0 {
				return // AAAGG-SSSS
			}
			sep = c
			j++
			continue
		}
		break
	}
	if n != 9 || !numRightOK(s, j) || (sep != 0 && !(s[i+3] == sep && s[i+6] == sep)) {
		return
	}
	if validSSN(string(ds[:])) {
		d.add(USSSN, i, j, string(ds[:]))
	}
}

// phoneAfter records an unformatted phone number after its keyword, like
// "phone: 4155550132"; formatted numbers need no keyword.
func (d *detector) phoneAfter(b int) {
	s := d.s
	i := skipFiller(s, b, 32, 3, nil)
	if i >= len(s) {
		return
	}
	j := i
	if s[j] == '+' {
		j++
	}
	k := j
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k-j < 7 || k-j > 15 || (i > 0 && isWordByte(s[i-1])) || !numRightOK(s, k) {
		return
	}
	if k < len(s) && strings.IndexByte(" -./)", s[k]) >= 0 && k+1 < len(s) && isDigit(s[k+1]) {
		return // a formatted number: the phone scanner reads it
	}
	if e164, ok := d.validPhone(s[i:k], nil, true); ok {
		d.add(Phone, i, k, e164)
	}
}

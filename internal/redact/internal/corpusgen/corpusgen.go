// Package corpusgen generates the labelled evaluation corpus of package
// redact: texts as a company chatbot sees them (support tickets, HR
// questions, code under review, medical notes, finance e-mails, logs,
// JSON payloads, CSV rows, in several languages), each with the sensitive
// values it contains, and look-alike texts that contain none.
//
// Values are valid by the rules of their kind, computed here
// independently of the redactor: card numbers pass Luhn and carry an
// issuer prefix, IBANs pass mod-97, phone numbers are libphonenumber's
// example numbers for their country with new final digits (kept only if
// still valid), SSNs are in the issued ranges. Generation is
// deterministic: the same seed gives the same files, byte for byte.
//
// A template is text with slots: {{TYPE}} or {{TYPE:variant}} is a
// sensitive value, labelled; {{~noise}} is a value that is not sensitive
// (a name, an order number, a UUID...). {{TYPE#1}} reuses the value of the
// first {{TYPE#1}} in the same template, labelled again.
package corpusgen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// An Entity is a sensitive value in a text.
type Entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// An Example is one text of the corpus and its entities, in the order
// they appear.
type Example struct {
	Text     string   `json:"text"`
	Entities []Entity `json:"entities"`
}

// A File is one file of the corpus.
type File struct {
	Name     string
	Examples []Example
}

// Seed is the seed of the committed corpus.
const Seed = 20260401

// Generate returns the corpus generated from seed.
func Generate(seed uint64) []File {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5eed))}
	var files []File
	for _, d := range domains {
		f := File{Name: d.name + ".jsonl"}
		for i := 0; i < d.n; i++ {
			f.Examples = append(f.Examples, g.fill(d.templates[i%len(d.templates)]))
		}
		files = append(files, f)
	}
	return files
}

// Encode returns examples as JSON lines.
func Encode(exs []Example) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, e := range exs {
		if e.Entities == nil {
			e.Entities = []Entity{}
		}
		if err := enc.Encode(e); err != nil {
			panic(err) // strings and slices always encode
		}
	}
	return b.Bytes()
}

type gen struct {
	r *rand.Rand
}

// fill fills a template's slots.
func (g *gen) fill(tpl string) Example {
	var b strings.Builder
	var ex Example
	refs := make(map[string]string)
	for {
		i := strings.Index(tpl, "{{")
		if i < 0 {
			b.WriteString(tpl)
			break
		}
		j := strings.Index(tpl[i:], "}}")
		if j < 0 {
			panic("unterminated slot in template: " + tpl)
		}
		j += i
		b.WriteString(tpl[:i])
		slot := tpl[i+2 : j]
		tpl = tpl[j+2:]
		if strings.HasPrefix(slot, " ") { // "{{ .Values.x }}" is text
			b.WriteString("{{" + slot + "}}")
			continue
		}
		name, _, isRef := strings.Cut(slot, "#")
		v, ok := refs[slot]
		if !ok {
			v = g.value(name)
			if isRef {
				refs[slot] = v
			}
		}
		if !strings.HasPrefix(name, "~") {
			typ, _, _ := strings.Cut(name, ":")
			ex.Entities = append(ex.Entities, Entity{Type: typ, Value: v})
		}
		b.WriteString(v)
	}
	ex.Text = b.String()
	return ex
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) n(lo, hi int) int         { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	upper    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower    = "abcdefghijklmnopqrstuvwxyz"
	digitSet = "0123456789"
	alnum    = upper + lower + digitSet
	hexSet   = "0123456789abcdef"
)

// value generates the value of a slot.
func (g *gen) value(name string) string {
	kind, variant, _ := strings.Cut(name, ":")
	switch kind {
	case "EMAIL":
		return g.email(variant)
	case "PHONE":
		return g.phone(variant)
	case "US_SSN":
		return g.ssn(variant)
	case "CREDIT_CARD":
		return g.card(variant)
	case "IBAN":
		return g.iban(variant)
	case "IP_ADDRESS":
		return g.ip(variant)
	case "DATE_OF_BIRTH":
		return g.dob(variant)
	case "MEDICAL_RECORD_NUMBER":
		return g.mrn()
	case "PASSPORT":
		return g.passport()
	case "DRIVERS_LICENSE":
		return g.license()
	case "AWS_ACCESS_KEY":
		return g.aws(variant)
	case "GITHUB_TOKEN":
		return g.github()
	case "SLACK_TOKEN":
		return g.slack(variant)
	case "OPENAI_KEY":
		return g.openai()
	case "JWT":
		return g.jwt()
	case "PRIVATE_KEY":
		return g.privateKey(variant)
	case "PASSWORD", "CONNECTION_STRING":
		return g.password(variant)
	}
	if strings.HasPrefix(kind, "~") {
		return g.noise(kind[1:], variant)
	}
	panic("unknown slot " + name)
}

var (
	firstNames = []string{"Alice", "Bob", "Carlos", "Diana", "Emma", "Fatima", "Giulia", "Hiroshi", "Inès",
		"Jürgen", "Kwame", "Lucía", "Mohammed", "Nadia", "Olivier", "Priya", "Quentin", "Rahul", "Sofia",
		"Thomas", "Ugo", "Valentina", "Wei", "Xavier", "Yuki", "Zoë", "Anna", "Lars", "Marta", "Pedro",
		"João", "Chloé", "Sven", "Aisha", "Ravi", "Mei", "Noah", "Liam", "Olivia", "Ethan", "Hannah", "Kenji"}
	lastNames = []string{"Smith", "Johnson", "García", "Müller", "Dubois", "Rossi", "Tanaka", "Patel", "Silva",
		"Kowalski", "Jansen", "Nguyen", "Brown", "Schmidt", "Martin", "Bianchi", "Sato", "Sharma", "Santos",
		"O'Brien", "Andersson", "Fernández", "Lefèvre", "Weber", "Ito", "Gupta", "Costa", "de Vries", "Novak",
		"Haddad", "Okafor", "Lindqvist", "Moreau", "Yamamoto", "Ferreira", "Kim", "Walker", "Hughes"}
	companies = []string{"Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Finance",
		"Hooli", "Vandelay Imports", "Contoso", "Fabrikam", "Northwind Traders", "Tyrell Systems"}
	cities = []string{"Springfield", "Berlin", "Lyon", "Madrid", "Osaka", "São Paulo", "Mumbai", "Toronto",
		"Amsterdam", "Milano", "Manchester", "Austin", "Zürich", "Kraków", "Dublin"}
	domainsList = []string{"example.com", "example.org", "acme-corp.com", "mail.example.de", "contoso.co.uk",
		"fabrikam.fr", "gmail.com", "outlook.com", "yahoo.co.jp", "web.de", "orange.fr", "libero.it",
		"uol.com.br", "protonmail.ch", "corp.internal", "hospital.example.org", "banco.example.es",
		"students.uni-example.edu", "globex.io", "initech.net", "hooli.dev", "ziggo.nl", "rediffmail.in"}
)

func (g *gen) first() string { return g.pick(firstNames...) }
func (g *gen) last() string  { return g.pick(lastNames...) }

// ascii strips the accents of the names above for e-mail local parts.
var ascii = strings.NewReplacer("ü", "u", "é", "e", "è", "e", "ë", "e", "í", "i", "ã", "a", "á", "a",
	"ç", "c", "ö", "o", "ó", "o", "ñ", "n", "'", "", " ", "")

func (g *gen) email(variant string) string {
	f := strings.ToLower(ascii.Replace(g.first()))
	l := strings.ToLower(ascii.Replace(g.last()))
	var local string
	switch g.r.IntN(8) {
	case 0:
		local = f + "." + l
	case 1:
		local = f[:1] + l
	case 2:
		local = f + "_" + l + g.digits(2)
	case 3:
		local = f + "+" + g.pick("news", "billing", "test", "support")
	case 4:
		local = strings.ToUpper(f[:1]) + f[1:] + "." + strings.ToUpper(l[:1]) + l[1:]
	case 5:
		local = l + "." + f + g.digits(1)
	case 6:
		local = g.pick("support", "billing", "hr", "it-helpdesk", "payroll", "no-reply", "jobs")
	default:
		local = f + "-" + l
	}
	if variant == "unicode" {
		return g.pick("jürgen.müller@beispiel.de", "françois.lefèvre@exemple.fr", "josé.garcía@ejemplo.es",
			"zoë.brontë@example.co.uk", "łukasz.wróbel@przyklad.pl")
	}
	return local + "@" + g.pick(domainsList...)
}

// Phone numbers.

var intlRegions = []string{"GB", "DE", "FR", "IN", "BR", "JP", "ES", "IT", "NL", "AU", "MX", "CH", "SE", "PL", "ZA", "SG", "IE", "BE", "CA"}

var usAreaCodes = []string{"201", "206", "212", "213", "305", "312", "404", "415", "503", "512", "617", "646", "702", "713", "720", "808", "919", "973"}

// number returns a valid number of region: an example number with new
// final digits.
func (g *gen) number(region string) *phonenumbers.PhoneNumber {
	if region == "US" {
		for {
			n, err := phonenumbers.Parse(g.pick(usAreaCodes...)+strconv.Itoa(g.n(2, 9))+g.digits(6), "US")
			if err == nil && phonenumbers.IsValidNumber(n) {
				return n
			}
		}
	}
	typ := phonenumbers.MOBILE
	if g.chance(0.5) {
		typ = phonenumbers.FIXED_LINE
	}
	ex := phonenumbers.GetExampleNumberForType(region, typ)
	nsn := phonenumbers.GetNationalSignificantNumber(ex)
	cc := strconv.Itoa(int(ex.GetCountryCode()))
	for try := 0; try < 50; try++ {
		k := min(4, len(nsn)-3)
		cand := nsn[:len(nsn)-k] + g.digits(k)
		n, err := phonenumbers.Parse("+"+cc+cand, "ZZ")
		if err == nil && phonenumbers.IsValidNumber(n) && phonenumbers.GetRegionCodeForNumber(n) == region {
			return n
		}
	}
	return ex
}

func (g *gen) phone(variant string) string {
	region := ""
	switch variant {
	case "us", "bare":
		region = "US"
	case "intl":
		region = g.pick(intlRegions...)
	case "":
		if g.chance(0.5) {
			region = "US"
		} else {
			region = g.pick(intlRegions...)
		}
	default:
		region = strings.ToUpper(variant)
	}
	n := g.number(region)
	if variant == "bare" {
		return phonenumbers.GetNationalSignificantNumber(n)
	}
	intl := phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	if region == "US" || region == "CA" {
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		a, b, c := nsn[:3], nsn[3:6], nsn[6:]
		return g.pick("("+a+") "+b+"-"+c, a+"-"+b+"-"+c, a+"."+b+"."+c, "1-"+a+"-"+b+"-"+c,
			"+1 "+a+" "+b+" "+c, "+1-"+a+"-"+b+"-"+c, "+1"+nsn, a+" "+b+" "+c, "+1 ("+a+") "+b+"-"+c)
	}
	switch g.r.IntN(6) {
	case 0:
		return phonenumbers.Format(n, phonenumbers.E164)
	case 1:
		return strings.ReplaceAll(intl, " ", "-")
	case 2:
		return "00" + strings.TrimPrefix(intl, "+")
	case 3:
		if region == "GB" || region == "DE" || region == "CH" || region == "NL" {
			cc, rest, _ := strings.Cut(intl, " ")
			return cc + " (0)" + rest
		}
	}
	return intl
}

func (g *gen) ssn(variant string) string {
	for {
		area := g.n(1, 899)
		if area == 666 {
			continue
		}
		v := fmt.Sprintf("%03d%02d%04d", area, g.n(1, 99), g.n(1, 9999))
		if v == "078051120" || v == "219099999" || v == "123456789" || strings.Count(v, v[:1]) == 9 {
			continue
		}
		switch variant {
		case "bare":
			return v
		case "space":
			return v[:3] + " " + v[3:5] + " " + v[5:]
		}
		return v[:3] + "-" + v[3:5] + "-" + v[5:]
	}
}

// Cards.

func luhnDigit(body string) byte {
	sum := 0
	double := true
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func (g *gen) card(variant string) string {
	var prefix string
	length := 16
	switch g.r.IntN(9) {
	case 0, 1:
		prefix = "4"
		if g.chance(0.1) {
			length = 19
		}
	case 2:
		prefix = strconv.Itoa(g.n(51, 55))
	case 3:
		prefix = strconv.Itoa(g.n(2221, 2720))
	case 4:
		prefix, length = g.pick("34", "37"), 15
	case 5:
		prefix = g.pick("6011", "65", strconv.Itoa(g.n(644, 649)))
	case 6:
		prefix = strconv.Itoa(g.n(3528, 3589))
	case 7:
		prefix, length = g.pick("36", "38", strconv.Itoa(g.n(300, 305))), 14
	default:
		prefix = "62"
	}
	body := prefix + g.digits(length-1-len(prefix))
	num := body + string(luhnDigit(body))
	if variant == "compact" || g.chance(0.25) {
		return num
	}
	sep := g.pick(" ", "-")
	switch length {
	case 15:
		return num[:4] + sep + num[4:10] + sep + num[10:]
	case 14:
		return num[:4] + sep + num[4:10] + sep + num[10:]
	}
	var parts []string
	for i := 0; i < len(num); i += 4 {
		parts = append(parts, num[i:min(i+4, len(num))])
	}
	return strings.Join(parts, sep)
}

// IBANs: the BBAN's shape by country (a letter for a letter, 9 for a digit).
var bbanShapes = []struct{ cc, shape string }{
	{"DE", "999999999999999999"}, {"FR", "99999999999999999999999"}, {"GB", "AAAA99999999999999"},
	{"ES", "99999999999999999999"}, {"NL", "AAAA9999999999"}, {"IT", "A9999999999999999999999"},
	{"BE", "999999999999"}, {"CH", "99999999999999999"}, {"AT", "9999999999999999"},
	{"PL", "999999999999999999999999"}, {"PT", "999999999999999999999"}, {"IE", "AAAA99999999999999"},
	{"SE", "99999999999999999999"}, {"DK", "99999999999999"}, {"NO", "99999999999"},
	{"FI", "99999999999999"}, {"LU", "9999999999999999"},
}

func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

func (g *gen) iban(variant string) string {
	sh := bbanShapes[g.r.IntN(len(bbanShapes))]
	if variant != "" && variant != "compact" {
		for _, s := range bbanShapes {
			if s.cc == strings.ToUpper(variant) {
				sh = s
			}
		}
	}
	var bban strings.Builder
	for i := 0; i < len(sh.shape); i++ {
		if sh.shape[i] == 'A' {
			bban.WriteByte(upper[g.r.IntN(26)])
		} else {
			bban.WriteByte(byte('0' + g.r.IntN(10)))
		}
	}
	check := 98 - mod97(bban.String()+sh.cc+"00")
	v := fmt.Sprintf("%s%02d%s", sh.cc, check, bban.String())
	if variant == "compact" || g.chance(0.3) {
		return v
	}
	var parts []string
	for i := 0; i < len(v); i += 4 {
		parts = append(parts, v[i:min(i+4, len(v))])
	}
	return strings.Join(parts, " ")
}

func (g *gen) ip(variant string) string {
	if variant == "v6" || variant == "" && g.chance(0.2) {
		var a [16]byte
		switch g.r.IntN(3) {
		case 0:
			a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
			for i := 4; i < 16; i++ {
				if i < 8 || g.chance(0.6) {
					a[i] = byte(g.r.IntN(256))
				}
			}
		case 1:
			a[0], a[1] = 0xfe, 0x80
			for i := 8; i < 16; i++ {
				a[i] = byte(g.r.IntN(256))
			}
		default:
			a[0], a[1] = 0x2a, byte(g.n(0, 15))
			for i := 2; i < 16; i++ {
				a[i] = byte(g.r.IntN(256))
			}
		}
		s := netip.AddrFrom16(a).String()
		if !strings.ContainsAny(s, "0123456789") {
			return "2001:db8::1:" + strconv.Itoa(g.n(1, 9))
		}
		return s
	}
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", g.n(0, 255), g.n(0, 255), g.n(1, 254))
	case 1:
		return fmt.Sprintf("172.%d.%d.%d", g.n(16, 31), g.n(0, 255), g.n(1, 254))
	case 2:
		return fmt.Sprintf("192.168.%d.%d", g.n(0, 255), g.n(1, 254))
	}
	first := g.n(1, 223)
	for first == 10 || first == 127 || first == 172 || first == 192 {
		first = g.n(1, 223)
	}
	return fmt.Sprintf("%d.%d.%d.%d", first, g.n(0, 255), g.n(0, 255), g.n(1, 254))
}

// Dates of birth.

var monthNames = map[string][]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"it": {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	"pt": {"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
	"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
}

func (g *gen) dob(variant string) string {
	start := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	t := start.AddDate(0, 0, g.r.IntN(68*365))
	y, m, d := t.Date()
	switch variant {
	case "iso":
		return t.Format("2006-01-02")
	case "us":
		return t.Format("01/02/2006")
	case "de":
		if g.chance(0.5) {
			return t.Format("02.01.2006")
		}
		return fmt.Sprintf("%d. %s %d", d, monthNames["de"][m-1], y)
	case "fr", "es", "it", "pt", "nl":
		names := monthNames[variant]
		if g.chance(0.4) {
			return t.Format("02/01/2006")
		}
		if variant == "es" || variant == "pt" {
			return fmt.Sprintf("%d de %s de %d", d, names[m-1], y)
		}
		return fmt.Sprintf("%d %s %d", d, names[m-1], y)
	case "jp":
		return fmt.Sprintf("%d年%d月%d日", y, m, d)
	}
	switch g.r.IntN(7) {
	case 0:
		return t.Format("01/02/2006")
	case 1:
		return t.Format("2006-01-02")
	case 2:
		return t.Format("January 2, 2006")
	case 3:
		return t.Format("2 January 2006")
	case 4:
		return t.Format("02.01.2006")
	case 5:
		return t.Format("Jan 2, 2006")
	}
	return t.Format("1/2/2006")
}

func (g *gen) mrn() string {
	switch g.r.IntN(4) {
	case 0:
		return g.digits(g.n(7, 10))
	case 1:
		return g.pick("A", "H", "MR", "P") + g.digits(g.n(6, 8))
	case 2:
		return strconv.Itoa(g.n(2015, 2025)) + "-" + g.digits(6)
	}
	return "00" + g.digits(6)
}

func (g *gen) passport() string {
	switch g.r.IntN(6) {
	case 0, 1: // US, UK
		return g.digits(9)
	case 2: // Germany
		return "C" + g.chars(8, "CFGHJKLMNPRTVWXYZ0123456789")
	case 3: // France
		return g.digits(2) + g.chars(2, upper) + g.digits(5)
	case 4: // India
		return g.chars(1, upper) + g.digits(7)
	}
	return "E" + g.digits(8) // China
}

func (g *gen) license() string {
	switch g.r.IntN(5) {
	case 0: // California
		return g.chars(1, upper) + g.digits(7)
	case 1: // New York
		return g.digits(9)
	case 2: // Florida
		return g.chars(1, upper) + g.digits(3) + "-" + g.digits(3) + "-" + g.digits(2) + "-" + g.digits(3) + "-" + g.digits(1)
	case 3: // United Kingdom
		return g.chars(5, upper) + g.digits(6) + g.chars(2, upper) + g.digits(1) + g.chars(2, upper)
	}
	return g.chars(1, upper) + g.digits(3) + g.chars(4, upper+digitSet) + g.digits(3) // Germany
}

// Secrets.

func (g *gen) aws(variant string) string {
	if variant == "secret" {
		return g.chars(40, alnum+"/+")
	}
	return g.pick("AKIA", "AKIA", "AKIA", "ASIA") + g.chars(16, upper+"234567")
}

func (g *gen) github() string {
	switch g.r.IntN(5) {
	case 0:
		return g.pick("gho_", "ghu_", "ghs_", "ghr_") + g.chars(36, alnum)
	case 1:
		return "github_pat_" + g.chars(22, alnum) + "_" + g.chars(59, alnum)
	}
	return "ghp_" + g.chars(36, alnum)
}

func (g *gen) slack(variant string) string {
	if variant == "webhook" {
		return "https://hooks.slack.com/services/T" + g.chars(g.n(8, 10), upper+digitSet) + "/B" +
			g.chars(g.n(8, 10), upper+digitSet) + "/" + g.chars(24, alnum)
	}
	switch g.r.IntN(3) {
	case 0:
		return "xoxp-" + g.digits(12) + "-" + g.digits(12) + "-" + g.digits(13) + "-" + g.chars(32, hexSet)
	case 1:
		return "xapp-1-A" + g.chars(10, upper+digitSet) + "-" + g.digits(13) + "-" + g.chars(64, hexSet)
	}
	return "xoxb-" + g.digits(g.n(10, 13)) + "-" + g.digits(13) + "-" + g.chars(24, alnum)
}

// mixed returns n characters of alphabet with an upper-case letter, a
// lower-case letter and a digit among them.
func (g *gen) mixed(n int, alphabet string) string {
	for {
		s := g.chars(n, alphabet)
		if strings.ContainsAny(s, upper) && strings.ContainsAny(s, lower) && strings.ContainsAny(s, digitSet) {
			return s
		}
	}
}

func (g *gen) openai() string {
	switch g.r.IntN(3) {
	case 0:
		return "sk-" + g.mixed(20, alnum) + "T3BlbkFJ" + g.mixed(20, alnum)
	case 1:
		return "sk-svcacct-" + g.mixed(g.n(60, 100), alnum+"-_")
	}
	return "sk-proj-" + g.mixed(g.n(60, 130), alnum+"-_")
}

func b64url(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (g *gen) jwt() string {
	alg := g.pick("HS256", "RS256", "ES256", "HS512")
	header := map[string]string{"alg": alg, "typ": "JWT"}
	if g.chance(0.3) {
		header["kid"] = g.chars(16, hexSet)
	}
	payload := map[string]any{
		"sub": g.pick("user_", "auth0|", "") + g.chars(12, alnum),
		"iat": 1700000000 + g.r.IntN(50000000),
		"exp": 1750000000 + g.r.IntN(50000000),
	}
	if g.chance(0.5) {
		payload["role"] = g.pick("admin", "user", "service")
	}
	sigLen := 43
	if alg == "RS256" {
		sigLen = 342
	} else if alg == "ES256" {
		sigLen = 86
	} else if alg == "HS512" {
		sigLen = 86
	}
	return b64url(header) + "." + b64url(payload) + "." + g.chars(sigLen, alnum+"-_")
}

func (g *gen) privateKey(variant string) string {
	label := g.pick("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
	lines := []string{"-----BEGIN " + label + "-----"}
	for i, n := 0, g.n(3, 10); i < n; i++ {
		lines = append(lines, g.chars(64, alnum+"+/"))
	}
	lines = append(lines, g.chars(g.n(10, 60), alnum+"+/")+"==", "-----END "+label+"-----")
	nl := "\n"
	if variant == "json" {
		nl = `\n`
	}
	return strings.Join(lines, nl)
}

var passwordWords = []string{"Sunshine", "Dragon", "Welcome", "Autumn", "Monkey", "Falcon", "Harbor",
	"Orchid", "Quantum", "Velvet", "Tiger", "Matrix", "Pepper", "Rocket", "Winter", "Galaxy"}

// password returns a password. "url" passwords need no escaping in a URL.
func (g *gen) password(variant string) string {
	if variant == "url" {
		return g.mixed(g.n(10, 24), alnum+"_~-")
	}
	switch g.r.IntN(4) {
	case 0:
		return g.pick(passwordWords...) + g.digits(g.n(2, 4)) + g.pick("!", "#", "?", "*", "@", "%")
	case 1:
		return strings.ToLower(g.pick(passwordWords...)) + "-" + strings.ToLower(g.pick(passwordWords...)) + "-" +
			strings.ToLower(g.pick(passwordWords...)) + g.digits(1)
	}
	return g.chars(1, upper+lower) + g.chars(g.n(10, 18), alnum+"!@#%^*_+=?~-") + g.digits(1) + g.chars(1, lower)
}

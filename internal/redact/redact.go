// Package redact finds sensitive values in text (e-mail addresses, phone
// numbers, card numbers, secrets in code and configuration...) and replaces
// each with a numbered placeholder, so that the audit log can keep what was
// asked and answered without becoming the company's largest leak.
//
// A Redactor is built once from a Config and used by every request:
//
//	r, err := redact.New(redact.Config{DefaultRegion: "DE"})
//	...
//	scope := r.Scope() // one per record
//	prompt, _ := scope.Redact("Mail alice@example.com the report")
//	answer, _ := scope.Redact("I have mailed alice@example.com.")
//	// prompt == "Mail [EMAIL_1] the report"
//	// answer == "I have mailed [EMAIL_1]."
//
// # Recognizers
//
// Each built-in type has a recognizer that validates what it matches rather
// than trusting a regular expression: card numbers pass the Luhn check and
// start with a known issuer prefix, IBANs pass mod-97 and have their
// country's length, phone numbers are validated with libphonenumber's
// metadata, JWTs have a JSON header with "alg", and so on. Identifiers that
// have no checksum (medical record, passport and driving licence numbers,
// dates of birth, bare nine-digit social security numbers) are recognised
// only after a keyword that says what they are. docs/REDACTION.md describes
// every recognizer, what it accepts and what it misses, and the measured
// recall and false-positive rate on the labelled corpus in testdata/corpus.
//
// # Placeholders
//
// A finding is replaced by "[TYPE_N]": the type, and a number that is the
// same for the same value within a Scope (whatever the text it appears in)
// and 1, 2, 3... for the different values of a type. Values are compared in
// a canonical form: e-mail addresses in lower case, phone numbers in E.164,
// card numbers, SSNs and IBANs without separators. Exactly the sensitive
// span is replaced and placeholders contain only upper-case letters,
// digits, underscores and brackets, so JSON stays valid and code readable.
// Text that already reads like a placeholder of a known type is never
// redacted again, so redacting redacted text changes nothing.
//
// # Overlaps
//
// When findings overlap, the longest wins; between findings of the same
// span, the more specific type wins, in this order: custom rules,
// dictionaries, PRIVATE_KEY, JWT, AWS_ACCESS_KEY, GITHUB_TOKEN,
// SLACK_TOKEN, OPENAI_KEY, CONNECTION_STRING, PASSWORD, IBAN, CREDIT_CARD,
// US_SSN, EMAIL, PHONE, IP_ADDRESS, DATE_OF_BIRTH, MEDICAL_RECORD_NUMBER,
// PASSPORT, DRIVERS_LICENSE. When two findings overlap only partly, the
// winner's placeholder replaces their union, so that no part of either
// value is left in clear.
package redact

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Type is the kind of a sensitive value: one of the constants below, or a
// custom type named in the Config (upper-case letters, digits and
// underscores, starting with a letter).
type Type string

// The built-in types.
const (
	Email               Type = "EMAIL"
	Phone               Type = "PHONE"
	USSSN               Type = "US_SSN"
	CreditCard          Type = "CREDIT_CARD"
	IBAN                Type = "IBAN"
	IPAddress           Type = "IP_ADDRESS"
	DateOfBirth         Type = "DATE_OF_BIRTH"
	MedicalRecordNumber Type = "MEDICAL_RECORD_NUMBER"
	Passport            Type = "PASSPORT"
	DriversLicense      Type = "DRIVERS_LICENSE"
	AWSAccessKey        Type = "AWS_ACCESS_KEY"
	GitHubToken         Type = "GITHUB_TOKEN"
	SlackToken          Type = "SLACK_TOKEN"
	OpenAIKey           Type = "OPENAI_KEY"
	JWT                 Type = "JWT"
	PrivateKey          Type = "PRIVATE_KEY"
	Password            Type = "PASSWORD"
	ConnectionString    Type = "CONNECTION_STRING"
)

// builtins lists the built-in types from the most to the least specific:
// the order that breaks ties between findings of the same span.
var builtins = []Type{
	PrivateKey, JWT, AWSAccessKey, GitHubToken, SlackToken, OpenAIKey,
	ConnectionString, Password, IBAN, CreditCard, USSSN, Email, Phone,
	IPAddress, DateOfBirth, MedicalRecordNumber, Passport, DriversLicense,
}

// Types returns the built-in types, from the most to the least specific.
func Types() []Type { return slices.Clone(builtins) }

// Priorities of findings of the same span: higher wins.
const (
	prioRule = 1000
	prioDict = 900
)

var builtinPrio = func() map[Type]int {
	m := make(map[Type]int, len(builtins))
	for i, t := range builtins {
		m[t] = 100 - i
	}
	return m
}()

// Action is what to do with the values of a type.
type Action int

const (
	// Redact replaces the value with its placeholder. It is the default.
	Redact Action = iota
	// Block replaces the value with its placeholder, as Redact does, and
	// records the type in the Scope's Blocked list: the caller refuses the
	// call.
	Block
	// Allow leaves the value in clear: the type's recognizer is off.
	Allow
)

func (a Action) String() string {
	switch a {
	case Redact:
		return "redact"
	case Block:
		return "block"
	case Allow:
		return "allow"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction parses "redact", "block" or "allow" (in any case).
func ParseAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "redact":
		return Redact, nil
	case "block":
		return Block, nil
	case "allow":
		return Allow, nil
	}
	return 0, fmt.Errorf("unknown action %q: want redact, block or allow", s)
}

// A Rule is a custom recognizer: a regular expression (RE2 syntax, as in
// package regexp) whose matches are values of Type. If the pattern has a
// group named "value", only that group is redacted: `EMP-(?P<value>\d{6})`
// keeps the "EMP-" prefix in clear.
type Rule struct {
	Type    Type
	Pattern string
}

// A Dictionary is a list of terms (project code names, client names...)
// redacted as values of Type wherever they appear as whole words. Terms
// match case-insensitively unless CaseSensitive is set; white space inside a
// term matches any run of white space.
type Dictionary struct {
	Type          Type
	Terms         []string
	CaseSensitive bool
}

// Config configures a Redactor. The zero Config redacts every built-in type
// and reads national phone numbers as American.
type Config struct {
	// Actions says what to do with each type; a missing type is redacted.
	Actions map[Type]Action
	// Rules and Dictionaries add custom recognizers.
	Rules        []Rule
	Dictionaries []Dictionary
	// DefaultRegion is the country (ISO 3166 code, e.g. "US", "DE") of
	// phone numbers written without a country code. Default "US".
	DefaultRegion string
}

// A Redactor finds and replaces sensitive values. It is immutable and safe
// for concurrent use; its regular expressions are compiled once, by New.
type Redactor struct {
	actions map[Type]Action
	region  string
	rules   []rule
	dicts   []dict
	known   map[string]bool // types whose placeholders are protected
	now     func() time.Time
	// phoneLengths are the possible lengths of phone numbers, to parse
	// only candidates that can be numbers.
	phoneLengths phoneLengths
	nanp         bool // the default region is in the North American Numbering Plan
}

type rule struct {
	typ   Type
	re    *regexp.Regexp
	group int // the "value" group, or 0 for the whole match
}

type dict struct {
	typ Type
	re  *regexp.Regexp
}

var typeName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// New compiles c into a Redactor. Its errors name the bad rule, dictionary
// or action.
func New(c Config) (*Redactor, error) {
	r := &Redactor{
		actions: make(map[Type]Action),
		region:  strings.ToUpper(strings.TrimSpace(c.DefaultRegion)),
		known:   make(map[string]bool),
		now:     time.Now,
	}
	if r.region == "" {
		r.region = "US"
	}
	if !phonenumbers.GetSupportedRegions()[r.region] {
		return nil, fmt.Errorf("default region %q is not a country code that phone numbers know (e.g. US, GB, DE)", c.DefaultRegion)
	}
	r.phoneLengths = newPhoneLengths(r.region)
	r.nanp = phonenumbers.IsNANPACountry(r.region)
	for _, t := range builtins {
		r.known[string(t)] = true
	}
	for i, ru := range c.Rules {
		if !typeName.MatchString(string(ru.Type)) {
			return nil, fmt.Errorf("rule %d: type %q must be upper-case letters, digits and underscores, starting with a letter", i+1, ru.Type)
		}
		re, err := regexp.Compile(ru.Pattern)
		if err != nil {
			return nil, fmt.Errorf("rule %d (type %s): %w", i+1, ru.Type, err)
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("rule %d (type %s): pattern %q matches the empty string", i+1, ru.Type, ru.Pattern)
		}
		r.rules = append(r.rules, rule{typ: ru.Type, re: re, group: re.SubexpIndex("value")})
		r.known[string(ru.Type)] = true
	}
	for i, d := range c.Dictionaries {
		if !typeName.MatchString(string(d.Type)) {
			return nil, fmt.Errorf("dictionary %d: type %q must be upper-case letters, digits and underscores, starting with a letter", i+1, d.Type)
		}
		re, err := dictRegexp(d)
		if err != nil {
			return nil, fmt.Errorf("dictionary %d (type %s): %w", i+1, d.Type, err)
		}
		if re != nil {
			r.dicts = append(r.dicts, dict{typ: d.Type, re: re})
		}
		r.known[string(d.Type)] = true
	}
	for t, a := range c.Actions {
		if !r.known[string(t)] {
			return nil, fmt.Errorf("action for unknown type %q: want a built-in type (EMAIL, PHONE, ...) or the type of a rule or dictionary", t)
		}
		if a < Redact || a > Allow {
			return nil, fmt.Errorf("action for type %s: %v is not redact, block or allow", t, a)
		}
		r.actions[t] = a
	}
	return r, nil
}

// dictRegexp compiles a dictionary into one alternation, longest terms
// first so that "Project Phoenix Two" wins over "Project Phoenix". Word
// boundaries are checked by the caller, in Unicode.
func dictRegexp(d Dictionary) (*regexp.Regexp, error) {
	var terms []string
	for i, t := range d.Terms {
		f := strings.Fields(t)
		if len(f) == 0 {
			return nil, fmt.Errorf("term %d is empty", i+1)
		}
		for j := range f {
			f[j] = regexp.QuoteMeta(f[j])
		}
		terms = append(terms, strings.Join(f, `\s+`))
	}
	if len(terms) == 0 {
		return nil, nil
	}
	sort.SliceStable(terms, func(i, j int) bool { return len(terms[i]) > len(terms[j]) })
	expr := "(?:" + strings.Join(terms, "|") + ")"
	if !d.CaseSensitive {
		expr = "(?i)" + expr
	}
	return regexp.Compile(expr)
}

// Action returns the action for type t.
func (r *Redactor) Action(t Type) Action { return r.actions[t] }

// A Finding is one sensitive value found in a text.
type Finding struct {
	Type       Type
	Start, End int    // byte offsets of the value in the text
	Value      string // the original text, text[Start:End]: the sensitive value itself, never to be logged or stored
	// Placeholder replaced the value in the redacted text, e.g. "[EMAIL_1]".
	Placeholder string
}

// A Scope numbers placeholders within one record: the same value gets the
// same placeholder in every text redacted in the scope (the prompt and the
// answer), different values of a type get 1, 2, 3... A Scope is safe for
// concurrent use, though concurrent calls number values in the order they
// happen to run.
type Scope struct {
	r       *Redactor
	mu      sync.Mutex
	numbers map[valueKey]string // placeholders of the values seen
	counts  map[Type]int
	blocked map[Type]bool
}

type valueKey struct {
	typ   Type
	value string // canonical
}

// Scope returns a new, empty scope.
func (r *Redactor) Scope() *Scope {
	return &Scope{r: r}
}

// Redact redacts text in a scope of its own.
func (r *Redactor) Redact(text string) (string, []Finding) {
	return r.Scope().Redact(text)
}

// Redact returns text with every sensitive value replaced by its
// placeholder, and the findings, sorted by offset and not overlapping. The
// redacted text is text with each finding's span replaced by its
// placeholder; redacting it again changes nothing.
func (s *Scope) Redact(text string) (string, []Finding) {
	now := s.r.now()
	cs := s.r.detect(text, now)
	if len(cs) == 0 {
		return text, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := make([]Finding, 0, len(cs))
	for _, c := range cs {
		fs = append(fs, s.finding(text, c))
	}
	out := apply(text, fs)
	// A recognizer may accept, in the redacted text, a value that it
	// rejected in the original because of a neighbour that is now a
	// placeholder. Redact until nothing more is found, so that redacting
	// the result again changes nothing.
	for {
		more := s.r.detect(out, now)
		if len(more) == 0 {
			return out, fs
		}
		fs = s.mapBack(text, fs, more)
		out = apply(text, fs)
	}
}

// mapBack adds to fs the candidates found in apply(text, fs), whose offsets
// are in that redacted text. None overlaps a placeholder, so each lies in
// the original text between two findings.
func (s *Scope) mapBack(text string, fs []Finding, more []cand) []Finding {
	merged := make([]Finding, 0, len(fs)+len(more))
	in, out := 0, 0 // the start of the current original segment in text and in the redacted text
	k := 0
	for _, c := range more {
		for k < len(fs) {
			segEnd := out + fs[k].Start - in // where placeholder k starts in the redacted text
			if c.start < segEnd {
				break
			}
			merged = append(merged, fs[k])
			out = segEnd + len(fs[k].Placeholder)
			in = fs[k].End
			k++
		}
		c.start += in - out
		c.end += in - out
		merged = append(merged, s.finding(text, c))
	}
	return append(merged, fs[k:]...)
}

// finding numbers c in the scope.
func (s *Scope) finding(text string, c cand) Finding {
	v := text[c.start:c.end]
	key := c.key
	if key == "" {
		key = canonical(c.typ, v)
	}
	k := valueKey{c.typ, key}
	ph, ok := s.numbers[k]
	if !ok {
		if s.numbers == nil {
			s.numbers = make(map[valueKey]string)
			s.counts = make(map[Type]int)
		}
		s.counts[c.typ]++
		ph = "[" + string(c.typ) + "_" + strconv.Itoa(s.counts[c.typ]) + "]"
		s.numbers[k] = ph
	}
	if s.r.actions[c.typ] == Block {
		if s.blocked == nil {
			s.blocked = make(map[Type]bool)
		}
		s.blocked[c.typ] = true
	}
	return Finding{Type: c.typ, Start: c.start, End: c.end, Value: v, Placeholder: ph}
}

// Blocked returns the types with action Block found so far in the scope,
// sorted.
func (s *Scope) Blocked() []Type {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []Type
	for t := range s.blocked {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// apply replaces each finding's span of text with its placeholder.
func apply(text string, fs []Finding) string {
	var b strings.Builder
	n := len(text)
	for _, f := range fs {
		n += len(f.Placeholder) - (f.End - f.Start)
	}
	b.Grow(n)
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		b.WriteString(f.Placeholder)
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// canonical returns the form in which values of a type are compared when
// numbering placeholders (the same forms as package pii's Normalize).
func canonical(t Type, v string) string {
	switch t {
	case Email:
		return strings.ToLower(v)
	case USSSN, CreditCard:
		return onlyDigits(v)
	case IBAN:
		return strings.ToUpper(strings.Join(strings.Fields(v), ""))
	}
	return v
}

func onlyDigits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

package redact

import (
	"regexp"
	"strings"
	"testing"
)

var placeholderRE = regexp.MustCompile(`^\[[A-Z][A-Z0-9_]*_[1-9][0-9]*\]$`)

// fuzzRedactor has every kind of recognizer, custom ones included.
func fuzzRedactor(t testing.TB) *Redactor {
	t.Helper()
	r, err := New(Config{
		Rules: []Rule{
			{Type: "TICKET", Pattern: `TCK-\d{3,}`},
			{Type: "EMPLOYEE_ID", Pattern: `EMP-(?P<value>\d{4,})`},
		},
		Dictionaries: []Dictionary{{Type: "PROJECT", Terms: []string{"Phoenix", "Blue Harbor", "Ärger"}}},
		Actions:      map[Type]Action{IPAddress: Block},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkRedaction checks the contract of Scope.Redact on one text.
func checkRedaction(t *testing.T, r *Redactor, text string) {
	t.Helper()
	out, fs := r.Redact(text)
	last := 0
	var want strings.Builder
	for i, f := range fs {
		if f.Start < last || f.Start >= f.End || f.End > len(text) {
			t.Fatalf("Redact(%q): finding %d %s [%d,%d) is out of order, empty or out of range (previous end %d)", text, i, f.Type, f.Start, f.End, last)
		}
		if f.Value != text[f.Start:f.End] {
			t.Fatalf("Redact(%q): finding %d Value %q, text has %q", text, i, f.Value, text[f.Start:f.End])
		}
		if !placeholderRE.MatchString(f.Placeholder) || !strings.HasPrefix(f.Placeholder, "["+string(f.Type)+"_") {
			t.Fatalf("Redact(%q): finding %d has placeholder %q for type %s", text, i, f.Placeholder, f.Type)
		}
		want.WriteString(text[last:f.Start])
		want.WriteString(f.Placeholder)
		last = f.End
	}
	want.WriteString(text[last:])
	if out != want.String() {
		t.Fatalf("Redact(%q) = %q, want the text with each finding replaced: %q", text, out, want.String())
	}
	if len(fs) == 0 && out != text {
		t.Fatalf("Redact(%q) = %q with no findings", text, out)
	}
	again, fs2 := r.Redact(out)
	if again != out || len(fs2) != 0 {
		t.Fatalf("Redact(Redact(%q)) = %q with %d findings (first %+v), want %q unchanged", text, again, len(fs2), fs2, out)
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"",
		"Mail alice@example.com, call (415) 555-0132 or +44 20 7946 0958.",
		"SSN 536-22-8471, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00",
		`{"password": "hunter2", "token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}`,
		"postgres://admin:s3cret@10.0.0.5:5432/app?password=x&user=y",
		"Server=db;User Id=sa;Password=My Pass;",
		"DOB: 03/14/1985, MRN: 00123456, passport no. X1234567, DL# A123-456-789",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
		"eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyfQ.4pcPyMD09olPSyXnrXCjTwXyr4BsezdI1AVTmud2fU4",
		"fe80::1ff:fe23:4567:890a, ::1:3306, 2001:db8::/32",
		`"\nalice@example.com\u00e9"`,
		"[EMAIL_1] [PHONE_12] [NOT_A_TYPE_1] [EMAIL_01]",
		"TCK-1234 EMP-56789 Project Phoenix and blue  harbor",
		"AKIAIOSFODNN7EXAMPLE then wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"my password is Tr0ub4dor&3, and --password s3cret",
		"電話：03-1234-5678、生年月日：1980年3月14日",
	} {
		f.Add(s)
	}
	// The corpus gives the fuzzer real values to cut and join.
	for _, ex := range loadCorpus(f) {
		f.Add(ex.Text)
	}
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkRedaction(t, r, text)
	})
}

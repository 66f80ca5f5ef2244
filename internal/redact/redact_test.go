package redact

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

type want struct {
	typ   Type
	value string
}

func (w want) String() string { return fmt.Sprintf("%s %q", w.typ, w.value) }

func findings(fs []Finding) []want {
	var ws []want
	for _, f := range fs {
		ws = append(ws, want{f.Type, f.Value})
	}
	return ws
}

func newRedactor(t testing.TB, c Config) *Redactor {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }
	return r
}

// TestRecognizers runs each recognizer on what it must find and on what
// it must leave alone.
func TestRecognizers(t *testing.T) {
	r := newRedactor(t, Config{})
	for _, tc := range []struct {
		text string
		want []want
	}{
		// EMAIL
		{"Mail alice@example.com today", []want{{Email, "alice@example.com"}}},
		{"cc Bob.Smith+news@corp.example.co.uk.", []want{{Email, "Bob.Smith+news@corp.example.co.uk"}}},
		{"<jürgen.müller@beispiel.de>", []want{{Email, "jürgen.müller@beispiel.de"}}},
		{"mailto:o'brien@example.ie", []want{{Email, "o'brien@example.ie"}}},
		{"admin@corp.internal", []want{{Email, "admin@corp.internal"}}},
		{"root@localhost", nil},
		{"npm i lodash@4.17.21", nil},
		{"logo@2x.png", nil},
		{"user@example.notatld", nil},
		{"git@github.com:acme/app.git", nil},
		{"a@b", nil},
		// PHONE
		{"Call (415) 555-0132.", []want{{Phone, "(415) 555-0132"}}},
		{"call 415-555-0132 2 times", []want{{Phone, "415-555-0132"}}},
		{"+44 20 7946 0958", []want{{Phone, "+44 20 7946 0958"}}},
		{"0044 20 7946 0958", []want{{Phone, "0044 20 7946 0958"}}},
		{"+49 (0)89 1234567", []want{{Phone, "+49 (0)89 1234567"}}},
		{"tel:+14155550132", []want{{Phone, "+14155550132"}}},
		{"+33 6 12 34 56 78", []want{{Phone, "+33 6 12 34 56 78"}}},
		{"+81 90-1234-5678", []want{{Phone, "+81 90-1234-5678"}}},
		{"phone: 4155550132", []want{{Phone, "4155550132"}}},
		{"my number is 3125550198", []want{{Phone, "3125550198"}}},
		{"(415-555-0132)", []want{{Phone, "415-555-0132"}}},
		{"4155550132", nil}, // unbroken digits need a keyword
		{"order 415-555-0133", nil},
		{"Zoom meeting ID 415 555 0132", nil},
		{"scores 92 88 75 64 81", nil},
		{"ISBN 978-3-16-148410-0", nil},
		{"0-306-40615-2", nil},
		{"2024-01-15 10:23:45", nil},
		{"15.01.2024", nil},
		{"(123) 456-7890", nil},
		{"123e4567-e89b-12d3-a456-426614174000", nil},
		{"v4.15.555.0132", nil},
		{"/users/4155550132/orders", nil},
		{"0800 123 4567", nil}, // a British number in national form: not American
		// US_SSN
		{"SSN 536-22-8471", []want{{USSSN, "536-22-8471"}}},
		{"ssn: 536228471", []want{{USSSN, "536228471"}}},
		{"social security number 536 22 8471", []want{{USSSN, "536 22 8471"}}},
		{"SS#: 536228471", []want{{USSSN, "536228471"}}},
		{"536228471", nil},
		{"000-12-3456 666-12-3456 912-12-3456 536-00-8471 536-22-0000", nil},
		{"078-05-1120 123-45-6789 219-09-9999 111-11-1111", nil},
		{"12-536-22-8471", nil},
		// CREDIT_CARD
		{"card 4111 1111 1111 1111 exp 12/27", []want{{CreditCard, "4111 1111 1111 1111"}}},
		{"4111-1111-1111-1111", []want{{CreditCard, "4111-1111-1111-1111"}}},
		{"5555555555554444", []want{{CreditCard, "5555555555554444"}}},
		{"amex 3782 822463 10005", []want{{CreditCard, "3782 822463 10005"}}},
		{"diners 3056 930902 5904", []want{{CreditCard, "3056 930902 5904"}}},
		{"2223 0031 2200 3222", []want{{CreditCard, "2223 0031 2200 3222"}}},
		{"4111111111111111 123", []want{{CreditCard, "4111111111111111"}}},
		{"4111 1111 1111 1112", nil},                                                // Luhn
		{"9111 1111 1111 1115", nil},                                                // no issuer
		{"41 11 11 11 11 11 11 11", nil},                                            // not grouped like a card
		{"9400 1000 0000 0000 0000 00", nil},                                        // a USPS tracking number
		{"4111 1111 1111 1111 1111 1", []want{{CreditCard, "4111 1111 1111 1111"}}}, // digits may follow (CVV, expiry)
		{"x4111111111111111", nil},                                                  // inside a word
		{"3.4111111111111111", nil},                                                 // a decimal
		{"1234 4111 1111 1111 1111 0000", nil},                                      // inside a longer run
		// IBAN
		{"IBAN DE89 3704 0044 0532 0130 00.", []want{{IBAN, "DE89 3704 0044 0532 0130 00"}}},
		{"GB82WEST12345698765432", []want{{IBAN, "GB82WEST12345698765432"}}},
		{"fr1420041010050500013m02606", []want{{IBAN, "fr1420041010050500013m02606"}}},
		{"DE88 3704 0044 0532 0130 00", nil}, // check digits
		{"DE89 3704 0044 0532 0130", nil},    // too short
		{"XX89370400440532013000", nil},      // no such country
		// IP_ADDRESS
		{"from 10.0.0.5:8080", []want{{IPAddress, "10.0.0.5"}}},
		{"src=203.0.113.42,dst=198.51.100.7", []want{{IPAddress, "203.0.113.42"}, {IPAddress, "198.51.100.7"}}},
		{"host 10.1.2.3/24", []want{{IPAddress, "10.1.2.3"}}},
		{"[2001:db8::1]:443", []want{{IPAddress, "2001:db8::1"}}},
		{"fe80::1ff:fe23:4567:890a%eth0", []want{{IPAddress, "fe80::1ff:fe23:4567:890a"}}},
		{"::ffff:192.0.2.1", []want{{IPAddress, "::ffff:192.0.2.1"}}},
		{"127.0.0.1 0.0.0.0 255.255.255.0 ::1 ::", nil},
		{"10.0.0.0/8 2001:db8::/32", nil},
		{"version 1.2.3.4, v1.2.3.4, Section 4.2.1.3", nil},
		{"256.1.1.1 1.2.3 1.2.3.4.5 01.02.03.04", nil},
		{"12:30:45 00:1A:2B:3C:4D:5E std::vector a::b", nil},
		// DATE_OF_BIRTH
		{"DOB: 03/14/1985", []want{{DateOfBirth, "03/14/1985"}}},
		{"D.O.B. 14.03.1985", []want{{DateOfBirth, "14.03.1985"}}},
		{"born on March 3, 1980 in Ohio", []want{{DateOfBirth, "March 3, 1980"}}},
		{"date of birth: 1988-11-03", []want{{DateOfBirth, "1988-11-03"}}},
		{`"birthDate": "1988-11-03T00:00:00Z"`, []want{{DateOfBirth, "1988-11-03"}}},
		{"geboren am 3. März 1979", []want{{DateOfBirth, "3. März 1979"}}},
		{"né le 4 mai 1990", []want{{DateOfBirth, "4 mai 1990"}}},
		{"fecha de nacimiento 2 de enero de 1975", []want{{DateOfBirth, "2 de enero de 1975"}}},
		{"birthday is on the 3rd of May 1991", []want{{DateOfBirth, "3rd of May 1991"}}},
		{"生年月日：1980年3月14日", []want{{DateOfBirth, "1980年3月14日"}}},
		{"The meeting is on 03/14/1985.", nil},
		{"born in 1980", nil},
		{"DOB: 02/30/1985", nil},  // no such day
		{"DOB: 01/02/2031", nil},  // in the future
		{"DOB: 01/02/1850", nil},  // too old
		{"born\n03/14/1985", nil}, // another line
		// MEDICAL_RECORD_NUMBER, PASSPORT, DRIVERS_LICENSE
		{"MRN: 00123456", []want{{MedicalRecordNumber, "00123456"}}},
		{"medical record no. 7734-221-09", []want{{MedicalRecordNumber, "7734-221-09"}}},
		{"Patient ID 44821937", []want{{MedicalRecordNumber, "44821937"}}},
		{"Chart # H7734521", []want{{MedicalRecordNumber, "H7734521"}}},
		{"passport number N0426593", []want{{Passport, "N0426593"}}},
		{"Reisepass C9LGFYJTY", []want{{Passport, "C9LGFYJTY"}}},
		{"driver's license D1234567", []want{{DriversLicense, "D1234567"}}},
		{"DL# A123-456-78-901-0", []want{{DriversLicense, "A123-456-78-901-0"}}},
		{"MRN pending", nil},
		{"passport photo attached", nil},
		{"patient was seen 4155550132", nil},
		{"dl 12345678", nil}, // "DL" in capitals only
		// Secrets with a prefix.
		{"AKIAIOSFODNN7EXAMPLE", []want{{AWSAccessKey, "AKIAIOSFODNN7EXAMPLE"}}},
		{`key("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")`, []want{{AWSAccessKey, "AKIAIOSFODNN7EXAMPLE"}, {AWSAccessKey, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}},
		{"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []want{{AWSAccessKey, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}},
		{"AKIAXXXXXXXXXXXXXXXX AKIA123", nil},
		{"ghp_R7x2Kq9LmZ4vW8nB3cD5fG1hJ6kT0pY2sU4e", []want{{GitHubToken, "ghp_R7x2Kq9LmZ4vW8nB3cD5fG1hJ6kT0pY2sU4e"}}},
		{"github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV", []want{{GitHubToken, "github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV"}}},
		{"ghp_short", nil},
		{"xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", []want{{SlackToken, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}}},
		{"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", []want{{SlackToken, "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"}}},
		{"xoxb-is-a-bot-token-prefix", nil},
		{"sk-proj-AbCdEf1234567890GhIjKlMnOp", []want{{OpenAIKey, "sk-proj-AbCdEf1234567890GhIjKlMnOp"}}},
		{"sk-learn-compatible-estimators", nil},
		{"eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyfQ.4pcPyMD09olPSyXnrXCjTwXyr4BsezdI1AVTmud2fU4", []want{{JWT, "eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyfQ.4pcPyMD09olPSyXnrXCjTwXyr4BsezdI1AVTmud2fU4"}}},
		{"eyJmb28iOiJiYXIifQ.eyJ1aWQiOjQyfQ.abc", nil}, // no "alg"
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nbye", []want{{PrivateKey, "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"}}},
		{`{"key": "-----BEGIN PRIVATE KEY-----\nMIIE`, []want{{PrivateKey, `-----BEGIN PRIVATE KEY-----\nMIIE`}}}, // truncated
		{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", nil},
		// PASSWORD
		{`{"password": "hunter2"}`, []want{{Password, "hunter2"}}},
		{"DB_PASSWORD=S3cr3t!", []want{{Password, "S3cr3t!"}}},
		{"password: hunter2 # the old one", []want{{Password, "hunter2"}}},
		{"$config['db_password'] = 'p@ss';", []want{{Password, "p@ss"}}},
		{`pwd := "hunter2"`, []want{{Password, "hunter2"}}},
		{"my password is Tr0ub4dor&3, don't share", []want{{Password, "Tr0ub4dor&3"}}},
		{"run --password s3cret --verbose", []want{{Password, "s3cret"}}},
		{"mysql -u root -p'Sup3r!' db", []want{{Password, "Sup3r!"}}},
		{"https://bob:pw123@example.com/x", []want{{Password, "pw123"}}},
		{"?token=abc123def456&x=1", []want{{Password, "abc123def456"}}},
		{"Authorization: Basic YWRtaW46czNjcjN0UGFzcw==", []want{{Password, "YWRtaW46czNjcjN0UGFzcw=="}}},
		{"Authorization: Bearer 8f2d0c1e9b7a6d5c4b3a", []want{{Password, "8f2d0c1e9b7a6d5c4b3a"}}},
		{`{"token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}`, []want{{SlackToken, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}}},
		{"password = getpass.getpass()", nil},
		{"password: ${DB_PASSWORD}", nil},
		{"password: <your password>", nil},
		{"password: ********", nil},
		{"Password: must be 8 characters", nil},
		{"the password is incorrect", nil},
		{"def login(password: str)", nil},
		{"max_tokens: 4096", nil},
		{`"token": "Hello"`, nil},
		{"PWD=/home/alice", nil},
		{"password=args.password", nil},
		// CONNECTION_STRING
		{"postgres://admin:s3cret@db.internal:5432/app", []want{{ConnectionString, "s3cret"}}},
		{"mongodb+srv://u:p~ss@cluster0.x.mongodb.net/db", []want{{ConnectionString, "p~ss"}}},
		{"redis://:hunter2@cache:6379/0", []want{{ConnectionString, "hunter2"}}},
		{"jdbc:mysql://db:3306/app?user=app&password=s3cret&ssl=true", []want{{ConnectionString, "s3cret"}}},
		{"Server=tcp:db,1433;Database=app;User Id=sa;Password=My Pass;", []want{{ConnectionString, "My Pass"}}},
		{`"app:s3cret@tcp(10.1.2.3:3306)/shop"`, []want{{ConnectionString, "s3cret"}, {IPAddress, "10.1.2.3"}}},
		{"postgresql://user@localhost/db", nil},
	} {
		_, fs := r.Redact(tc.text)
		if got := findings(fs); !slices.Equal(got, tc.want) {
			t.Errorf("Redact(%q) found %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestScopeNumbering(t *testing.T) {
	r := newRedactor(t, Config{})
	s := r.Scope()
	prompt, _ := s.Redact("Mail alice@example.com and bob@example.com, or call +1 415 555 0132.")
	answer, _ := s.Redact("I mailed ALICE@example.com and called (415) 555-0132; carol@example.com next.")
	if want := "Mail [EMAIL_1] and [EMAIL_2], or call [PHONE_1]."; prompt != want {
		t.Errorf("prompt = %q, want %q", prompt, want)
	}
	if want := "I mailed [EMAIL_1] and called [PHONE_1]; [EMAIL_3] next."; answer != want {
		t.Errorf("answer = %q, want %q", answer, want)
	}
	// Another scope numbers from 1 again.
	if got, _ := r.Scope().Redact("carol@example.com"); got != "[EMAIL_1]" {
		t.Errorf("new scope: %q, want [EMAIL_1]", got)
	}
}

func TestActions(t *testing.T) {
	r := newRedactor(t, Config{Actions: map[Type]Action{PrivateKey: Block, Email: Allow, Password: Block}})
	s := r.Scope()
	out, fs := s.Redact("mail alice@example.com, password=hunter2, call (415) 555-0132")
	if want := "mail alice@example.com, password=[PASSWORD_1], call [PHONE_1]"; out != want {
		t.Errorf("Redact = %q, want %q", out, want)
	}
	if got := findings(fs); !slices.Equal(got, []want{{Password, "hunter2"}, {Phone, "(415) 555-0132"}}) {
		t.Errorf("findings = %v", got)
	}
	if got := s.Blocked(); !slices.Equal(got, []Type{Password}) {
		t.Errorf("Blocked() = %v, want [PASSWORD]", got)
	}
	// An allowed type does not hide another: the password is an address.
	_, fs = r.Redact("password=alice@example.com")
	if got := findings(fs); !slices.Equal(got, []want{{Password, "alice@example.com"}}) {
		t.Errorf("allowed EMAIL: findings = %v, want the password", got)
	}
	for _, tc := range []struct {
		in   string
		want Action
		err  bool
	}{{"redact", Redact, false}, {"BLOCK", Block, false}, {" allow ", Allow, false}, {"drop", 0, true}} {
		a, err := ParseAction(tc.in)
		if a != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseAction(%q) = %v, %v", tc.in, a, err)
		}
	}
}

func TestCustomRulesAndDictionaries(t *testing.T) {
	r := newRedactor(t, Config{
		Rules: []Rule{
			{Type: "TICKET", Pattern: `TCK-\d{4,}`},
			{Type: "EMPLOYEE_ID", Pattern: `EMP-(?P<value>\d{6})`},
		},
		Dictionaries: []Dictionary{
			{Type: "PROJECT", Terms: []string{"Phoenix", "Blue Harbor", "Blue Harbor Two"}},
			{Type: "CLIENT", Terms: []string{"ACME"}, CaseSensitive: true},
		},
	})
	out, _ := r.Redact("TCK-12345 for EMP-004211: Project phoenix, blue  harbor two, Phoenixes, ACME not Acme.")
	if want := "[TICKET_1] for EMP-[EMPLOYEE_ID_1]: Project [PROJECT_1], [PROJECT_2], Phoenixes, [CLIENT_1] not Acme."; out != want {
		t.Errorf("Redact = %q, want %q", out, want)
	}
	// A custom rule wins a tie with a built-in type.
	r = newRedactor(t, Config{Rules: []Rule{{Type: "VIP", Pattern: `alice@example\.com`}}})
	if out, _ := r.Redact("alice@example.com"); out != "[VIP_1]" {
		t.Errorf("tie: %q, want [VIP_1]", out)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Rules: []Rule{{Type: "OK", Pattern: `a`}, {Type: "BAD", Pattern: `(`}}}, "rule 2 (type BAD)"},
		{Config{Rules: []Rule{{Type: "lower", Pattern: `a`}}}, `rule 1: type "lower"`},
		{Config{Rules: []Rule{{Type: "EMPTY", Pattern: `a*`}}}, "matches the empty string"},
		{Config{Dictionaries: []Dictionary{{Type: "P", Terms: []string{"x", " "}}}}, "dictionary 1 (type P): term 2 is empty"},
		{Config{Actions: map[Type]Action{"EMIAL": Allow}}, `unknown type "EMIAL"`},
		{Config{Actions: map[Type]Action{Email: Action(7)}}, "is not redact, block or allow"},
		{Config{DefaultRegion: "XX"}, `default region "XX"`},
	} {
		_, err := New(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.c, err, tc.want)
		}
	}
	if _, err := New(Config{Actions: map[Type]Action{"PROJECT": Block}, Dictionaries: []Dictionary{{Type: "PROJECT", Terms: []string{"x"}}}}); err != nil {
		t.Errorf("action for a dictionary's type: %v", err)
	}
}

func TestDefaultRegion(t *testing.T) {
	r := newRedactor(t, Config{DefaultRegion: "gb"})
	_, fs := r.Redact("Call 020 7946 0958 or +1 415 555 0132")
	if got := findings(fs); !slices.Equal(got, []want{{Phone, "020 7946 0958"}, {Phone, "+1 415 555 0132"}}) {
		t.Errorf("GB: %v", got)
	}
}

// TestShape checks that redaction keeps JSON valid and escapes whole.
func TestShape(t *testing.T) {
	r := newRedactor(t, Config{})
	for _, text := range []string{
		`{"a": "\nalice@example.com\t", "b": "password=hunter2\"", "c": "\u00e9alice@example.com"}`,
		`{"k": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", "p": "+1 415 555 0132\\"}`,
		`{"msg": "{\"password\": \"hunter2\", \"ssn\": \"536-22-8471\"}"}`,
	} {
		out, fs := r.Redact(text)
		if len(fs) == 0 {
			t.Errorf("Redact(%s) found nothing", text)
		}
		if !json.Valid([]byte(out)) {
			t.Errorf("Redact(%s) = %s: not JSON", text, out)
		}
	}
	// Every JSON text of the corpus stays JSON.
	for _, ex := range loadCorpus(t) {
		if !json.Valid([]byte(ex.Text)) {
			continue
		}
		if out, _ := r.Redact(ex.Text); !json.Valid([]byte(out)) {
			t.Errorf("%s:%d: redacted JSON is not JSON: %s", ex.file, ex.line, out)
		}
	}
}

// TestContractOnCorpus checks FuzzRedact's properties on every text of
// the corpus.
func TestContractOnCorpus(t *testing.T) {
	r := fuzzRedactor(t)
	for _, ex := range loadCorpus(t) {
		checkRedaction(t, r, ex.Text)
	}
}

func TestPlaceholdersAreNotRedacted(t *testing.T) {
	r := newRedactor(t, Config{Rules: []Rule{{Type: "NUM", Pattern: `\d+`}}})
	in := "[EMAIL_1] [PHONE_23] [NUM_2]"
	if out, fs := r.Redact(in); out != in || len(fs) != 0 {
		t.Errorf("Redact(%q) = %q, %v", in, out, fs)
	}
	// Not placeholders: unknown types, leading zeros.
	if out, _ := r.Redact("[NOPE_1] [EMAIL_01]"); out != "[NOPE_[NUM_1]] [EMAIL_[NUM_2]]" {
		t.Errorf("Redact = %q", out)
	}
}

func TestOverlaps(t *testing.T) {
	r := newRedactor(t, Config{Rules: []Rule{{Type: "REF", Pattern: `ref-\d+@ex`}}})
	// The rule and the address overlap partly: the union is redacted, as
	// the longer finding's type.
	out, fs := r.Redact("see ref-12@example.com now")
	if out != "see [EMAIL_1] now" && out != "see [REF_1] now" || len(fs) != 1 || fs[0].Value != "ref-12@example.com" {
		t.Errorf("Redact = %q, %v", out, fs)
	}
	// A password that is a GitHub token is a GitHub token.
	_, fs = r.Redact("GITHUB_TOKEN=ghp_R7x2Kq9LmZ4vW8nB3cD5fG1hJ6kT0pY2sU4e")
	if got := findings(fs); len(got) != 1 || got[0].typ != GitHubToken {
		t.Errorf("token in a password: %v", got)
	}
}

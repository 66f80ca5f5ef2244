package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Period
		text string
	}{
		{"7y", Period{Years: 7}, "7y"},
		{"1y6mo", Period{Years: 1, Months: 6}, "1y6mo"},
		{"90d", Period{Days: 90}, "90d"},
		{"2w", Period{Days: 14}, "14d"},
		{"36h", Period{Clock: 36 * time.Hour}, "36h0m0s"},
		{"1y2mo3d4h30m", Period{Years: 1, Months: 2, Days: 3, Clock: 4*time.Hour + 30*time.Minute}, "1y2mo3d4h30m0s"},
		{"1d1ns", Period{Days: 1, Clock: 1}, "1d1ns"},
		{"0", Period{}, "0"},
	} {
		got, err := ParsePeriod(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePeriod(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		if s := got.String(); s != c.text {
			t.Errorf("%q: String() = %q, want %q", c.in, s, c.text)
		}
		back, err := ParsePeriod(got.String())
		if err != nil || back != got {
			t.Errorf("%q does not round-trip: %+v, %v", c.in, back, err)
		}
	}
	for _, bad := range []string{"", "y", "7", "7x", "7yy", "-1y", "1.5y", "1h2d", "99999999y", "7 years"} {
		if p, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) = %+v, want an error", bad, p)
		}
	}
}

func TestPeriodCalendar(t *testing.T) {
	// A year is a calendar year: leap days do not shift the anniversary.
	t0 := time.Date(2028, 3, 14, 9, 30, 0, 0, time.UTC)
	if got := MustPeriod("1y").After(t0); !got.Equal(time.Date(2029, 3, 14, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("1y after %v = %v", t0, got)
	}
	if got := MustPeriod("7y").Before(t0); !got.Equal(time.Date(2021, 3, 14, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("7y before %v = %v", t0, got)
	}
	if got := MustPeriod("90d12h").Before(t0); !got.Equal(t0.AddDate(0, 0, -90).Add(-12 * time.Hour)) {
		t.Errorf("90d12h before %v = %v", t0, got)
	}
	if w := MustPeriod("1y6mo").Words(); w != "1 year 6 months" {
		t.Errorf("Words = %q", w)
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"7y", "1y6mo", "90d", "2w", "36h", "1y2mo3d4h30m", "0", "", "1h2d", "-5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		back, err := ParsePeriod(p.String())
		if err != nil || back != p {
			t.Fatalf("%q parses to %+v, whose text %q gives %+v, %v", s, p, p.String(), back, err)
		}
	})
}

func TestRetentionConfig(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := Layers{Sealed: MustPeriod("7y"), Redacted: MustPeriod("1y"), Raw: MustPeriod("90d"), PII: MustPeriod("1y")}
	if d.Retention.Layers != want {
		t.Errorf("default layers = %+v, want %+v", d.Retention.Layers, want)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte(`
retention:
  sealed: 10y
  raw: 30d
  interval: 15m
  overrides:
    - role: admin
      redacted: 3y
    - model: medgemma
      sealed: 12y
      redacted: 6y
`), 0o600)
	c, err := Load(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r := c.Retention
	if r.Interval != 15*time.Minute || r.Sealed != MustPeriod("10y") || r.Redacted != MustPeriod("1y") || r.Raw != MustPeriod("30d") {
		t.Errorf("loaded %+v", r)
	}
	if got := r.For("admin", "medgemma"); got.Redacted != MustPeriod("3y") || got.Sealed != MustPeriod("10y") {
		t.Errorf("admin with medgemma: the first override applies, layer by layer: %+v", got)
	}
	if got := r.For("user", "medgemma"); got.Redacted != MustPeriod("6y") || got.Sealed != MustPeriod("12y") || got.Raw != MustPeriod("30d") {
		t.Errorf("user with medgemma: %+v", got)
	}
	if got := r.For("user", "llama3"); got != r.Layers {
		t.Errorf("no override: %+v", got)
	}

	for _, bad := range []struct{ yaml, want string }{
		{"retention:\n  raw: 90x\n", "not a period"},
		{"retention:\n  sealed: 0\n", "retention.sealed: must be a positive period"},
		{"retention:\n  sealed: 30d\n", "raw (90d) outlives the sealed record (30d)"},
		{"retention:\n  overrides:\n    - redacted: 2y\n", "needs a role or a model"},
		{"retention:\n  overrides:\n    - role: user\n      raw: 8y\n", "for role user, raw (8y) outlives"},
	} {
		os.WriteFile(path, []byte(bad.yaml), 0o600)
		c, err := Load(path, func(string) (string, bool) { return "", false })
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one saying %q", bad.yaml, err, bad.want)
		}
	}
}

package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Period is a length of time as retention policies state it: years,
// months and days on the calendar, plus a clock duration. "7y" is seven
// calendar years, whatever the leap days; a record of 14 March 2026 under
// "1y" is due on 14 March 2027.
//
// Its text form is a sequence of numbers with units: y (years), mo
// (months), w (weeks: 7 days), d (days), then any of Go's duration units
// (h, m for minutes, s, ms, us, ns). For example "7y", "1y6mo", "90d",
// "2w", "36h", "1y2mo3d4h30m".
type Period struct {
	Years, Months, Days int
	Clock               time.Duration
}

// ParsePeriod parses a period's text form.
func ParsePeriod(s string) (Period, error) {
	var p Period
	in := strings.TrimSpace(s)
	if in == "" {
		return p, fmt.Errorf("empty period")
	}
	if in == "0" {
		return p, nil
	}
	rest := in
	clock := ""
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		if i == 0 || j == i {
			return Period{}, fmt.Errorf("%q is not a period (like 7y, 1y6mo, 90d, 2w, 36h)", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 100000 {
			return Period{}, fmt.Errorf("%q: number out of range", s)
		}
		unit := rest[i:j]
		switch {
		case clock != "":
			// Once a clock unit was seen, the rest is Go's duration syntax.
			clock += rest[:j]
		case unit == "y":
			p.Years += n
		case unit == "mo":
			p.Months += n
		case unit == "w":
			p.Days += 7 * n
		case unit == "d":
			p.Days += n
		default:
			clock = rest[:j]
		}
		rest = rest[j:]
	}
	if clock != "" {
		d, err := time.ParseDuration(clock)
		if err != nil {
			return Period{}, fmt.Errorf("%q is not a period (units: y, mo, w, d, h, m, s)", s)
		}
		p.Clock = d
	}
	return p, nil
}

// MustPeriod is ParsePeriod for constants.
func MustPeriod(s string) Period {
	p, err := ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsZero reports whether p is no time at all.
func (p Period) IsZero() bool { return p == Period{} }

// Positive reports whether p is a positive length of time.
func (p Period) Positive() bool {
	return p.Years >= 0 && p.Months >= 0 && p.Days >= 0 && p.Clock >= 0 && !p.IsZero()
}

// Before returns the time p before t.
func (p Period) Before(t time.Time) time.Time {
	return t.AddDate(-p.Years, -p.Months, -p.Days).Add(-p.Clock)
}

// After returns the time p after t.
func (p Period) After(t time.Time) time.Time {
	return t.AddDate(p.Years, p.Months, p.Days).Add(p.Clock)
}

// Approx is p as a duration, with 365.2425-day years and 30.436875-day
// months, for comparing periods.
func (p Period) Approx() time.Duration {
	const day = 24 * time.Hour
	return time.Duration(p.Years)*time.Duration(365.2425*float64(day)) +
		time.Duration(p.Months)*time.Duration(30.436875*float64(day)) +
		time.Duration(p.Days)*day + p.Clock
}

// String returns p's text form ("7y", "1y6mo", "90d", "36h0m0s").
func (p Period) String() string {
	if p.IsZero() {
		return "0"
	}
	var b strings.Builder
	for _, u := range []struct {
		n    int
		unit string
	}{{p.Years, "y"}, {p.Months, "mo"}, {p.Days, "d"}} {
		if u.n != 0 {
			b.WriteString(strconv.Itoa(u.n))
			b.WriteString(u.unit)
		}
	}
	if p.Clock != 0 {
		b.WriteString(p.Clock.String())
	}
	return b.String()
}

// Words returns p for a person: "7 years", "1 year 6 months", "90 days".
func (p Period) Words() string {
	if p.IsZero() {
		return "no time"
	}
	var parts []string
	for _, u := range []struct {
		n    int
		unit string
	}{{p.Years, "year"}, {p.Months, "month"}, {p.Days, "day"}} {
		switch {
		case u.n == 1:
			parts = append(parts, "1 "+u.unit)
		case u.n != 0:
			parts = append(parts, strconv.Itoa(u.n)+" "+u.unit+"s")
		}
	}
	if p.Clock != 0 {
		parts = append(parts, p.Clock.String())
	}
	return strings.Join(parts, " ")
}

// MarshalText implements encoding.TextMarshaler (YAML and JSON write p's
// text form).
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

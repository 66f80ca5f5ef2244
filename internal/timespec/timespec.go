// Package timespec reads the times that aitrail's commands and API take
// (--since, --until, a hold's bounds and expiry): one syntax everywhere.
//
// A time is one of:
//
//   - RFC 3339, with or without fractional seconds: 2026-03-14T09:00:00Z,
//     2026-03-14T10:00:00.5+01:00;
//   - a date, meaning midnight UTC at its start: 2026-03-14;
//   - a length of time relative to now, in the units of retention periods
//     (y, mo, w, d, then h, m, s, ms...): 24h, 7d, 2w, 1y6mo, 90m. Parse
//     counts it back from now (--since 7d: seven days ago), ParseAhead
//     forward (--expires 30d: thirty days from now);
//   - now.
package timespec

import (
	"fmt"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/config"
)

// Syntax is the forms a time may take, for error messages and help.
const Syntax = "RFC 3339 (2026-03-14T09:00:00Z), a date (2026-03-14, UTC), or a duration (24h, 7d, 2w)"

// Parse reads s; a duration is that long before now.
func Parse(s string, now time.Time) (time.Time, error) { return parse(s, now, false) }

// ParseAhead reads s; a duration is that long after now.
func ParseAhead(s string, now time.Time) (time.Time, error) { return parse(s, now, true) }

func parse(s string, now time.Time, ahead bool) (time.Time, error) {
	in := strings.TrimSpace(s)
	if in == "now" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, in); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, in); err == nil {
		return t, nil
	}
	if in != "" && in[0] >= '0' && in[0] <= '9' {
		if p, err := config.ParsePeriod(in); err == nil && p.Positive() {
			if ahead {
				return p.After(now), nil
			}
			return p.Before(now), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use %s", s, Syntax)
}

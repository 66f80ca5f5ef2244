package timespec

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in        string
		ago, next time.Time
	}{
		{"2026-03-01T09:00:00Z", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"24h", now.Add(-24 * time.Hour), now.Add(24 * time.Hour)},
		{"7d", now.AddDate(0, 0, -7), now.AddDate(0, 0, 7)},
		{"2w", now.AddDate(0, 0, -14), now.AddDate(0, 0, 14)},
		{"1y6mo", now.AddDate(-1, -6, 0), now.AddDate(1, 6, 0)},
		{"1d12h", now.AddDate(0, 0, -1).Add(-12 * time.Hour), now.AddDate(0, 0, 1).Add(12 * time.Hour)},
		{"now", now, now},
	} {
		got, err := Parse(tc.in, now)
		if err != nil || !got.Equal(tc.ago) {
			t.Errorf("Parse(%q) = %v, %v, want %v", tc.in, got, err, tc.ago)
		}
		got, err = ParseAhead(tc.in, now)
		if err != nil || !got.Equal(tc.next) {
			t.Errorf("ParseAhead(%q) = %v, %v, want %v", tc.in, got, err, tc.next)
		}
	}
	for _, in := range []string{"", "yesterday", "7", "0", "-7d", "7x", "2026-13-01", "0d"} {
		if got, err := Parse(in, now); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-03-14T09:00:00Z", "2026-03-14", "24h", "7d", "1y6mo3d4h", "now", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		ago, err := Parse(s, now)
		if err != nil {
			return
		}
		ahead, err := ParseAhead(s, now)
		if err != nil {
			t.Fatalf("Parse(%q) ok but ParseAhead failed: %v", s, err)
		}
		if ahead.Before(ago) {
			t.Fatalf("ParseAhead(%q) = %v is before Parse = %v", s, ahead, ago)
		}
	})
}

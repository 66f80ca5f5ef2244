package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs 'aitrail demo', which serves a stand-in model, sends calls
// of every kind through a gateway, verifies the log it made, then tampers
// with a copy of it and shows verify catching the record it altered.
func TestDemo(t *testing.T) {
	t.Parallel()
	t.Run("kept", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r := runAitrail(t, "demo", "--data", dir)
		if r.code != 0 {
			t.Fatalf("aitrail demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		checkDemo(t, r.stdout)
		if !strings.Contains(r.stdout, "kept in "+dir) || !strings.Contains(r.stdout, "aitrail query --data "+dir) {
			t.Errorf("aitrail demo --data DIR does not say the log is kept there:\n%s", r.stdout)
		}
		// The demo's own log is untouched, and kept.
		if v := runAitrail(t, "verify", "--data", dir); v.code != 0 {
			t.Errorf("aitrail verify on the demo's log: exit %d, want 0\n%s", v.code, v.stdout)
		}
		if s := runAitrail(t, "stats", "--data", dir, "--by", "actor"); s.code != 0 || !strings.Contains(s.stdout, "alice") {
			t.Errorf("aitrail stats on the demo's log: exit %d\n%s", s.code, s.stdout)
		}
	})
	t.Run("temporary", func(t *testing.T) {
		t.Parallel()
		r := runAitrail(t, "demo")
		if r.code != 0 {
			t.Fatalf("aitrail demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		checkDemo(t, r.stdout)
		if !strings.Contains(r.stdout, "aitrail demo --data DIR") {
			t.Errorf("aitrail demo does not say how to keep its log:\n%s", r.stdout)
		}
		// No command points at the removed directory.
		for _, m := range regexp.MustCompile(`--data ([^\s,:]+)`).FindAllStringSubmatch(r.stdout, -1) {
			if m[1] != "DIR" {
				if _, err := os.Stat(m[1]); err != nil {
					t.Errorf("aitrail demo points at %s, which is gone: %v", m[1], err)
				}
			}
		}
	})
}

// checkDemo checks what every demo prints: calls answered and refused, its
// log intact, and the tampered copy caught naming the record.
func checkDemo(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{"-> 200", "-> 401", "intact"} {
		if !strings.Contains(out, want) {
			t.Errorf("aitrail demo printed no %q:\n%s", want, out)
		}
	}
	before, after, ok := strings.Cut(out, "Integrity of the tampered copy:")
	if !ok {
		t.Fatalf("aitrail demo does not tamper with a copy of its log:\n%s", out)
	}
	if strings.Contains(before, "TAMPERED") {
		t.Errorf("aitrail demo found its own log tampered:\n%s", out)
	}
	m := regexp.MustCompile(`edits record (\d+) of a copy`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("aitrail demo does not name the record it alters:\n%s", out)
	}
	if want := "TAMPERED: first bad record is " + m[1]; !strings.Contains(after, want) {
		t.Errorf("verify on the tampered copy did not say %q:\n%s", want, after)
	}
	if !strings.Contains(after, "verify caught it: exit status 1, naming record "+m[1]) {
		t.Errorf("aitrail demo does not conclude that verify caught it:\n%s", after)
	}
}

package e2e

import (
	"strings"
	"testing"
)

// TestDemo runs 'aitrail demo', which serves a stand-in model, sends calls
// of every kind through a gateway, and verifies the log it made.
func TestDemo(t *testing.T) {
	t.Parallel()
	r := runAitrail(t, "demo", "--data", t.TempDir())
	if r.code != 0 {
		t.Fatalf("aitrail demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"-> 200", "-> 401", "intact"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("aitrail demo printed no %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "TAMPERED") {
		t.Errorf("aitrail demo found its own log tampered:\n%s", r.stdout)
	}
}

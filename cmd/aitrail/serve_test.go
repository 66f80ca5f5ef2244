package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestServeStoppedDuringStartup stops serve (its context ends, as on
// SIGINT or SIGTERM) before it listens: it says it was stopped during
// start-up, not that it cannot write to the log.
func TestServeStoppedDuringStartup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "aitrail: error: stopped during start-up") ||
		strings.Contains(stderr.String(), "cannot") {
		t.Errorf("serve stopped during start-up: exit %d, stderr %q; want 1 and \"stopped during start-up\"", code, stderr.String())
	}
}

package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aitrail/aitrail/internal/metrics"
)

// TestHealthzReasons: /healthz says why it is unhealthy with a reason
// code and never the cause's text.
func TestHealthzReasons(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		reason string
	}{
		{nil, 200, ""},
		{&Unhealthy{Reason: ReasonLogUnwritable, Err: errors.New("disk full on /dev/sda1")}, 503, ReasonLogUnwritable},
		{&Unhealthy{Reason: ReasonIntegrityFailed}, 503, ReasonIntegrityFailed},
		{errors.New("dial tcp db.internal:5432: user aitrail: connection refused"), 503, ReasonLogUnavailable},
	} {
		up, _ := url.Parse("http://127.0.0.1:1")
		s := &Server{opts: Options{Upstream: up, Health: func(context.Context) error { return tc.err }},
			log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New()}
		w := httptest.NewRecorder()
		s.healthz(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		var got struct{ Status, Reason string }
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if w.Code != tc.status || got.Reason != tc.reason {
			t.Errorf("Health %v: /healthz %d %s, want %d reason %q", tc.err, w.Code, w.Body, tc.status, tc.reason)
		}
		if tc.err != nil && (strings.Contains(w.Body.String(), "db.internal") || strings.Contains(w.Body.String(), "disk full")) {
			t.Errorf("/healthz shows the cause: %s", w.Body)
		}
	}
}

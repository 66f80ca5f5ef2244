package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// brokenHolds fails as a store whose disk is gone would.
type brokenHolds struct{ calls int }

func (b *brokenHolds) AddHold(context.Context, store.Hold, string, string) (store.Hold, error) {
	b.calls++
	return store.Hold{}, errors.New("record the hold: open /var/lib/aitrail/audit.db: input/output error")
}
func (b *brokenHolds) Holds(context.Context) ([]store.Hold, error) { return nil, nil }
func (b *brokenHolds) ReleaseHold(context.Context, string, string, string, string) error {
	b.calls++
	return errors.New("record the release: input/output error")
}

// TestHoldsAPIFailures: a hold the log cannot record is refused with 503
// and no internal detail, and a body too large or not one object never
// reaches the keeper.
func TestHoldsAPIFailures(t *testing.T) {
	holds := &brokenHolds{}
	text, k := identity.NewKey()
	k.Actor, k.Role = "ops", identity.RoleAdmin
	c, _ := record.NewCommitter(bytes.Repeat([]byte{1}, 32))
	cfg := config.Default()
	s := New(Options{MaxBodyBytes: 1 << 20, Timeouts: cfg.Timeouts, Holds: holds},
		&memLedger{}, identity.NewAuthenticator(memKeys{map[string]store.Key{k.ID: k}}, nil), noSessions{}, c,
		metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	gw := httptest.NewServer(s)
	defer gw.Close()
	post := func(path, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, gw.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+text)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct{ path, body string }{
		{"/aitrail/v1/holds", `{"reason":"matter 9","actor":"alice"}`},
		{"/aitrail/v1/holds/hold-1/release", `{"reason":"closed"}`},
	} {
		code, body := post(c.path, c.body)
		if code != http.StatusServiceUnavailable || strings.Contains(body, "audit.db") || strings.Contains(body, "input/output") {
			t.Errorf("POST %s when the log fails: %d %s, want 503 without internal detail", c.path, code, body)
		}
	}
	calls := holds.calls
	for _, body := range []string{
		`{"reason":"` + strings.Repeat("x", maxHoldBody) + `"}`,
		`{"reason":"a"} {"reason":"b"}`,
		`["reason"]`,
	} {
		if code, resp := post("/aitrail/v1/holds", body); code != http.StatusBadRequest {
			t.Errorf("POST a hold %.40q...: %d %s, want 400", body, code, resp)
		}
	}
	if holds.calls != calls {
		t.Errorf("bad bodies reached the keeper %d times", holds.calls-calls)
	}
}

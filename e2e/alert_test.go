package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestIntegrityAlert: when a record the gateway already verified is edited
// in its database, the gateway's background verification notices, posts
// the webhook alert naming the record, and says so in /healthz and
// /metrics.
func TestIntegrityAlert(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var alerts []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &a); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
	}))
	defer hook.Close()

	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "alerted")
	g := integGateway(t, dir, up.URL, integConfig+
		"verify: {interval: 100ms, full_interval: 100ms}\nalerts:\n  webhook: "+hook.URL+"\n")
	integCalls(t, g, key, "alert", 2)
	db := openDB(t, dir)
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	// Wait until every record so far, the victim included, was verified.
	eventually(t, "the log verified intact", func() (bool, string) {
		var h struct {
			Integrity struct {
				OK       bool  `json:"ok"`
				Verified int64 `json:"verified_records"`
			} `json:"integrity"`
		}
		b := call(t, http.MethodGet, g.URL+"/healthz", "", "").body
		json.Unmarshal(b, &h)
		return h.Integrity.OK && h.Integrity.Verified >= n, string(b)
	})

	const victim = 3 // a model call's request record, verified before the edit
	if _, err := db.Exec(`UPDATE records SET actor = 'mallory' WHERE seq = ?`, victim); err != nil {
		t.Fatal(err)
	}
	db.Close()

	eventually(t, "the webhook got the alert", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(alerts) > 0, fmt.Sprint(alerts)
	})
	mu.Lock()
	a := alerts[0]
	mu.Unlock()
	if a["event"] != "aitrail.integrity_failed" || a["first_bad_seq"] != float64(victim) || a["log"] != "main" {
		t.Errorf("alert = %v, want event aitrail.integrity_failed naming record %d of log main", a, victim)
	}
	hr := call(t, http.MethodGet, g.URL+"/healthz", "", "")
	h := string(hr.body)
	if hr.status != http.StatusServiceUnavailable || !strings.Contains(h, `"status":"unhealthy"`) || !strings.Contains(h, `"reason":"integrity_failed"`) {
		t.Errorf("/healthz = %d %s, want 503 unhealthy, reason integrity_failed", hr.status, h)
	}
	if !strings.Contains(h, `"ok":false`) || !strings.Contains(h, fmt.Sprintf(`"first_bad_seq":%d`, victim)) {
		t.Errorf("/healthz = %s, want integrity ok false naming record %d", h, victim)
	}
	if v := integMetric(t, g, "aitrail_verify_ok"); v != 0 {
		t.Errorf("aitrail_verify_ok = %v, want 0", v)
	}
	if !strings.Contains(g.log.String(), "AUDIT LOG INTEGRITY FAILURE") {
		t.Errorf("the gateway did not log the failure:\n%s", g.log)
	}
	// New calls are still recorded: a broken past does not stop the present.
	integCalls(t, g, key, "after", 1)
}

package gateway

import (
	"io"
	"net/http"
	"testing"

	"github.com/aitrail/aitrail/internal/standin"
)

// TestProbePassesThrough: GET / and HEAD /, which Ollama's clients send
// without a key, get the upstream's own answer ("Ollama is running"), carry
// nothing of the caller's upstream, and are not recorded.
func TestProbePassesThrough(t *testing.T) {
	so := standin.New(standin.Options{})
	var sawAuth []string
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		sawAuth = append(sawAuth, r.Header.Get("Authorization")+r.Header.Get("X-Secret"))
		so.ServeHTTP(w, r)
	})
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, f.gw.URL+"/?q=1", nil)
		req.Header.Set("Authorization", "Bearer "+f.key)
		req.Header.Set("X-Secret", "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "Ollama is running"
		if method == http.MethodHead {
			want = ""
		}
		if resp.StatusCode != 200 || string(body) != want || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s / = %d %q (%s), want 200 %q as the upstream answers", method, resp.StatusCode, body, resp.Header.Get("Content-Type"), want)
		}
	}
	if len(sawAuth) != 2 || sawAuth[0] != "" || sawAuth[1] != "" {
		t.Errorf("the upstream saw the caller's headers on the probe: %q", sawAuth)
	}
	if recs := f.ledger.records(); len(recs) != 0 {
		t.Errorf("probes made %d records, want none", len(recs))
	}
}

// TestProbeUpstreamDown: a probe while the upstream is unreachable is
// answered 502, not "running".
func TestProbeUpstreamDown(t *testing.T) {
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		c.Close()
	})
	resp, err := http.Get(f.gw.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("GET / with the upstream failing = %d, want 502", resp.StatusCode)
	}
}

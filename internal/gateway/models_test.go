package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// TestModelCacheHitsNeverWait: while a refresh for an unknown model is held
// at the upstream, a model already cached is answered at once (were it not,
// this test would block before releasing the upstream, and time out), and
// the unknown model is found once the refresh ends.
func TestModelCacheHitsNeverWait(t *testing.T) {
	gate := make(chan struct{})
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Write([]byte(`{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"d1"}]}`))
			return
		}
		<-gate
		w.Write([]byte(`{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"d1"},{"name":"new:latest","model":"new:latest","digest":"d2"}]}`))
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	m := newModelCache(up.Client(), u, time.Minute)
	ctx := context.Background()
	if d := m.Digest(ctx, "tiny"); d != "d1" {
		t.Fatalf("Digest(tiny) = %q, want d1", d)
	}
	m.mu.Lock()
	m.fetched = m.fetched.Add(-2 * time.Second) // allow the next refresh now
	m.mu.Unlock()
	found := make(chan string)
	go func() { found <- m.Digest(ctx, "new") }()
	for {
		m.mu.Lock()
		refreshing := m.inflight != nil
		m.mu.Unlock()
		if refreshing {
			break
		}
	}
	if d := m.Digest(ctx, "tiny"); d != "d1" {
		t.Errorf("Digest(tiny) during a refresh = %q, want d1", d)
	}
	close(gate)
	if d := <-found; d != "d2" {
		t.Errorf("Digest(new) = %q, want d2 after the refresh", d)
	}
}

package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// modelCache resolves model names to the upstream's digests through
// /api/tags, so that each record says exactly which model answered. Digests
// are cached for ttl; an upstream without /api/tags (vLLM, llama.cpp)
// yields no digest, and is asked again only after ttl. The fetch runs
// outside the lock: a call whose model is cached never waits for it; a
// call for a model not yet known waits for the fetch in flight.
type modelCache struct {
	client   *http.Client
	upstream *url.URL
	ttl      time.Duration

	mu       sync.Mutex
	digests  map[string]string
	fetched  time.Time
	inflight chan struct{} // closed when the running fetch ends; nil if none
}

func newModelCache(c *http.Client, upstream *url.URL, ttl time.Duration) *modelCache {
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &modelCache{client: c, upstream: upstream, ttl: ttl}
}

// Digest returns the digest of model, or "" when the upstream does not say.
// A stale entry is returned at once while a refresh runs; a model the
// cache does not know waits for one refresh (at most one a second), so a
// newly pulled model is found.
func (m *modelCache) Digest(ctx context.Context, model string) string {
	if model == "" {
		return ""
	}
	m.mu.Lock()
	d, known := m.lookup(model)
	stale := time.Since(m.fetched) >= m.ttl
	if known && !stale {
		m.mu.Unlock()
		return d
	}
	wait := m.inflight
	if wait == nil && (stale || time.Since(m.fetched) >= time.Second) {
		wait = make(chan struct{})
		m.inflight, m.fetched = wait, time.Now()
		go m.refresh(context.WithoutCancel(ctx), wait)
	}
	m.mu.Unlock()
	if known || wait == nil {
		return d
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, _ = m.lookup(model)
	return d
}

// Forget drops the cache, after a model was pulled, created or deleted.
func (m *modelCache) Forget() {
	m.mu.Lock()
	m.digests, m.fetched = nil, time.Time{}
	m.mu.Unlock()
}

func (m *modelCache) lookup(model string) (string, bool) {
	if d, ok := m.digests[model]; ok {
		return d, true
	}
	if !strings.Contains(model, ":") {
		d, ok := m.digests[model+":latest"]
		return d, ok
	}
	return "", false
}

// refresh fetches /api/tags and closes done when it is through.
func (m *modelCache) refresh(ctx context.Context, done chan struct{}) {
	d := m.fetch(ctx)
	m.mu.Lock()
	if d != nil {
		m.digests = d
	}
	m.inflight = nil
	m.mu.Unlock()
	close(done)
}

func (m *modelCache) fetch(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := *m.upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/tags"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	resp, err := m.client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	var tags struct {
		Models []struct {
			Name   string `json:"name"`
			Model  string `json:"model"`
			Digest string `json:"digest"`
		} `json:"models"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&tags) != nil {
		return nil
	}
	d := make(map[string]string, len(tags.Models))
	for _, t := range tags.Models {
		d[t.Name] = t.Digest
		d[t.Model] = t.Digest
	}
	return d
}

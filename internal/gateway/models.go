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
// /api/tags, so that each record says exactly which model answered. A name
// is found as Ollama finds it (see modelKey): "TINY", "library/tiny" and
// "tiny" are tiny:latest. Digests are cached for ttl; an upstream without
// /api/tags (vLLM, llama.cpp) yields no digest, and is asked again only
// after ttl. The fetch runs outside the lock: a call whose model is cached
// never waits for it; a call for a model not yet known waits for the fetch
// in flight. Forget, called when a model-management call through the
// gateway has ended, makes the next call fetch again; a change made behind
// the gateway's back is seen within ttl.
type modelCache struct {
	client   *http.Client
	upstream *url.URL
	ttl      time.Duration

	mu       sync.Mutex
	digests  map[string]string // by name as listed, and by modelKey
	fetched  time.Time
	inflight chan struct{} // closed when the running fetch ends; nil if none
	gen      uint64        // counts Forget calls: a fetch begun before one is not kept
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
	// A second round is needed only when Forget ran during the first
	// fetch, whose answer may predate the change.
	for range 2 {
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
			go m.refresh(context.WithoutCancel(ctx), wait, m.gen)
		}
		gen := m.gen
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
		d, known = m.lookup(model)
		again := m.gen != gen
		m.mu.Unlock()
		if known || !again {
			return d
		}
	}
	return ""
}

// Forget drops the cache. The gateway calls it when a model-management call
// (pull, push, create, copy, delete) has ended, so that the next call
// resolves its model again; a fetch already running when Forget is called
// is not kept.
func (m *modelCache) Forget() {
	m.mu.Lock()
	m.digests, m.fetched = nil, time.Time{}
	m.gen++
	m.mu.Unlock()
}

func (m *modelCache) lookup(model string) (string, bool) {
	if d, ok := m.digests[model]; ok {
		return d, true
	}
	if k, ok := modelKey(model); ok {
		d, ok := m.digests[k]
		return d, ok
	}
	return "", false
}

// refresh fetches /api/tags and closes done when it is through. What it
// fetched is kept only if Forget was not called since generation gen.
func (m *modelCache) refresh(ctx context.Context, done chan struct{}, gen uint64) {
	d := m.fetch(ctx)
	m.mu.Lock()
	if m.gen == gen {
		if d != nil {
			m.digests = d
		}
	} else {
		m.fetched = time.Time{} // the next call fetches again
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
		for _, name := range [...]string{t.Name, t.Model} {
			d[name] = t.Digest
			if k, ok := modelKey(name); ok {
				d[k] = t.Digest
			}
		}
	}
	return d
}

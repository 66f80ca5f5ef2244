package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ollamamodel "github.com/ollama/ollama/types/model"
)

// TestModelKey: every name Ollama accepts for one model gives one key, and
// names Ollama refuses give none.
func TestModelKey(t *testing.T) {
	const tiny = "registry.ollama.ai/library/tiny:latest"
	for _, tc := range []struct {
		name string
		key  string // "" for an invalid name
	}{
		{"tiny", tiny},
		{"tiny:latest", tiny},
		{"TINY", tiny},
		{"Tiny:Latest", tiny},
		{"library/tiny", tiny},
		{"registry.ollama.ai/library/tiny:latest", tiny},
		{"https://registry.ollama.ai/library/tiny", tiny},
		{"tiny:q4_0", "registry.ollama.ai/library/tiny:q4_0"},
		{"user/tiny", "registry.ollama.ai/user/tiny:latest"},
		{"hf.co/org/repo:Q4_K_M", "hf.co/org/repo:q4_k_m"},
		{"localhost:5000/ns/m", "localhost:5000/ns/m:latest"},
		{"llama3.2:1b", "registry.ollama.ai/library/llama3.2:1b"},
		{"", ""},
		{"tiny:", ""},
		{":latest", ""},
		{"/tiny", ""},
		{"a/b/c/d", ""},
		{"ns.x/tiny", ""},
		{"-tiny", ""},
		{"ti ny", ""},
	} {
		key, ok := modelKey(tc.name)
		if key != tc.key || ok != (tc.key != "") {
			t.Errorf("modelKey(%q) = %q, %v, want %q", tc.name, key, ok, tc.key)
		}
	}
}

// FuzzModelKey checks modelKey against Ollama's own name parsing
// (types/model, the version go.mod names): a name is valid for one exactly
// when it is for the other, and then names the same model.
func FuzzModelKey(f *testing.F) {
	for _, s := range []string{"tiny", "TINY", "library/tiny", "registry.ollama.ai/library/tiny:latest",
		"hf.co/org/repo:Q4", "a:b:c", "x://h/n/m:t", "ns.x/m", "a/b/c/d", "m:", "/m", "_m", "m-1.2:t_3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := ollamamodel.ParseName(s)
		wantOK := n.IsValid()
		key, ok := modelKey(s)
		if ok != wantOK {
			t.Fatalf("modelKey(%q) valid = %v, Ollama says %v (%+v)", s, ok, wantOK, n)
		}
		if ok && key != strings.ToLower(n.String()) {
			t.Fatalf("modelKey(%q) = %q, Ollama's name is %q", s, key, n.String())
		}
	})
}

func tagsServer(t *testing.T, body func() string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(body()))
	}))
	t.Cleanup(up.Close)
	return up, &calls
}

// TestModelCacheFindsOllamaNames: every form of a name Ollama accepts is
// recorded with the model's digest.
func TestModelCacheFindsOllamaNames(t *testing.T) {
	up, _ := tagsServer(t, func() string {
		return `{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"d1"},{"name":"user/other:v2","model":"user/other:v2","digest":"d2"}]}`
	})
	u, _ := url.Parse(up.URL)
	m := newModelCache(up.Client(), u, time.Minute)
	for name, want := range map[string]string{
		"tiny": "d1", "tiny:latest": "d1", "TINY": "d1", "library/tiny": "d1",
		"registry.ollama.ai/library/tiny:latest": "d1", "USER/Other:V2": "d2",
		"tiny:v2": "", "other:v2": "", "": "",
	} {
		if d := m.Digest(context.Background(), name); d != want {
			t.Errorf("Digest(%q) = %q, want %q", name, d, want)
		}
	}
}

// TestModelCacheForgetDuringFetch: a fetch that was under way when Forget
// was called (so its answer may predate the change) is not kept; the caller
// waiting on it gets the answer of a fetch made after the change.
func TestModelCacheForgetDuringFetch(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			close(arrived)
			<-release
			w.Write([]byte(`{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"old"}]}`))
			return
		}
		w.Write([]byte(`{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"new"}]}`))
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	m := newModelCache(up.Client(), u, time.Minute)
	got := make(chan string)
	go func() { got <- m.Digest(context.Background(), "tiny") }()
	<-arrived
	m.Forget() // the model was replaced while /api/tags was being read
	close(release)
	if d := <-got; d != "new" {
		t.Errorf("Digest(tiny) = %q, want the digest after the change, new", d)
	}
	if d := m.Digest(context.Background(), "tiny"); d != "new" {
		t.Errorf("Digest(tiny) then = %q, want new (from the cache)", d)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("/api/tags was fetched %d times, want 2", n)
	}
}

package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/redact"
	"github.com/aitrail/aitrail/internal/standin"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/vault"
)

// benchGateway is the real gateway on a durable SQLite log in front of the
// stand-in model, in process, with redaction, and with the raw vault
// (sealing in the background, as serve does) when withVault is set.
func benchGateway(b *testing.B, withVault ...bool) (gw *httptest.Server, key string) {
	up := httptest.NewServer(standin.New(standin.Options{}))
	b.Cleanup(up.Close)
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/audit.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	led := ledger.New(st, "main", ledger.Options{})
	b.Cleanup(led.Close)
	text, k := identity.NewKey()
	k.Actor, k.Role, k.CreatedAt = "bench", identity.RoleUser, time.Now().UnixNano()
	if err := st.CreateKey(context.Background(), k); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	c, _ := record.NewCommitter(bytes.Repeat([]byte{1}, 32))
	opts := Options{Upstream: u, MaxBodyBytes: 1 << 20, Timeouts: config.Default().Timeouts, ModelCacheTTL: time.Minute, LogID: "main", RawTTL: time.Hour}
	if len(withVault) > 0 && withVault[0] {
		vst, err := vault.OpenSQLite(context.Background(), b.TempDir()+"/vault.db")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { vst.Close() })
		mk, _ := vault.LocalKey(bytes.Repeat([]byte{2}, vault.KeySize))
		q := vault.NewQueue(vault.New(vst, mk), 4096, 10*time.Millisecond, func(err error) { b.Error(err) })
		b.Cleanup(q.Close)
		opts.Vault = q
		red, err := redact.New(redact.Config{})
		if err != nil {
			b.Fatal(err)
		}
		opts.Redactor = red
	}
	s := New(opts,
		led, identity.NewAuthenticator(st, nil), st, c, metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	gw = httptest.NewServer(s)
	b.Cleanup(gw.Close)
	return gw, text
}

func benchCall(b *testing.B, c *http.Client, url, key, body string) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkChat measures one whole recorded call (two durable records).
func BenchmarkChat(b *testing.B) {
	for _, tc := range []struct{ name, path, body string }{
		{"stream", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hello"}],"options":{"num_predict":12}}`},
		{"nostream", "/api/chat", `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hello"}],"options":{"num_predict":12}}`},
		// Without include_usage: the gateway asks for it and trims it out.
		{"openai-stream", "/v1/chat/completions", `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":12}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			gw, key := benchGateway(b)
			c := gw.Client()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchCall(b, c, gw.URL+tc.path, key, tc.body)
			}
		})
	}
}

// BenchmarkChatParallel measures throughput with concurrent callers, where
// group commit shares each fsync.
func BenchmarkChatParallel(b *testing.B) { benchParallel(b, false) }

// BenchmarkChatParallelVault is BenchmarkChatParallel with redaction and
// the raw vault on (bodies: full).
func BenchmarkChatParallelVault(b *testing.B) { benchParallel(b, true) }

func benchParallel(b *testing.B, withVault bool) {
	gw, key := benchGateway(b, withVault)
	c := gw.Client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 256
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchCall(b, c, gw.URL+"/api/chat", key, `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hello"}],"options":{"num_predict":12}}`)
		}
	})
}

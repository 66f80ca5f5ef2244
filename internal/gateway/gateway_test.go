package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// memLedger records appends in memory, or fails when failing is set.
type memLedger struct {
	mu      sync.Mutex
	recs    []*record.Record
	bodies  map[int64][]byte
	failing atomic.Bool
}

func (l *memLedger) Append(ctx context.Context, es ...*ledger.Entry) error {
	if l.failing.Load() {
		return errors.New("disk full")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range es {
		e.Record.Seq = int64(len(l.recs))
		l.recs = append(l.recs, e.Record)
		if l.bodies == nil {
			l.bodies = map[int64][]byte{}
		}
		l.bodies[e.Record.Seq] = e.Body
	}
	return nil
}

func (l *memLedger) records() []*record.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*record.Record(nil), l.recs...)
}

type memKeys struct{ keys map[string]store.Key }

func (m memKeys) Key(_ context.Context, id string) (store.Key, error) {
	k, ok := m.keys[id]
	if !ok {
		return k, store.ErrNotFound
	}
	return k, nil
}

type noSessions struct{}

func (noSessions) CreateSession(context.Context, store.Session) error { return nil }
func (noSessions) Session(context.Context, string) (store.Session, error) {
	return store.Session{}, store.ErrNotFound
}

type fixture struct {
	gw       *httptest.Server
	ledger   *memLedger
	upstream atomic.Int64 // calls the upstream received
	key      string
}

func newFixture(t *testing.T, upstream http.HandlerFunc, opts ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{ledger: &memLedger{}}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/tags" {
			w.Write([]byte(`{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"849ccfe8"}]}`))
			return
		}
		f.upstream.Add(1)
		upstream(w, r)
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	text, k := identity.NewKey()
	k.Actor, k.Role = "alice", identity.RoleUser
	f.key = text
	c, _ := record.NewCommitter(bytes.Repeat([]byte{1}, 32))
	cfg := config.Default()
	o := Options{Upstream: u, MaxBodyBytes: 1 << 20, Timeouts: cfg.Timeouts, ModelCacheTTL: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	s := New(o, f.ledger, identity.NewAuthenticator(memKeys{map[string]store.Key{k.ID: k}}, nil), noSessions{}, c,
		metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.gw = httptest.NewServer(s)
	t.Cleanup(f.gw.Close)
	return f
}

func (f *fixture) post(t *testing.T, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.gw.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestFailClosedBeforeForwarding(t *testing.T) {
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) })
	f.ledger.failing.Store(true)
	for _, tc := range []struct{ path, body, wantKey string }{
		{"/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"secret plan"}]}`, `"error":"aitrail: the audit log`},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"secret plan"}]}`, `"type":"api_error"`},
	} {
		resp, body := f.post(t, tc.path, tc.body)
		if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(tc.wantKey)) {
			t.Errorf("POST %s with a failing log = %d %s, want 503 with %s", tc.path, resp.StatusCode, body, tc.wantKey)
		}
	}
	if n := f.upstream.Load(); n != 0 {
		t.Errorf("the upstream saw %d prompts that could not be recorded", n)
	}
}

// TestFailClosedBeforeRelease: when the response record cannot be written,
// the answer is not released.
func TestFailClosedBeforeRelease(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		f.ledger.failing.Store(true) // the request was recorded; the response will not be
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`{"model":"tiny","message":{"role":"assistant","content":"the secret answer"},"done":true}`))
	})
	resp, body := f.post(t, "/api/chat", `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusServiceUnavailable || bytes.Contains(body, []byte("secret answer")) {
		t.Errorf("answer with an unrecordable response = %d %s, want 503 without the answer", resp.StatusCode, body)
	}
}

func TestStreamFinalChunkHeldUntilRecorded(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Write([]byte(`{"model":"tiny","message":{"role":"assistant","content":" one"},"done":false}` + "\n"))
		w.(http.Flusher).Flush()
		f.ledger.failing.Store(true)
		w.Write([]byte(`{"model":"tiny","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1}` + "\n"))
	})
	resp, body := f.post(t, "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if bytes.Contains(body, []byte(`"done":true`)) {
		t.Errorf("the final chunk was released though its record failed:\n%s", body)
	}
	if !bytes.Contains(body, []byte(`{"error":"aitrail: the audit log`)) {
		t.Errorf("the stream does not end with an error the client can see:\n%s", body)
	}
}

func TestRecordsLinkAndCommit(t *testing.T) {
	const answer = `{"model":"tiny","message":{"role":"assistant","content":" one"},"done":false}` + "\n" +
		`{"model":"tiny","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":1}` + "\n"
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, answer)
	})
	const ask = `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"options":{"seed":7}}`
	resp, body := f.post(t, "/api/chat", ask)
	if resp.StatusCode != 200 || string(body) != answer {
		t.Fatalf("client got %d %q, want the upstream's bytes %q", resp.StatusCode, body, answer)
	}
	recs := f.ledger.records()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want request and response", len(recs))
	}
	q, a := recs[0], recs[1]
	c, _ := record.NewCommitter(bytes.Repeat([]byte{1}, 32))
	if q.Kind != record.KindRequest || q.Actor != "alice" || q.Model != "tiny" || !q.Stream || string(q.Params) != `{"seed":7}` || q.ModelDigest != "849ccfe8" {
		t.Errorf("request record = %+v", q)
	}
	if q.RawHash != c.Commit(q.Nonce, record.LabelRaw, []byte(ask)) {
		t.Error("request RawHash does not commit to the bytes the client sent")
	}
	if a.Kind != record.KindResponse || a.RequestSeq != q.Seq || a.Status != record.StatusOK || a.TokensIn != 3 || a.TokensOut != 1 || a.DoneReason != "stop" {
		t.Errorf("response record = %+v", a)
	}
	if a.RawHash != c.Commit(a.Nonce, record.LabelRaw, []byte(answer)) || a.RawLen != int64(len(answer)) {
		t.Error("response RawHash does not commit to the bytes the client received")
	}
	if a.Nonce == q.Nonce {
		t.Error("request and response share a nonce")
	}
	var rb record.ResponseBody
	json.Unmarshal(f.ledger.bodies[a.Seq], &rb)
	if rb.Text != " one" {
		t.Errorf("response body text = %q, want %q", rb.Text, " one")
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Request-Id") != a.CorrelationID {
		t.Errorf("X-Request-Id %q, record %q", resp.Header.Get("X-Request-Id"), a.CorrelationID)
	}
}

func TestUnauthenticatedIsRecordedAndRefusedInDialect(t *testing.T) {
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct{ path, want string }{
		{"/api/generate", `{"error":"missing API key`},
		{"/v1/embeddings", `"type":"authentication_error"`},
	} {
		resp, err := http.Post(f.gw.URL+tc.path, "application/json", strings.NewReader(`{"model":"tiny"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !bytes.Contains(b, []byte(tc.want)) {
			t.Errorf("POST %s without key = %d %s, want 401 with %s", tc.path, resp.StatusCode, b, tc.want)
		}
	}
	recs := f.ledger.records()
	if len(recs) != 2 || recs[0].Status != record.StatusDenied || f.upstream.Load() != 0 {
		t.Errorf("records %+v, upstream calls %d: want 2 denied records and no upstream call", recs, f.upstream.Load())
	}
}

// Package gateway is aitrail's HTTP server: it authenticates each call,
// records it in the audit log, forwards it to the upstream model server,
// streams the answer back untouched, and records the outcome.
//
// The order of one model call is the promise auditors rely on:
//
//  1. the request record is durable before the prompt is forwarded;
//  2. streamed chunks are passed to the client as they arrive, except the
//     final one (Ollama's done:true line, OpenAI's finish_reason chunk and
//     what follows it), which is held;
//  3. the response record is durable before that final chunk, or a whole
//     non-streamed body, is released.
//
// If a record cannot be made durable the call is refused (fail-closed), in
// the dialect of the API that was called.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/pii"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/redact"
	"github.com/aitrail/aitrail/internal/store"
)

// Ledger is where the gateway records.
type Ledger interface {
	// Append returns once the entries are durable.
	Append(ctx context.Context, entries ...*ledger.Entry) error
}

// Vault keeps raw bodies encrypted (package vault).
type Vault interface {
	// Seal returns once the parts are durable.
	Seal(ctx context.Context, logID string, nonce [16]byte, parts map[string][]byte, expires time.Time) error
}

// Sessions stores sessions with a declared reason.
type Sessions interface {
	CreateSession(ctx context.Context, s store.Session) error
	Session(ctx context.Context, id string) (store.Session, error)
}

// Options configure a Server.
type Options struct {
	Upstream       *url.URL
	UpstreamAPIKey string
	MaxBodyBytes   int64
	// MaxInflightBytes bounds the request bodies held at once (0: no
	// bound); a call beyond it is refused with 503 and recorded.
	MaxInflightBytes int64
	// MaxResponseBytes caps a non-streamed upstream answer (default 256 MiB).
	MaxResponseBytes int64
	RequireReason    bool
	Timeouts         config.Timeouts
	ModelCacheTTL    time.Duration
	// Health, if set, is called by GET /healthz; an error makes it 503.
	Health func(ctx context.Context) error
	// Redactor, if set, redacts the bodies before they are stored; PII, if
	// set, indexes what it found.
	Redactor *redact.Redactor
	PII      *pii.Index
	// Vault, if set, keeps the raw bodies encrypted, under LogID and each
	// record's nonce, for RawTTL.
	Vault  Vault
	LogID  string
	RawTTL time.Duration
	// NoBodies keeps no body at all: only the sealed hashes.
	NoBodies bool
	// RawReader and Records, if set, serve raw bodies to auditors.
	RawReader RawReader
	Records   Records
	// Holds, if set, serves the legal holds API to admins (and the list to
	// auditors).
	Holds Holds
	// Integrity, if set, reports the latest background verification; it is
	// shown by GET /healthz under "integrity" (Health reports a failed one
	// as ReasonIntegrityFailed).
	Integrity func() any

	// Operations (health.go, access.go, live.go).
	// Checks are what GET /readyz checks besides Health and the upstream,
	// by name ("vault"); an error makes the gateway not ready.
	Checks map[string]func(ctx context.Context) error
	// MetricsAuth makes GET /metrics answer only an auditor or an admin.
	MetricsAuth bool
	// Certificates, if set, maps verified client certificates to
	// identities (mTLS).
	Certificates *identity.CertMap
}

// Server serves the gateway. Create it with New.
type Server struct {
	opts      Options
	ledger    Ledger
	auth      *identity.Authenticator
	sessions  Sessions
	committer *record.Committer
	metrics   *metrics.Metrics
	log       *slog.Logger
	client    *http.Client
	models    *modelCache
	mux       *http.ServeMux
	upstream  upstreamState
	live      atomic.Pointer[Live]

	healthMu  sync.Mutex
	healthErr string // the cause of the last unhealthy answer, "" when healthy

	inflight   sync.WaitGroup
	unrecorded unrecorded
	bodies     bodyBudget
}

// New returns a Server.
func New(opts Options, l Ledger, auth *identity.Authenticator, sessions Sessions, c *record.Committer, m *metrics.Metrics, log *slog.Logger) *Server {
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 256 << 20
	}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   opts.Timeouts.UpstreamConnect,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: opts.Timeouts.UpstreamHeaders,
		// Bodies pass through as they are: no transparent decompression.
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
	}
	s := &Server{
		opts:      opts,
		ledger:    l,
		auth:      auth,
		sessions:  sessions,
		committer: c,
		metrics:   m,
		log:       log,
		client:    &http.Client{Transport: transport},
	}
	s.models = newModelCache(s.client, opts.Upstream, opts.ModelCacheTTL)
	s.upstream.s = s
	s.live.Store(&Live{Redactor: opts.Redactor, RawTTL: opts.RawTTL})
	s.routes()
	return s
}

// Wait blocks until every call in flight has finished and been recorded.
// Call it after http.Server.Shutdown (or Close) and before closing the ledger.
func (s *Server) Wait() {
	s.inflight.Wait()
	s.closeUnrecorded()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	s.serveLogged(w, r)
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	mux.HandleFunc("POST /aitrail/v1/sessions", s.createSession)
	mux.HandleFunc("GET /aitrail/v1/raw/{log}/{seq}", s.readRaw)
	mux.HandleFunc("GET /aitrail/v1/holds", s.listHolds)
	mux.HandleFunc("POST /aitrail/v1/holds", s.addHold)
	mux.HandleFunc("POST /aitrail/v1/holds/{id}/release", s.releaseHold)

	for _, p := range []string{"/api/chat", "/api/generate", "/api/embed", "/api/embeddings",
		"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"} {
		ep, _ := dialect.Lookup(p)
		mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) { s.modelCall(w, r, ep) })
	}
	for _, p := range []string{"POST /api/pull", "POST /api/push", "POST /api/create", "POST /api/copy", "DELETE /api/delete"} {
		mux.HandleFunc(p, s.adminCall)
	}
	for _, p := range []string{"GET /api/tags", "POST /api/show", "GET /api/ps", "GET /api/version",
		"GET /v1/models", "GET /v1/models/{model...}", "HEAD /api/version"} {
		mux.HandleFunc(p, s.metadata)
	}
	mux.HandleFunc("GET /{$}", s.probe) // and HEAD /
	mux.HandleFunc("/", s.notFound)
	s.mux = mux
}

// apiOf returns the dialect of errors for a path.
func apiOf(path string) dialect.API {
	if strings.HasPrefix(path, "/v1/") {
		return dialect.OpenAI
	}
	return dialect.Ollama
}

// replyError writes an error in the dialect of the API called.
func replyError(w http.ResponseWriter, api dialect.API, status int, msg string) {
	body := dialect.ErrorBody(api, status, msg)
	h := w.Header()
	if api == dialect.OpenAI {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Del("Content-Length")
	w.WriteHeader(status)
	w.Write(body)
}

// caller is what the gateway knows of who is calling, before and after
// authentication.
type caller struct {
	id            identity.Identity
	clientIP      string
	session       string
	reason        string
	correlationID string
	start         time.Time
	model         string // of a model call, for the access log
	heldBytes     int64  // reserved for its body (see reserveBody)
}

// newCaller reads the attribution headers of r and sets X-Request-Id on the
// response.
func (s *Server) newCaller(w http.ResponseWriter, r *http.Request) *caller {
	c := &caller{start: time.Now(), clientIP: s.clientIP(r)}
	c.correlationID = correlationID(r)
	w.Header().Set("X-Request-Id", c.correlationID)
	c.session = limit(r.Header.Get("X-Session-Id"), 128)
	c.reason = limit(r.Header.Get("X-Access-Reason"), 1024)
	noteCaller(r, c)
	return c
}

func limit(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[:n]
	}
	return record.CleanString(s)
}

// correlationID returns the caller's X-Request-Id, else the trace id of a
// W3C traceparent, else a new id.
func correlationID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && printable(id) {
		return id
	}
	if tp := r.Header.Get("Traceparent"); len(tp) >= 55 {
		// version-traceid-parentid-flags
		parts := strings.Split(tp, "-")
		if len(parts) >= 4 && len(parts[1]) == 32 && isHex(parts[1]) && parts[1] != strings.Repeat("0", 32) {
			return parts[1]
		}
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// clientIP returns the caller's address. Behind a trusted proxy it is the
// rightmost X-Forwarded-For address that is not itself trusted.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !s.auth.Trusted(addr) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		hops := strings.Split(xff[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return host
			}
			if !s.auth.Trusted(a) {
				return a.Unmap().String()
			}
		}
	}
	return host
}

// authenticate establishes the caller's identity: trusted headers from a
// trusted proxy, else a bearer key. The error text is for the caller.
func (s *Server) authenticate(r *http.Request) (identity.Identity, error) {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if addr, err := netip.ParseAddr(host); err == nil && s.auth.Trusted(addr) {
			id, ok, err := identity.Headers(limit(r.Header.Get("X-Actor-Id"), 256), r.Header.Get("X-Actor-Role"))
			if err != nil {
				return id, err
			}
			if ok {
				return id, nil
			}
		}
	}
	authz := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(authz, "bearer ")
	}
	if !ok || token == "" {
		if id, found, err := s.certIdentity(r); found {
			return id, err
		}
		return identity.Identity{}, identity.ErrNoCredentials
	}
	return s.auth.Key(r.Context(), strings.TrimSpace(token))
}

// event returns an event record attributed to c.
func (c *caller) event(kind, endpoint, status string, detail any) *record.Record {
	rec := record.NewEvent(kind, detail)
	c.attribute(rec)
	rec.Endpoint = endpoint
	rec.Status = status
	return rec
}

func (c *caller) attribute(rec *record.Record) {
	rec.Actor = c.id.Actor
	rec.Role = c.id.Role
	rec.Session = c.session
	rec.Reason = c.reason
	rec.ClientIP = c.clientIP
	rec.CorrelationID = c.correlationID
}

// deny records a refused call and answers it. If the refusal cannot be
// recorded the answer is 503 instead: the caller learns that nothing was
// logged.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, c *caller, api dialect.API, kind string, status int, recStatus, msg string) {
	rec := c.event(kind, r.Method+" "+r.URL.Path, recStatus, map[string]any{"error": msg, "http_status": status})
	if err := s.ledger.Append(context.WithoutCancel(r.Context()), &ledger.Entry{Record: rec}); err != nil {
		s.logAppendFailure(err)
		status, msg = http.StatusServiceUnavailable, errAuditUnavailable
	}
	s.metrics.Requests.WithLabelValues(s.endpointLabel(r.URL.Path), recStatus).Inc()
	replyError(w, api, status, msg)
}

const errAuditUnavailable = "aitrail: the audit log cannot record this call, so it was refused; try again later"

func (s *Server) logAppendFailure(err error) {
	s.log.Error("audit log append failed; refusing calls", "err", err)
}

// authorize authenticates and checks the role; on failure it records and
// answers the refusal and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, c *caller, api dialect.API, kind string, action identity.Action) bool {
	id, err := s.authenticate(r)
	if errors.Is(err, identity.ErrRevokedKey) {
		c.id = id // a revoked key's owner is known: the refusal is theirs
	}
	if err != nil {
		if identity.IsRefusal(err) {
			s.deny(w, r, c, api, kind, http.StatusUnauthorized, record.StatusDenied, err.Error())
		} else {
			s.log.Error("authentication failed", "err", err)
			s.deny(w, r, c, api, kind, http.StatusServiceUnavailable, record.StatusError, "aitrail: cannot check the API key right now")
		}
		return false
	}
	c.id = id
	if !identity.Allowed(id.Role, action) {
		s.deny(w, r, c, api, kind, http.StatusForbidden, record.StatusDenied,
			"role "+id.Role+" may not "+actionText(action))
		return false
	}
	return true
}

func actionText(a identity.Action) string {
	switch a {
	case identity.CallModel:
		return "call models"
	case identity.ManageModel:
		return "manage models (admin only)"
	case identity.ReadLog:
		return "read the audit log (auditor only)"
	case identity.ReadRaw:
		return "read raw bodies (auditor or admin only)"
	case identity.ReadHolds:
		return "list legal holds (auditor or admin only)"
	case identity.ManageHolds:
		return "set or release legal holds (admin only)"
	case identity.ReadMetrics:
		return "read the metrics (auditor or admin only)"
	}
	return "do this"
}

// resolveSession fills the reason from an opened session, and enforces
// require_reason. It returns false after answering a refusal.
func (s *Server) resolveSession(w http.ResponseWriter, r *http.Request, c *caller, api dialect.API, kind string) bool {
	borrowed := false
	if c.session != "" && c.reason == "" {
		ss, err := s.sessions.Session(r.Context(), c.session)
		switch {
		case err == nil && ss.Actor == c.id.Actor:
			c.reason = ss.Reason
		case err == nil:
			// A session's declared reason is its opener's; nobody else
			// may call under it.
			borrowed = true
		case !errors.Is(err, store.ErrNotFound):
			s.log.Error("session lookup failed", "err", err)
		}
	}
	if borrowed && s.opts.RequireReason {
		s.deny(w, r, c, api, kind, http.StatusForbidden, record.StatusDenied,
			"a reason for access is required: session "+c.session+" was opened by another actor and its reason is not yours; open your own with POST /aitrail/v1/sessions")
		return false
	}
	if s.opts.RequireReason && c.reason == "" {
		s.deny(w, r, c, api, kind, http.StatusForbidden, record.StatusDenied,
			"a reason for access is required: send an X-Access-Reason header, or open a session with POST /aitrail/v1/sessions and send its id as X-Session-Id")
		return false
	}
	return true
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	c := s.newCaller(w, r)
	const kind = record.KindSessionCreated
	if !s.authorize(w, r, c, dialect.OpenAI, record.KindAuthDenied, identity.OpenSession) {
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	body, err := readBody(w, r, 64<<10, s.opts.Timeouts.ReadBody)
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	in.Reason = limit(in.Reason, 1024)
	if err != nil || in.Reason == "" {
		s.deny(w, r, c, dialect.OpenAI, kind, http.StatusBadRequest, record.StatusError, `send {"reason": "why you need access"}`)
		return
	}
	ss := store.Session{ID: identity.NewSessionID(), Actor: c.id.Actor, Reason: in.Reason, CreatedAt: time.Now().UnixNano()}
	c.session, c.reason = ss.ID, ss.Reason
	rec := c.event(kind, r.Method+" "+r.URL.Path, record.StatusOK, map[string]string{"session_id": ss.ID})
	if err := s.ledger.Append(context.WithoutCancel(r.Context()), &ledger.Entry{Record: rec}); err != nil {
		s.logAppendFailure(err)
		replyError(w, dialect.OpenAI, http.StatusServiceUnavailable, errAuditUnavailable)
		return
	}
	if err := s.sessions.CreateSession(r.Context(), ss); err != nil {
		s.log.Error("store session", "err", err)
		replyError(w, dialect.OpenAI, http.StatusServiceUnavailable, "aitrail: cannot store the session")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"session_id": ss.ID, "actor": ss.Actor, "reason": ss.Reason,
		"created_at": time.Unix(0, ss.CreatedAt).UTC().Format(time.RFC3339Nano)})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	c := s.newCaller(w, r)
	api := apiOf(r.URL.Path)
	status, msg := http.StatusNotFound, "aitrail: unknown endpoint "+r.Method+" "+r.URL.Path
	if s.knownPath(r.URL.Path) {
		status, msg = http.StatusMethodNotAllowed, "aitrail: method "+r.Method+" not allowed on "+r.URL.Path
	}
	if id, err := s.authenticate(r); err == nil {
		c.id = id
	}
	s.deny(w, r, c, api, record.KindRejected, status, record.StatusError, msg)
}

// endpointLabel bounds the metrics' endpoint label to aitrail's own paths:
// a label per arbitrary URL would let any caller grow the metrics without end.
func (s *Server) endpointLabel(p string) string {
	if s.knownPath(p) {
		return p
	}
	return "other"
}

func (s *Server) knownPath(p string) bool {
	if _, ok := dialect.Lookup(p); ok {
		return true
	}
	switch p {
	case "/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/tags", "/api/show",
		"/api/ps", "/api/version", "/v1/models", "/healthz", "/readyz", "/metrics", "/aitrail/v1/sessions", "/aitrail/v1/raw":
		return true
	}
	return false
}

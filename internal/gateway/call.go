package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/redact"
)

// readBody reads a request body of at most max bytes within timeout.
//
// A longer body gives an *http.MaxBytesError, and the connection is closed
// after the answer. So that the answer (413) reaches a client that sends
// its whole body before it reads (as most do), the rest of the body is read
// and discarded first, up to drainBound(max) more bytes and within the same
// timeout; a client that asked to be told first (Expect: 100-continue) and
// announced a longer body is refused before it sends it.
func readBody(w http.ResponseWriter, r *http.Request, max int64, timeout time.Duration) ([]byte, error) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(timeout))
	defer rc.SetReadDeadline(time.Time{})
	if r.ContentLength > max && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		w.Header().Set("Connection", "close")
		return nil, &http.MaxBytesError{Limit: max}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		io.CopyN(io.Discard, r.Body, drainBound(max))
	}
	return b, err
}

// drainBound is how much of an oversized body is read and discarded before
// the 413 is sent: as much again as the limit, at least 1 MiB, at most
// 64 MiB. A longer body is cut off, as before, with the connection.
func drainBound(limit int64) int64 {
	return min(max(limit, 1<<20), 64<<20)
}

// bodyError maps a body read error to a status and a message.
func bodyError(err error, max int64) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "request body exceeds the limit of " + byteCount(max) + " (max_body_bytes)"
	}
	return http.StatusBadRequest, "cannot read the request body: " + err.Error()
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// call is one model or admin call in progress.
type call struct {
	*caller
	api      dialect.API
	endpoint string
	req      *record.Record // the sealed request record
	nonce    [16]byte       // the response record's nonce
	scope    *redact.Scope  // numbers the placeholders of request and answer alike (nil: no redaction)
	// trimUsage is set when the gateway asked the upstream for usage on
	// the caller's behalf (dialect.AskUsage): the stream is trimmed back.
	trimUsage bool
}

// admit does what every recorded call starts with: attribution, the key and
// role, the session's reason, and the body within its limit. A refusal is
// recorded (as kind) and answered in api's dialect, and ok is false.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, api dialect.API, kind string, action identity.Action) (c *caller, raw []byte, ok bool) {
	c = s.newCaller(w, r)
	if !s.authorize(w, r, c, api, kind, action) || !s.resolveSession(w, r, c, api, kind) {
		return c, nil, false
	}
	if !s.reserveBody(r, c) {
		// Read the body to nowhere, so that the client, still sending it,
		// gets the refusal instead of a reset connection.
		io.Copy(io.Discard, io.LimitReader(r.Body, s.opts.MaxBodyBytes))
		s.deny(w, r, c, api, kind, http.StatusServiceUnavailable, record.StatusError, errBodiesBusy)
		return c, nil, false
	}
	raw, err := readBody(w, r, s.opts.MaxBodyBytes, s.opts.Timeouts.ReadBody)
	if err != nil {
		status, msg := bodyError(err, s.opts.MaxBodyBytes)
		s.deny(w, r, c, api, kind, status, record.StatusError, msg)
		return c, nil, false
	}
	return c, raw, true
}

// modelCall serves the model endpoints.
func (s *Server) modelCall(w http.ResponseWriter, r *http.Request, ep dialect.Endpoint) {
	s.metrics.InFlight.Inc()
	defer s.metrics.InFlight.Dec()
	const kind = record.KindRequest
	c, raw, ok := s.admit(w, r, ep.API, kind, identity.CallModel)
	defer s.releaseBody(c)
	if !ok {
		return
	}
	req, err := dialect.ParseRequest(ep, raw)
	if err != nil {
		s.refuseMalformed(w, r, c, ep.API, kind, raw, err.Error())
		return
	}
	rec := &record.Record{
		Kind:       kind,
		Endpoint:   "POST " + ep.Path,
		Model:      record.CleanString(req.Model),
		Params:     req.Params,
		Stream:     req.Stream,
		Status:     record.StatusPending,
		RequestSeq: -1,
		TokensIn:   -1,
		TokensOut:  -1,
		Nonce:      record.NewNonce(),
	}
	c.attribute(rec)
	c.model = rec.Model
	detail := map[string]any{}
	if c.id.KeyID != "" {
		// Which key made the call, for usage by key ('aitrail stats').
		detail["key_id"] = c.id.KeyID
	}
	// A stream reports its token counts only if asked: ask for them when
	// the caller did not. The upstream then gets the changed body; the
	// record's raw hash and the vault keep the caller's, and its detail
	// says that aitrail asked.
	fwd, askedUsage := raw, false
	if req.Stream && !req.IncludeUsage {
		if b, ok := dialect.AskUsage(ep, raw); ok {
			fwd, askedUsage = b, true
			detail["usage_requested"] = true
		}
	}
	addCertDetail(detail, c.id)
	if len(detail) > 0 {
		rec.Detail = mustJSON(detail)
	}
	rec.ModelDigest = s.models.Digest(r.Context(), req.Model)
	rb := requestBody(req)
	var clear []byte
	if s.opts.Vault != nil {
		clear = mustJSON(rb) // before redaction: only the vault keeps it
	}
	var scope *redact.Scope
	var found []redact.Finding
	if red := s.current().Redactor; red != nil {
		scope = red.Scope()
		found = redactRequest(scope, &rb)
		if blocked := scope.Blocked(); len(blocked) > 0 {
			s.refuseBlocked(w, r, c, ep.API, rec, raw, rb, found, blocked)
			return
		}
	}
	body := mustJSON(rb)
	rec.RawHash = s.committer.Commit(rec.Nonce, record.LabelRaw, raw)
	rec.RawLen = int64(len(raw))
	vaultErr, logErr := s.keep(context.WithoutCancel(r.Context()), rec, body, clear, raw, found)
	if logErr != nil {
		s.logAppendFailure(logErr)
		s.metrics.Requests.WithLabelValues(ep.Path, record.StatusError).Inc()
		replyError(w, ep.API, http.StatusServiceUnavailable, errAuditUnavailable)
		return
	}
	cl := &call{caller: c, api: ep.API, endpoint: ep.Path, req: rec, nonce: record.NewNonce(), scope: scope, trimUsage: askedUsage}
	if vaultErr != nil {
		// The request is recorded; its outcome says why it went no further.
		s.log.Error("raw vault seal failed; refusing calls", "err", vaultErr)
		o := outcome{status: record.StatusError, errText: "the raw vault cannot store this call"}
		o.rawHash, o.rawLen = s.commitBytes(cl.nonce, nil)
		s.recordResponse(r, cl, &o)
		replyError(w, ep.API, http.StatusServiceUnavailable, errAuditUnavailable)
		return
	}
	s.forward(w, r, cl, fwd, func() follower {
		st := dialect.NewStream(ep)
		if askedUsage {
			st.StripUsage()
		}
		return st
	}, func(status int, b []byte) dialect.Result {
		res, err := dialect.ParseResponse(ep, status, b)
		if err != nil && res.Error == "" {
			res.Error = "aitrail could not parse the upstream's answer: " + err.Error()
		}
		return res
	})
}

// refuseBlocked records, and refuses, a request holding a value of a type
// the policy blocks. What is stored is redacted like any body; the values
// are indexed, so a data-subject search finds the attempt too.
func (s *Server) refuseBlocked(w http.ResponseWriter, r *http.Request, c *caller, api dialect.API, rec *record.Record, raw []byte, rb record.RequestBody, found []redact.Finding, blocked []redact.Type) {
	msg := "aitrail: the request contains " + typesOf(blocked) + ", which this gateway's policy does not let through; remove it and try again"
	rec.Status = record.StatusBlocked
	detail := map[string]any{"error": msg, "http_status": http.StatusForbidden, "blocked_types": blocked}
	if c.id.KeyID != "" {
		detail["key_id"] = c.id.KeyID
	}
	rec.Detail = mustJSON(detail)
	rec.RawHash = s.committer.Commit(rec.Nonce, record.LabelRaw, raw)
	rec.RawLen = int64(len(raw))
	status := http.StatusForbidden
	// What the policy blocks is not kept in the vault either.
	if _, err := s.keep(context.WithoutCancel(r.Context()), rec, mustJSON(rb), nil, nil, found); err != nil {
		s.logAppendFailure(err)
		status, msg = http.StatusServiceUnavailable, errAuditUnavailable
	}
	s.metrics.Requests.WithLabelValues(s.endpointLabel(r.URL.Path), record.StatusBlocked).Inc()
	replyError(w, api, status, msg)
}

// refuseMalformed records a request that could not be understood, keeping
// what was sent, and answers 400.
func (s *Server) refuseMalformed(w http.ResponseWriter, r *http.Request, c *caller, api dialect.API, kind string, raw []byte, msg string) {
	rec := c.event(kind, r.Method+" "+r.URL.Path, record.StatusError, map[string]any{"error": msg, "http_status": http.StatusBadRequest})
	rb := record.RequestBody{Prompt: "[" + itoa(int64(len(raw))) + " bytes, not UTF-8]"}
	if utf8.Valid(raw) {
		rb.Prompt = string(raw)
	}
	var clear []byte
	if s.opts.Vault != nil {
		clear = mustJSON(rb)
	}
	// What was sent is kept like any prompt: redacted in the log.
	var found []redact.Finding
	if red := s.current().Redactor; red != nil {
		found = redactRequest(red.Scope(), &rb)
	}
	rec.RawHash = s.committer.Commit(rec.Nonce, record.LabelRaw, raw)
	rec.RawLen = int64(len(raw))
	status := http.StatusBadRequest
	vaultErr, err := s.keep(context.WithoutCancel(r.Context()), rec, mustJSON(rb), clear, raw, found)
	if err == nil {
		err = vaultErr
	}
	if err != nil {
		s.logAppendFailure(err)
		status, msg = http.StatusServiceUnavailable, errAuditUnavailable
	}
	s.metrics.Requests.WithLabelValues(s.endpointLabel(r.URL.Path), record.StatusError).Inc()
	replyError(w, api, status, msg)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("gateway: marshal stored body: " + err.Error())
	}
	return b
}

func requestBody(q *dialect.Request) record.RequestBody {
	b := record.RequestBody{System: q.System, Prompt: q.Prompt, Suffix: q.Suffix, Input: q.Input, Images: q.Images, Tools: q.Tools}
	for _, m := range q.Messages {
		b.Messages = append(b.Messages, record.Message{Role: m.Role, Content: m.Content, Thinking: m.Thinking,
			Images: m.Images, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID, Name: m.Name})
	}
	return b
}

// adminCall serves model management: admins only, recorded like model calls.
func (s *Server) adminCall(w http.ResponseWriter, r *http.Request) {
	s.metrics.InFlight.Inc()
	defer s.metrics.InFlight.Dec()
	const kind = record.KindAdmin
	c, raw, ok := s.admit(w, r, dialect.Ollama, kind, identity.ManageModel)
	defer s.releaseBody(c)
	if !ok {
		return
	}
	var in struct {
		Model  string `json:"model"`
		Name   string `json:"name"`
		Source string `json:"source"`
		Stream *bool  `json:"stream"`
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			s.refuseMalformed(w, r, c, dialect.Ollama, kind, raw, err.Error())
			return
		}
	}
	model := in.Model
	if model == "" {
		model = in.Name
	}
	if model == "" {
		model = in.Source
	}
	model = record.CleanString(model)
	rec := &record.Record{
		Kind:       kind,
		Endpoint:   r.Method + " " + r.URL.Path,
		Model:      model,
		Stream:     in.Stream == nil || *in.Stream,
		Status:     record.StatusPending,
		RequestSeq: -1,
		TokensIn:   -1,
		TokensOut:  -1,
		Nonce:      record.NewNonce(),
	}
	if json.Valid(raw) && len(raw) <= 64<<10 {
		rec.Params = compactJSON(raw)
	}
	c.attribute(rec)
	rec.RawHash = s.committer.Commit(rec.Nonce, record.LabelRaw, raw)
	rec.RawLen = int64(len(raw))
	if err := s.ledger.Append(context.WithoutCancel(r.Context()), &ledger.Entry{Record: rec}); err != nil {
		s.logAppendFailure(err)
		replyError(w, dialect.Ollama, http.StatusServiceUnavailable, errAuditUnavailable)
		return
	}
	cl := &call{caller: c, api: dialect.Ollama, endpoint: r.URL.Path, req: rec, nonce: record.NewNonce()}
	s.forward(w, r, cl, raw, func() follower { return &statusStream{} }, parseStatusResponse)
}

func compactJSON(b []byte) []byte {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return nil
	}
	return out.Bytes()
}

// metadata passes metadata calls (model lists, versions) to the upstream
// for any authenticated caller, without recording them.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	c := s.newCaller(w, r)
	api := apiOf(r.URL.Path)
	// Any valid identity may list models; a refusal is recorded.
	if !s.authorize(w, r, c, api, record.KindAuthDenied, identity.OpenSession) {
		return
	}
	raw, err := readBody(w, r, 1<<20, s.opts.Timeouts.ReadBody)
	if err != nil {
		status, msg := bodyError(err, 1<<20)
		replyError(w, api, status, msg)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	resp, err := s.client.Do(s.upstreamRequest(ctx, r, raw))
	if err != nil {
		s.metrics.UpstreamErrors.WithLabelValues("connect").Inc()
		replyError(w, api, http.StatusBadGateway, "aitrail: upstream unreachable: "+upstreamErrText(err))
		return
	}
	defer resp.Body.Close()
	copyHeaders(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// hopHeaders are never forwarded in either direction.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// privateHeaders are aitrail's own and never reach the upstream.
var privateHeaders = []string{"Authorization", "X-Actor-Id", "X-Actor-Role", "X-Access-Reason", "X-Session-Id", "Cookie"}

func copyHeaders(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append(dst[k][:0:0], vs...)
	}
	for _, h := range hopHeaders {
		dst.Del(h)
	}
}

func (s *Server) upstreamRequest(ctx context.Context, r *http.Request, body []byte) *http.Request {
	u := *s.opts.Upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	up, _ := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	copyHeaders(up.Header, r.Header)
	for _, h := range privateHeaders {
		up.Header.Del(h)
	}
	up.Header.Set("X-Request-Id", requestID(r))
	if s.opts.UpstreamAPIKey != "" {
		up.Header.Set("Authorization", "Bearer "+s.opts.UpstreamAPIKey)
	}
	up.Header.Del("Accept-Encoding") // what the client receives is what the upstream sent, uncompressed
	up.ContentLength = int64(len(body))
	up.Host = u.Host
	return up
}

func upstreamErrText(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

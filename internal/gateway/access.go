package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// The access log: one line per call on the operational log, with what an
// operator needs to follow a call through (method, path, status, duration,
// bytes sent, actor, role, how the caller was identified, model,
// correlation id, client address), never a key, a header's value or a
// body. Probes (/healthz, /readyz, /metrics) are logged at debug level.

type accessKey struct{}

// access is what handlers tell the access log about a call.
type access struct {
	caller *caller
}

// accessWriter counts what is written to the client.
type accessWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (a *accessWriter) WriteHeader(code int) {
	if a.status == 0 && code >= 200 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *accessWriter) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	n, err := a.ResponseWriter.Write(b)
	a.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// write deadlines of streamed answers).
func (a *accessWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// serveLogged serves r and writes its access log line.
func (s *Server) serveLogged(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	a := &access{}
	aw := &accessWriter{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), accessKey{}, a))
	s.mux.ServeHTTP(aw, r)

	level := slog.LevelInfo
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		level = slog.LevelDebug
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", limit(r.URL.Path, 256)),
		slog.Int("status", aw.status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int64("bytes", aw.bytes),
	}
	if c := a.caller; c != nil {
		attrs = append(attrs,
			slog.String("actor", c.id.Actor), slog.String("role", c.id.Role), slog.String("auth", c.id.Source),
			slog.String("model", c.model), slog.String("correlation_id", c.correlationID), slog.String("client_ip", c.clientIP))
	} else {
		attrs = append(attrs, slog.String("client_ip", s.clientIP(r)))
	}
	s.log.LogAttrs(context.WithoutCancel(r.Context()), level, "access", attrs...)
}

// noteCaller tells the access log who is calling.
func noteCaller(r *http.Request, c *caller) {
	if a, ok := r.Context().Value(accessKey{}).(*access); ok {
		a.caller = c
	}
}

// requestID returns the correlation id of the call r belongs to, which is
// sent upstream as X-Request-Id.
func requestID(r *http.Request) string {
	if a, ok := r.Context().Value(accessKey{}).(*access); ok && a.caller != nil {
		return a.caller.correlationID
	}
	return correlationID(r)
}

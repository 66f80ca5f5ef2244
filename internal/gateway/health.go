package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/record"
)

// Reasons that GET /healthz and GET /readyz give for answering 503. They
// are all a monitor learns: the causes (which may name the database's host
// and user) go to the operational log only.
const (
	// ReasonLogUnwritable: the last append to the log failed and none has
	// succeeded since, so calls are refused.
	ReasonLogUnwritable = "log_unwritable"
	// ReasonLogUnavailable: the log cannot be read (the database is down).
	ReasonLogUnavailable = "log_unavailable"
	// ReasonIntegrityFailed: the background verification found the log
	// altered. Calls are still recorded, but an operator must act.
	ReasonIntegrityFailed = "integrity_failed"
	// ReasonLogReplaced: the log's database file was removed or replaced
	// while serving; every call is refused until an operator acts.
	ReasonLogReplaced = "log_replaced"
)

// Unhealthy is an error that Options.Health returns to make /healthz
// answer 503 with Reason; Err is logged, never shown.
type Unhealthy struct {
	Reason string
	Err    error
}

func (u *Unhealthy) Error() string {
	if u.Err == nil {
		return u.Reason
	}
	return u.Reason + ": " + u.Err.Error()
}
func (u *Unhealthy) Unwrap() error { return u.Err }

// reason returns the reason an error of Health gives.
func reason(err error) string {
	var u *Unhealthy
	if errors.As(err, &u) {
		return u.Reason
	}
	return ReasonLogUnavailable
}

// healthz answers GET /healthz, unauthenticated:
//
//	200 {"status":"ok","integrity":{...}}
//	503 {"status":"unhealthy","reason":"log_unwritable","integrity":{...}}
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"status": "ok"}
	status := http.StatusOK
	if s.opts.Health != nil {
		if err := s.opts.Health(r.Context()); err != nil {
			s.noteHealth(err)
			out["status"], out["reason"] = "unhealthy", reason(err)
			status = http.StatusServiceUnavailable
		} else {
			s.noteHealth(nil)
		}
	}
	if s.opts.Integrity != nil {
		out["integrity"] = s.opts.Integrity()
	}
	writeJSON(w, status, out)
}

// noteHealth logs a change of health, with its cause, once.
func (s *Server) noteHealth(err error) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	was := s.healthErr
	switch {
	case err != nil && (was == "" || was != err.Error()):
		s.log.Error("health: unhealthy", "reason", reason(err), "err", err)
		s.healthErr = err.Error()
	case err == nil && was != "":
		s.log.Info("health: healthy again")
		s.healthErr = ""
	}
}

// readyz answers GET /readyz, unauthenticated: 200 when the gateway can
// take calls (the log is healthy, every check of Options.Checks passes and
// the upstream answers), else 503; each check is "ok" or a short reason.
//
//	{"status":"ready","checks":{"log":"ok","vault":"ok","upstream":"ok"}}
//	{"status":"not_ready","checks":{"log":"ok","vault":"ok","upstream":"unreachable"}}
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]string{"log": "ok"}
	ready := true
	if s.opts.Health != nil {
		if err := s.opts.Health(r.Context()); err != nil {
			s.noteHealth(err)
			checks["log"], ready = reason(err), false
		}
	}
	for name, check := range s.opts.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
		err := check(ctx)
		cancel()
		if err != nil {
			s.log.Warn("readyz: check failed", "check", name, "err", err)
			checks[name], ready = "unavailable", false
		} else {
			checks[name] = "ok"
		}
	}
	if !s.upstream.check(r.Context()) {
		checks["upstream"], ready = "unreachable", false
	} else {
		checks["upstream"] = "ok"
	}
	status, word := http.StatusOK, "ready"
	if !ready {
		status, word = http.StatusServiceUnavailable, "not_ready"
	}
	writeJSON(w, status, map[string]any{"status": word, "checks": checks})
}

// probeTimeout bounds one probe of the upstream or of a readiness check;
// upstreamFresh is how long a probe's answer is reused, so that readiness
// probes cannot hammer the upstream.
const (
	probeTimeout  = 2 * time.Second
	upstreamFresh = 5 * time.Second
)

// upstreamState is what the gateway knows of the upstream's reachability.
type upstreamState struct {
	s *Server

	mu      sync.Mutex
	at      time.Time // of the last probe
	up      bool
	probing chan struct{} // closed when the probe under way ends
}

// check returns whether the upstream answered its last probe, probing it
// again (one probe at a time) when that answer is older than upstreamFresh.
func (u *upstreamState) check(ctx context.Context) bool {
	u.mu.Lock()
	if !u.at.IsZero() && time.Since(u.at) < upstreamFresh {
		up := u.up
		u.mu.Unlock()
		return up
	}
	wait := u.probing
	if wait == nil {
		wait = make(chan struct{})
		u.probing = wait
		u.mu.Unlock()
		u.probe(context.WithoutCancel(ctx))
		u.mu.Lock()
		u.probing = nil
		close(wait)
	} else {
		u.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false
		}
		u.mu.Lock()
	}
	up := u.up
	u.mu.Unlock()
	return up
}

// probe asks the upstream for its base URL: any HTTP answer means it is
// reachable. A change is logged.
func (u *upstreamState) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	up := false
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.s.opts.Upstream.String(), nil)
	if err == nil {
		var resp *http.Response
		if resp, err = u.s.client.Do(req); err == nil {
			resp.Body.Close()
			up = true
		}
	}
	if err != nil {
		u.s.log.Debug("upstream probe failed", "err", upstreamErrText(err))
	}
	u.mu.Lock()
	first, was := u.at.IsZero(), u.up
	if up { // before the answer is seen: whoever reads it then finds the gauge set
		u.s.metrics.UpstreamUp.Set(1)
	} else {
		u.s.metrics.UpstreamUp.Set(0)
	}
	u.at, u.up = time.Now(), up
	u.mu.Unlock()
	switch {
	case !up && (first || was):
		u.s.log.Warn("upstream unreachable: calls will get 502 until it answers", "upstream", u.s.opts.Upstream.Redacted())
	case up && !first && !was:
		u.s.log.Info("upstream reachable again", "upstream", u.s.opts.Upstream.Redacted())
	}
}

// WatchUpstream probes the upstream at once and then every interval until
// ctx ends, and logs when it becomes unreachable and when it is back.
func (s *Server) WatchUpstream(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s.upstream.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// serveMetrics answers GET /metrics; with Options.MetricsAuth only to an
// auditor or an admin (a refusal is recorded, a read is not).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.opts.MetricsAuth {
		c := s.newCaller(w, r)
		if !s.authorize(w, r, c, dialect.OpenAI, record.KindAuthDenied, identity.ReadMetrics) {
			return
		}
	}
	s.metrics.Handler().ServeHTTP(w, r)
}

package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxProbeBytes bounds the upstream's answer to GET / that is passed on.
const maxProbeBytes = 64 << 10

// probe answers GET / and HEAD /, which Ollama's clients send, without a
// key, to learn whether a server is there ("Ollama is running"). It asks
// the upstream the same question and passes its answer on: the status, the
// content type and at most 64 KiB of body. The probe carries nothing of the
// caller's (no body, no query, no headers, no credentials: not the
// gateway's upstream key either), so an unauthenticated caller learns only
// what the upstream says to anyone at /. Probes are not recorded: they
// carry no data, and load balancers send them by the thousand. If the
// upstream cannot be reached the answer is 502, with the reason.
func (s *Server) probe(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.probeTimeout())
	defer cancel()
	u := *s.opts.Upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	u.RawQuery = ""
	up, _ := http.NewRequestWithContext(ctx, r.Method, u.String(), nil)
	resp, err := s.client.Do(up)
	if err != nil {
		s.metrics.UpstreamErrors.WithLabelValues("connect").Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "aitrail is running; the upstream is unreachable: "+upstreamErrText(err)+"\n")
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBytes))
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "aitrail is running; the upstream's answer broke off\n")
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if r.Method == http.MethodHead {
		if cl := resp.Header.Get("Content-Length"); cl != "" {
			w.Header().Set("Content-Length", cl)
		}
	} else {
		w.Header().Set("Content-Length", itoa(int64(len(body))))
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// probeTimeout bounds a probe: the upstream's connect and header timeouts,
// as for any call.
func (s *Server) probeTimeout() time.Duration {
	d := s.opts.Timeouts.UpstreamConnect + s.opts.Timeouts.UpstreamHeaders
	if d <= 0 {
		d = 30 * time.Second
	}
	return d
}

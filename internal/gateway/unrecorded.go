package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
)

// unrecordedRetry is how often the gateway tries again to record the
// outcomes it could not (see unrecorded).
var unrecordedRetry = time.Second

// maxUnrecorded bounds the outcomes kept in memory for later: beyond it the
// oldest is dropped (its request is then marked interrupted at the next
// start, as before).
const maxUnrecorded = 10000

// unrecorded holds the outcomes of calls whose response record could not
// be written (the log was unwritable when the call ended), as
// interaction.unrecorded_outcome events, until the log takes them: so the
// record says what happened to the call (what the upstream answered, and
// that the client did not get the answer) instead of leaving it in
// progress, to be marked interrupted at the next start with a false cause.
type unrecorded struct {
	flush   sync.Mutex // one flush at a time, so none is appended twice
	mu      sync.Mutex
	pending []*record.Record
	running bool
	closed  bool
	done    sync.WaitGroup
}

// noteUnrecorded keeps, for later, the outcome o of call c whose response
// record could not be appended because of appendErr; delivered is the
// number of bytes of the answer the client received before that.
func (s *Server) noteUnrecorded(c *call, o *outcome, rec *record.Record, appendErr error, delivered int64) {
	detail := map[string]any{
		"request_seq":     c.req.Seq,
		"cause":           "the response record could not be written when the call ended: " + appendErr.Error(),
		"error":           "the outcome of this call could not be recorded when it ended (the audit log was not writable); the client was refused the answer",
		"outcome":         o.status,
		"upstream_status": o.upstreamStatus,
		"client_answered": false,
		"bytes_delivered": delivered,
		"recorded_late":   true,
	}
	if o.errText != "" {
		detail["upstream_error"] = o.errText
	}
	ev := record.NewEvent(record.KindUnrecordedOutcome, detail)
	ev.Status = record.StatusError
	ev.RequestSeq = c.req.Seq
	ev.Endpoint, ev.Model, ev.ModelDigest, ev.Stream = rec.Endpoint, rec.Model, rec.ModelDigest, rec.Stream
	ev.UpstreamStatus, ev.DoneReason = rec.UpstreamStatus, rec.DoneReason
	ev.TokensIn, ev.TokensOut, ev.LatencyUS, ev.TTFTUS = rec.TokensIn, rec.TokensOut, rec.LatencyUS, rec.TTFTUS
	c.attribute(ev)

	u := &s.unrecorded
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) >= maxUnrecorded {
		s.log.Error("too many unrecorded outcomes kept; dropping the oldest", "request_seq", u.pending[0].RequestSeq)
		u.pending = u.pending[1:]
	}
	u.pending = append(u.pending, ev)
	if u.running || u.closed {
		return
	}
	u.running = true
	u.done.Add(1)
	go s.retryUnrecorded()
}

// retryUnrecorded appends the kept outcomes as soon as the log takes them,
// trying every unrecordedRetry, until none is left or the server closes.
func (s *Server) retryUnrecorded() {
	u := &s.unrecorded
	defer u.done.Done()
	t := time.NewTicker(unrecordedRetry)
	defer t.Stop()
	for range t.C {
		if s.flushUnrecorded(context.Background()) {
			return
		}
	}
}

// flushUnrecorded tries once to append the kept outcomes, in one
// transaction, and reports whether none is left to retry (because they
// are recorded, or the server is closing).
func (s *Server) flushUnrecorded(ctx context.Context) (finished bool) {
	u := &s.unrecorded
	u.flush.Lock()
	defer u.flush.Unlock()
	u.mu.Lock()
	batch := u.pending
	closed := u.closed
	u.mu.Unlock()
	if len(batch) > 0 {
		entries := make([]*ledger.Entry, len(batch))
		for i, ev := range batch {
			entries[i] = &ledger.Entry{Record: ev}
		}
		if err := s.ledger.Append(ctx, entries...); err != nil {
			s.log.Warn("the outcomes of calls that could not be recorded are still waiting for the log", "calls", len(batch), "err", err)
			if !closed {
				return false
			}
		} else {
			s.log.Info("recorded the outcomes of calls that could not be recorded when they ended", "calls", len(batch))
			u.mu.Lock()
			u.pending = u.pending[len(batch):]
			u.mu.Unlock()
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) == 0 || u.closed {
		u.running = false
		return true
	}
	return false
}

// closeUnrecorded tries a last time to record the kept outcomes and stops
// retrying. What is still not recorded is marked interrupted at the next
// start.
func (s *Server) closeUnrecorded() {
	u := &s.unrecorded
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	s.flushUnrecorded(context.Background())
	u.done.Wait()
}

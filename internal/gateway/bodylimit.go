package gateway

import (
	"net/http"
	"runtime/debug"
	"sync/atomic"
)

// errBodiesBusy is the refusal of a call whose body would take the bodies
// held at once beyond Options.MaxInflightBytes.
const errBodiesBusy = "aitrail: too many request bytes in flight (max_inflight_bytes); try again shortly"

// largeBody is the size from which a released body counts towards handing
// memory back to the operating system (see releaseBody).
const largeBody = 8 << 20

// bodyBudget counts the request-body bytes the calls in flight hold.
type bodyBudget struct {
	held  atomic.Int64
	large atomic.Int64 // large bodies in flight
}

// reserveBody reserves room for the body of r (its Content-Length, or
// max_body_bytes when unknown) within Options.MaxInflightBytes, and
// reports whether there was room. A reservation is given back by
// releaseBody.
func (s *Server) reserveBody(r *http.Request, c *caller) bool {
	n := r.ContentLength
	if n < 0 || n > s.opts.MaxBodyBytes {
		n = s.opts.MaxBodyBytes
	}
	limit := s.opts.MaxInflightBytes
	for {
		cur := s.bodies.held.Load()
		if limit > 0 && cur+n > limit && cur > 0 {
			return false
		}
		if s.bodies.held.CompareAndSwap(cur, cur+n) {
			break
		}
	}
	c.heldBytes = n
	if n >= largeBody {
		s.bodies.large.Add(1)
	}
	return true
}

// releaseBody gives back the reservation of c. When the last large body
// in flight is released, the heap they took is returned to the operating
// system at once instead of staying in the process's resident memory.
func (s *Server) releaseBody(c *caller) {
	if c == nil || c.heldBytes == 0 {
		return
	}
	s.bodies.held.Add(-c.heldBytes)
	if c.heldBytes >= largeBody && s.bodies.large.Add(-1) == 0 {
		go debug.FreeOSMemory()
	}
	c.heldBytes = 0
}

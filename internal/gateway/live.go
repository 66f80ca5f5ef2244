package gateway

import (
	"time"

	"github.com/aitrail/aitrail/internal/redact"
)

// Live are the settings a running gateway takes anew when its
// configuration is reloaded (SIGHUP).
type Live struct {
	// Redactor redacts the bodies before they are stored (nil: none).
	Redactor *redact.Redactor
	// RawTTL is how long the vault keeps a raw body.
	RawTTL time.Duration
}

// Reload puts l in force for the calls that start from now on. It swaps
// one pointer: a call reads the live settings once when it starts and keeps
// them to its end, so no call sees half of an old and half of a new
// configuration. It is safe for concurrent use.
func (s *Server) Reload(l Live) { s.live.Store(&l) }

// current returns the live settings.
func (s *Server) current() *Live { return s.live.Load() }

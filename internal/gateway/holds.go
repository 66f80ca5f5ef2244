package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/retention"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/timespec"
)

// Holds sets, lists and releases legal holds, recording every change in
// the log (retention.Keeper).
type Holds interface {
	AddHold(ctx context.Context, h store.Hold, by, role string) (store.Hold, error)
	Holds(ctx context.Context) ([]store.Hold, error)
	ReleaseHold(ctx context.Context, id, reason, by, role string) error
}

// maxHoldBody is the most a request of the holds API may send.
const maxHoldBody = 64 << 10

// holdsAPI authorizes a call of the holds API: errors are OpenAI-shaped,
// as for the rest of /aitrail/v1, and refusals are auth.denied events.
func (s *Server) holdsAPI(w http.ResponseWriter, r *http.Request, action identity.Action) (*caller, bool) {
	c := s.newCaller(w, r)
	if !s.authorize(w, r, c, dialect.OpenAI, record.KindAuthDenied, action) {
		return nil, false
	}
	if s.opts.Holds == nil {
		replyError(w, dialect.OpenAI, http.StatusNotFound, "aitrail: this gateway has no legal holds API")
		return nil, false
	}
	return c, true
}

// listHolds serves GET /aitrail/v1/holds[?all=true]: the holds in force
// (with all, released and expired ones too), to auditors and admins.
func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.holdsAPI(w, r, identity.ReadHolds); !ok {
		return
	}
	all := r.URL.Query().Get("all") == "true"
	holds, err := s.opts.Holds.Holds(r.Context())
	if err != nil {
		s.log.Error("list legal holds", "err", err)
		replyError(w, dialect.OpenAI, http.StatusInternalServerError, "aitrail: cannot read the holds right now")
		return
	}
	now := time.Now()
	out := []retention.HoldView{}
	for _, h := range holds {
		if all || retention.Open(h, now) {
			out = append(out, retention.View(h, now))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": out})
}

// addHoldRequest is the body of POST /aitrail/v1/holds. Times are RFC 3339
// or a date (UTC midnight).
type addHoldRequest struct {
	Reason  string `json:"reason"`
	Actor   string `json:"actor"`
	Session string `json:"session"`
	Model   string `json:"model"`
	Since   string `json:"since"`
	Until   string `json:"until"`
	Text    string `json:"text"`
	Expires string `json:"expires"`
}

// addHold serves POST /aitrail/v1/holds: an admin sets a legal hold. The
// hold.added event is durable before the answer.
func (s *Server) addHold(w http.ResponseWriter, r *http.Request) {
	c, ok := s.holdsAPI(w, r, identity.ManageHolds)
	if !ok {
		return
	}
	var req addHoldRequest
	if msg := decodeStrict(w, r, &req); msg != "" {
		replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: "+msg)
		return
	}
	h := store.Hold{Reason: req.Reason, Actor: req.Actor, Session: req.Session, Model: req.Model, Text: req.Text}
	now := time.Now()
	for _, t := range []struct {
		name, v string
		to      *int64
		parse   func(string, time.Time) (time.Time, error)
	}{{"since", req.Since, &h.Since, timespec.Parse}, {"until", req.Until, &h.Until, timespec.Parse}, {"expires", req.Expires, &h.Expires, timespec.ParseAhead}} {
		if t.v == "" {
			continue
		}
		v, err := t.parse(t.v, now)
		if err != nil {
			replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: "+t.name+": "+err.Error())
			return
		}
		*t.to = v.UnixNano()
	}
	if red := s.current().Redactor; h.Text != "" && red != nil {
		// Stored bodies are redacted: a value the redactor replaces is
		// never in them, and a text hold on it would hold nothing.
		if _, found := red.Redact(h.Text); len(found) > 0 {
			replyError(w, dialect.OpenAI, http.StatusBadRequest, fmt.Sprintf(
				"aitrail: text %q holds a value the redactor replaces (%s), which stored bodies never contain: hold by actor or session instead",
				h.Text, found[0].Type))
			return
		}
	}
	h, err := s.opts.Holds.AddHold(context.WithoutCancel(r.Context()), h, c.id.Actor, c.id.Role)
	switch {
	case errors.Is(err, retention.ErrNoReason), errors.Is(err, retention.ErrBadHold):
		replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: "+err.Error())
		return
	case err != nil:
		s.log.Error("set a legal hold", "err", err)
		replyError(w, dialect.OpenAI, http.StatusServiceUnavailable, "aitrail: the hold could not be set; the gateway's log says why")
		return
	}
	writeJSON(w, http.StatusCreated, retention.View(h, time.Now()))
}

// releaseHold serves POST /aitrail/v1/holds/{id}/release with
// {"reason": ...}: an admin releases a hold, and the next purge may delete
// what it kept.
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) {
	c, ok := s.holdsAPI(w, r, identity.ManageHolds)
	if !ok {
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if msg := decodeStrict(w, r, &req); msg != "" {
		replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: "+msg)
		return
	}
	id := r.PathValue("id")
	err := s.opts.Holds.ReleaseHold(context.WithoutCancel(r.Context()), id, req.Reason, c.id.Actor, c.id.Role)
	switch {
	case errors.Is(err, retention.ErrNoReason):
		replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: "+err.Error())
		return
	case errors.Is(err, store.ErrNotFound):
		replyError(w, dialect.OpenAI, http.StatusNotFound, "aitrail: no hold "+id)
		return
	case errors.Is(err, store.ErrReleased):
		replyError(w, dialect.OpenAI, http.StatusConflict, "aitrail: hold "+id+" is released already")
		return
	case err != nil:
		s.log.Error("release a legal hold", "err", err)
		replyError(w, dialect.OpenAI, http.StatusServiceUnavailable, "aitrail: the hold could not be released; the gateway's log says why")
		return
	}
	holds, err := s.opts.Holds.Holds(r.Context())
	if err == nil {
		for _, h := range holds {
			if h.ID == id {
				writeJSON(w, http.StatusOK, retention.View(h, time.Now()))
				return
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "open": false})
}

// decodeStrict reads a JSON object of at most maxHoldBody bytes into v,
// refusing unknown fields (a misspelt criterion must not widen a hold). It
// returns what is wrong, or "".
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) string {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHoldBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Sprintf("the body is larger than %d bytes", maxHoldBody)
		}
		return "the body is not the JSON object expected: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return "the body holds more than one JSON object"
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

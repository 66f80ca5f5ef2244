package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/vault"
)

// RawReader reads raw bodies back from the vault (package vault).
type RawReader interface {
	Open(ctx context.Context, logID string, nonce [16]byte, part string) ([]byte, error)
}

// Records finds a record by its number.
type Records interface {
	Search(ctx context.Context, f store.Filter) ([]*record.Record, error)
}

// readRaw serves GET /aitrail/v1/raw/{log}/{seq}?part=clear|raw: the body of
// a record before redaction, to an auditor, who must state a reason
// (X-Access-Reason). The read is recorded in the log, with who and why,
// before anything is sent; a read that cannot be recorded is refused.
func (s *Server) readRaw(w http.ResponseWriter, r *http.Request) {
	c := s.newCaller(w, r)
	const kind = record.KindRawRead
	if !s.authorize(w, r, c, dialect.OpenAI, record.KindAuthDenied, identity.ReadRaw) {
		return
	}
	logID := r.PathValue("log")
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	part := r.URL.Query().Get("part")
	if part == "" {
		part = "clear"
	}
	switch {
	case err != nil || seq < 0:
		replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: "+r.PathValue("seq")+" is not a record number")
		return
	case part != "clear" && part != "raw":
		replyError(w, dialect.OpenAI, http.StatusBadRequest, "aitrail: part is clear or raw")
		return
	case c.reason == "":
		s.deny(w, r, c, dialect.OpenAI, kind, http.StatusForbidden, record.StatusDenied,
			"a reason is required to read a raw body: send it in X-Access-Reason (it is recorded)")
		return
	case s.opts.RawReader == nil || s.opts.Records == nil:
		replyError(w, dialect.OpenAI, http.StatusNotFound, "aitrail: this gateway keeps no raw bodies (bodies: full keeps them)")
		return
	}
	recs, err := s.opts.Records.Search(r.Context(), store.Filter{LogID: logID, Seqs: []int64{seq}})
	if err != nil || len(recs) == 0 {
		replyError(w, dialect.OpenAI, http.StatusNotFound, "aitrail: no record "+r.PathValue("seq")+" in log "+logID)
		return
	}
	rec := recs[0]
	want, label := rec.ClearHash, record.LabelClear
	if part == "raw" {
		want, label = rec.RawHash, record.LabelRaw
	}
	if want.IsZero() {
		replyError(w, dialect.OpenAI, http.StatusNotFound, "aitrail: record "+r.PathValue("seq")+" has no "+part+" body in the vault")
		return
	}
	ev := c.event(kind, r.Method+" "+r.URL.Path, record.StatusOK, map[string]any{"log_id": logID, "seq": seq, "part": part})
	ev.RequestSeq = seq
	if err := s.ledger.Append(context.WithoutCancel(r.Context()), &ledger.Entry{Record: ev}); err != nil {
		s.logAppendFailure(err)
		replyError(w, dialect.OpenAI, http.StatusServiceUnavailable, errAuditUnavailable)
		return
	}
	b, err := s.opts.RawReader.Open(r.Context(), logID, rec.Nonce, part)
	if err != nil {
		status := http.StatusNotFound // shredded under retention, or not sealed yet
		if !errors.Is(err, vault.ErrShredded) && !errors.Is(err, vault.ErrNotFound) {
			status = http.StatusInternalServerError
			s.log.Error("raw vault read failed", "err", err)
		}
		replyError(w, dialect.OpenAI, status, "aitrail: the raw body is not available: "+err.Error())
		return
	}
	if s.committer.Commit(rec.Nonce, label, b) != want {
		s.log.Error("AUDIT VAULT INTEGRITY FAILURE: a raw body does not match its record", "log", logID, "seq", seq, "part", part)
		replyError(w, dialect.OpenAI, http.StatusConflict, "aitrail: the vault's body does not match the record's commitment: the vault was tampered with")
		return
	}
	out := map[string]any{"log_id": logID, "seq": seq, "part": part, "read_seq": ev.Seq,
		"read_at": time.Unix(0, ev.Time).UTC().Format(time.RFC3339Nano)}
	if utf8.Valid(b) {
		out["body"] = string(b)
	} else {
		out["body_base64"] = b
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

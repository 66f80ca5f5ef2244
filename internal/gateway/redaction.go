package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/redact"
	"github.com/aitrail/aitrail/internal/store"
)

// Redaction happens once per record, off the token path: requests before
// they are recorded, answers (streams reassembled, so that a value split
// across chunks is caught) when the outcome is recorded. One scope numbers
// the placeholders of a request and its answer alike.

// redactText redacts one text field in place.
func redactText(sc *redact.Scope, s *string, found *[]redact.Finding) {
	if *s == "" {
		return
	}
	red, fs := sc.Redact(*s)
	*s = red
	*found = append(*found, fs...)
}

// redactJSON redacts the text of a JSON value (tool calls, whose arguments
// carry values too); placeholders never break JSON, but should the result
// not be valid JSON, the value is replaced whole.
func redactJSON(sc *redact.Scope, v *json.RawMessage, found *[]redact.Finding) {
	if len(*v) == 0 {
		return
	}
	red, fs := sc.Redact(string(*v))
	if len(fs) == 0 {
		return
	}
	*found = append(*found, fs...)
	if !json.Valid([]byte(red)) {
		red = `"[REDACTED]"`
	}
	*v = json.RawMessage(red)
}

// redactRequest redacts every text of a request body in place.
func redactRequest(sc *redact.Scope, b *record.RequestBody) []redact.Finding {
	var found []redact.Finding
	redactText(sc, &b.System, &found)
	for i := range b.Messages {
		m := &b.Messages[i]
		redactText(sc, &m.Content, &found)
		redactText(sc, &m.Thinking, &found)
		redactJSON(sc, &m.ToolCalls, &found)
	}
	redactText(sc, &b.Prompt, &found)
	redactText(sc, &b.Suffix, &found)
	for i := range b.Input {
		redactText(sc, &b.Input[i], &found)
	}
	return found
}

// redactResponse redacts every text of a response body in place.
func redactResponse(sc *redact.Scope, b *record.ResponseBody) []redact.Finding {
	var found []redact.Finding
	redactText(sc, &b.Text, &found)
	redactText(sc, &b.Thinking, &found)
	redactText(sc, &b.Error, &found)
	redactJSON(sc, &b.ToolCalls, &found)
	return found
}

// piiEntries indexes the values found (by keyed HMAC, never in clear).
func (s *Server) piiEntries(found []redact.Finding) []store.PIIEntry {
	if s.opts.PII == nil || len(found) == 0 {
		return nil
	}
	out := make([]store.PIIEntry, 0, len(found))
	for _, f := range found {
		out = append(out, store.PIIEntry{Type: string(f.Type), MAC: s.opts.PII.MAC(string(f.Type), f.Value)})
	}
	return out
}

// typesOf lists the distinct types of findings, for messages and details.
func typesOf(types []redact.Type) string {
	var names []string
	for _, t := range types {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// keep appends a record with its bodies as the configuration asks: the
// redacted body in the log (unless NoBodies), the clear body, and the raw
// bytes when given, sealed in the vault, concurrently, both durable when
// keep returns. clear is the body before redaction (nil without a vault).
// A failure of either is returned; the caller refuses the call.
func (s *Server) keep(ctx context.Context, rec *record.Record, body, clear, raw []byte, found []redact.Finding) (vaultErr, logErr error) {
	if s.opts.NoBodies {
		body = nil
	}
	if body != nil {
		rec.BodyHash = s.committer.Commit(rec.Nonce, record.LabelBody, body)
	}
	var done chan error
	if s.opts.Vault != nil && clear != nil {
		rec.ClearHash = s.committer.Commit(rec.Nonce, record.LabelClear, clear)
		parts := map[string][]byte{"clear": clear}
		if raw != nil {
			parts["raw"] = raw
		}
		done = make(chan error, 1)
		go func() {
			done <- s.opts.Vault.Seal(ctx, s.opts.LogID, rec.Nonce, parts, time.Now().Add(s.current().RawTTL))
		}()
	}
	logErr = s.ledger.Append(ctx, &ledger.Entry{Record: rec, Body: body, PII: s.piiEntries(found)})
	if done != nil {
		vaultErr = <-done
	}
	return vaultErr, logErr
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
)

// integrity is the state of serve's background verification, shown by
// /healthz.
type integrity struct {
	// busy is held by a verification and by a retention purge, which
	// never overlap: a purge deleting what a verification is reading
	// would look like tampering.
	busy sync.Mutex

	mu       sync.Mutex
	ok       bool
	ran      time.Time
	verified int64
	problems []ledger.Problem
}

// failed reports whether the latest verification found the log altered.
func (s *integrity) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ran.IsZero() && !s.ok
}

func (s *integrity) snapshot() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ran.IsZero() {
		return map[string]any{"state": "not yet verified"}
	}
	out := map[string]any{"ok": s.ok, "verified_records": s.verified, "checked_at": s.ran.UTC().Format(time.RFC3339)}
	if !s.ok {
		out["first_bad_seq"] = s.problems[0].Seq
		out["problem"] = s.problems[0].Cause
	}
	return out
}

// watchIntegrity verifies the log in the background: fully once and every
// fullInterval, and every interval in between only the records added
// since, until ctx ends. A failure
// is logged, shown in /healthz and /metrics, and sent to the webhook; the
// next run starts from scratch, so a repaired log is noticed.
func watchIntegrity(ctx context.Context, al *auditLog, interval, fullInterval time.Duration, webhook func() string, state *integrity, m *metrics.Metrics, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	var lastFull time.Time
	verifiers, err := verifierList(al, nil)
	if err != nil {
		log.Error("background verification disabled", "err", err)
		return
	}
	var from *ledger.Position
	wasOK := true
	for {
		if fullInterval > 0 && time.Since(lastFull) >= fullInterval {
			from = nil // all of it again: old records may have been changed
		}
		if from == nil {
			lastFull = time.Now()
		}
		opts := ledger.VerifyOptions{Committer: al.committer, Verifiers: verifiers, From: from}
		if from == nil {
			for _, f := range al.cfg.AnchorFiles() {
				notes, err := anchor.NewFile(f).Checkpoints(ctx, al.logID)
				if err != nil {
					log.Error("background verification: anchor damaged or unreadable", "err", err)
				}
				opts.Anchored = append(opts.Anchored, notes...)
			}
		}
		state.busy.Lock()
		rep, err := ledger.Verify(ctx, al.store, al.logID, opts)
		state.busy.Unlock()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Error("background verification could not run", "err", err)
			from = nil
		default:
			state.mu.Lock()
			state.ok, state.ran, state.problems = rep.OK(), time.Now(), rep.Problems
			if rep.OK() {
				state.verified = rep.End.Size
			}
			state.mu.Unlock()
			m.VerifyLastTime.SetToCurrentTime()
			if rep.OK() {
				m.VerifyOK.Set(1)
				m.VerifiedSize.Set(float64(rep.End.Size))
				end := rep.End
				from = &end
			} else {
				m.VerifyOK.Set(0)
				log.Error("AUDIT LOG INTEGRITY FAILURE", "log", al.logID, "first_bad_seq", rep.Problems[0].Seq,
					"problem", rep.Problems[0].Cause, "problems", len(rep.Problems))
				if url := webhook(); wasOK && url != "" {
					alert(ctx, url, al.logID, rep, log)
				}
				from = nil
			}
			wasOK = rep.OK()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// alert posts an integrity failure to the webhook.
func alert(ctx context.Context, url, logID string, rep *ledger.Report, log *slog.Logger) {
	body, _ := json.Marshal(map[string]any{
		"event": "aitrail.integrity_failed", "log": logID, "first_bad_seq": rep.Problems[0].Seq,
		"problem": rep.Problems[0].Cause, "problems": rep.Problems, "time": time.Now().UTC().Format(time.RFC3339),
	})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Error("cannot send the integrity alert", "webhook", url, "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		log.Error("the webhook refused the integrity alert", "webhook", url, "status", resp.StatusCode)
	}
}

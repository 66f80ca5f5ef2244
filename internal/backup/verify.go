package backup

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
)

// verifyStore is what checking a backup's database reads.
type verifyStore interface {
	ledger.VerifyStore
	Logs(ctx context.Context) ([]string, error)
}

// verifyLogs verifies every log of st with the commitment key c, the
// trusted verifiers and each log's anchored checkpoints, following the
// links of log.restored events: a log continued elsewhere is verified up to
// its restore, and the continuing log with the key its handover vouches
// for. It returns each log's report, by log id, and every problem found.
func verifyLogs(ctx context.Context, st verifyStore, c *record.Committer, verifiers note.Verifiers, anchored map[string][][]byte) (map[string]*ledger.Report, []string, error) {
	logs, err := st.Logs(ctx)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(logs)
	links, err := Links(ctx, st, logs)
	if err != nil {
		return nil, nil, err
	}
	reps := map[string]*ledger.Report{}
	var bad []string
	for _, id := range logs {
		opts := ledger.VerifyOptions{Committer: c, Verifiers: verifiers, StoredTree: true, Anchored: anchored[id]}
		if r := links.ContinuedIn(id); r != nil {
			opts.Restored = r.Size
		}
		if r := links[id]; r != nil {
			opts.Verifiers = WithHandover(verifiers, r)
		}
		rep, err := ledger.Verify(ctx, st, id, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("verify log %q: %w", id, err)
		}
		reps[id] = rep
		for _, p := range rep.Problems {
			bad = append(bad, fmt.Sprintf("log %s: %s", id, p))
		}
	}
	for id, r := range links {
		for _, p := range ledger.CheckRestore(r, reps[r.Log], verifiers) {
			bad = append(bad, fmt.Sprintf("log %s: record 0 (log.restored): %s", id, p))
		}
	}
	return reps, bad, nil
}

// A LinkMap maps each log that starts with a log.restored event to its
// detail.
type LinkMap map[string]*record.Restore

// Links reads the first record of each of logs.
func Links(ctx context.Context, st ledger.FirstRecordStore, logs []string) (LinkMap, error) {
	out := LinkMap{}
	for _, id := range logs {
		r, err := ledger.ReadRestore(ctx, st, id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out[id] = r
		}
	}
	return out, nil
}

// ContinuedIn returns the log.restored event of the log that continues
// logID, or nil.
func (m LinkMap) ContinuedIn(logID string) *record.Restore {
	for _, r := range m {
		if r.Log == logID {
			return r
		}
	}
	return nil
}

// WithHandover returns verifiers that also trust the key of the log that r
// starts, when r's handover verifies with verifiers (the restored log's
// key vouches for its successor's).
func WithHandover(verifiers note.Verifiers, r *record.Restore) note.Verifiers {
	if verifiers == nil {
		return nil
	}
	if _, err := ledger.OpenHandover([]byte(r.Handover), verifiers); err != nil {
		return verifiers
	}
	v, err := note.NewVerifier(r.OriginKey)
	if err != nil {
		return verifiers
	}
	return extraVerifier{base: verifiers, v: v}
}

type extraVerifier struct {
	base note.Verifiers
	v    note.Verifier
}

func (e extraVerifier) Verifier(name string, hash uint32) (note.Verifier, error) {
	if name == e.v.Name() && hash == e.v.KeyHash() {
		return e.v, nil
	}
	return e.base.Verifier(name, hash)
}

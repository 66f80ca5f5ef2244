package retention

import (
	"context"
	"fmt"
	"slices"
)

// EraseAll carries out an erasure request on every log that holds one of
// its records (in a fleet, every node's log in the shared database): each
// log records the request and its own outcome, and erases unless a legal
// hold covers one of its records. purger returns the purger that appends
// to a log, and a function that releases it. The results are by log, in
// the order of the logs' ids; on an error, those of the logs done so far
// are returned with it.
func EraseAll(ctx context.Context, req ErasureRequest, purger func(logID string) (*Purger, func(), error)) ([]string, map[string]*ErasureResult, error) {
	var logs []string
	for _, ref := range req.Refs {
		if !slices.Contains(logs, ref.LogID) {
			logs = append(logs, ref.LogID)
		}
	}
	slices.Sort(logs)
	out := map[string]*ErasureResult{}
	for i, id := range logs {
		p, done, err := purger(id)
		if err != nil {
			return logs[:i], out, fmt.Errorf("erase on log %q: %w", id, err)
		}
		res, err := p.Erase(ctx, req)
		done()
		if err != nil {
			return logs[:i], out, fmt.Errorf("erase on log %q: %w", id, err)
		}
		res.OtherLogs = nil // each is carried out here
		out[id] = res
	}
	return logs, out, nil
}

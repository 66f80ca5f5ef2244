package retention

import (
	"context"
	"math"
	"time"
)

// A pacer cuts the purge's writes into pieces short enough that the
// gateway's appends, which on SQLite wait behind any other write, never
// wait long, and rests after each so that the purge writes at most share
// of its time.
//
// How many rows a piece may hold is learnt per kind of write (deleting
// bodies, PII entries, records, freeing pages...), since their costs
// differ by an order of magnitude and grow with the database: after each
// piece the size moves towards what would have taken target, by at most a
// factor of two.
type pacer struct {
	target time.Duration // 0: no cutting
	share  float64       // 0 or 1: no rest
	max    int           // the largest piece, unless limits says otherwise
	limits map[string]int
	sizes  map[string]int
}

// firstPiece is the size of a kind's first piece, minPiece the smallest.
// A write's cost is a fixed part (the commit, its fsync: 0.2 ms to several
// when the disk is busy) and a part per row; below minPiece rows the fixed
// part dominates, and smaller pieces would only make more commits.
const (
	firstPiece = 32
	minPiece   = 16
)

// unpaced writes everything at once: an erasure request's few records.
var unpaced = newPacer(0, 0, math.MaxInt)

func newPacer(target time.Duration, share float64, max int) *pacer {
	return &pacer{target: target, share: share, max: max, limits: map[string]int{}, sizes: map[string]int{}}
}

// limit is the largest piece of kind.
func (p *pacer) limit(kind string) int {
	if n, ok := p.limits[kind]; ok {
		return n
	}
	return p.max
}

// size is how many rows the next piece of kind may hold.
func (p *pacer) size(kind string) int {
	if p.target <= 0 {
		return p.limit(kind)
	}
	if n, ok := p.sizes[kind]; ok {
		return n
	}
	return min(firstPiece, p.limit(kind))
}

// done learns from a piece of kind that held n rows and began at start,
// then rests as share asks, or until ctx is done.
func (p *pacer) done(ctx context.Context, kind string, n int, start time.Time) {
	took := time.Since(start)
	p.learn(kind, n, took)
	p.rest(ctx, start)
}

// rest waits after a write that began at start, as share asks, or until
// ctx is done.
func (p *pacer) rest(ctx context.Context, start time.Time) {
	if p.share <= 0 || p.share >= 1 {
		return
	}
	t := time.NewTimer(time.Duration(float64(time.Since(start)) * (1/p.share - 1)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// learn moves the size of kind's pieces towards what would have taken
// target, given that n rows took took.
func (p *pacer) learn(kind string, n int, took time.Duration) {
	if p.target <= 0 || n <= 0 {
		return
	}
	size, limit := p.size(kind), p.limit(kind)
	if n < size && took <= p.target {
		// A batch's short last piece: its commit's fixed cost makes it
		// look slow per row, though it was quick.
		return
	}
	want := int(float64(n) * float64(p.target) / float64(max(took, time.Microsecond)))
	p.sizes[kind] = max(min(minPiece, limit), min(want, 2*size, limit), size/2)
}

// each writes rows [0, n) in pieces of kind: write(lo, hi) writes rows
// [lo, hi).
func (p *pacer) each(ctx context.Context, kind string, n int, write func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		hi := min(lo+p.size(kind), n)
		start := time.Now()
		if err := write(lo, hi); err != nil {
			return err
		}
		p.done(ctx, kind, hi-lo, start)
		lo = hi
	}
	return nil
}

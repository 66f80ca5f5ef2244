package retention

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Vault is what retention needs of the raw vault: destroying data keys.
type Vault interface {
	Shred(ctx context.Context, logID string, nonces [][16]byte) (int, error)
}

// ErrConcurrent is returned when another purge of the same log moved on
// while this one ran: the second stops at its next batch (it may have
// recorded and erased one batch that the first erased too, which is
// harmless: erasing twice deletes nothing more).
var ErrConcurrent = errors.New("another purge of this log is running")

// A Purger applies the retention policy to one log.
type Purger struct {
	Store  store.Store
	Ledger *ledger.Ledger // appends the purge's events to the log purged
	// Vault holds the raw bodies; nil if there is none (raw bodies that
	// the log says were kept are then reported, not erased).
	Vault Vault
	// Policy is the policy applied. Its Batch, WriteTime and WriteShare
	// pace the purge; zero means 200 records per batch, not cut into
	// pieces, without rest.
	Policy Policy
	// Actor and Role are recorded on the purge's events.
	Actor, Role string
	// Now is the clock (default time.Now).
	Now  func() time.Time
	pace *pacer // Run's, made from Policy: one Run at a time
}

// A LayerResult is what a purge did to one layer.
type LayerResult struct {
	Layer  string
	Policy string    // the policy applied, in words
	Cutoff time.Time // no record after this was due
	// Erased counts the records whose layer was erased (for the PII
	// layer: the index entries deleted); Records the records that had it.
	Erased, Records int64
	Held            int64   // records past their period that a legal hold kept
	Events          []int64 // the body.erased events appended
	First, Last     int64   // the first and last record erased (-1: none)
	// Skipped says why the layer was not purged, if it was not.
	Skipped string
}

// A PruneResult is what a purge did to the sealed records.
type PruneResult struct {
	Policy string
	Cutoff time.Time
	// From and Size: the records [From, Size) were pruned (none when
	// equal); Event is the log.pruned event.
	From, Size int64
	Event      int64
	// Stop says why the prune went no further.
	Stop string
}

// A Report is the outcome of one purge.
type Report struct {
	LogID  string
	Now    time.Time
	DryRun bool
	Layers []LayerResult
	Prune  PruneResult
	// Space is the database's size before and after (after Compact).
	SpaceBefore, SpaceAfter store.Space
}

// Deleted reports whether the purge deleted anything.
func (r *Report) Deleted() bool {
	for _, l := range r.Layers {
		if l.Erased > 0 {
			return true
		}
	}
	return r.Prune.Size > r.Prune.From
}

func (p *Purger) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Purger) batch() int {
	if p.Policy.Batch > 0 {
		return p.Policy.Batch
	}
	return 200
}

// Run purges every layer of the log, then prunes the sealed records that
// are past their period, then gives the space back. With dryRun it only
// reports what it would delete, and changes nothing.
func (p *Purger) Run(ctx context.Context, dryRun bool) (*Report, error) {
	now := p.now()
	logID := p.Ledger.LogID()
	p.pace = newPacer(p.Policy.WriteTime, p.Policy.WriteShare, p.batch())
	// Tree hashes and free pages are not records: a piece of them may be
	// larger than a batch (as many as a few milliseconds allow).
	p.pace.limits["tree"], p.pace.limits["pages"] = 20000, 2000
	rep := &Report{LogID: logID, Now: now, DryRun: dryRun}
	var err error
	if rep.SpaceBefore, err = p.Store.Space(ctx); err != nil {
		return nil, err
	}
	hs, err := newHoldSet(ctx, p.Store, logID, now)
	if err != nil {
		return nil, err
	}
	base, err := p.Store.Base(ctx, logID)
	if err != nil {
		return nil, err
	}
	// The prune may not pass a record that some layer has not finished
	// with (in a dry run, that the layers would not have finished with).
	bound := int64(math.MaxInt64)
	for _, layer := range Layers {
		lr, reached, err := p.purgeLayer(ctx, layer, hs, now, base.Size, dryRun)
		rep.Layers = append(rep.Layers, lr)
		if err != nil {
			return rep, fmt.Errorf("purge %s: %w", layerNoun[layer], err)
		}
		bound = min(bound, reached)
	}
	rep.Prune, err = p.prune(ctx, hs, now, base, bound, dryRun)
	if err != nil {
		return rep, fmt.Errorf("prune sealed records: %w", err)
	}
	if !dryRun && rep.Deleted() {
		if err := p.compact(ctx); err != nil {
			return rep, err
		}
	}
	rep.SpaceAfter, err = p.Store.Space(ctx)
	return rep, err
}

// hasLayer reports whether r has the layer to erase.
func hasLayer(layer string, r *record.Record) bool {
	switch layer {
	case record.LayerRaw:
		return !r.ClearHash.IsZero()
	case record.LayerRedacted, record.LayerPII:
		// The PII index is made from the bodies being redacted.
		return !r.BodyHash.IsZero()
	}
	return false
}

// A verdict is what a purge decides for one record of a layer.
type verdict int

const (
	without verdict = iota // the record has no such layer: nothing to do
	erase                  // past its period, not held
	keep                   // within its period (a longer override)
	held                   // past its period, kept by a legal hold
)

// judge decides what becomes of one layer of r at now, and until when a
// kept record may wait.
func (p *Purger) judge(ctx context.Context, layer string, r *record.Record, hs *holdSet, now time.Time) (verdict, int64, error) {
	if !hasLayer(layer, r) {
		return without, 0, nil
	}
	due := p.Policy.period(layer, r.Role, r.Model).After(r.TimeUTC())
	if due.After(now) {
		return keep, due.UnixNano(), nil
	}
	h, err := hs.holding(ctx, r)
	if err != nil {
		return 0, 0, err
	}
	if h != nil {
		return held, 0, nil
	}
	return erase, 0, nil
}

// layerRun is one layer's purge in progress.
type layerRun struct {
	p      *Purger
	layer  string
	dry    bool
	mark   store.RetentionMark
	policy string
	cutoff time.Time
	res    *LayerResult
}

// purgeLayer purges one layer: first the records it deferred before that
// are due again, then the records after its mark that are old enough. It
// returns how far the layer got: the first record it has not finished with.
func (p *Purger) purgeLayer(ctx context.Context, layer string, hs *holdSet, now time.Time, base int64, dry bool) (LayerResult, int64, error) {
	logID := p.Ledger.LogID()
	res := LayerResult{Layer: layer, Policy: p.Policy.Describe(layer), Cutoff: p.Policy.shortest(layer).Before(now), First: -1, Last: -1}
	mark, err := p.Store.RetentionMark(ctx, logID, layer)
	if err != nil {
		return res, base, err
	}
	if layer == record.LayerRaw && p.Vault == nil {
		res.Skipped = "no vault is configured"
	}
	lr := &layerRun{p: p, layer: layer, dry: dry, mark: mark, policy: res.Policy, cutoff: res.Cutoff, res: &res}
	firstKept := int64(math.MaxInt64)

	// Deferred records that are due, or all of them when the policy
	// changed since they were deferred.
	due := now.UnixNano()
	if mark.Policy != res.Policy {
		due = math.MaxInt64
	}
	for after := int64(-1); ; {
		ds, err := p.Store.DeferredDue(ctx, logID, layer, due, after, p.batch())
		if err != nil {
			return res, base, err
		}
		if len(ds) == 0 {
			break
		}
		after = ds[len(ds)-1].Seq
		seqs := make([]int64, len(ds))
		for i, d := range ds {
			seqs[i] = d.Seq
		}
		recs, err := p.Store.Search(ctx, store.Filter{LogID: logID, Seqs: seqs})
		if err != nil {
			return res, base, err
		}
		// Records pruned since are done; the others are judged again.
		b := &batch{done: missing(seqs, recs)}
		if err := hs.reload(ctx, now); err != nil {
			return res, base, err
		}
		for _, r := range recs {
			if err := b.add(ctx, lr, r, hs, now); err != nil {
				return res, base, err
			}
		}
		if kept := b.firstKept(); kept < firstKept {
			firstKept = kept
		}
		if err := lr.apply(ctx, b, lr.mark.Next); err != nil {
			return res, base, err
		}
	}

	// New records, in order, up to the first that no policy makes due.
	next := max(mark.Next, base)
	for {
		var recs []*record.Record
		limit := p.batch()
		stop := errors.New("stop")
		err := p.Store.Scan(ctx, logID, next, func(r *record.Record, _ record.Hash) error {
			if r.Time >= res.Cutoff.UnixNano() || len(recs) >= limit {
				return stop
			}
			recs = append(recs, r)
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			return res, next, err
		}
		if len(recs) == 0 {
			break
		}
		// Holds are read again for every batch: one set while the purge
		// runs applies from the next batch on.
		if err := hs.reload(ctx, now); err != nil {
			return res, next, err
		}
		b := &batch{scan: true}
		for _, r := range recs {
			if err := b.add(ctx, lr, r, hs, now); err != nil {
				return res, next, err
			}
		}
		if kept := b.firstKept(); kept < firstKept {
			firstKept = kept
		}
		next = recs[len(recs)-1].Seq + 1
		if err := lr.apply(ctx, b, next); err != nil {
			return res, next, err
		}
	}
	// Records deferred earlier and not yet due bound the prune too.
	ds, err := p.Store.DeferredDue(ctx, logID, layer, math.MaxInt64, -1, 1)
	if err != nil {
		return res, next, err
	}
	if len(ds) > 0 {
		firstKept = min(firstKept, ds[0].Seq)
	}
	return res, min(next, firstKept), nil
}

// missing returns the seqs that recs does not hold.
func missing(seqs []int64, recs []*record.Record) []int64 {
	found := make(map[int64]bool, len(recs))
	for _, r := range recs {
		found[r.Seq] = true
	}
	var out []int64
	for _, seq := range seqs {
		if !found[seq] {
			out = append(out, seq)
		}
	}
	return out
}

// batch collects one transaction's worth of a layer's decisions.
type batch struct {
	scan     bool // records in order from a scan, named as ranges
	seen     []judged
	erase    []*record.Record
	deferred []store.Deferred
	done     []int64
	held     int64
}

type judged struct {
	seq int64
	v   verdict
}

func (b *batch) firstKept() int64 {
	first := int64(math.MaxInt64)
	for _, d := range b.deferred {
		first = min(first, d.Seq)
	}
	return first
}

// add judges r.
func (b *batch) add(ctx context.Context, lr *layerRun, r *record.Record, hs *holdSet, now time.Time) error {
	v, due, err := lr.p.judge(ctx, lr.layer, r, hs, now)
	if err != nil {
		return err
	}
	b.seen = append(b.seen, judged{r.Seq, v})
	switch v {
	case erase:
		b.erase = append(b.erase, r)
	case keep:
		b.deferred = append(b.deferred, store.Deferred{Seq: r.Seq, Due: due})
	case held:
		b.deferred = append(b.deferred, store.Deferred{Seq: r.Seq, Due: 0})
		b.held++
		lr.res.Held++
		lr.res.Records++
	}
	return nil
}

// ranges returns a scanned batch's erased records as inclusive ranges: a
// range may span records without the layer, never a kept one, and starts
// and ends on an erased record.
func (b *batch) ranges() [][2]int64 {
	var out [][2]int64
	open := false
	for _, j := range b.seen {
		switch j.v {
		case erase:
			if open {
				out[len(out)-1][1] = j.seq
			} else {
				out = append(out, [2]int64{j.seq, j.seq})
				open = true
			}
		case keep, held:
			open = false
		}
	}
	return out
}

// apply records and carries out one batch, then moves the layer's mark to
// next: the event first, then the deletion, then the mark. A crash between
// them leaves an event naming records whose layer is still there, which the
// next purge erases again (verification warns of it meanwhile).
func (lr *layerRun) apply(ctx context.Context, b *batch, next int64) error {
	p, res := lr.p, lr.res
	res.Records += int64(len(b.erase))
	if len(b.erase) > 0 {
		if res.First < 0 || b.erase[0].Seq < res.First {
			res.First = b.erase[0].Seq
		}
		res.Last = max(res.Last, b.erase[len(b.erase)-1].Seq)
	}
	if lr.dry {
		if res.Skipped == "" {
			res.Erased += int64(len(b.erase))
		}
		return nil
	}
	if len(b.erase) > 0 && res.Skipped == "" {
		e := record.Erasure{Layer: lr.layer, Count: int64(len(b.erase)), Policy: "retention: " + lr.policy,
			Cutoff: lr.cutoff.UTC().Format(time.RFC3339), Held: b.held}
		if b.scan {
			e.Ranges = b.ranges()
		} else {
			for _, r := range b.erase {
				e.Seqs = append(e.Seqs, r.Seq)
			}
		}
		n, ev, err := erasure(ctx, p.Store, p.Ledger, p.Vault, lr.layer, b.erase, e, p.Actor, p.Role, p.pace)
		if err != nil {
			return err
		}
		res.Erased += n
		res.Events = append(res.Events, ev)
	}
	if res.Skipped != "" {
		// Nothing erased: keep the records due, so a later purge with the
		// vault erases them.
		for _, r := range b.erase {
			b.deferred = append(b.deferred, store.Deferred{Seq: r.Seq, Due: 0})
		}
	}
	done := b.done
	for _, r := range b.erase {
		if res.Skipped == "" {
			done = append(done, r.Seq)
		}
	}
	nextMark := store.RetentionMark{Next: max(next, lr.mark.Next), Policy: lr.policy}
	start := time.Now()
	ok, err := p.Store.AdvanceRetention(ctx, p.Ledger.LogID(), lr.layer, lr.mark, nextMark, b.deferred, done)
	if err != nil {
		return err
	}
	if !ok {
		return ErrConcurrent
	}
	lr.mark = nextMark
	p.pace.done(ctx, "mark", 0, start)
	return nil
}

// erasure appends e (a body.erased event) and then erases the layer of the
// records. It returns how many were erased (for the PII layer, index
// entries) and the event's Seq.
func erasure(ctx context.Context, st store.Store, led *ledger.Ledger, v Vault, layer string, recs []*record.Record, e record.Erasure, actor, role string, pace *pacer) (int64, int64, error) {
	ev := record.NewEvent(record.KindErased, e)
	ev.Actor, ev.Role = actor, role
	if err := led.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		return 0, -1, fmt.Errorf("record the erasure: %w", err)
	}
	n, err := erase1(ctx, st, led.LogID(), v, layer, recs, pace)
	return n, ev.Seq, err
}

// erase1 erases one layer of the records, in pieces as pace says.
func erase1(ctx context.Context, st store.Store, logID string, v Vault, layer string, recs []*record.Record, pace *pacer) (int64, error) {
	var erase func([]*record.Record) (int64, error)
	switch layer {
	case record.LayerRaw:
		// The vault is another database: its writes never hold the log's,
		// so the batch is not cut. Each shred ends by emptying the vault's
		// write-ahead log, so that no destroyed key lingers there: a cost
		// best paid once per batch.
		nonces := make([][16]byte, len(recs))
		for i, r := range recs {
			nonces[i] = r.Nonce
		}
		start := time.Now()
		n, err := v.Shred(ctx, logID, nonces)
		pace.rest(ctx, start)
		return int64(n), err
	case record.LayerRedacted:
		erase = func(recs []*record.Record) (int64, error) { return st.DeleteBodies(ctx, logID, seqsOf(recs)) }
	case record.LayerPII:
		erase = func(recs []*record.Record) (int64, error) { return st.DeletePII(ctx, logID, seqsOf(recs)) }
	default:
		return 0, fmt.Errorf("unknown layer %q", layer)
	}
	var total int64
	err := pace.each(ctx, layer, len(recs), func(lo, hi int) error {
		n, err := erase(recs[lo:hi])
		total += n
		return err
	})
	return total, err
}

func seqsOf(recs []*record.Record) []int64 {
	seqs := make([]int64, len(recs))
	for i, r := range recs {
		seqs[i] = r.Seq
	}
	return seqs
}

package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// prune deletes the sealed records that are past their period from the
// start of the log, up to a signed checkpoint: the remainder is verified
// from that checkpoint on. It never passes bound (a record some layer has
// not finished with), a held record, or a record within its period.
func (p *Purger) prune(ctx context.Context, hs *holdSet, now time.Time, base store.Base, bound int64, dry bool) (PruneResult, error) {
	logID := p.Ledger.LogID()
	res := PruneResult{Policy: p.Policy.Describe(record.LayerSealed), Cutoff: p.Policy.shortest(record.LayerSealed).Before(now),
		From: base.Size, Size: base.Size, Event: -1}

	// A prune cut short (a crash after the base moved) is finished first.
	if !dry {
		if err := p.pruneBelowBase(ctx, logID); err != nil {
			return res, err
		}
	}
	if err := hs.reload(ctx, now); err != nil {
		return res, err
	}

	// The first record to keep.
	end := base.Size
	stop := errors.New("stop")
	err := p.Store.Scan(ctx, logID, base.Size, func(r *record.Record, _ record.Hash) error {
		if r.Seq >= bound {
			res.Stop = fmt.Sprintf("record %d still has a layer to purge", r.Seq)
			return stop
		}
		if r.Time >= res.Cutoff.UnixNano() {
			res.Stop = fmt.Sprintf("record %d is within its period", r.Seq)
			return stop
		}
		if p.Policy.period(record.LayerSealed, r.Role, r.Model).After(r.TimeUTC()).After(now) {
			res.Stop = fmt.Sprintf("record %d is within its period (%s)", r.Seq, p.Policy.period(record.LayerSealed, r.Role, r.Model))
			return stop
		}
		h, err := hs.holding(ctx, r)
		if err != nil {
			return err
		}
		if h != nil {
			res.Stop = fmt.Sprintf("record %d is under legal hold %s", r.Seq, h.ID)
			return stop
		}
		end = r.Seq + 1
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return res, err
	}
	if end == base.Size {
		return res, nil
	}

	// The largest signed checkpoint within.
	cps, err := p.Store.Checkpoints(ctx, logID, base.Size+1)
	if err != nil {
		return res, err
	}
	var cp *store.Checkpoint
	for i := range cps {
		if cps[i].Size <= end {
			cp = &cps[i]
		}
	}
	if cp == nil {
		res.Stop = fmt.Sprintf("no signed checkpoint between records %d and %d yet", base.Size+1, end)
		return res, nil
	}
	size := cp.Size

	// The records at the boundary must be the ones the checkpoint signed.
	last, err := p.boundary(ctx, logID, cp)
	if err != nil {
		return res, fmt.Errorf("refusing to prune at %d, run aitrail verify: %w", size, err)
	}
	res.Size = size
	if size < end {
		res.Stop = fmt.Sprintf("records %d to %d are due too, but no signed checkpoint ends among them yet", size, end-1)
	}
	if dry {
		return res, nil
	}

	head := record.EntryHash(last)
	ev := record.NewEvent(record.KindPruned, record.Prune{
		From: base.Size, Size: size, Head: head.String(), Time: last.Time, Checkpoint: string(cp.Note),
		Policy: "retention: " + res.Policy, Cutoff: res.Cutoff.UTC().Format(time.RFC3339),
	})
	ev.Actor, ev.Role = p.Actor, p.Role
	if err := p.Ledger.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		return res, fmt.Errorf("record the prune: %w", err)
	}
	res.Event = ev.Seq
	if err := p.Store.SetBase(ctx, logID, store.Base{Size: size, Head: head, Time: last.Time, Checkpoint: cp.Note}); err != nil {
		return res, err
	}
	return res, p.pruneBelowBase(ctx, logID)
}

// pruneBelowBase deletes what is left before the log's base: records,
// then tree hashes, in pieces as the pacer says.
func (p *Purger) pruneBelowBase(ctx context.Context, logID string) error {
	for _, step := range []struct {
		kind  string
		prune func(context.Context, string, int) (int64, error)
	}{{"records", p.Store.PruneBefore}, {"tree", p.Store.PruneTree}} {
		for {
			start := time.Now()
			n, err := step.prune(ctx, logID, p.pace.size(step.kind))
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			p.pace.done(ctx, step.kind, int(n), start)
		}
	}
	return nil
}

// compact gives the space the purge freed back to the file system, in
// pieces as the pacer says.
func (p *Purger) compact(ctx context.Context) error {
	for {
		start := time.Now()
		n, err := p.Store.Compact(ctx, p.pace.size("pages"))
		if err != nil || n == 0 {
			return err
		}
		p.pace.done(ctx, "pages", int(n), start)
	}
}

// boundary checks that the stored log agrees with the checkpoint it is to
// be pruned at: the stored tree gives the checkpoint's root, the last record
// to prune is the leaf the tree holds, and the next record links to it. It
// returns that last record.
func (p *Purger) boundary(ctx context.Context, logID string, cp *store.Checkpoint) (*record.Record, error) {
	c, err := ledger.ParseSignedCheckpoint(cp.Note)
	if err != nil {
		return nil, err
	}
	hr := ledger.StoreHashReader(ctx, p.Store, logID)
	root, err := tlog.TreeHash(c.Size, hr)
	if err != nil {
		return nil, err
	}
	if root != c.Root {
		return nil, fmt.Errorf("the stored tree does not give the root of checkpoint %d", c.Size)
	}
	recs, err := p.Store.Search(ctx, store.Filter{LogID: logID, Seqs: []int64{c.Size - 1, c.Size}})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || recs[0].Seq != c.Size-1 {
		return nil, fmt.Errorf("record %d is missing", c.Size-1)
	}
	last := recs[0]
	leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, last.Seq)})
	if err != nil {
		return nil, err
	}
	if tlog.RecordHash(record.Encode(last)) != leaf[0] {
		return nil, fmt.Errorf("record %d is not the one the signed tree holds", last.Seq)
	}
	if len(recs) > 1 && recs[1].PrevHash != record.EntryHash(last) {
		return nil, fmt.Errorf("record %d does not link to record %d", recs[1].Seq, last.Seq)
	}
	return last, nil
}

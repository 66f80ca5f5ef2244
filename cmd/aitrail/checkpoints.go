package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
)

// ledgerObserver feeds the metrics and asks for a checkpoint once enough
// records are new.
type ledgerObserver struct {
	*metrics.Metrics
	every   int64
	fresh   atomic.Int64
	trigger chan struct{}
	health  *logHealth // told of every append's outcome (nil: none)
}

func (o *ledgerObserver) Committed(records int, d time.Duration, err error) {
	o.Metrics.Committed(records, d, err)
	if o.health != nil {
		o.health.committed(err)
	}
	if err == nil && o.fresh.Add(int64(records)) >= o.every {
		o.fresh.Store(0)
		select {
		case o.trigger <- struct{}{}:
		default:
		}
	}
}

// signCheckpoints signs a checkpoint every interval while the log grows,
// and at once when asked through trigger, until ctx ends.
func signCheckpoints(ctx context.Context, cp *ledger.Checkpointer, trigger <-chan struct{}, interval time.Duration, m *metrics.Metrics, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-trigger:
		}
		signOnce(ctx, cp, m, log)
	}
}

// signOnce signs a checkpoint. A signing under way is never cut short by
// shutdown: a checkpoint stored but not yet anchored is what that would
// leave; it is bounded by its own timeout instead.
func signOnce(ctx context.Context, cp *ledger.Checkpointer, m *metrics.Metrics, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	res, err := cp.Sign(ctx)
	if err != nil {
		m.CheckpointFailures.Inc()
		log.Error("cannot sign a checkpoint", "err", err)
		return
	}
	for _, err := range res.AnchorErrs {
		m.AnchorFailures.Inc()
		log.Error("anchor did not take the checkpoint", "err", err)
	}
	if res.New {
		m.Checkpoints.Inc()
		m.CheckpointSize.Set(float64(res.Checkpoint.Size))
		log.Debug("signed checkpoint", "size", res.Checkpoint.Size)
	}
}

// heartbeats appends a heartbeat event every interval until ctx ends, so a
// gap in the log's time line shows when the gateway was not recording.
func heartbeats(ctx context.Context, led *ledger.Ledger, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r := record.NewEvent(record.KindHeartbeat, map[string]string{"interval": interval.String()})
		r.Actor, r.Role = "aitrail", "admin"
		if err := led.Append(ctx, &ledger.Entry{Record: r}); err != nil && ctx.Err() == nil {
			log.Error("cannot record a heartbeat", "err", err)
		}
	}
}

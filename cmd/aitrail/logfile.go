package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aitrail/aitrail/internal/gateway"
	"github.com/aitrail/aitrail/internal/ledger"
)

// replacedChecker is a store that notices its database file removed or
// replaced while serving (the SQLite store).
type replacedChecker interface{ Replaced() error }

// logFileEvery is how often serve looks whether the log's file is still
// the one it opened (the SQLite store looks on its checkpoint tick).
const logFileEvery = time.Second

// logReplaced returns the unhealthy state of a log whose database file was
// removed or replaced, or nil.
func logReplaced(al *auditLog) error {
	rc, ok := al.store.(replacedChecker)
	if !ok {
		return nil
	}
	if err := rc.Replaced(); err != nil {
		return &gateway.Unhealthy{Reason: gateway.ReasonLogReplaced, Err: err}
	}
	return nil
}

// watchLogFile logs an error and posts the integrity alert once, when the
// log's database file is found removed or replaced (the store then refuses
// every append, so calls are refused).
func watchLogFile(ctx context.Context, al *auditLog, webhook func() string, log *slog.Logger) {
	rc, ok := al.store.(replacedChecker)
	if !ok {
		return
	}
	t := time.NewTicker(logFileEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := rc.Replaced(); err != nil {
			log.Error("AUDIT LOG FILE REMOVED OR REPLACED; refusing calls", "log", al.logID, "err", err)
			if url := webhook(); url != "" {
				alert(ctx, url, al.logID, &ledger.Report{Problems: []ledger.Problem{{Seq: -1, Cause: err.Error()}}}, log)
			}
			return
		}
	}
}

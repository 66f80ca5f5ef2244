package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/retention"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/timespec"
)

// runRetention shows the retention policy, or runs the purge by hand.
func runRetention(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand("retention", args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("retention "+sub, flag.ContinueOnError)
	load := configFlags(fs, e)
	switch sub {
	case "show":
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		al, holds, err := loadHolds(ctx, load)
		if err != nil {
			return err
		}
		defer al.Close()
		return retention.Policy{Retention: al.cfg.Retention}.Document(e.stdout, al.logID, holds, time.Now())
	case "run":
		dry := fs.Bool("dry-run", false, "say what would be deleted, and delete nothing")
		asJSON := fs.Bool("json", false, "print the report as one JSON object")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		w, err := loadWriter(ctx, e, load)
		if err != nil {
			return err
		}
		defer w.Close()
		rep, runErr := w.purger().Run(ctx, *dry)
		if rep != nil {
			if *asJSON {
				json.NewEncoder(e.stdout).Encode(rep)
			} else {
				printPurge(e.stdout, rep)
			}
		}
		if runErr != nil {
			return runErr
		}
		if !*dry && rep.Deleted() {
			// A checkpoint covering the purge's events, so that the next
			// purge can prune up to them.
			return w.al.signCheckpoint(ctx)
		}
		return nil
	}
	return usageError("unknown retention subcommand %q", sub)
}

// A writer is a log opened to change it: its store, a ledger appending to
// it, and the vault when there is one.
type writer struct {
	al    *auditLog
	led   *ledger.Ledger
	vault retention.Vault
	close func() error
}

// loadWriter loads the configuration and opens its log to change it.
func loadWriter(ctx context.Context, e *env, load func() (config.Config, error)) (*writer, error) {
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	return openWriter(ctx, e, cfg)
}

// openWriter opens the log and, if raw bodies are kept, the vault.
func openWriter(ctx context.Context, e *env, cfg config.Config) (*writer, error) {
	al, err := openLog(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	w := &writer{al: al, led: ledger.New(al.store, al.logID, ledger.Options{}), close: func() error { return nil }}
	if hasVault(cfg) {
		v, closeVault, err := openVault(ctx, e, cfg, false)
		if err != nil {
			w.Close()
			return nil, err
		}
		w.vault, w.close = v, closeVault
	}
	return w, nil
}

// hasVault reports whether raw bodies may be in a vault.
func hasVault(cfg config.Config) bool {
	if cfg.Database != "sqlite" {
		return cfg.Bodies == "full"
	}
	_, err := os.Stat(cfg.VaultPath())
	return err == nil
}

func (w *writer) Close() error {
	w.led.Close()
	return errors.Join(w.close(), w.al.Close())
}

// purger returns the log's purger, acting as the operator at this machine.
func (w *writer) purger() *retention.Purger {
	return &retention.Purger{
		Store: w.al.store, Ledger: w.led, Vault: w.vault,
		Policy: retention.Policy{Retention: w.al.cfg.Retention},
		Actor:  "cli:" + currentUser(), Role: "admin",
	}
}

func printPurge(out io.Writer, rep *retention.Report) {
	verb := "erased"
	if rep.DryRun {
		verb = "would erase"
		fmt.Fprintf(out, "Dry run: nothing was deleted.\n")
	}
	fmt.Fprintf(out, "Retention purge of log %s at %s\n\n", rep.LogID, rep.Now.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, l := range rep.Layers {
		line := fmt.Sprintf("%s\t%s %d", l.Policy, verb, l.Erased)
		if l.Layer == record.LayerPII {
			line += " index entries"
		}
		if l.First >= 0 {
			line += fmt.Sprintf(" (records %d to %d)", l.First, l.Last)
		}
		if l.Held > 0 {
			line += fmt.Sprintf("; %d kept by legal holds", l.Held)
		}
		if l.Skipped != "" {
			line += "; skipped: " + l.Skipped
		}
		if len(l.Events) > 0 {
			line += fmt.Sprintf("; events %s", seqList(l.Events))
		}
		fmt.Fprintln(tw, line)
	}
	p := rep.Prune
	line := p.Policy + "\t"
	switch {
	case p.Size > p.From && rep.DryRun:
		line += fmt.Sprintf("would prune records %d to %d", p.From, p.Size-1)
	case p.Size > p.From:
		line += fmt.Sprintf("pruned records %d to %d (event %d); the log now starts at %d", p.From, p.Size-1, p.Event, p.Size)
	default:
		line += "nothing to prune"
	}
	if p.Stop != "" {
		line += "; " + p.Stop
	}
	fmt.Fprintln(tw, line)
	tw.Flush()
	if !rep.DryRun && rep.Deleted() {
		fmt.Fprintf(out, "\nDatabase: %s before, %s after\n", size(rep.SpaceBefore.Bytes), size(rep.SpaceAfter.Bytes))
	}
}

func seqList(seqs []int64) string {
	if len(seqs) > 6 {
		return fmt.Sprintf("%d to %d (%d events)", seqs[0], seqs[len(seqs)-1], len(seqs))
	}
	parts := make([]string, len(seqs))
	for i, s := range seqs {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, ", ")
}

func size(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

// purgeOnSchedule runs the purge that purger returns every interval until
// ctx ends, the first time shortly after the start.
// It holds busy while it purges.
func purgeOnSchedule(ctx context.Context, purger func() *retention.Purger, interval time.Duration, busy *sync.Mutex, sign func(), m *metrics.Metrics, logger *slog.Logger) {
	if interval <= 0 {
		return
	}
	first := time.NewTimer(min(interval, time.Minute))
	defer first.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-first.C:
		case <-tick.C:
		}
		p := purger() // the policy in force now (a reload may change it)
		busy.Lock()
		start := time.Now()
		rep, err := p.Run(ctx, false)
		busy.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				m.RetentionFailures.Inc()
				logger.Error("retention purge failed; it will be retried", "err", err)
			}
			continue
		}
		for _, l := range rep.Layers {
			m.RetentionErased.WithLabelValues(l.Layer).Add(float64(l.Erased))
			if l.Erased > 0 || l.Held > 0 {
				logger.Info("retention purge", "layer", l.Layer, "erased", l.Erased, "held", l.Held, "first", l.First, "last", l.Last)
			}
		}
		if pr := rep.Prune; pr.Size > pr.From {
			m.RetentionErased.WithLabelValues(record.LayerSealed).Add(float64(pr.Size - pr.From))
			logger.Info("retention purge: pruned sealed records", "from", pr.From, "to", pr.Size-1, "event", pr.Event)
		}
		if rep.Deleted() {
			logger.Info("retention purge finished", "took", time.Since(start).Round(time.Millisecond))
			sign()
		}
	}
}

// loadHolds opens the log and reads every legal hold; the caller closes
// the log.
func loadHolds(ctx context.Context, load func() (config.Config, error)) (*auditLog, []store.Hold, error) {
	al, err := loadLog(ctx, load)
	if err != nil {
		return nil, nil, err
	}
	holds, err := al.store.Holds(ctx)
	if err != nil {
		al.Close()
		return nil, nil, err
	}
	return al, holds, nil
}

// runHold sets, lists and releases legal holds.
func runHold(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand("hold", args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("hold "+sub, flag.ContinueOnError)
	load := configFlags(fs, e)
	switch sub {
	case "add":
		var h store.Hold
		var since, until, expires string
		fs.StringVar(&h.Reason, "reason", "", "why: the matter or case (required; recorded)")
		fs.StringVar(&h.Actor, "actor", "", "hold the records of this `actor`")
		fs.StringVar(&h.Session, "session", "", "hold the records of this `session`")
		fs.StringVar(&h.Model, "model", "", "hold the records of this `model`")
		fs.StringVar(&since, "since", "", "hold records from this `time`: "+timespec.Syntax+" ago")
		fs.StringVar(&until, "until", "", "hold records before this `time` (same forms as --since)")
		fs.StringVar(&h.Text, "text", "", "hold interactions whose stored (redacted) prompt or answer contains this `text` (any case)")
		fs.StringVar(&expires, "expires", "", "the hold ends by itself at this `time` (a duration counts from now: 30d; default: only when released)")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if strings.TrimSpace(h.Reason) == "" {
			return usageError("hold add needs --reason: every hold is recorded with why it was set")
		}
		now := time.Now()
		for _, t := range []struct {
			flag, v string
			to      *int64
			parse   func(string, time.Time) (time.Time, error)
		}{{"--since", since, &h.Since, timespec.Parse}, {"--until", until, &h.Until, timespec.Parse}, {"--expires", expires, &h.Expires, timespec.ParseAhead}} {
			if t.v == "" {
				continue
			}
			v, err := t.parse(t.v, now)
			if err != nil {
				return usageError("%s: %v", t.flag, err)
			}
			*t.to = v.UnixNano()
		}
		cfg, err := load()
		if err != nil {
			return err
		}
		if h.Text != "" {
			// Stored bodies are redacted: a value the redactor replaces is
			// never in them, and a text hold on it would hold nothing.
			red, err := newRedactor(cfg.Redact)
			if err != nil {
				return err
			}
			if _, found := red.Redact(h.Text); len(found) > 0 {
				return withHint(usageError("--text %q holds a value the redactor replaces (%s): stored bodies never contain it", h.Text, found[0].Type),
					"hold by --actor or --session; 'aitrail find' lists the interactions that held such a value")
			}
		}
		w, err := openWriter(ctx, e, cfg)
		if err != nil {
			return err
		}
		defer w.Close()
		h, err = retention.AddHold(ctx, w.al.store, w.led, h, "cli:"+currentUser(), "admin", now)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", h.ID)
		fmt.Fprintf(e.stderr, "hold %s set: every purge keeps %s\n", h.ID, retention.Criteria(h))
		return nil
	case "list":
		all := fs.Bool("all", false, "also list released and expired holds")
		asJSON := fs.Bool("json", false, "one JSON object per hold, as the holds API shows it")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 0 {
			return usageError("hold list takes no arguments")
		}
		al, holds, err := loadHolds(ctx, load)
		if err != nil {
			return err
		}
		defer al.Close()
		now := time.Now()
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			for _, h := range holds {
				if *all || retention.Open(h, now) {
					if err := enc.Encode(retention.View(h, now)); err != nil {
						return err
					}
				}
			}
			return nil
		}
		printHolds(e.stdout, holds, *all, now)
		return nil
	case "release":
		reason := fs.String("reason", "", "why it is released (required; recorded)")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageError("hold release needs one hold id: aitrail hold release ID --reason \"...\"")
		}
		if strings.TrimSpace(*reason) == "" {
			return usageError("hold release needs --reason: every release is recorded with why")
		}
		w, err := loadWriter(ctx, e, load)
		if err != nil {
			return err
		}
		defer w.Close()
		if err := retention.ReleaseHold(ctx, w.al.store, w.led, fs.Arg(0), *reason, "cli:"+currentUser(), "admin", time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return withHint(err, "aitrail hold list shows the holds")
			}
			return err
		}
		fmt.Fprintf(e.stderr, "hold %s released: the next purge may delete what it kept\n", fs.Arg(0))
		return nil
	}
	return usageError("unknown hold subcommand %q", sub)
}

func printHolds(out io.Writer, holds []store.Hold, all bool, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSET\tBY\tMATCHES\tREASON")
	for _, h := range holds {
		state := "open"
		switch {
		case h.ReleasedAt != 0:
			state = "released " + time.Unix(0, h.ReleasedAt).UTC().Format(time.DateOnly)
		case !retention.Open(h, now):
			state = "expired"
		case h.Expires != 0:
			state = "open until " + time.Unix(0, h.Expires).UTC().Format(time.RFC3339)
		}
		if !all && !retention.Open(h, now) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, state, time.Unix(0, h.CreatedAt).UTC().Format(time.RFC3339),
			h.CreatedBy, retention.Criteria(h), h.Reason)
	}
	tw.Flush()
}

// runErase carries out a data subject's erasure request.
func runErase(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	load := configFlags(fs, e)
	value := piiValueFlags(fs)
	reason := fs.String("reason", "", "the request's reference: ticket, letter (required; recorded)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	typ, v, err := value()
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usageError("erase needs --reason: every erasure request is recorded with its reference")
	}
	w, err := loadWriter(ctx, e, load)
	if err != nil {
		return err
	}
	defer w.Close()
	if w.al.pii == nil {
		return withHint(errors.New("this log has no PII index key"), "the index is kept from the first start of a gateway that redacts")
	}
	refs, err := w.al.store.FindPII(ctx, "", w.al.pii.MAC(typ, v))
	if err != nil {
		return err
	}
	logs, results, err := retention.EraseAll(ctx, retention.ErasureRequest{Type: typ, Refs: refs, Reason: *reason},
		func(id string) (*retention.Purger, func(), error) {
			p := w.purger()
			if id == w.al.logID {
				return p, func() {}, nil
			}
			// Another node's log in the shared database: its appends are
			// serialised with the node's own (the store locks the log).
			led := ledger.New(w.al.store, id, ledger.Options{})
			p.Ledger = led
			return p, func() { led.Close() }, nil
		})
	held := false
	for _, id := range logs {
		held = printErasure(e.stdout, id, results[id], w.vault != nil) || held
	}
	if err != nil {
		return err
	}
	if len(logs) == 0 {
		fmt.Fprintln(e.stdout, "No record holds that value; nothing to erase.")
		return nil
	}
	if slices.Contains(logs, w.al.logID) {
		if err := w.al.signCheckpoint(ctx); err != nil {
			return err
		}
	}
	if held {
		return &exitError{code: 1}
	}
	return nil
}

// printErasure prints what an erasure request did on one log, and reports
// whether a legal hold kept it from erasing.
func printErasure(out io.Writer, logID string, res *retention.ErasureResult, vault bool) (held bool) {
	switch {
	case len(res.Records) == 0:
		fmt.Fprintf(out, "No record of log %s holds that value; nothing to erase.\n", logID)
		return false
	case len(res.Held) > 0:
		fmt.Fprintf(out, "Nothing erased in log %s: %d of the %d records are under legal hold (request recorded as event %d).\n",
			logID, len(res.Held), len(res.Records), res.Event)
		for _, h := range res.Held {
			fmt.Fprintf(out, "  record %d: hold %s (%s)\n", h.Seq, h.Hold.ID, h.Hold.Reason)
		}
		return true
	}
	fmt.Fprintf(out, "Erased the bodies of %d records of log %s (%s); request recorded as event %d.\n",
		len(res.Records), logID, seqRanges(res.Records), res.Event)
	for _, layer := range retention.Layers {
		if n, ok := res.Erased[layer]; ok {
			fmt.Fprintf(out, "  %s: %d\n", layer, n)
		}
	}
	if !vault {
		fmt.Fprintf(out, "  raw: no vault\n")
	}
	return false
}

func seqRanges(seqs []int64) string {
	var parts []string
	for _, r := range record.Compress(seqs) {
		if r[0] == r[1] {
			parts = append(parts, fmt.Sprint(r[0]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r[0], r[1]))
		}
	}
	return strings.Join(parts, ", ")
}

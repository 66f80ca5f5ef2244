package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/query"
)

func runQuery(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	load := configFlags(fs, e)
	var f query.Filter
	var since, until, on string
	var asJSON bool
	fs.StringVar(&f.Actor, "actor", "", "only calls by this `actor`")
	fs.StringVar(&f.Session, "session", "", "only calls in this `session`")
	fs.StringVar(&f.Model, "model", "", "only calls to this `model`")
	fs.StringVar(&f.Status, "status", "", "only calls with this `status`: ok, error, denied, blocked, client_aborted, interrupted, in_progress")
	fs.StringVar(&since, "since", "", "from this `time` on: RFC 3339, a date (YYYY-MM-DD, UTC) or a duration ago (24h)")
	fs.StringVar(&until, "until", "", "before this `time` (same forms as --since)")
	fs.StringVar(&on, "on", "", "on this `date` (YYYY-MM-DD, UTC)")
	fs.IntVar(&f.Limit, "limit", 0, "at most `N` interactions (0: all)")
	fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("query takes only flags, got %q", fs.Arg(0))
	}
	now := time.Now()
	var err error
	if f.Since, err = parseTime(since, now); err != nil {
		return usageError("--since: %v", err)
	}
	if f.Until, err = parseTime(until, now); err != nil {
		return usageError("--until: %v", err)
	}
	if on != "" {
		d, err := time.Parse(time.DateOnly, on)
		if err != nil {
			return usageError("--on %q: want a date like 2026-03-14", on)
		}
		f.Since, f.Until = d, d.AddDate(0, 0, 1)
	}
	al, err := loadLog(ctx, load)
	if err != nil {
		return err
	}
	defer al.Close()
	its, err := query.Run(ctx, al.store, f)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for i := range its {
			if err := enc.Encode(&its[i]); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range its {
		printInteraction(e.stdout, &its[i])
	}
	if len(its) == 0 {
		fmt.Fprintln(e.stderr, "no interactions match")
	}
	return nil
}

// parseTime reads RFC 3339, a date (UTC midnight), or a duration before now.
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 2026-03-14T09:00:00Z, 2026-03-14 or 24h", s)
}

func printInteraction(w io.Writer, it *query.Interaction) {
	model := it.Model
	if it.ModelDigest != "" {
		model += "@" + it.ModelDigest[:min(12, len(it.ModelDigest))]
	}
	who := it.Actor + " (" + it.Role + ")"
	if it.Actor == "" {
		who = "(anonymous)"
	}
	fmt.Fprintf(w, "#%d  %s  %s  %s  %s  %s", it.Seq, it.Time, who, it.Endpoint, model, it.Status)
	if it.TokensIn >= 0 || it.TokensOut >= 0 {
		fmt.Fprintf(w, "  tokens %d in, %d out", it.TokensIn, it.TokensOut)
	}
	if it.LatencyMS > 0 {
		fmt.Fprintf(w, "  %.1f ms", it.LatencyMS)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    client %s  request-id %s", it.ClientIP, it.CorrelationID)
	if it.Session != "" {
		fmt.Fprintf(w, "  session %s", it.Session)
	}
	if it.Reason != "" {
		fmt.Fprintf(w, "  reason %q", it.Reason)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    asked:    %s\n", indent(it.Prompt))
	if it.Thinking != "" {
		fmt.Fprintf(w, "    thought:  %s\n", indent(it.Thinking))
	}
	switch {
	case it.Embeddings > 0:
		fmt.Fprintf(w, "    answered: [%d embedding vectors]\n", it.Embeddings)
	case it.Response != "" || it.ResponseSeq != nil:
		fmt.Fprintf(w, "    answered: %s\n", indent(it.Response))
	}
	if len(it.ToolCalls) > 0 {
		fmt.Fprintf(w, "    tools:    %s\n", it.ToolCalls)
	}
	if it.Error != "" {
		fmt.Fprintf(w, "    error:    %s\n", it.Error)
	}
	if it.BodiesErased {
		fmt.Fprintf(w, "    (bodies erased under the retention policy or an erasure request; the sealed record remains)\n")
	}
	fmt.Fprintln(w)
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n              ")
}

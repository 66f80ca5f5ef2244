package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/query"
	"github.com/aitrail/aitrail/internal/timespec"
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
	fs.StringVar(&f.Status, "status", "", "only calls with this `status`: "+strings.Join(query.Statuses, ", "))
	fs.StringVar(&since, "since", "", "from this `time` on: "+timespec.Syntax+" ago")
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
	if err := query.CheckStatus(f.Status); err != nil {
		return usageError("--status %v", err)
	}
	var err error
	if f.Since, f.Until, err = timeRange(since, until, time.Now()); err != nil {
		return err
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
	nodes := map[string]bool{}
	for i := range its {
		nodes[its[i].LogID] = true
	}
	for i := range its {
		printInteraction(e.stdout, &its[i], len(nodes) > 1)
	}
	if len(its) == 0 {
		fmt.Fprintln(e.stderr, "no interactions match")
	}
	return nil
}

// timeRange reads --since and --until ("" is no bound).
func timeRange(since, until string, now time.Time) (from, to time.Time, err error) {
	if since != "" {
		if from, err = timespec.Parse(since, now); err != nil {
			return from, to, usageError("--since: %v", err)
		}
	}
	if until != "" {
		if to, err = timespec.Parse(until, now); err != nil {
			return from, to, usageError("--until: %v", err)
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, usageError("--since %s is not before --until %s", since, until)
	}
	return from, to, nil
}

// printInteraction prints one interaction for a person; with node, the log
// (node) it is in.
func printInteraction(w io.Writer, it *query.Interaction, node bool) {
	model := it.Model
	if it.ModelDigest != "" {
		model += "@" + it.ModelDigest[:min(12, len(it.ModelDigest))]
	}
	who := it.Actor + " (" + it.Role + ")"
	if it.Actor == "" {
		who = "(anonymous)"
	}
	where := "#" + strconv.FormatInt(it.Seq, 10)
	if node {
		where = it.LogID + where
	}
	fmt.Fprintf(w, "%s  %s  %s  %s  %s  %s", where, it.Time, who, it.Endpoint, model, it.Status)
	if it.TokensIn != nil || it.TokensOut != nil {
		fmt.Fprintf(w, "  tokens %s in, %s out", count(it.TokensIn), count(it.TokensOut))
	}
	if it.LatencyMS != nil && *it.LatencyMS > 0 {
		fmt.Fprintf(w, "  %.1f ms", *it.LatencyMS)
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

// count prints a count that may be unknown.
func count(n *int64) string {
	if n == nil {
		return "?"
	}
	return strconv.FormatInt(*n, 10)
}

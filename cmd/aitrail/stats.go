package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aitrail/aitrail/internal/stats"
	"github.com/aitrail/aitrail/internal/timespec"
)

// runStats prints usage figures computed from the log.
func runStats(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	load := configFlags(fs, e)
	var since, until string
	var f stats.Filter
	fs.StringVar(&since, "since", "", "count calls from this `time` on: "+timespec.Syntax+" ago")
	fs.StringVar(&until, "until", "", "count calls before this `time` (same forms as --since)")
	fs.StringVar(&f.By, "by", "", "one line per `group`: "+strings.Join(stats.Dimensions, ", ")+" (default: the total only)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("stats takes only flags, got %q", fs.Arg(0))
	}
	var err error
	if f.Since, f.Until, err = timeRange(since, until, time.Now()); err != nil {
		return err
	}
	if f.By != "" && !slices.Contains(stats.Dimensions, f.By) {
		return usageError("--by %q: use %s", f.By, strings.Join(stats.Dimensions, ", "))
	}
	al, err := loadLog(ctx, load)
	if err != nil {
		return err
	}
	defer al.Close()
	rep, err := stats.Compute(ctx, al.store, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	printStats(e.stdout, rep)
	return nil
}

func printStats(w io.Writer, rep *stats.Report) {
	from, to := rep.Since, rep.Until
	if from == "" {
		from = "the start of the log"
	}
	if to == "" {
		to = "now"
	}
	fmt.Fprintf(w, "Model calls from %s to %s\n\n", from, to)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := strings.ToUpper(rep.By)
	if head == "" {
		head = " "
	}
	fmt.Fprintf(tw, "%s\tCALLS\tTOKENS_IN\tTOKENS_OUT\tOK\tERRORS\tDENIED\tBLOCKED\tP50_MS\tP95_MS\t\n", head)
	row := func(name string, f stats.Figures) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", name, f.Calls, f.TokensIn, f.TokensOut,
			f.OK, f.Errors, f.Denied, f.Blocked, ms(f.LatencyP50MS), ms(f.LatencyP95MS))
	}
	for _, g := range rep.Groups {
		row(g.Group, g)
	}
	row("total", rep.Total)
	tw.Flush()
	if rep.Total.Unknown > 0 {
		fmt.Fprintf(w, "\n%d answered calls had no token counts from the upstream (not in the token totals)\n", rep.Total.Unknown)
	}
}

func ms(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *v)
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	load := configFlags(fs, e)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cantRun := func(err error) error { return &exitError{code: 2, err: err} }
	cfg, err := load()
	if err != nil {
		return cantRun(err)
	}
	al, err := openLog(ctx, cfg, false)
	if err != nil {
		return cantRun(err)
	}
	defer al.Close()
	logs, err := al.store.Logs(ctx)
	if err != nil {
		return cantRun(err)
	}
	start := time.Now()
	type logReport struct {
		Log      string           `json:"log"`
		OK       bool             `json:"ok"`
		Records  int64            `json:"records"`
		Bodies   int64            `json:"bodies"`
		Head     string           `json:"head"`
		Problems []ledger.Problem `json:"problems"`
	}
	var reps []logReport
	ok := true
	for _, id := range logs {
		rep, err := ledger.Verify(ctx, al.store, id, al.committer)
		if err != nil {
			return cantRun(fmt.Errorf("verify log %q: %w", id, err))
		}
		ok = ok && rep.OK()
		reps = append(reps, logReport{Log: id, OK: rep.OK(), Records: rep.Records, Bodies: rep.Bodies,
			Head: rep.Head.String(), Problems: rep.Problems})
	}
	if *asJSON {
		out := map[string]any{"ok": ok, "logs": reps, "seconds": time.Since(start).Seconds()}
		if ok {
			var n int64
			for _, r := range reps {
				n += r.Records
			}
			out["records"] = n
		} else {
			for _, r := range reps {
				if len(r.Problems) > 0 {
					out["first_bad_seq"] = r.Problems[0].Seq
					out["first_bad_log"] = r.Log
					break
				}
			}
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	} else {
		for _, r := range reps {
			if r.OK {
				fmt.Fprintf(e.stdout, "log %s: intact: %d records, %d bodies checked, head %s\n", r.Log, r.Records, r.Bodies, r.Head)
				continue
			}
			fmt.Fprintf(e.stdout, "log %s: TAMPERED: first bad record is %d: %s\n", r.Log, r.Problems[0].Seq, r.Problems[0].Cause)
			const show = 20
			for i, p := range r.Problems {
				if i == show {
					fmt.Fprintf(e.stdout, "  ... and %d more problems (--json lists them all)\n", len(r.Problems)-show)
					break
				}
				fmt.Fprintf(e.stdout, "  record %d: %s\n", p.Seq, p.Cause)
			}
		}
		if len(reps) == 0 {
			fmt.Fprintln(e.stdout, "the audit database holds no log yet")
		}
	}
	if !ok {
		return &exitError{code: 1}
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/backup"
	"github.com/aitrail/aitrail/internal/fleet"
	"github.com/aitrail/aitrail/internal/ledger"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	load := configFlags(fs, e)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var keys stringList
	fs.Var(&keys, "key", "trust checkpoints signed by this verifier `key` (repeatable); default: the log's own key file and log_keys")
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
	tk, err := loadTrustKeys(ctx, al, keys)
	if err != nil {
		return cantRun(err)
	}
	// Every log the database, the anchors or this machine's keys know of:
	// a log wiped from the database is still expected.
	logs, err := al.store.Logs(ctx)
	if err != nil {
		return cantRun(err)
	}
	expected := map[string]string{} // log id -> why it must exist
	if al.vkey != "" {
		expected[al.logID] = "this gateway's signing key is in " + cfg.Data
	}
	// A damaged anchor file is tampering, reported with every log; an
	// unreadable one means verification cannot run.
	var damaged []ledger.Problem
	readAnchor := func(err error) error {
		var me *anchor.MalformedError
		if errors.As(err, &me) {
			damaged = append(damaged, ledger.Problem{Seq: 0, Cause: "anchor damaged: " + me.Error()})
			return nil
		}
		if err != nil {
			return cantRun(fmt.Errorf("read anchor: %w", err))
		}
		return nil
	}
	for _, f := range cfg.AnchorFiles() {
		ids, err := anchor.NewFile(f).Logs(ctx)
		if err := readAnchor(err); err != nil {
			return err
		}
		for _, id := range ids {
			if id != fleet.AnchorID {
				expected[id] = "the anchor " + f + " holds its checkpoints"
			}
		}
	}
	for id := range tk.db {
		expected[id] = "its node recorded its verifier key in the database"
	}
	for _, id := range logs {
		delete(expected, id)
	}
	for id := range expected {
		logs = append(logs, id)
	}
	slices.Sort(logs)
	links, err := backup.Links(ctx, al.store, logs)
	if err != nil {
		return cantRun(err)
	}
	start := time.Now()
	type logReport struct {
		Log         string           `json:"log"`
		OK          bool             `json:"ok"`
		Records     int64            `json:"records"`
		Bodies      int64            `json:"bodies"`
		Head        string           `json:"head"`
		Root        string           `json:"root"`
		Checkpoints int64            `json:"checkpoints"`
		Anchored    int64            `json:"anchored"`
		Covered     int64            `json:"covered"`
		Uncovered   int64            `json:"uncovered"`
		Erased      int64            `json:"erased"`
		Pruned      int64            `json:"pruned"`
		Problems    []ledger.Problem `json:"problems"`
		Warnings    []ledger.Problem `json:"warnings"`
		Trust       string           `json:"trust_anchor"`
		TrustNote   string           `json:"trust_warning,omitempty"`
		Restore     *restoreGap      `json:"restore,omitempty"`
		Hint        string           `json:"hint,omitempty"`
	}
	var reps []logReport
	ledgerReps := map[string]*ledger.Report{}
	ok := true
	var trusted []string
	for _, id := range logs {
		tr, err := tk.forLog(id)
		if err != nil {
			return cantRun(err)
		}
		trusted = append(trusted, tr.keys...)
		opts := ledger.VerifyOptions{Committer: al.committer, Verifiers: tr.verifiers, StoredTree: true}
		restoreLinks(&opts, links, id)
		for _, f := range cfg.AnchorFiles() {
			notes, err := anchor.NewFile(f).Checkpoints(ctx, id)
			if err := readAnchor(err); err != nil {
				return err
			}
			opts.Anchored = append(opts.Anchored, notes...)
		}
		rep, err := ledger.Verify(ctx, al.store, id, opts)
		if err != nil {
			return cantRun(fmt.Errorf("verify log %q: %w", id, err))
		}
		if len(damaged) > 0 {
			rep.Problems = append(slices.Clone(damaged), rep.Problems...)
			damaged = damaged[:0] // once per verify, with the first log
		}
		origin, err := checkOriginKey(ctx, al.store, id, tr)
		if err != nil {
			return cantRun(fmt.Errorf("verify log %q: %w", id, err))
		}
		if extra := append(tr.problems, origin...); len(extra) > 0 {
			rep.Problems = append(extra, rep.Problems...)
		}
		if why, ok := expected[id]; ok && rep.Records == 0 {
			rep.Problems = append([]ledger.Problem{{Seq: 0, Cause: "the log is missing from the database, but " + why + ": deleted or replaced"}}, rep.Problems...)
		}
		ledgerReps[id] = rep
		hint := behindHint(ctx, al, id, rep, links, tr.verifiers, opts.Anchored)
		ok = ok && rep.OK()
		reps = append(reps, logReport{Log: id, OK: rep.OK(), Records: rep.Records, Bodies: rep.Bodies,
			Head: rep.Head.String(), Root: rep.Root.String(), Checkpoints: rep.Checkpoints, Anchored: rep.Anchored,
			Covered: rep.Covered, Uncovered: max(rep.Pruned+rep.Records-rep.Covered, 0), Erased: rep.Erased, Pruned: rep.Pruned,
			Problems: rep.Problems, Warnings: rep.Warnings, Hint: hint, Trust: tr.anchor, TrustNote: tr.warning})
	}
	// A log restored from a backup and the log that continues it: the link
	// must hold, and the gap is reported.
	all, err := noteVerifiers(append(trusted, al.retired...))
	if err != nil {
		return cantRun(err)
	}
	gaps := []restoreGap{}
	for i := range reps {
		r := &reps[i]
		if link := links[r.Log]; link != nil {
			bad := ledger.CheckRestore(link, ledgerReps[link.Log], all)
			for _, p := range bad {
				r.Problems = append(r.Problems, ledger.Problem{Seq: 0, Cause: "log.restored: " + p})
			}
			for j := range reps {
				// The handover is the old key's signature on the restored
				// size and root, as a checkpoint's would be.
				if o := &reps[j]; len(bad) == 0 && o.Log == link.Log && o.Covered < link.Size {
					o.Covered, o.Uncovered = link.Size, 0
				}
			}
			var missing int64
			if old := ledgerReps[link.Log]; old != nil {
				missing = old.Missing
			}
			g := gapOf(link, missing)
			r.Restore, gaps = &g, append(gaps, g)
		} else if link := links.ContinuedIn(r.Log); link != nil {
			g := gapOf(link, ledgerReps[r.Log].Missing)
			r.Restore = &g
		}
		r.OK = len(r.Problems) == 0
		ok = ok && r.OK
	}
	fr, err := verifyFleet(ctx, al, logs, trusted)
	if err != nil {
		return cantRun(fmt.Errorf("verify the fleet checkpoints: %w", err))
	}
	if fr != nil {
		ok = ok && fr.OK
	}
	if *asJSON {
		out := map[string]any{"ok": ok, "logs": reps, "seconds": time.Since(start).Seconds(), "restore_gaps": gaps}
		if fr != nil {
			out["fleet"] = fr
		}
		var n int64
		for _, r := range reps {
			n += r.Records
			if len(r.Problems) > 0 && out["first_bad_seq"] == nil {
				out["first_bad_seq"] = r.Problems[0].Seq
				out["first_bad_log"] = r.Log
			}
		}
		out["records"] = n
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	} else {
		for _, r := range reps {
			if !r.OK {
				fmt.Fprintf(e.stdout, "log %s: TAMPERED: first bad record is %d: %s\n", r.Log, r.Problems[0].Seq, r.Problems[0].Cause)
				fmt.Fprintf(e.stdout, "  trust anchor: %s\n", r.Trust)
				const show = 20
				for i, p := range r.Problems {
					if i == show {
						fmt.Fprintf(e.stdout, "  ... and %d more problems (--json lists them all)\n", len(r.Problems)-show)
						break
					}
					fmt.Fprintf(e.stdout, "  record %d: %s\n", p.Seq, p.Cause)
				}
				if r.Hint != "" {
					fmt.Fprintf(e.stdout, "  hint: %s\n", r.Hint)
				}
				continue
			}
			fmt.Fprintf(e.stdout, "log %s: intact: %d records, %d bodies checked, head %s\n", r.Log, r.Records, r.Bodies, r.Head)
			fmt.Fprintf(e.stdout, "  trust anchor: %s\n", r.Trust)
			if r.TrustNote != "" {
				fmt.Fprintf(e.stdout, "  warning: %s\n", r.TrustNote)
			}
			if r.Pruned > 0 {
				fmt.Fprintf(e.stdout, "  records 0 to %d pruned under the retention policy (a log.pruned event records it); verified from the signed checkpoint at %d\n", r.Pruned-1, r.Pruned)
			}
			if r.Erased > 0 {
				fmt.Fprintf(e.stdout, "  %d bodies erased per policy (each named by a body.erased event)\n", r.Erased)
			}
			for _, w := range r.Warnings {
				fmt.Fprintf(e.stdout, "  warning: record %d: %s\n", w.Seq, w.Cause)
			}
			if g := r.Restore; g != nil {
				fmt.Fprintf(e.stdout, "  RESTORED FROM A BACKUP: %s\n", g.Message)
			}
			switch {
			case r.Checkpoints == 0:
				fmt.Fprintf(e.stdout, "  no signed checkpoint checked: the records are consistent, but nothing outside the database vouches for them yet\n")
			case r.Uncovered == 0:
				fmt.Fprintf(e.stdout, "  all %d records covered by signed checkpoints (%d checked, %d from anchors)\n", r.Records, r.Checkpoints, r.Anchored)
			default:
				fmt.Fprintf(e.stdout, "  records %d to %d covered by signed checkpoints (%d checked, %d from anchors); the %d records after are not yet covered\n",
					r.Pruned, r.Covered-1, r.Checkpoints, r.Anchored, r.Uncovered)
			}
		}
		if len(reps) == 0 {
			fmt.Fprintln(e.stdout, "the audit database holds no log yet")
		}
		printFleet(e.stdout, fr)
	}
	if !ok {
		return &exitError{code: 1}
	}
	if len(gaps) > 0 {
		if !*asJSON {
			fmt.Fprintf(e.stdout, "intact, but records are missing: the log was restored from a backup (a log.restored event records it); exit 3\n")
		}
		return &exitError{code: 3}
	}
	return nil
}

// verifierList returns the keys trusted to sign checkpoints: those given
// with --key, else the log's own verifier key and the configured log_keys.
func verifierList(al *auditLog, flagKeys []string) (note.Verifiers, error) {
	keys := flagKeys
	if len(keys) == 0 {
		keys = append(keys, al.cfg.LogKeys...)
		keys = append(keys, al.retired...)
		if al.vkey != "" {
			keys = append(keys, al.vkey)
		}
	}
	return noteVerifiers(keys)
}

// noteVerifiers parses verifier keys (nil for none). A key given twice
// counts once (note.VerifierList refuses a repeated key as ambiguous).
func noteVerifiers(keys []string) (note.Verifiers, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var vs []note.Verifier
	for _, k := range slices.Compact(slices.Sorted(slices.Values(keys))) {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, withHint(fmt.Errorf("verifier key %q: %w", k, err), "a verifier key looks like NAME+HASH+BASE64; aitrail keys log-key prints the log's")
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

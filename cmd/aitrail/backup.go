package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/backup"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
)

// runBackup makes a backup of the data directory while serve runs:
//
//	aitrail backup -o DIR|FILE.tar [--log-key-out FILE] [--vault-key-out FILE]
func runBackup(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	load := configFlags(fs, e)
	var out string
	fs.StringVar(&out, "o", "", "the backup to make: a new `directory`, or a file ending in .tar")
	fs.StringVar(&out, "out", "", "the same as -o")
	logKeyOut := fs.String("log-key-out", "", "also write the log's signing key to this new `file` (keep it apart from the backup)")
	vaultKeyOut := fs.String("vault-key-out", "", "also write the vault's master key to this new `file` (keep it apart from the backup)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if out == "" || fs.NArg() != 0 {
		return usageError("backup needs -o DIR (or -o FILE.tar), and takes no arguments")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	vaultEnv, _ := e.lookupEnv("AITRAIL_VAULT_KEY")
	for _, p := range []string{*logKeyOut, *vaultKeyOut} {
		if p != "" && within(p, out) {
			return usageError("%s is inside the backup %s: the keys must be kept apart from the data they protect", p, out)
		}
	}
	m, err := backup.Create(ctx, backup.Options{Config: cfg, Out: out, LogKeyOut: *logKeyOut, VaultKeyOut: *vaultKeyOut,
		VaultKey: vaultEnv, Version: version})
	if err != nil {
		return withHint(fmt.Errorf("backup: %w", err), "nothing was written; aitrail backup can run while serve runs")
	}
	fmt.Fprintf(e.stdout, "backup written to %s (%d files, manifest %s)\n", out, len(m.Files), backup.ManifestName)
	for _, l := range m.Logs {
		fmt.Fprintf(e.stdout, "  log %s: %d records (head %s), last signed checkpoint at %d\n", l.Log, l.Size, short(l.Head), l.CheckpointSize)
	}
	if !m.DatabaseIncluded {
		fmt.Fprintf(e.stdout, "  the PostgreSQL database is NOT in this backup: back it up with pg_dump (pg_dump --format=custom -f aitrail.dump DATABASE_URL) or point-in-time recovery, at the same time; this backup holds the key files and anchors that the database needs\n")
	}
	fmt.Fprintln(e.stdout, "kept apart (not in the backup):")
	for _, a := range m.Apart {
		if a.Output != "" {
			fmt.Fprintf(e.stdout, "  %s: written to %s; store it apart from the backup (another medium, a password safe), never beside it\n", a.What, a.Output)
		} else {
			flagName := "--log-key-out"
			if strings.HasPrefix(a.What, "vault") {
				flagName = "--vault-key-out"
			}
			fmt.Fprintf(e.stdout, "  %s: NOT written (%s); a restore needs it: keep a copy apart, or run the backup with %s FILE\n", a.What, a.From, flagName)
		}
	}
	return nil
}

// within reports whether path is at or under dir.
func within(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	return p == d || strings.HasPrefix(p, d+string(filepath.Separator))
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	if h == "" {
		return "none"
	}
	return h
}

// runRestore restores a backup into an empty data directory:
//
//	aitrail restore FROM --data DIR --log-key FILE [--vault-key FILE]
func runRestore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	load := configFlags(fs, e)
	logKey := fs.String("log-key", "", "the `file` with the log's signing key (what backup --log-key-out wrote)")
	vaultKey := fs.String("vault-key", "", "the `file` with the vault's master key (what backup --vault-key-out wrote)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("restore needs one backup: aitrail restore FROM --data DIR --log-key FILE [--vault-key FILE]")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	_, inEnv := e.lookupEnv("AITRAIL_VAULT_KEY")
	res, err := backup.Restore(ctx, backup.RestoreOptions{From: fs.Arg(0), Config: cfg, LogKey: *logKey, VaultKey: *vaultKey, VaultKeyInEnv: inEnv})
	if err != nil {
		return withHint(fmt.Errorf("restore: %w", err), "nothing was put in place; restore into an empty or new --data directory, from a complete backup")
	}
	fmt.Fprintf(e.stdout, "restored %s into %s\n", fs.Arg(0), cfg.Data)
	for _, l := range res.Manifest.Logs {
		fmt.Fprintf(e.stdout, "  log %s: %d records verified (head %s), as backed up at %s\n", l.Log, l.Size, short(l.Head), res.Manifest.Created)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(e.stdout, "  note: %s\n", n)
	}
	if g := res.Gap; g != nil {
		fmt.Fprintf(e.stdout, "  the anchors hold a checkpoint of log %s with %d records: records %d..%d were recorded after this backup and are missing; 'aitrail serve' will record that and continue in a new log\n",
			g.LogID, g.Anchored.Size, g.Size, g.Anchored.Size-1)
	}
	return nil
}

// retiredKeys reads the verifier keys of the logs this node wrote before a
// restore.
func retiredKeys(c config.Config) ([]string, error) {
	ks, err := backup.VerifierKeys(c)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range ks {
		if !k.Current {
			out = append(out, k.Key)
		}
	}
	return out, nil
}

// continueAfterRestore runs at serve's start: a log behind its anchors (a
// restored backup) is continued in a new log that records the gap, and a
// log that continues one says so at every start.
func continueAfterRestore(ctx context.Context, al *auditLog, logger *slog.Logger) error {
	cont, err := backup.Continue(ctx, al.store, al.cfg, al.logID, al.skey, al.vkey)
	var fork *ledger.ForkError
	if errors.As(err, &fork) {
		logger.Error("the log contradicts its anchored checkpoints: it was rewritten or forked; no checkpoint will be signed over it (run aitrail verify)", "err", err)
		return nil
	}
	if err != nil {
		return withHint(fmt.Errorf("the log is behind its anchors, and cannot be continued: %w", err),
			"restore the log's signing key (aitrail restore --log-key FILE) into the data directory")
	}
	if cont != nil {
		al.retired = append(al.retired, al.vkey)
		al.logID, al.skey, al.vkey = cont.LogID, cont.SKey, cont.VKey
		logger.Error("RESTORED FROM A BACKUP: "+backup.Describe(cont.Restore)+
			"; give the new log's verifier key to your auditors and witnesses", "new_log", cont.LogID, "verifier_key", cont.VKey)
		return nil
	}
	r, err := ledger.ReadRestore(ctx, al.store, al.logID)
	if err != nil {
		return err
	}
	if r != nil {
		logger.Warn("restored from a backup: " + backup.Describe(r))
	}
	return nil
}

// restoreGap is a documented gap, as verify reports it.
type restoreGap struct {
	Log          string `json:"log"`          // the log restored from a backup
	ContinuedIn  string `json:"continued_in"` // the log that continues it
	Restored     int64  `json:"restored_records"`
	MissingFrom  int64  `json:"missing_from"`
	MissingTo    int64  `json:"missing_to"`
	AnchoredSize int64  `json:"anchored_size"`
	Message      string `json:"message"`
}

// restoreLinks sets up the verification of log id with what the
// log.restored events say: a log continued elsewhere ends at its restore,
// and a continuing log is checked with the key its handover vouches for.
func restoreLinks(opts *ledger.VerifyOptions, links backup.LinkMap, id string) {
	if r := links.ContinuedIn(id); r != nil {
		opts.Restored = r.Size
	}
	if r := links[id]; r != nil {
		opts.Verifiers = backup.WithHandover(opts.Verifiers, r)
	}
}

// gapOf returns the gap a log.restored event documents, with the missing
// range extended to the largest anchored checkpoint verify found.
func gapOf(r *record.Restore, missing int64) restoreGap {
	g := restoreGap{Log: r.Log, ContinuedIn: r.LogID, Restored: r.Size, MissingFrom: r.MissingFrom,
		MissingTo: max(r.MissingTo, missing-1), AnchoredSize: max(r.AnchoredSize, missing)}
	rr := *r
	rr.MissingTo, rr.AnchoredSize = g.MissingTo, g.AnchoredSize
	g.Message = backup.Describe(&rr)
	return g
}

// behindHint explains a log found rolled back that is a consistent prefix
// of its anchors, and whose restore no log.restored event records yet.
func behindHint(ctx context.Context, al *auditLog, id string, rep *ledger.Report, links backup.LinkMap, verifiers note.Verifiers, anchored [][]byte) string {
	if rep.OK() || verifiers == nil || links.ContinuedIn(id) != nil {
		return ""
	}
	gap, err := ledger.FindGap(ctx, al.store, id, verifiers, anchored)
	if err != nil || gap == nil {
		return ""
	}
	return fmt.Sprintf("the log is a consistent prefix of its anchored checkpoints: it was rolled back, or restored from a backup; "+
		"if restored, start 'aitrail serve', which records that records %d..%d are missing and continues in a new log", gap.Size, gap.Anchored.Size-1)
}

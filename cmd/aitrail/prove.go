package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/ledger"
)

// runProve writes a self-contained proof that one record is in the log.
func runProve(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("prove", flag.ContinueOnError)
	load := configFlags(fs, e)
	out := fs.String("o", "", "write the proof to this `file` (default: standard output)")
	logID := fs.String("log", "", "the `log` of the record (default: this gateway's node)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("prove needs one record number: aitrail prove SEQ [-o proof.json]")
	}
	seq, err := parseSeq("prove", fs.Arg(0))
	if err != nil {
		return err
	}
	al, err := loadLog(ctx, load)
	if err != nil {
		return err
	}
	defer al.Close()
	if *logID == "" {
		*logID = al.logID
	}
	if al.vkey == "" {
		return withHint(errors.New("no log verifier key"), "proofs need the log's checkpoints; run this where the gateway's data directory is")
	}
	rec, err := al.recordAt(ctx, *logID, seq)
	if err != nil {
		return err
	}
	cps, err := al.store.Checkpoints(ctx, *logID, seq+1)
	if err != nil {
		return err
	}
	if len(cps) == 0 && al.skey != "" && *logID == al.logID {
		// Not covered yet: sign a checkpoint now rather than wait.
		if err := al.signCheckpoint(ctx); err != nil {
			return err
		}
		cps, err = al.store.Checkpoints(ctx, *logID, seq+1)
		if err != nil {
			return err
		}
	}
	if len(cps) == 0 {
		return withHint(fmt.Errorf("record %d is not yet covered by a signed checkpoint", seq),
			"the gateway signs one at least every checkpoint.interval; try again then")
	}
	latest := cps[len(cps)-1]
	note, err := withCosignatures(ctx, al, *logID, latest.Note)
	if err != nil {
		return err
	}
	p, err := ledger.MakeProof(ctx, al.store, rec, note, al.vkey)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	b = append(b, '\n')
	if *out == "" {
		_, err := e.stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote the proof of record %d (in the signed tree of size %d) to %s\n", seq, p.TreeSize, *out)
	return nil
}

// withCosignatures returns the checkpoint note msg with every signature
// line that anchored copies of the same checkpoint carry (witnesses'
// cosignatures), so that a proof shows who else saw this tree.
func withCosignatures(ctx context.Context, al *auditLog, logID string, msg []byte) ([]byte, error) {
	text, sigs, ok := bytes.Cut(msg, []byte("\n\n"))
	if !ok {
		return msg, nil
	}
	seen := map[string]bool{}
	var lines [][]byte
	add := func(sigs []byte) {
		for _, l := range bytes.SplitAfter(sigs, []byte("\n")) {
			if len(l) > 0 && !seen[string(l)] {
				seen[string(l)] = true
				lines = append(lines, l)
			}
		}
	}
	add(sigs)
	for _, f := range al.cfg.AnchorFiles() {
		notes, err := anchor.NewFile(f).Checkpoints(ctx, logID)
		if err != nil {
			return nil, fmt.Errorf("read anchor: %w", err)
		}
		for _, n := range notes {
			if t, s, ok := bytes.Cut(n, []byte("\n\n")); ok && bytes.Equal(t, text) {
				add(s)
			}
		}
	}
	out := append(append(append([]byte(nil), text...), "\n\n"...), bytes.Join(lines, nil)...)
	return out, nil
}

// runVerifyProof checks a proof bundle offline.
func runVerifyProof(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("verify-proof", flag.ContinueOnError)
	key := fs.String("key", "", "the log's verifier `key`, as you know it independently (default: trust the bundle's)")
	var witnesses stringList
	fs.Var(&witnesses, "witness", "require a cosignature by the witness with this verifier `key` (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("verify-proof needs one file: aitrail verify-proof proof.json [--key VKEY]")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	p, err := ledger.ParseProof(b)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	r, err := p.Check(*key)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("proof does not hold: %w", err)}
	}
	var cosigned []string
	for _, w := range witnesses {
		at, err := anchor.VerifyCosignature([]byte(p.Checkpoint), w)
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("proof does not hold: %w", err)}
		}
		cosigned = append(cosigned, fmt.Sprintf("  cosigned by witness %s at %s", strings.SplitN(w, "+", 2)[0], at.UTC().Format(time.RFC3339)))
	}
	fmt.Fprintf(e.stdout, "proof holds: record %d of log %q is in the signed tree of size %d\n", r.Seq, r.LogID, p.TreeSize)
	for _, c := range cosigned {
		fmt.Fprintln(e.stdout, c)
	}
	fmt.Fprintf(e.stdout, "  %s  %s  actor %s (%s)  %s  model %s  status %s\n",
		r.TimeUTC().Format(time.RFC3339Nano), r.Kind, r.Actor, r.Role, r.Endpoint, r.Model, r.Status)
	if !r.RawHash.IsZero() {
		fmt.Fprintf(e.stdout, "  raw_hash %s (%d bytes)\n", r.RawHash, r.RawLen)
	}
	if *key == "" {
		fmt.Fprintf(e.stdout, "  signed by the key in the bundle: %s\n  (compare it with the log's key, or pass --key)\n", p.VerifierKey)
	}
	return nil
}

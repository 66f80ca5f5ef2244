package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/vault"
)

// openVault opens the raw vault: its master key from AITRAIL_VAULT_KEY or
// the key file (made on first start when create is set), older keys that
// may still unwrap, its storage in DATA/vault.db, or in the PostgreSQL
// database beside the log's tables.
func openVault(ctx context.Context, e *env, c config.Config, create bool, older ...vault.MasterKey) (*vault.Vault, func() error, error) {
	var key vault.MasterKey
	var err error
	if v, ok := e.lookupEnv("AITRAIL_VAULT_KEY"); ok && v != "" {
		key, err = vault.KeyFromEnv(v)
	} else {
		path := c.VaultKeyPath()
		if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) && create {
			if err := vault.GenerateKeyFile(path); err != nil {
				return nil, nil, fmt.Errorf("create the vault key: %w", err)
			}
		}
		key, err = vault.LoadKey(path)
	}
	if err != nil {
		return nil, nil, withHint(fmt.Errorf("vault master key: %w", err),
			"set AITRAIL_VAULT_KEY (64 hex digits) or vault.key_file; keep it off the vault's volume and backups")
	}
	var st *vault.SQLStorage
	if c.Database == "sqlite" {
		if !create {
			if _, err := os.Stat(c.VaultPath()); err != nil {
				return nil, nil, withHint(fmt.Errorf("no raw vault in %s", c.Data), "raw bodies are kept with bodies: full")
			}
		}
		st, err = vault.OpenSQLite(ctx, c.VaultPath())
	} else {
		st, err = vault.OpenPostgres(ctx, c.Database)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open the raw vault: %w", err)
	}
	return vault.New(st, key, older...), st.Close, nil
}

// runRaw shows the raw body of one record to someone who states why; the
// read is recorded in the log before anything is shown.
func runRaw(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("raw", flag.ContinueOnError)
	load := configFlags(fs, e)
	reason := fs.String("reason", "", "why you read it (recorded in the log; required)")
	logID := fs.String("log", "", "the `log` of the record (default: this gateway's node)")
	part := fs.String("part", "clear", "what to show: clear (the body before redaction) or raw (the exact bytes, when kept)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("raw needs one record number: aitrail raw SEQ --reason \"...\"")
	}
	seq, err := parseSeq("raw", fs.Arg(0))
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usageError("raw needs --reason: every read of a raw body is recorded with who read it and why")
	}
	if *part != "clear" && *part != "raw" {
		return usageError("--part is clear or raw")
	}
	al, err := loadLog(ctx, load)
	if err != nil {
		return err
	}
	defer al.Close()
	if *logID == "" {
		*logID = al.logID
	}
	r, err := al.recordAt(ctx, *logID, seq)
	if err != nil {
		return err
	}
	want := r.ClearHash
	label := record.LabelClear
	if *part == "raw" {
		want, label = r.RawHash, record.LabelRaw
	}
	if want.IsZero() {
		return fmt.Errorf("record %d has no %s body in the vault", seq, *part)
	}
	v, closeVault, err := openVault(ctx, e, al.cfg, false)
	if err != nil {
		return err
	}
	defer closeVault()
	// Recorded first: a read that is not in the log never happens.
	ev := record.NewEvent(record.KindRawRead, map[string]any{"log_id": *logID, "seq": seq, "part": *part})
	ev.Actor, ev.Role, ev.Reason, ev.RequestSeq = "cli:"+currentUser(), "admin", strings.TrimSpace(*reason), seq
	led := ledger.New(al.store, al.logID, ledger.Options{})
	err = led.Append(ctx, &ledger.Entry{Record: ev})
	led.Close()
	if err != nil {
		return fmt.Errorf("record the read: %w", err)
	}
	b, err := v.Open(ctx, *logID, r.Nonce, *part)
	if errors.Is(err, vault.ErrShredded) {
		return fmt.Errorf("the raw body of record %d was destroyed under the retention policy", seq)
	}
	if err != nil {
		return err
	}
	if al.committer.Commit(r.Nonce, label, b) != want {
		return fmt.Errorf("the vault's body of record %d does not match the record's commitment: the vault was tampered with", seq)
	}
	fmt.Fprintf(e.stderr, "aitrail: record %d, %s body (matches its sealed commitment); this read is recorded\n", seq, *part)
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}

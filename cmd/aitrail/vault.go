package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/aitrail/aitrail/internal/vault"
)

// runVault manages the raw vault's master key: keygen makes a new key
// file, rotate re-wraps every record's data key that an older master key
// wrapped with the current one, without re-encrypting any body.
//
// To rotate: stop the gateways; rename the key file (vault.key to
// vault.key.old); run 'aitrail vault keygen'; run 'aitrail vault rotate
// --old-key vault.key.old'; start the gateways; destroy the old key file
// (and its backups) once the rotation is done.
func runVault(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand("vault", args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("vault "+sub, flag.ContinueOnError)
	load := configFlags(fs, e)
	var olds stringList
	if sub == "rotate" {
		fs.Var(&olds, "old-key", "a former master key `file` (repeatable)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	switch sub {
	case "keygen":
		path := cfg.VaultKeyPath()
		if err := vault.GenerateKeyFile(path); err != nil {
			return withHint(fmt.Errorf("make the vault key: %w", err), "an existing key file is never overwritten: rename it first")
		}
		fmt.Fprintf(e.stdout, "made a new vault master key in %s\n", path)
		return nil
	case "rotate":
		if len(olds) == 0 {
			return usageError("vault rotate needs --old-key FILE")
		}
		var older []vault.MasterKey
		for _, f := range olds {
			k, err := vault.LoadKey(f)
			if err != nil {
				return fmt.Errorf("old key %s: %w", f, err)
			}
			older = append(older, k)
		}
		v, closeVault, err := openVault(ctx, e, cfg, false, older...)
		if err != nil {
			return err
		}
		defer closeVault()
		n, err := v.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "re-wrapped %d data keys with the current master key; the old key can now be destroyed\n", n)
		return nil
	}
	return usageError("unknown vault subcommand %q: use keygen or rotate", sub)
}

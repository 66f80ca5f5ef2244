package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand("keys", args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	load := configFlags(fs, e)
	var actor, role string
	if sub == "create" {
		fs.StringVar(&actor, "actor", "", "the `id` of the person or application the key is for")
		fs.StringVar(&role, "role", identity.RoleUser, "user, auditor or admin")
	}
	asJSON := false
	if sub == "list" {
		fs.BoolVar(&asJSON, "json", false, "one JSON object per key")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	// The CLI acts as the operator at the machine; its actions are
	// recorded as such.
	operator := identity.Identity{Actor: "cli:" + currentUser(), Role: identity.RoleAdmin}
	switch sub {
	case "log-key":
		al, err := openLog(ctx, cfg, false)
		if err != nil {
			return err
		}
		defer al.Close()
		if al.vkey == "" {
			return withHint(fmt.Errorf("no log verifier key in %s", cfg.Data), "the key is made when 'aitrail serve' first starts")
		}
		fmt.Fprintln(e.stdout, al.vkey)
		return nil
	case "create":
		if actor == "" {
			return usageError("keys create needs --actor ID")
		}
		if !identity.ValidRole(role) {
			return usageError("--role %q is not a role: use user, auditor or admin", role)
		}
		al, err := openLog(ctx, cfg, true)
		if err != nil {
			return err
		}
		defer al.Close()
		led := ledger.New(al.store, al.logID, ledger.Options{})
		defer led.Close()
		text, err := createKey(ctx, al, led, actor, role, operator)
		if err != nil {
			return err
		}
		led.Close()
		if err := al.signCheckpoint(ctx); err != nil {
			fmt.Fprintf(e.stderr, "aitrail: warning: the key is recorded, but no checkpoint was signed: %v\n", err)
		}
		fmt.Fprintf(e.stderr, "aitrail: created a %s key for %s (shown only now):\n", role, actor)
		fmt.Fprintln(e.stdout, text)
		return nil
	case "list":
		if fs.NArg() != 0 {
			return usageError("keys list takes no arguments")
		}
		al, err := openLog(ctx, cfg, false)
		if err != nil {
			return err
		}
		defer al.Close()
		keys, err := al.store.Keys(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			for _, k := range keys {
				if err := enc.Encode(keyView(k)); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY_ID\tACTOR\tROLE\tCREATED\tCREATED_BY\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != 0 {
				state = "revoked " + time.Unix(0, k.RevokedAt).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Actor, k.Role,
				time.Unix(0, k.CreatedAt).UTC().Format(time.RFC3339), k.CreatedBy, state)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usageError("keys revoke needs one KEY_ID (see aitrail keys list)")
		}
		id := fs.Arg(0)
		if kid, ok := identity.ParseKeyID(id); ok {
			id = kid // a whole key was given
		}
		al, err := openLog(ctx, cfg, false)
		if err != nil {
			return err
		}
		defer al.Close()
		k, err := al.store.Key(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return withHint(fmt.Errorf("no key %s", id), "aitrail keys list shows the key ids")
		}
		if err != nil {
			return err
		}
		led := ledger.New(al.store, al.logID, ledger.Options{})
		defer led.Close()
		// Recorded first: a revocation in effect is always in the log.
		if err := led.Append(ctx, &ledger.Entry{Record: identity.KeyEvent(record.KindKeyRevoked, operator, k)}); err != nil {
			return fmt.Errorf("record the revocation: %w", err)
		}
		if err := al.store.RevokeKey(ctx, id, time.Now().UnixNano()); err != nil {
			return err
		}
		led.Close()
		if err := al.signCheckpoint(ctx); err != nil {
			fmt.Fprintf(e.stderr, "aitrail: warning: the revocation is recorded, but no checkpoint was signed: %v\n", err)
		}
		fmt.Fprintf(e.stdout, "revoked key %s (%s, %s)\n", k.ID, k.Actor, k.Role)
		return nil
	}
	return usageError("unknown keys subcommand %q: use create, list, revoke or log-key", sub)
}

// keyJSON is a key as 'aitrail keys list --json' shows it (never the key
// itself, which is stored only hashed).
type keyJSON struct {
	KeyID     string  `json:"key_id"`
	Actor     string  `json:"actor"`
	Role      string  `json:"role"`
	CreatedAt string  `json:"created_at"`
	CreatedBy string  `json:"created_by"`
	Revoked   bool    `json:"revoked"`
	RevokedAt *string `json:"revoked_at"` // null while the key is valid
}

func keyView(k store.Key) keyJSON {
	v := keyJSON{KeyID: k.ID, Actor: k.Actor, Role: k.Role, CreatedBy: k.CreatedBy,
		CreatedAt: time.Unix(0, k.CreatedAt).UTC().Format(time.RFC3339Nano), Revoked: k.RevokedAt != 0}
	if k.RevokedAt != 0 {
		at := time.Unix(0, k.RevokedAt).UTC().Format(time.RFC3339Nano)
		v.RevokedAt = &at
	}
	return v
}

// createKey makes a key, records its creation, and returns its text.
func createKey(ctx context.Context, al *auditLog, led *ledger.Ledger, actor, role string, by identity.Identity) (string, error) {
	text, k := identity.NewKey()
	k.Actor, k.Role, k.CreatedBy, k.CreatedAt = actor, role, by.Actor, time.Now().UnixNano()
	// Recorded before the key exists: no key is ever usable unrecorded.
	if err := led.Append(ctx, &ledger.Entry{Record: identity.KeyEvent(record.KindKeyCreated, by, k)}); err != nil {
		return "", fmt.Errorf("record the new key: %w", err)
	}
	if err := al.store.CreateKey(ctx, k); err != nil {
		return "", err
	}
	return text, nil
}

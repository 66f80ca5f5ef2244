package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/fleet"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/store/postgres"
)

// dbHandle is what the fleet needs of a store: its database.
type dbHandle interface{ DB() *sql.DB }

// The names of the fleet-wide keys, in messages and in fleet_keys.
const (
	commitmentKeyName = "commitment key"
	piiKeyName        = "PII index key"
)

// joinHint is the advice for a node that does not have the fleet's keys.
func joinHint(dir string) string {
	return "on a node of the fleet run 'aitrail fleet export-keys -o FILE', copy FILE here, " +
		"then 'aitrail fleet join --from FILE --data " + dir + "' (before this node's first start), and delete FILE"
}

// checkJoined refuses to start a new node (no keys in its data directory
// yet) on a PostgreSQL database whose fleet has keys: serve would make keys
// of its own, under which find and erase would miss this node's records.
func checkJoined(ctx context.Context, cfg config.Config) error {
	if cfg.Database == "sqlite" {
		return nil
	}
	if _, err := os.Stat(cfg.CommitmentKeyPath()); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	st, err := postgres.Open(ctx, cfg.Database)
	if err != nil {
		return withHint(fmt.Errorf("cannot open the PostgreSQL audit database: %w", err),
			"check the database URL, that the server is reachable, and the user's rights")
	}
	defer st.Close()
	joined, err := fleet.Joined(ctx, st.DB())
	if err != nil {
		return err
	}
	if joined {
		return withHint(fmt.Errorf("the database already serves a fleet, and %s has not joined it (no fleet keys)", cfg.Data), joinHint(cfg.Data))
	}
	return nil
}

// joinFleet takes the node's lease and checks its keys against the
// fleet's, for a gateway on PostgreSQL; it returns nil on SQLite.
func joinFleet(ctx context.Context, al *auditLog) (*fleet.Node, error) {
	db, ok := al.store.(dbHandle)
	if !ok || al.cfg.Database == "sqlite" {
		return nil, nil
	}
	host, _ := os.Hostname()
	dir, err := filepath.Abs(al.cfg.Data)
	if err != nil {
		return nil, err
	}
	secrets := map[string][]byte{}
	for name, path := range map[string]string{commitmentKeyName: al.cfg.CommitmentKeyPath(), piiKeyName: al.cfg.PIIKeyPath()} {
		k, err := secretKey(path, name, false)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		secrets[name] = k
	}
	var anchors []ledger.Anchor
	for _, f := range al.cfg.AnchorFiles() {
		anchors = append(anchors, anchor.NewFile(f))
	}
	n, err := fleet.Join(ctx, db.DB(), fleet.NodeOptions{
		LogID: al.logID, Holder: host + ":" + dir, VerifierKey: al.vkey, SigningKey: al.skey,
		Secrets: secrets, Anchors: anchors, Every: fleetInterval(al.cfg.Checkpoint.Interval),
	})
	var held *fleet.HeldError
	var km *fleet.KeyMismatchError
	var sm *fleet.SecretMismatchError
	switch {
	case errors.As(err, &held):
		return nil, withHint(fmt.Errorf("another gateway serves node %q: %w", al.logID, err),
			fmt.Sprintf("give this gateway its own name with --node NAME (or AITRAIL_NODE); a gateway killed without stopping frees its name within %v", fleet.LeaseTTL))
	case errors.As(err, &km):
		return nil, withHint(err, "this data directory is not the one that started the log: start the node on its own data directory, or give this one a new --node NAME")
	case errors.As(err, &sm), errors.Is(err, fleet.ErrNotJoined):
		return nil, withHint(err, joinHint(al.cfg.Data))
	case err != nil:
		return nil, fmt.Errorf("join the fleet: %w", err)
	}
	return n, nil
}

// fleetInterval is about how often the fleet signs a fleet checkpoint:
// every 6 checkpoint intervals (1 min by default), by whichever node comes
// first, so that verify has some 500,000 of them to check a year, however
// many nodes.
func fleetInterval(checkpoint time.Duration) time.Duration { return 6 * checkpoint }

// fleetCheckpoints tries to sign a fleet checkpoint every interval, until
// ctx ends.
func fleetCheckpoints(ctx context.Context, n *fleet.Node, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c, errs, err := n.SignCheckpoint(ctx)
		if err != nil {
			log.Error("cannot sign a fleet checkpoint", "err", err)
			continue
		}
		for _, err := range errs {
			log.Error("anchor did not take the fleet checkpoint", "err", err)
		}
		if c != nil {
			log.Debug("signed fleet checkpoint", "logs", len(c.Heads))
		}
	}
}

// runFleet runs 'aitrail fleet export-keys' and 'aitrail fleet join'.
func runFleet(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand("fleet", args)
	if err != nil {
		return err
	}
	flags := flag.NewFlagSet("fleet "+sub, flag.ContinueOnError)
	load := configFlags(flags, e)
	var out, from *string
	switch sub {
	case "export-keys":
		out = flags.String("o", "", "`file` to write the fleet's keys to (mode 0600; it must not exist)")
	case "join":
		from = flags.String("from", "", "keys `file` written by 'aitrail fleet export-keys' on a node of the fleet")
	}
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return usageError("fleet %s takes no arguments", sub)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	switch sub {
	case "export-keys":
		if *out == "" {
			return usageError("fleet export-keys needs -o FILE")
		}
		com, err := secretKey(cfg.CommitmentKeyPath(), commitmentKeyName, false)
		if err != nil {
			return withHint(err, "run this on a node of the fleet, with --data pointing at its data directory")
		}
		pii, err := secretKey(cfg.PIIKeyPath(), piiKeyName, false)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := writeSecret(*out, string(fleet.Secrets{Commitment: com, PII: pii}.Marshal()), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "aitrail: wrote the fleet's keys to %s (mode 0600): copy it to the new node over a secure channel, run 'aitrail fleet join --from FILE' there, then delete both copies\n", *out)
		return nil
	default:
		if *from == "" {
			return usageError("fleet join needs --from FILE")
		}
		b, err := os.ReadFile(*from)
		if err != nil {
			return withHint(fmt.Errorf("cannot read the keys file: %w", err), "write it on a node of the fleet with 'aitrail fleet export-keys -o FILE'")
		}
		s, err := fleet.ParseSecrets(b)
		if err != nil {
			return withHint(fmt.Errorf("%s: %w", *from, err), "write it with 'aitrail fleet export-keys -o FILE'")
		}
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return withHint(fmt.Errorf("cannot create the data directory %s: %w", cfg.Data, err), "choose a writable directory with --data DIR")
		}
		wrote, err := fleet.Install(s, cfg.CommitmentKeyPath(), cfg.PIIKeyPath())
		if err != nil {
			return withHint(err, "a data directory with keys of its own has recorded under them: join with a new, empty --data directory")
		}
		if !wrote {
			fmt.Fprintf(e.stderr, "aitrail: %s holds the fleet's keys already\n", cfg.Data)
			return nil
		}
		fmt.Fprintf(e.stderr, "aitrail: %s has the fleet's keys; start the node with 'aitrail serve --data %s --node NAME', and delete %s\n", cfg.Data, cfg.Data, *from)
		return nil
	}
}

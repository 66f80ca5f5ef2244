package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/backup"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/pii"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// configFlags adds the flags every command shares and returns a function
// that loads the configuration once the flags are parsed.
func configFlags(fs *flag.FlagSet, e *env) func() (config.Config, error) {
	file := fs.String("config", "", "configuration `file` (YAML); default: the one serve recorded in the data directory")
	data := fs.String("data", "", "`directory` of the audit log (default ./aitrail-data)")
	fs.String("database", "", "sqlite, or a postgres:// URL")
	fs.String("node", "", "`name` of this gateway's log among those sharing a database (default main)")
	return func() (config.Config, error) {
		src := config.Source{Kind: config.SourceFile, Name: *file}
		if src.Name == "" {
			if v, ok := e.lookupEnv("AITRAIL_CONFIG"); ok {
				src.Name = v
			}
		}
		rec, path, err := servedConfig(e, *data, src.Name)
		if err != nil {
			return config.Config{}, err
		}
		if path != src.Name {
			src = config.Source{Kind: "file recorded by serve", Name: path}
		}
		c, err := config.LoadFrom(src, e.lookupEnv)
		if err != nil {
			return c, withHint(err, "check the file against the configuration section of the README")
		}
		var setErr error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "data", "database", "listen", "upstream", "node":
				if err := c.SetFrom(f.Name, f.Value.String(), config.Source{Kind: config.SourceFlag, Name: f.Name}); err != nil && setErr == nil {
					setErr = err
				}
			}
		})
		if setErr != nil {
			return c, setErr
		}
		if err := followServe(e, fs, &c, rec, path); err != nil {
			return c, err
		}
		if err := c.Validate(); err != nil {
			return c, withHint(fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  ")),
				"fix the settings named above in the config file, the AITRAIL_* variables or the flags")
		}
		return c, nil
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// auditLog is an opened log: its store, commitment key, log id and
// checkpoint keys.
type auditLog struct {
	store     store.Store
	committer *record.Committer
	logID     string
	cfg       config.Config
	skey      string // the log's checkpoint signing key ("" if this machine has none)
	vkey      string // its verifier key
	pii       *pii.Index
	// retired are the verifier keys of logs this node wrote before it was
	// restored from a backup (DATA/log-LOG.pub), trusted for those logs.
	retired []string
}

// checkpointer returns the log's checkpointer, with its anchors.
func (l *auditLog) checkpointer() (*ledger.Checkpointer, error) {
	if l.skey == "" {
		return nil, withHint(fmt.Errorf("no checkpoint signing key in %s", l.cfg.Data),
			"checkpoints are signed by the gateway that owns the log; run this on its machine")
	}
	anchors, err := l.anchors()
	if err != nil {
		return nil, err
	}
	return ledger.NewCheckpointer(l.store, l.logID, l.skey, l.vkey, anchors)
}

// anchors returns the anchors of the configuration.
func (l *auditLog) anchors() ([]ledger.Anchor, error) {
	var anchors []ledger.Anchor
	for _, f := range l.cfg.AnchorFiles() {
		anchors = append(anchors, anchor.NewFile(f))
	}
	for _, w := range l.cfg.Anchors.Witnesses {
		a, err := anchor.NewWitness(w.URL, w.Key, nil)
		if err != nil {
			return nil, withHint(fmt.Errorf("witness %s: %w", w.URL, err), "check anchors.witnesses in the configuration")
		}
		anchors = append(anchors, a)
	}
	return anchors, nil
}

// signCheckpoint signs a checkpoint covering what a CLI command appended.
func (l *auditLog) signCheckpoint(ctx context.Context) error {
	cp, err := l.checkpointer()
	if err != nil {
		return err
	}
	res, err := cp.Sign(ctx)
	if err != nil {
		return fmt.Errorf("sign a checkpoint: %w", err)
	}
	return errors.Join(res.AnchorErrs...)
}

func (l *auditLog) Close() error { return l.store.Close() }

// loadLog loads the configuration and opens the log it describes, which
// must exist.
func loadLog(ctx context.Context, load func() (config.Config, error)) (*auditLog, error) {
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	return openLog(ctx, cfg, false)
}

// openLog opens the audit log described by c. With create it makes the
// data directory, database and commitment key if they do not exist;
// without, a missing log is an error.
func openLog(ctx context.Context, c config.Config, create bool) (*auditLog, error) {
	if create {
		if err := os.MkdirAll(c.Data, 0o700); err != nil {
			return nil, withHint(fmt.Errorf("cannot create the data directory %s: %w", c.Data, err),
				"choose a writable directory with --data DIR or AITRAIL_DATA")
		}
	} else if _, err := os.Stat(c.CommitmentKeyPath()); errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("no audit log in %s", c.Data),
			"point --data (or AITRAIL_DATA, or --config) at the directory 'aitrail serve' uses")
	}
	if err := strayLog(c, create); err != nil {
		return nil, err
	}
	key, err := secretKey(c.CommitmentKeyPath(), "commitment key", create)
	if err != nil {
		return nil, err
	}
	committer, err := record.NewCommitter(key)
	if err != nil {
		return nil, fmt.Errorf("commitment key %s: %w", c.CommitmentKeyPath(), err)
	}
	var st store.Store
	if c.Database == "sqlite" {
		path := c.DBPath()
		if !create {
			if _, err := os.Stat(path); err != nil {
				return nil, withHint(fmt.Errorf("cannot open the audit database %s: %w", path, err),
					"point --data at the directory 'aitrail serve' uses")
			}
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, withHint(fmt.Errorf("cannot open the audit database: %w", err),
				schemaHint(err, "check that the file exists, is readable and writable by this user, and is an aitrail database"))
		}
		st = s
	} else {
		s, err := postgres.Open(ctx, c.Database)
		if err != nil {
			return nil, withHint(fmt.Errorf("cannot open the PostgreSQL audit database: %w", err),
				schemaHint(err, "check the database URL, that the server is reachable, and the user's rights"))
		}
		st = s
	}
	skey, vkey, err := logKeys(c, create)
	if err != nil {
		st.Close()
		return nil, err
	}
	piiKey, err := secretKey(c.PIIKeyPath(), "PII index key", create)
	if err != nil && !create && errors.Is(err, fs.ErrNotExist) {
		piiKey, err = nil, nil // a log from before the PII index: find has nothing to search
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	var index *pii.Index
	if piiKey != nil {
		if index, err = pii.New(piiKey, c.Redact.DefaultRegion); err != nil {
			st.Close()
			return nil, err
		}
	}
	al := &auditLog{store: st, committer: committer, logID: backup.LogID(c.Node, vkey), cfg: c, skey: skey, vkey: vkey, pii: index}
	if al.retired, err = retiredKeys(c); err != nil {
		st.Close()
		return nil, err
	}
	if create {
		if err := al.genesis(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	return al, nil
}

// genesis starts an empty log with its log.created event, whoever writes to
// it first (serve, or a CLI command on a new data directory).
func (l *auditLog) genesis(ctx context.Context) error {
	h, err := l.store.Head(ctx, l.logID)
	if err != nil || h.Seq >= 0 {
		return err
	}
	led := ledger.New(l.store, l.logID, ledger.Options{})
	defer led.Close()
	ev := record.NewEvent(record.KindLogCreated, map[string]any{"log_id": l.logID, "format_version": record.Version, "origin_key": l.vkey})
	ev.Actor, ev.Role = "aitrail", "admin"
	if err := led.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		return fmt.Errorf("start the log: %w", err)
	}
	return nil
}

// logKeys reads the log's checkpoint keys, creating them when asked. The
// key's name, which is the log's origin in its checkpoints, is
// "aitrail/NODE/RANDOM", so that two logs never share an origin.
func logKeys(c config.Config, create bool) (skey, vkey string, err error) {
	sb, serr := os.ReadFile(c.SigningKeyPath())
	vb, verr := os.ReadFile(c.VerifierKeyPath())
	if errors.Is(serr, fs.ErrNotExist) && errors.Is(verr, fs.ErrNotExist) && create {
		var r [6]byte
		rand.Read(r[:])
		skey, vkey, err := ledger.GenerateSigningKey("aitrail/" + c.Node + "/" + hex.EncodeToString(r[:]))
		if err != nil {
			return "", "", err
		}
		if err := writeSecret(c.SigningKeyPath(), skey+"\n", 0o600); err != nil {
			return "", "", err
		}
		if err := writeSecret(c.VerifierKeyPath(), vkey+"\n", 0o644); err != nil {
			return "", "", err
		}
		return skey, vkey, nil
	}
	if verr != nil {
		if errors.Is(verr, fs.ErrNotExist) {
			return "", "", nil // a log without checkpoints yet (or not on this machine)
		}
		return "", "", fmt.Errorf("read the log's verifier key: %w", verr)
	}
	vkey = strings.TrimSpace(string(vb))
	if serr == nil {
		skey = strings.TrimSpace(string(sb))
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return "", "", fmt.Errorf("read the log's signing key: %w", serr)
	}
	return skey, vkey, nil
}

// writeSecret creates a file that must not exist yet, and syncs it.
func writeSecret(path, content string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// secretKey reads a 32-byte key kept hex-encoded in its own file (mode
// 0600), creating it when asked. Keys live beside, never inside, the
// database: whoever holds only the database cannot test guesses against the
// body commitments (commitment.key) or the PII index (pii.key).
func secretKey(path, what string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, 32)
		rand.Read(key)
		return key, writeSecret(path, hex.EncodeToString(key)+"\n", 0o600)
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("cannot read the %s: %w", what, err),
			"the key file must be readable by this user; back it up apart from the database")
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s %s is malformed: want 32 hex-encoded bytes", what, path)
	}
	return key, nil
}

// parseSeq reads a record number given to the command cmd.
func parseSeq(cmd, arg string) (int64, error) {
	seq, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || seq < 0 {
		return 0, usageError("%s: %q is not a record number", cmd, arg)
	}
	return seq, nil
}

// recordAt returns the record seq of the log logID.
func (l *auditLog) recordAt(ctx context.Context, logID string, seq int64) (*record.Record, error) {
	recs, err := l.store.Search(ctx, store.Filter{LogID: logID, Seqs: []int64{seq}})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		if b, err := l.store.Base(ctx, logID); err == nil && seq < b.Size {
			return nil, fmt.Errorf("record %d of log %q was pruned under the retention policy (the log now starts at %d)", seq, logID, b.Size)
		}
		return nil, withHint(fmt.Errorf("log %q has no record %d", logID, seq), "aitrail query shows the records' numbers")
	}
	return recs[0], nil
}

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
	"strings"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// configFlags adds the flags every command shares and returns a function
// that loads the configuration once the flags are parsed.
func configFlags(fs *flag.FlagSet, e *env) func() (config.Config, error) {
	file := fs.String("config", "", "configuration `file` (YAML)")
	fs.String("data", "", "`directory` of the audit log (default ./aitrail-data)")
	fs.String("database", "", "sqlite, or a postgres:// URL")
	return func() (config.Config, error) {
		path := *file
		if path == "" {
			if v, ok := e.lookupEnv("AITRAIL_CONFIG"); ok {
				path = v
			}
		}
		c, err := config.Load(path, e.lookupEnv)
		if err != nil {
			return c, withHint(err, "check the file against the configuration section of the README")
		}
		var setErr error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "data", "database", "listen", "upstream":
				if err := c.Set(f.Name, f.Value.String()); err != nil && setErr == nil {
					setErr = err
				}
			}
		})
		if setErr != nil {
			return c, setErr
		}
		if err := c.Validate(); err != nil {
			return c, withHint(fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  ")),
				"fix the settings named above in the config file, the AITRAIL_* variables or the flags")
		}
		return c, nil
	}
}

// parseFlags parses args, printing usage errors the aitrail way.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(discard{})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return err
		}
		return usageError("%s %v", fs.Name(), err)
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// auditLog is an opened log: its store, commitment key and log id.
type auditLog struct {
	store     store.Store
	committer *record.Committer
	logID     string
	cfg       config.Config
}

func (l *auditLog) Close() error { return l.store.Close() }

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
	key, err := commitmentKey(c.CommitmentKeyPath(), create)
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
				"check that the file exists, is readable and writable by this user, and is an aitrail database")
		}
		st = s
	} else {
		s, err := postgres.Open(ctx, c.Database)
		if err != nil {
			return nil, withHint(fmt.Errorf("cannot open the PostgreSQL audit database: %w", err),
				"check the database URL, that the server is reachable, and the user's rights")
		}
		st = s
	}
	return &auditLog{store: st, committer: committer, logID: c.Node, cfg: c}, nil
}

// commitmentKey reads the log's commitment key, creating it when asked. The
// key is 32 random bytes, stored hex-encoded with mode 0600, beside and not
// inside the database: whoever holds only the database cannot test guesses
// against the body commitments.
func commitmentKey(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, record.KeySize)
		rand.Read(key)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create commitment key: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write commitment key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("write commitment key: %w", err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("cannot read the commitment key: %w", err),
			"the key file must be readable by this user; without it bodies cannot be verified")
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != record.KeySize {
		return nil, fmt.Errorf("commitment key %s is malformed: want %d hex-encoded bytes", path, record.KeySize)
	}
	return key, nil
}

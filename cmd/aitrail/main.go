// Command aitrail is an audit gateway for self-hosted language models: it
// sits in front of Ollama or any OpenAI-compatible server, forwards every
// call, streams the answer back untouched, and records each interaction in a
// tamper-evident log that auditors can search and verify.
//
// Run "aitrail help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/store"
)

const usage = `aitrail: an audit gateway for self-hosted language models

Usage:
  aitrail serve    [--config FILE] [--listen ADDR] [--upstream URL] [--data DIR] [--node NAME]
  aitrail demo     run the gateway in front of a built-in stand-in model and show what it records
  aitrail keys     create --actor ID --role user|auditor|admin | list | revoke KEY_ID | log-key
  aitrail query    [--actor A] [--session S] [--model M] [--status S] [--since T] [--until T] [--on DATE] [--json]
  aitrail stats    [--since T] [--until T] [--by actor|key|model|day] [--json]   usage figures from the log
  aitrail verify   [--json]    check the log's integrity (exit 0 intact, 1 tampered, 2 cannot run, 3 intact but records lost in a restore)
  aitrail find     --email X | --phone X | --ssn X | --card X | --iban X | --ip X | --value V   every interaction that held a value
  aitrail redact   [--jsonl]   redact standard input with the configured rules (to test them)
  aitrail raw      SEQ --reason TEXT [--part clear|raw]   read a raw body from the encrypted vault (the read is recorded)
  aitrail retention show | run [--dry-run]   print the retention policy in force; run the purge now
  aitrail hold     add --reason TEXT [--actor ID] [--session ID] [--model M] [--since T] [--until T] [--text Q] [--expires T]
                   | list [--all] | release ID --reason TEXT   legal holds: what every purge must keep
  aitrail erase    --email X | --phone X | ... --reason TEXT   erase a data subject's bodies ahead of schedule
  aitrail vault    keygen | rotate --old-key FILE   make a vault master key; re-wrap data keys after a key change
  aitrail backup   -o DIR|FILE.tar [--log-key-out FILE] [--vault-key-out FILE]   an online backup, checked, with a manifest
  aitrail restore  FROM --data DIR --log-key FILE [--vault-key FILE]   restore a backup into an empty data directory
  aitrail prove    SEQ [-o proof.json]   a self-contained proof that record SEQ is in the signed log
  aitrail verify-proof proof.json [--key VKEY]   check such a proof offline
  aitrail witness  --state FILE --log VKEY [--log VKEY...] [--listen ADDR]   run a witness for other logs
  aitrail fleet    export-keys -o FILE | join --from FILE   hand the fleet-wide keys to a new node (PostgreSQL fleets)
  aitrail standin  [--listen ADDR]   serve the stand-in model alone (for trying aitrail without Ollama)
  aitrail migrate  [--dry-run]   show the database's schema version; migrate it to this aitrail's (serve does so at start)
  aitrail config   check [--config FILE] [--json]   validate the configuration; print each setting and where it came from
  aitrail version  [--json]
  aitrail help CMD [SUB]   (or aitrail CMD --help)   a command's usage and its flags

Every command reads the same configuration: --config FILE (default: the
file serve was started with, recorded in DATA/serve.json), then AITRAIL_*
environment variables, then flags (--data DIR for the log's directory,
--node NAME for its log among those sharing a PostgreSQL database).
See the README for the configuration file.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// hintError is an error with advice for the operator.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err: err, hint: hint} }

// env is what subcommands get from main.
type env struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	// reload, set by serve's flags, reads the configuration again (SIGHUP).
	reload func() (config.Config, error)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	e := &env{stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv}
	ctx = store.WithLogger(ctx, slog.New(slog.NewTextHandler(stderr, nil))) // migrations at open say what they do
	cmds := map[string]func(context.Context, *env, []string) error{
		"serve":        runServe,
		"demo":         runDemo,
		"keys":         runKeys,
		"query":        runQuery,
		"stats":        runStats,
		"verify":       runVerify,
		"standin":      runStandin,
		"prove":        runProve,
		"verify-proof": runVerifyProof,
		"witness":      runWitness,
		"find":         runFind,
		"redact":       runRedact,
		"raw":          runRaw,
		"vault":        runVault,
		"retention":    runRetention,
		"hold":         runHold,
		"erase":        runErase,
		"migrate":      runMigrate,
		"backup":       runBackup,
		"restore":      runRestore,
		"fleet":        runFleet,
		"config":       runConfig,
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		if len(args) > 1 {
			return run(ctx, append(slices.Clone(args[1:]), "--help"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	case "--version":
		name = "version"
	}
	cmds["version"] = func(_ context.Context, e *env, args []string) error { return runVersion(e, args) }
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "aitrail: error: unknown command %q\naitrail: hint: %s\n", name, unknownCommandHint(name, cmds))
		return 2
	}
	err := cmd(ctx, e, args[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	fmt.Fprintf(stderr, "aitrail: error: %v\n", err)
	var he *hintError
	if errors.As(err, &he) {
		fmt.Fprintf(stderr, "aitrail: hint: %s\n", he.hint)
	}
	return code
}

// usageError is a mistake in the command line: exit 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/witness"
)

// runWitness runs a c2sp.org/tlog-witness witness for aitrail logs (or any
// log with Ed25519 checkpoints):
//
//	aitrail witness --state FILE --log VKEY [--log VKEY...] [--listen ADDR] [--key FILE] [--name NAME]
//	aitrail witness vkey --state FILE | --key FILE
//
// The first run creates the witness's key (and its state file) and prints
// its verifier key, which the log operator configures in the witness
// anchor; "witness vkey" prints it again.
func runWitness(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "vkey" {
		return runWitnessVKey(e, args[1:])
	}
	fs := flag.NewFlagSet("witness", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7380", "`address` to listen on")
	statePath, keyPath := witnessFileFlags(fs)
	name := fs.String("name", "", "the witness's `name` in its cosignatures, when its key is created (default HOSTNAME/aitrail-witness)")
	var logs stringList
	fs.Var(&logs, "log", "verifier `key` of a log to witness (aitrail keys log-key prints it); repeat for each log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("witness takes no arguments, only flags")
	}
	if *statePath == "" {
		return usageError("witness needs --state FILE, where it keeps the latest checkpoint of each log")
	}
	if len(logs) == 0 {
		return usageError("witness needs at least one --log VKEY, the verifier key of a log to witness")
	}
	if *keyPath == "" {
		*keyPath = filepath.Join(filepath.Dir(*statePath), "witness.key")
	}

	signer, created, err := witnessKey(*keyPath, *name)
	if err != nil {
		return err
	}
	if *name != "" && *name != signer.Name() {
		return usageError("the witness key %s is named %q, not %q", *keyPath, signer.Name(), *name)
	}
	if created {
		fmt.Fprintf(e.stderr, "aitrail witness: created the witness key %s; configure the logs' witness anchor with its verifier key:\n", *keyPath)
		fmt.Fprintln(e.stdout, signer.VerifierKey())
	}
	st, err := openWitnessState(*statePath, *keyPath, created)
	if err != nil {
		return err
	}
	defer st.Close()

	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	srv, err := witness.New(signer, logs, st, logger)
	if err != nil {
		return withHint(err, "--log takes a log's verifier key, as printed by 'aitrail keys log-key'")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", *listen, err), "choose another address with --listen")
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("aitrail witness serving", "listen", "http://"+ln.Addr().String(), "vkey", signer.VerifierKey(),
		"state", *statePath, "logs", len(logs))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	logger.Info("aitrail witness stopped")
	return nil
}

// runWitnessVKey prints the verifier key of an existing witness key.
func runWitnessVKey(e *env, args []string) error {
	fs := flag.NewFlagSet("witness vkey", flag.ContinueOnError)
	statePath, keyPath := witnessFileFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyPath == "" {
		if *statePath == "" {
			return usageError("witness vkey needs --key FILE, or the --state FILE the key is beside")
		}
		*keyPath = filepath.Join(filepath.Dir(*statePath), "witness.key")
	}
	b, err := os.ReadFile(*keyPath)
	if err != nil {
		return withHint(fmt.Errorf("cannot read the witness key: %w", err), "the key is made when 'aitrail witness' first starts")
	}
	signer, err := witness.NewSigner(string(b))
	if err != nil {
		return fmt.Errorf("witness key %s: %w", *keyPath, err)
	}
	fmt.Fprintln(e.stdout, signer.VerifierKey())
	return nil
}

func witnessFileFlags(fs *flag.FlagSet) (state, key *string) {
	state = fs.String("state", "", "the witness's state `file` (JSON)")
	key = fs.String("key", "", "the witness's private key `file`, created on first use (default witness.key beside the state file)")
	return state, key
}

// witnessKey reads the witness's key, creating it if there is none. The
// file holds one line, the key in the format of witness.GenerateKey.
func witnessKey(path, name string) (s *witness.Signer, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if name == "" {
			host, herr := os.Hostname()
			if herr != nil || host == "" || strings.ContainsAny(host, " +") {
				host = "localhost"
			}
			name = host + "/aitrail-witness"
		}
		skey, _, gerr := witness.GenerateKey(name)
		if gerr != nil {
			return nil, false, usageError("%v", gerr)
		}
		if err := writeSecret(path, skey+"\n", 0o600); err != nil {
			return nil, false, withHint(err, "choose a writable place with --key FILE")
		}
		b, err, created = []byte(skey), nil, true
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot read the witness key: %w", err)
	}
	s, err = witness.NewSigner(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("witness key %s: %w", path, err)
	}
	return s, created, nil
}

// openWitnessState opens the state file. A state missing beside an older
// key is an error: a witness that forgot what it cosigned could cosign a
// fork of a log it already witnessed.
func openWitnessState(path, keyPath string, keyCreated bool) (*witness.FileState, error) {
	st, err := witness.OpenFileState(path)
	if errors.Is(err, fs.ErrNotExist) && keyCreated {
		st, err = witness.CreateFileState(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("the witness state %s is missing, but its key %s exists", path, keyPath),
			"restore the state file; to start over as a new witness, move the key away, and give the logs the new key")
	}
	if err != nil {
		return nil, withHint(err, "--state takes the file 'aitrail witness' keeps its state in; only one witness may use it at a time")
	}
	return st, nil
}

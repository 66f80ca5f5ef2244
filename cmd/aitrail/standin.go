package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aitrail/aitrail/internal/standin"
)

// runStandin serves the stand-in model alone: a tiny deterministic model
// server that speaks Ollama's and OpenAI's wire formats, for trying aitrail
// (and testing clients) without a real model.
func runStandin(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:11434", "`address` to listen on")
	delay := fs.Duration("token-delay", 0, "pause between streamed tokens")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", *listen, err), "choose another address with --listen")
	}
	srv := &http.Server{Handler: standin.New(standin.Options{TokenDelay: *delay}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stderr, "aitrail standin: stand-in model server on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/query"
	"github.com/aitrail/aitrail/internal/standin"
)

// runDemo starts the gateway in front of the built-in stand-in model, sends
// calls of every kind through it, and shows what was recorded.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	data := fs.String("data", "", "keep the demo's log in this `directory` (default: a temporary one, removed after)")
	verbose := fs.Bool("v", false, "show the gateway's own log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "aitrail-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	up := &http.Server{Handler: standin.New(standin.Options{})}
	go up.Serve(upLn)
	defer up.Close()

	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Upstream = "http://" + upLn.Addr().String()
	cfg.Data = dir
	quiet := &env{stdout: io.Discard, stderr: io.Discard, lookupEnv: e.lookupEnv}
	if *verbose {
		quiet.stderr = e.stderr
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- serve(sctx, quiet, cfg, func(addr string) { ready <- addr }) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		return fmt.Errorf("demo gateway: %w", err)
	}
	fmt.Fprintf(e.stdout, "aitrail demo: gateway on http://%s in front of a stand-in model on %s\nlog in %s\n\n", addr, cfg.Upstream, dir)

	al, err := openLog(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer al.Close()
	led := ledger.New(al.store, al.logID, ledger.Options{})
	key, err := createKey(ctx, al, led, "alice", identity.RoleUser, identity.Identity{Actor: "demo", Role: identity.RoleAdmin})
	led.Close()
	if err != nil {
		return err
	}

	calls := []struct{ path, body, note string }{
		{"/api/chat", `{"model":"tiny","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"Why is the sky blue?"}]}`, "Ollama chat, streamed"},
		{"/api/generate", `{"model":"tiny","prompt":"Write a haiku about audits.","stream":false}`, "Ollama generate"},
		{"/api/embed", `{"model":"tiny","input":["first document","second document"]}`, "Ollama embed"},
		{"/v1/chat/completions", `{"model":"tiny","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"My card is 4111 1111 1111 1111, can you help?"}]}`, "OpenAI chat, streamed"},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"Summarise our Q3 results."}],"temperature":0.2}`, "OpenAI chat"},
		{"/v1/embeddings", `{"model":"tiny","input":"vector me"}`, "OpenAI embeddings"},
		{"/v1/responses", `{"model":"tiny","input":"What did we decide yesterday?"}`, "OpenAI responses"},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for i, c := range calls {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Session-Id", "demo-session")
		req.Header.Set("X-Access-Reason", "trying aitrail")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("demo call %s: %w", c.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(e.stdout, "%d. %-26s POST %-22s -> %d, %d bytes\n", i+1, c.note, c.path, resp.StatusCode, len(b))
	}
	// A call without a key is refused, and the refusal recorded.
	resp, err := client.Post("http://"+addr+"/api/chat", "application/json", bytes.NewReader([]byte(`{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`)))
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(e.stdout, "%d. %-26s POST %-22s -> %d %s\n", len(calls)+1, "no API key", "/api/chat", resp.StatusCode, bytes.TrimSpace(b))
	}

	stop()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}

	fmt.Fprintf(e.stdout, "\nWhat the log holds (aitrail query --data %s):\n\n", dir)
	its, err := query.Run(ctx, al.store, query.Filter{})
	if err != nil {
		return err
	}
	for i := range its {
		printInteraction(e.stdout, &its[i], false)
	}
	fmt.Fprintf(e.stdout, "Integrity (aitrail verify --data %s):\n", dir)
	return runVerify(ctx, e, []string{"--data", dir})
}

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	kept := dir != ""
	if !kept {
		tmp, err := os.MkdirTemp("", "aitrail-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	// Commands to look further, for a log that is kept.
	see := func(cmd string) string {
		if !kept {
			return ""
		}
		return " (aitrail " + cmd + " --data " + dir + ")"
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
	where := "a temporary directory, removed at the end"
	if kept {
		where = dir
	}
	fmt.Fprintf(e.stdout, "aitrail demo: gateway on http://%s in front of a stand-in model on %s\nlog in %s\n\n", addr, cfg.Upstream, where)

	al, err := openLog(ctx, cfg, false)
	if err != nil {
		return err
	}
	closeLog := sync.OnceValue(al.Close)
	defer closeLog()
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

	fmt.Fprintf(e.stdout, "\nWhat the log holds%s:\n\n", see("query"))
	its, err := query.Run(ctx, al.store, query.Filter{})
	if err != nil {
		return err
	}
	for i := range its {
		printInteraction(e.stdout, &its[i], false)
	}
	if err := closeLog(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Integrity%s:\n", see("verify"))
	if err := runVerify(ctx, e, []string{"--data", dir}); err != nil {
		return err
	}
	if len(its) > 0 {
		if err := demoTamper(ctx, e, dir, its[0].Seq); err != nil {
			return err
		}
	}
	if kept {
		fmt.Fprintf(e.stdout, "\nThe demo's log is kept in %s: try aitrail query, stats, verify or prove with --data %s.\n", dir, dir)
	} else {
		fmt.Fprintf(e.stdout, "\nThe demo's log was in a temporary directory, now removed. To keep it and look around:\n  aitrail demo --data DIR   then   aitrail query --data DIR, aitrail stats --data DIR, aitrail verify --data DIR\n")
	}
	return nil
}

// demoTamper plays an intruder with write access to the database: on a
// copy of the demo's log it changes who made the call of record seq, and
// shows verify catching it.
func demoTamper(ctx context.Context, e *env, dir string, seq int64) error {
	tmp, err := os.MkdirTemp("", "aitrail-demo-tampered-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyDir(dir, tmp); err != nil {
		return fmt.Errorf("copy the demo's log: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, "audit.db"))
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `UPDATE records SET actor = 'mallory' WHERE seq = ?`, seq)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tamper with the copy: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nNow an intruder with write access to the database edits record %d of a copy of the log, so that\n"+
		"its call seems made by \"mallory\" (UPDATE records SET actor = 'mallory' WHERE seq = %d).\n"+
		"Integrity of the tampered copy:\n", seq, seq)
	err = runVerify(ctx, e, []string{"--data", tmp})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		return fmt.Errorf("verify did not catch the tampering of record %d (%v)", seq, err)
	}
	fmt.Fprintf(e.stdout, "verify caught it: exit status 1, naming record %d.\n", seq)
	return nil
}

// copyDir copies the regular files of the directory tree src into dst,
// readable by this user only.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o700)
		case !d.Type().IsRegular() || d.Name() == "serve.lock":
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
}

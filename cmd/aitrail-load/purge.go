package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/pii"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// measurePurge builds a log of n records (bodies, PII index entries and
// vault commitments included), then times 'aitrail retention run' purging
// every layer of them and pruning them while aitrail serves calls, and
// compares the calls' latency during the purge with the latency before it
// and with the upstream's. Every period of the policy is 1ns, so that all n
// records are due at once (the ledger never dates a record before the
// last): the purge does all of a long life's deletions in one run.
//
// With inServe, serve's own scheduled purge does the work, in the
// gateway's process, where its writes and the gateway's share one write
// lock (sqlstore.Store.WriteLock) instead of meeting SQLite's busy handler.
func measurePurge(bin string, n, calls int, inServe bool) error {
	tmp, err := os.MkdirTemp("", "aitrail-purge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	// Let aitrail make its keys and database, as serve would.
	key := string(lastLine(mustRun(bin, "keys", "create", "--actor", "load", "--role", "user", "--data", data)))
	if err := buildLog(data, n); err != nil {
		return err
	}
	// A checkpoint over all of it, signed by aitrail itself.
	mustRun(bin, "keys", "create", "--actor", "after", "--role", "user", "--data", data)
	cfg := filepath.Join(tmp, "aitrail.yaml")
	// serve runs its first scheduled purge one interval after it starts.
	interval := time.Duration(0)
	if inServe {
		// Time for serve's first, full verification (see waitVerified)
		// and the measurement before the purge.
		interval = 30*time.Second + time.Duration(n)*30*time.Microsecond
	}
	os.WriteFile(cfg, fmt.Appendf(nil, "retention:\n  interval: %s\n  sealed: 1ns\n  redacted: 1ns\n  raw: 1ns\n  pii: 1ns\n", interval), 0o600)

	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()
	upCmd := exec.Command(bin, "standin", "--listen", "127.0.0.1:0")
	upAddr, err := startProc(upCmd, regexp.MustCompile(`on http://(\S+)`))
	if err != nil {
		return err
	}
	procs = append(procs, upCmd)
	self, _ := os.Executable()
	pxCmd := exec.Command(self, "-proxy", "http://"+upAddr)
	pxAddr, err := startProc(pxCmd, regexp.MustCompile(`proxy on http://(\S+)`))
	if err != nil {
		return err
	}
	procs = append(procs, pxCmd)
	gwCmd := exec.Command(bin, "serve", "--data", data, "--config", cfg, "--listen", "127.0.0.1:0", "--upstream", "http://"+upAddr)
	served := make(chan string, 1) // serve's line saying its purge finished
	finishedRE := regexp.MustCompile(`retention purge finished`)
	gwAddr, err := startProcWatch(gwCmd, regexp.MustCompile(`listen=http://(\S+)`), func(line string) {
		if finishedRE.MatchString(line) {
			select {
			case served <- line:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	purgeAt := time.Now().Add(interval)
	procs = append(procs, gwCmd)
	targets := []target{
		{name: "upstream (direct)", base: "http://" + upAddr},
		{name: "bare ReverseProxy", base: "http://" + pxAddr},
		{name: "aitrail", base: "http://" + gwAddr, key: key},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	if err := waitVerified(client, "http://"+gwAddr); err != nil {
		return err
	}
	const body = `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hello there"}],"options":{"num_predict":12}}`
	for _, t := range targets {
		for range 200 {
			if _, err := t.call(client, "/api/chat", body, false); err != nil {
				return fmt.Errorf("warm up %s: %w", t.name, err)
			}
		}
	}
	measure := func(until func() bool) ([][]time.Duration, error) {
		lat := make([][]time.Duration, len(targets))
		for i := 0; i < calls || (until != nil && !until()); i++ {
			if until == nil && i >= calls {
				break
			}
			for j, t := range targets {
				d, err := t.call(client, "/api/chat", body, false)
				if err != nil {
					return nil, err
				}
				lat[j] = append(lat[j], d)
			}
		}
		return lat, nil
	}
	size0 := dirSize(data)
	fmt.Printf("## Purging %d records while serving\n\n", n)
	before, err := measure(nil)
	if err != nil {
		return err
	}
	fmt.Printf("Before the purge (%d calls per target, concurrency 1, interleaved):\n\n", len(before[0]))
	table(targets, before)

	var out bytes.Buffer
	var start time.Time
	done := make(chan error, 1)
	if inServe {
		if time.Now().After(purgeAt) {
			return errors.New("the measurement before the purge outlasted serve's first purge: use a smaller -n")
		}
		time.Sleep(time.Until(purgeAt)) // a benchmark's pause, not a test's
		start = time.Now()
		go func() {
			fmt.Fprintln(&out, <-served)
			done <- nil
		}()
	} else {
		purge := exec.Command(bin, "retention", "run", "--data", data, "--config", cfg)
		purge.Stdout, purge.Stderr = &out, &out
		start = time.Now()
		if err := purge.Start(); err != nil {
			return err
		}
		go func() { done <- purge.Wait() }()
	}
	var purgeErr error
	finished := false
	during, err := measure(func() bool {
		if finished {
			return true
		}
		select {
		case purgeErr = <-done:
			finished = true
		default:
		}
		return finished
	})
	if err != nil {
		return err
	}
	if !finished {
		purgeErr = <-done
	}
	took := time.Since(start)
	fmt.Printf("During the purge (%d calls per target while it ran):\n\n", len(during[0]))
	table(targets, during)
	what := "aitrail retention run"
	if inServe {
		what = "serve's scheduled purge"
	}
	fmt.Printf("%s: %s, exit %v\n\n```\n%s```\n\n", what, took.Round(100*time.Millisecond), purgeErr, out.String())
	gwCmd.Process.Signal(os.Interrupt)
	gwCmd.Wait()
	procs = procs[:2]
	fmt.Printf("Data directory: %s before, %s after\n\n", mib(size0), mib(dirSize(data)))
	v, _ := exec.Command(bin, "verify", "--data", data).CombinedOutput()
	fmt.Printf("aitrail verify: %s\n", strings.TrimSpace(string(v)))
	return nil
}

// buildLog appends n records (request and response pairs) as the gateway
// writes them: redacted bodies, an e-mail address in the PII index, and
// commitments to clear bodies in the vault.
func buildLog(data string, n int) error {
	ctx := context.Background()
	st, c, index, err := openData(ctx, data, "")
	if err != nil {
		return err
	}
	defer st.Close()
	led := ledger.New(st, "main", ledger.Options{MaxBatch: 4096})
	start := time.Now()
	const group = 2000
	for done := 0; done < n; {
		var es []*ledger.Entry
		for i := 0; i < group && done < n; i, done = i+1, done+1 {
			kind := record.KindRequest
			if done%2 == 1 {
				kind = record.KindResponse
			}
			r := record.NewEvent(kind, nil)
			r.Actor, r.Role, r.Status, r.Model, r.Endpoint = fmt.Sprintf("user%d", done%50), "user", record.StatusOK, "tiny", "POST /api/chat"
			body := []byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"question %d from [EMAIL_1] about the quarterly report"}]}`, done))
			r.BodyHash = c.Commit(r.Nonce, record.LabelBody, body)
			r.ClearHash = c.Commit(r.Nonce, record.LabelClear, body)
			es = append(es, &ledger.Entry{Record: r, Body: body,
				PII: []store.PIIEntry{{Type: "EMAIL", MAC: index.MAC("EMAIL", fmt.Sprintf("user%d@example.com", done%1000))}}})
		}
		if err := led.Append(ctx, es...); err != nil {
			return err
		}
	}
	led.Close()
	fmt.Printf("built a log of %d records in %s\n\n", n, time.Since(start).Round(time.Second))
	return nil
}

// openData opens the log of the data directory data, which aitrail made
// (in the PostgreSQL database at dsn, if not ""), with its commitment key
// and PII index, to write records to it directly.
func openData(ctx context.Context, data, dsn string) (store.Store, *record.Committer, *pii.Index, error) {
	var st store.Store
	var err error
	if dsn == "" {
		st, err = sqlite.Open(ctx, filepath.Join(data, "audit.db"))
	} else {
		st, err = postgres.Open(ctx, dsn)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := committerOf(filepath.Join(data, "commitment.key"))
	if err == nil {
		var pk []byte
		if pk, err = readHexKey(filepath.Join(data, "pii.key")); err == nil {
			var index *pii.Index
			if index, err = pii.New(pk, "US"); err == nil {
				return st, c, index, nil
			}
		}
	}
	st.Close()
	return nil, nil, nil, err
}

func readHexKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(string(bytes.TrimSpace(b)))
}

func committerOf(path string) (*record.Committer, error) {
	key, err := readHexKey(path)
	if err != nil {
		return nil, err
	}
	return record.NewCommitter(key)
}

func mustRun(bin string, args ...string) []byte {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "aitrail %s: %v\n", strings.Join(args, " "), err)
		os.Exit(1)
	}
	return out
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// waitVerified waits until serve's first background verification, which
// reads the whole log and would weigh on the measurement before the purge,
// has finished (GET /healthz shows when it ran).
func waitVerified(client *http.Client, base string) error {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		var h struct {
			Integrity struct {
				CheckedAt string `json:"checked_at"`
			} `json:"integrity"`
		}
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return err
		}
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("GET /healthz: %w", err)
		}
		if h.Integrity.CheckedAt != "" {
			return nil
		}
		time.Sleep(200 * time.Millisecond) // polling a benchmark's precondition
	}
	return errors.New("serve's first verification did not finish within 10 minutes")
}

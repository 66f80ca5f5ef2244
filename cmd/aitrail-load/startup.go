package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// measureStartup builds a log of n records as a gateway that crashed
// leaves it (calls with bodies and PII index entries, heartbeats, and
// pending requests whose gateway died before they were answered), signs a
// checkpoint over it, and times how long 'aitrail serve' takes to listen on
// it: from the process's start to its "aitrail serving" line, twice (the
// start that marks the pending calls interrupted, then a start after a
// kill -9 with nothing pending). After each start it sends calls while the
// first background verification of the whole log runs, and reports their
// latency and how long that verification took.
//
// With fromV5, it first turns the log into one of schema version 5 (the
// last before the unanswered table) and times 'aitrail migrate' on it.
//
// With dsn, the log is in that PostgreSQL database instead of SQLite.
func measureStartup(bin string, n, pending int, fromV5 bool, dsn string) error {
	if fromV5 && dsn != "" {
		return fmt.Errorf("-from-v5 is for SQLite logs only")
	}
	tmp, err := os.MkdirTemp("", "aitrail-startup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	where := []string{"--data", data}
	if dsn != "" {
		where = append(where, "--database", dsn)
	}
	key := string(lastLine(mustRun(bin, append([]string{"keys", "create", "--actor", "load", "--role", "user"}, where...)...)))
	if err := buildCrashedLog(data, dsn, n, pending); err != nil {
		return err
	}
	mustRun(bin, append([]string{"keys", "create", "--actor", "after", "--role", "user"}, where...)...) // signs a checkpoint over it all
	fmt.Printf("Data directory: %s\n\n", mib(dirSize(data)))
	if fromV5 {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "audit.db"))
		if err != nil {
			return err
		}
		_, err = db.Exec(`DROP TABLE unanswered; DROP TABLE schema_version`)
		db.Close()
		if err != nil {
			return err
		}
		start := time.Now()
		out, err := exec.Command(bin, "migrate", "--data", data).CombinedOutput()
		if err != nil {
			return fmt.Errorf("aitrail migrate: %v\n%s", err, out)
		}
		fmt.Printf("aitrail migrate from schema version 5: %s\n\n```\n%s```\n\n", time.Since(start).Round(10*time.Millisecond), out)
	}

	upCmd := exec.Command(bin, "standin", "--listen", "127.0.0.1:0")
	upAddr, err := startProc(upCmd, regexp.MustCompile(`on http://(\S+)`))
	if err != nil {
		return err
	}
	defer func() { upCmd.Process.Kill(); upCmd.Wait() }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
	fmt.Println("| start | time to listen (process start to listening) | serve's own figure (started_in) | interrupted calls marked | calls during the first verification, p50 / p99 | first full verification |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, which := range []string{"after the crash", "after a kill -9, nothing pending"} {
		var mu sync.Mutex
		var startedIn, marked string
		watch := func(line string) {
			mu.Lock()
			defer mu.Unlock()
			if m := regexp.MustCompile(`started_in=(\S+)`).FindStringSubmatch(line); m != nil {
				startedIn = m[1]
			}
			if m := regexp.MustCompile(`marking (\d+) interrupted calls`).FindStringSubmatch(line); m != nil {
				marked = m[1]
			}
		}
		gw := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--upstream", "http://" + upAddr}, where...)...)
		start := time.Now()
		addr, err := startProcWatch(gw, regexp.MustCompile(`listen=http://(\S+)`), watch)
		listened := time.Since(start)
		if err != nil {
			gw.Process.Kill()
			gw.Wait()
			return fmt.Errorf("serve %s: %w", which, err)
		}
		verifyStart := time.Now()
		t := target{name: "aitrail", base: "http://" + addr, key: key}
		const body = `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hello there"}],"options":{"num_predict":12}}`
		var lat []time.Duration
		verified := make(chan error, 1)
		go func() { verified <- waitVerified(client, t.base) }()
	calls:
		for {
			select {
			case err := <-verified:
				if err != nil {
					gw.Process.Kill()
					gw.Wait()
					return err
				}
				break calls
			default:
			}
			d, err := t.call(client, "/api/chat", body, false)
			if err != nil {
				gw.Process.Kill()
				gw.Wait()
				return fmt.Errorf("a call %s: %w", which, err)
			}
			lat = append(lat, d)
		}
		verifyTook := time.Since(verifyStart)
		gw.Process.Kill() // a crash again: the next start finds nothing pending
		gw.Wait()
		mu.Lock()
		if marked == "" {
			marked = "0"
		}
		callLat := "none (it finished first)"
		if len(lat) > 0 {
			callLat = fmt.Sprintf("%d calls, %s / %s", len(lat), ms(pct(lat, 50)), ms(pct(lat, 99)))
		}
		fmt.Printf("| %s | **%s** | %s | %s | %s | %s |\n", which, listened.Round(time.Millisecond), startedIn, marked,
			callLat, verifyTook.Round(100*time.Millisecond))
		mu.Unlock()
	}
	v, _ := exec.Command(bin, append([]string{"verify"}, where...)...).CombinedOutput()
	fmt.Printf("\naitrail verify: %s\n", strings.TrimSpace(string(v)))
	return nil
}

// buildCrashedLog appends about n records through the ledger, as a gateway
// under load writes them: calls of a request and its response (redacted
// bodies, a PII index entry, commitments), the response a few records after
// its request as concurrent calls interleave, a heartbeat every 1000
// records, and at the end pending requests without a response: the calls a
// crash cut short.
func buildCrashedLog(data, dsn string, n, pending int) error {
	ctx := context.Background()
	st, c, index, err := openData(ctx, data, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := st.Head(ctx, "main")
	if err != nil {
		return err
	}
	led := ledger.New(st, "main", ledger.Options{MaxBatch: 4096})
	defer led.Close()
	start := time.Now()
	next := h.Seq + 1 // the seq the ledger gives the next entry: this is the only writer
	var es []*ledger.Entry
	add := func(r *record.Record, body []byte, p []store.PIIEntry) {
		r.Role = "user"
		if body != nil {
			r.BodyHash = c.Commit(r.Nonce, record.LabelBody, body)
		}
		es = append(es, &ledger.Entry{Record: r, Body: body, PII: p})
		next++
	}
	flush := func() error {
		err := led.Append(ctx, es...)
		es = es[:0]
		return err
	}
	const interleave = 8 // calls in flight at once
	var open []int64     // requests written, not yet answered
	request := func(call int) {
		q := record.NewEvent(record.KindRequest, nil)
		q.Actor, q.Status, q.Model, q.Endpoint, q.TokensIn, q.TokensOut = fmt.Sprintf("user%d", call%50), record.StatusPending, "tiny", "POST /api/chat", -1, -1
		open = append(open, next)
		add(q, fmt.Appendf(nil, `{"model":"tiny","messages":[{"role":"user","content":"question %d from [EMAIL_1] about the quarterly report, with enough text to be a realistic prompt of a few hundred bytes"}]}`, call),
			[]store.PIIEntry{{Type: "EMAIL", MAC: index.MAC("EMAIL", fmt.Sprintf("user%d@example.com", call%1000))}})
	}
	answer := func(call int) {
		a := record.NewEvent(record.KindResponse, nil)
		a.Actor, a.Status, a.Model, a.Endpoint, a.RequestSeq = fmt.Sprintf("user%d", call%50), record.StatusOK, "tiny", "POST /api/chat", open[0]
		a.UpstreamStatus, a.DoneReason, a.TokensIn, a.TokensOut, a.LatencyUS = 200, "stop", 31, 12, 850
		open = open[1:]
		add(a, fmt.Appendf(nil, `{"message":{"role":"assistant","content":"answer %d: the quarterly report shows growth in every region"}}`, call), nil)
	}
	call := 0
	for ; int(next) < n-pending; call++ {
		if call%500 == 0 {
			hb := record.NewEvent(record.KindHeartbeat, map[string]any{"calls": call})
			hb.Actor = "aitrail"
			add(hb, nil, nil)
		}
		request(call)
		if len(open) > interleave {
			answer(call)
		}
		if len(es) >= 2000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	// The calls in flight when the gateway died: requests without answers.
	for len(open) > pending {
		answer(call)
	}
	for ; len(open) < pending; call++ {
		request(call)
	}
	if err := flush(); err != nil {
		return err
	}
	got, err := st.Unanswered(ctx, "main")
	if err != nil {
		return err
	}
	fmt.Printf("built a log of %d records with %d calls in flight in %s\n\n", next, len(got), time.Since(start).Round(time.Second))
	return nil
}

// Command aitrail-load measures what aitrail adds to a model call.
//
// In one run it starts, each as its own process on loopback: the stand-in
// model server with no token delay (aitrail standin), a bare Go
// httputil.ReverseProxy in front of it (no logging, pooled buffers,
// full-duplex), and aitrail serve in front of it with durable logging on a
// fresh SQLite log. It then sends the same requests straight to the
// upstream, through the bare proxy and through aitrail, and reports, per
// target: latency p50 and p99 at concurrency 1 and at a fixed open-loop
// rate, time to first streamed byte, the maximum sustained rate at a given
// concurrency, and for aitrail the records written against requests sent
// and the memory held per concurrent stream.
//
//	go run ./cmd/aitrail-load            # full run, about two minutes
//	go run ./cmd/aitrail-load -quick     # a smoke run
//	go run ./cmd/aitrail-load -startup 1000000   # time serve's start on a crashed log of 10^6 records
//
// The figures in docs/PERFORMANCE.md come from this command.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-proxy" {
		// Child mode: the bare reverse proxy.
		if err := runProxy(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "aitrail-load proxy:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aitrail-load: error:", err)
		os.Exit(1)
	}
}

type options struct {
	quick   bool
	bin     string
	seq     int           // requests per concurrency-1 measurement
	rate    int           // requests/s of the open-loop phase
	rateFor time.Duration // duration of the open-loop phase
	conc    int           // concurrency of the throughput phase
	concFor time.Duration // duration of the throughput phase
	streams int           // concurrent streams for the memory measurement
}

func run() error {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "short run (smoke test)")
	flag.StringVar(&o.bin, "bin", "", "aitrail binary (default: build ./cmd/aitrail)")
	flag.IntVar(&o.seq, "n", 3000, "requests per concurrency-1 measurement")
	flag.IntVar(&o.rate, "rate", 1000, "requests per second of the open-loop phase")
	flag.DurationVar(&o.rateFor, "rate-for", 10*time.Second, "duration of the open-loop phase")
	flag.IntVar(&o.conc, "c", 32, "concurrency of the throughput phase")
	flag.DurationVar(&o.concFor, "c-for", 10*time.Second, "duration of the throughput phase")
	flag.IntVar(&o.streams, "streams", 500, "concurrent streams for the memory measurement")
	verifyN := flag.Int("verify", 0, "instead: build a log of `N` records and time aitrail verify on it")
	purgeN := flag.Int("purge", 0, "instead: build a log of `N` records and time aitrail retention run purging all of it while serving")
	startupN := flag.Int("startup", 0, "instead: build a log of `N` records left by a crash and time how long serve takes to listen on it")
	pending := flag.Int("pending", 128, "with -startup: the calls in flight when the gateway crashed")
	database := flag.String("database", "", "with -startup: a postgres:// `URL` of an empty database to build the log in, instead of SQLite")
	fromV5 := flag.Bool("from-v5", false, "with -startup: first time 'aitrail migrate' of the log from schema version 5")
	inServe := flag.Bool("purge-in-serve", false, "with -purge: let serve's scheduled purge do it, instead of aitrail retention run")
	flag.Parse()
	if o.quick {
		o.seq, o.rateFor, o.concFor, o.streams = 300, 2*time.Second, 2*time.Second, 100
	}
	tmp, err := os.MkdirTemp("", "aitrail-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.bin == "" {
		o.bin = filepath.Join(tmp, "aitrail")
		fmt.Fprintln(os.Stderr, "building aitrail...")
		cmd := exec.Command("go", "build", "-o", o.bin, "./cmd/aitrail")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build aitrail: %w", err)
		}
	}
	if *verifyN > 0 {
		return measureVerify(o.bin, *verifyN)
	}
	if *startupN > 0 {
		return measureStartup(o.bin, *startupN, *pending, *fromV5, *database)
	}
	if *purgeN > 0 {
		return measurePurge(o.bin, *purgeN, o.seq, *inServe)
	}
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()
	start := func(name string, ready *regexp.Regexp, args ...string) (string, *exec.Cmd, error) {
		cmd := exec.Command(args[0], args[1:]...)
		addr, err := startProc(cmd, ready)
		if err != nil {
			return "", nil, fmt.Errorf("start %s: %w", name, err)
		}
		procs = append(procs, cmd)
		return addr, cmd, nil
	}
	upAddr, _, err := start("upstream", regexp.MustCompile(`on http://(\S+)`), o.bin, "standin", "--listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	self, _ := os.Executable()
	pxAddr, _, err := start("reverse proxy", regexp.MustCompile(`proxy on http://(\S+)`), self, "-proxy", "http://"+upAddr)
	if err != nil {
		return err
	}
	data := filepath.Join(tmp, "data")
	gwAddr, gw, err := start("aitrail", regexp.MustCompile(`listen=http://(\S+)`), o.bin, "serve", "--data", data,
		"--listen", "127.0.0.1:0", "--upstream", "http://"+upAddr)
	if err != nil {
		return err
	}
	keyOut, err := exec.Command(o.bin, "keys", "create", "--actor", "load", "--role", "user", "--data", data).Output()
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(keyOut)), "\n")
	key := lines[len(lines)-1]

	targets := []target{
		{name: "upstream (direct)", base: "http://" + upAddr},
		{name: "bare ReverseProxy", base: "http://" + pxAddr},
		{name: "aitrail (durable log)", base: "http://" + gwAddr, key: key},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024, DisableCompression: true}}
	const chatBody = `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hello there"}],"options":{"num_predict":12}}`
	const streamBody = `{"model":"tiny","messages":[{"role":"user","content":"hello there"}],"options":{"num_predict":12}}`

	fmt.Printf("# aitrail load harness\n\n%s, %d CPUs, GOMAXPROCS %d, %s\n\n", runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	// Warm up every target (connections, model digest cache, page cache).
	for _, t := range targets {
		for i := 0; i < 200; i++ {
			if _, err := t.call(client, "/api/chat", chatBody, false); err != nil {
				return fmt.Errorf("warm up %s: %w", t.name, err)
			}
		}
	}
	var sent atomic.Int64 // calls sent through aitrail
	count := func(t target) {
		if t.key != "" {
			sent.Add(1)
		}
	}

	fmt.Printf("## Latency at concurrency 1 (%d non-streamed /api/chat calls per target, interleaved)\n\n", o.seq)
	lat := make([][]time.Duration, len(targets))
	for i := 0; i < o.seq; i++ {
		for j, t := range targets {
			d, err := t.call(client, "/api/chat", chatBody, false)
			if err != nil {
				return err
			}
			count(t)
			lat[j] = append(lat[j], d)
		}
	}
	table(targets, lat, "p50", "p99")

	fmt.Printf("## Time to first streamed byte at concurrency 1 (%d streamed /api/chat calls per target)\n\n", o.seq)
	ttfb := make([][]time.Duration, len(targets))
	for i := 0; i < o.seq; i++ {
		for j, t := range targets {
			d, err := t.call(client, "/api/chat", streamBody, true)
			if err != nil {
				return err
			}
			count(t)
			ttfb[j] = append(ttfb[j], d)
		}
	}
	table(targets, ttfb, "p50", "p99")

	fmt.Printf("## Latency at %d requests/s, open loop, for %s per target\n\n", o.rate, o.rateFor)
	rateLat := make([][]time.Duration, len(targets))
	for j, t := range targets {
		ds, errs := openLoop(client, t, "/api/chat", chatBody, o.rate, o.rateFor)
		if errs > 0 {
			fmt.Printf("(%s: %d errors)\n", t.name, errs)
		}
		if t.key != "" {
			sent.Add(int64(len(ds) + errs))
		}
		rateLat[j] = ds
	}
	table(targets, rateLat, "p50", "p99")

	fmt.Printf("## Throughput at concurrency %d for %s per target (non-streamed /api/chat)\n\n", o.conc, o.concFor)
	fmt.Println("| target | calls/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---|---|---|")
	for _, t := range targets {
		ds, errs, rps := closedLoop(client, t, "/api/chat", chatBody, o.conc, o.concFor)
		if t.key != "" {
			sent.Add(int64(len(ds) + errs))
		}
		fmt.Printf("| %s | %.0f | %s | %s | %d |\n", t.name, rps, ms(pct(ds, 50)), ms(pct(ds, 99)), errs)
	}
	fmt.Println()

	rss0 := rssKiB(gw.Process.Pid)
	held, err := holdStreams(client, targets[2], o.streams)
	if err != nil {
		return err
	}
	rss1 := rssKiB(gw.Process.Pid)
	held()
	sent.Add(int64(o.streams))
	fmt.Printf("## Memory per concurrent stream\n\n%d streams held open through aitrail (model tiny-stall): RSS %d KiB -> %d KiB, %.1f KiB per stream\n\n",
		o.streams, rss0, rss1, float64(rss1-rss0)/float64(o.streams))

	// Stop aitrail cleanly so that every record is counted.
	gw.Process.Signal(os.Interrupt)
	gw.Wait()
	procs = slices.DeleteFunc(procs, func(c *exec.Cmd) bool { return c == gw })
	db, err := sql.Open("sqlite", filepath.Join(data, "audit.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	var reqs, resps int64
	db.QueryRow(`SELECT count(*) FROM records WHERE kind = 'model.request' AND actor = 'load'`).Scan(&reqs)
	db.QueryRow(`SELECT count(*) FROM records WHERE kind = 'model.response' AND actor = 'load'`).Scan(&resps)
	warm := int64(200)
	fmt.Printf("## Completeness\n\ncalls sent through aitrail: %d; request records: %d; response records: %d; missing: %d\n\n",
		sent.Load()+warm, reqs, resps, sent.Load()+warm-resps)
	out, _ := exec.Command(o.bin, "verify", "--data", data).CombinedOutput()
	fmt.Printf("aitrail verify: %s\n", strings.TrimSpace(string(out)))
	return nil
}

type target struct {
	name, base, key string
}

// call sends one request and returns its latency: to the last byte, or
// with firstByte to the first body byte.
func (t target) call(c *http.Client, path, body string, firstByte bool) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodPost, t.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.name, err)
	}
	defer resp.Body.Close()
	var d time.Duration
	if firstByte {
		var b [1]byte
		if _, err := io.ReadFull(resp.Body, b[:]); err != nil {
			return 0, fmt.Errorf("%s: first byte: %w", t.name, err)
		}
		d = time.Since(start)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if !firstByte {
		d = time.Since(start)
	}
	if err != nil || resp.StatusCode != 200 || (n == 0 && !firstByte) {
		return 0, fmt.Errorf("%s: status %d, %d bytes, %v", t.name, resp.StatusCode, n, err)
	}
	return d, nil
}

func openLoop(c *http.Client, t target, path, body string, rate int, dur time.Duration) ([]time.Duration, int) {
	var mu sync.Mutex
	var ds []time.Duration
	var errs int
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.Now().Add(dur)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := t.call(c, path, body, false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			ds = append(ds, d)
		}()
	}
	wg.Wait()
	return ds, errs
}

func closedLoop(c *http.Client, t target, path, body string, conc int, dur time.Duration) ([]time.Duration, int, float64) {
	var mu sync.Mutex
	var ds []time.Duration
	var errs int
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(dur)
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				d, err := t.call(c, path, body, false)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					ds = append(ds, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ds, errs, float64(len(ds)) / time.Since(start).Seconds()
}

// holdStreams opens n streams of the stalling model and waits for each
// one's first chunk; the returned func closes them.
func holdStreams(c *http.Client, t target, n int) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	var bodies []io.Closer
	for i := 0; i < n; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/api/chat",
			strings.NewReader(`{"model":"tiny-stall","messages":[{"role":"user","content":"hold on"}]}`))
		req.Header.Set("Authorization", "Bearer "+t.key)
		resp, err := c.Do(req)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("stream %d: %w", i, err)
		}
		if _, err := bufio.NewReader(resp.Body).ReadBytes('\n'); err != nil {
			cancel()
			return nil, fmt.Errorf("stream %d first chunk: %w", i, err)
		}
		bodies = append(bodies, resp.Body)
	}
	return func() {
		cancel()
		for _, b := range bodies {
			b.Close()
		}
	}, nil
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

// table prints p50 and p99 per target and what aitrail adds over the
// direct upstream and over the bare proxy.
func table(targets []target, lat [][]time.Duration, _ ...string) {
	fmt.Println("| target | p50 | p99 |")
	fmt.Println("|---|---|---|")
	for j, t := range targets {
		fmt.Printf("| %s | %s | %s |\n", t.name, ms(pct(lat[j], 50)), ms(pct(lat[j], 99)))
	}
	a, d, p := len(targets)-1, 0, 1
	fmt.Printf("\naitrail adds %s p50 / %s p99 over the direct upstream, %s p50 / %s p99 over the bare proxy\n\n",
		ms(pct(lat[a], 50)-pct(lat[d], 50)), ms(pct(lat[a], 99)-pct(lat[d], 99)),
		ms(pct(lat[a], 50)-pct(lat[p], 50)), ms(pct(lat[a], 99)-pct(lat[p], 99)))
}

// startProc starts cmd and returns the address its output announces.
func startProc(cmd *exec.Cmd, ready *regexp.Regexp) (string, error) {
	return startProcWatch(cmd, ready, nil)
}

// startProcWatch is startProc that also hands every line of output to
// onLine, if not nil.
func startProcWatch(cmd *exec.Cmd, ready *regexp.Regexp, onLine func(string)) (string, error) {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if onLine != nil {
				onLine(sc.Text())
			}
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-found:
		return addr, nil
	case <-time.After(30 * time.Second):
		return "", errors.New("did not announce its address within 30s")
	}
}

// runProxy serves a bare reverse proxy, the baseline of what any gateway
// costs: no logging, pooled buffers, full duplex.
func runProxy(upstream string) error {
	u, err := url.Parse(upstream)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024, DisableCompression: true}
	rp.BufferPool = bufPool{}
	rp.FlushInterval = -1
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("proxy on http://%s\n", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	}))
}

var pool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

type bufPool struct{}

func (bufPool) Get() []byte  { return *pool.Get().(*[]byte) }
func (bufPool) Put(b []byte) { pool.Put(&b) }

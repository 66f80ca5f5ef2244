// Package e2e holds aitrail's end-to-end tests. They build the real aitrail
// binary once (with -race), run it as a separate process in front of the
// stand-in model server (internal/standin, served in-process), call it with
// the official client SDKs and plain HTTP, kill and restart it, tamper with
// its files, and read what it recorded back through the CLI ('aitrail query
// --json', 'aitrail verify').
//
// Nothing here sleeps to synchronise: the gateway's address and first admin
// key are read from its output line by line as it prints them, stand-in
// captures are handed over on channels, and the few outcomes that settle
// after a call returns (a client abort) are polled with a ticker until a
// deadline. Timeouts exist only as failure bounds.
//
// Most tests share one gateway (see sharedEnv) and keep their queries apart
// with their own actors and request ids; tests that need their own
// configuration or state start their own.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/standin"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read and tamper with the log
)

// Failure bounds. They never pace a test: a healthy run stays far below
// them, and reaching one is reported as a failure.
const (
	startTimeout = 90 * time.Second // for a gateway to print its address
	exitTimeout  = 90 * time.Second // for a gateway to exit after a signal
	cliTimeout   = 2 * time.Minute  // for one CLI command
	callTimeout  = 2 * time.Minute  // for one HTTP call
	settleBound  = 60 * time.Second // for an outcome polled with eventually
)

// tinyDigest is the digest the stand-in's /api/tags gives for tiny.
const tinyDigest = "849ccfe8f3440d369343c258da03ce1c0b55039c0dda4d217cb7dcedbcc29cc1"

// callHeader carries a test's own id for a call to the stand-in, which the
// gateway forwards like any header that is not aitrail's own; the stand-in
// files what it received and wrote under it.
const callHeader = "X-E2e-Call"

var (
	// aitrailBin is the binary built by TestMain.
	aitrailBin string

	servingLine = regexp.MustCompile(`(?:msg="aitrail serving" listen=|"msg":"aitrail serving","listen":")(https?://[^\s"]+)`)
	keyPattern  = regexp.MustCompile(`ait_[0-9a-f]{16}_[A-Za-z0-9_-]{43}`)
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "aitrail-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	aitrailBin = filepath.Join(dir, "aitrail")
	// go test puts the go command that runs it first in PATH.
	build := exec.Command("go", "build", "-race", "-o", aitrailBin, "github.com/aitrail/aitrail/cmd/aitrail")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot build aitrail:", err)
		return 1
	}
	// The tests mostly wait for other processes: run more of them at once
	// than there are CPUs, unless -test.parallel says otherwise.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", fmt.Sprint(max(4, 2*runtime.GOMAXPROCS(0))))
	}
	code := m.Run()
	if err := closeShared(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: shared gateway:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// childEnv is the environment of the aitrail processes: this one's, with
// the race detector's pause at exit (a second by default) turned off.
func childEnv() []string {
	return append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

// newID returns a random id for a call, an actor or a database.
func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ---------------------------------------------------------------------------
// The stand-in upstream.

// capture is one request the stand-in served: what it received and exactly
// what it wrote back (from standin.Options.OnResponse).
type capture struct {
	Path        string
	Header      http.Header
	Request     []byte
	Status      int
	ContentType string
	Body        []byte

	done chan struct{} // closed once the handler has returned
}

// upstream is a stand-in model server on an httptest server. Every request
// is served by a fresh standin.Server whose OnResponse files the bytes
// under the request's X-E2e-Call header, so that concurrent calls are told
// apart. (The stand-in's answers depend only on the request, so a fresh
// server answers as a long-lived one would, except for models created or
// deleted by earlier calls, which these tests do not use.)
type upstream struct {
	URL string
	srv *httptest.Server

	mu     sync.Mutex
	calls  map[string]*capture
	all    []*capture
	waiter map[string]chan *capture
}

// startUpstream starts a stand-in model server, closed at the end of the test.
func startUpstream(t testing.TB) *upstream {
	t.Helper()
	u := newUpstream()
	t.Cleanup(u.close)
	return u
}

func newUpstream() *upstream {
	u := &upstream{calls: map[string]*capture{}, waiter: map[string]chan *capture{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	u.URL = u.srv.URL
	return u
}

func (u *upstream) close() {
	// Stalled streams end when their client goes.
	u.srv.CloseClientConnections()
	u.srv.Close()
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	req, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(req))
	c := &capture{Path: r.URL.Path, Header: r.Header.Clone(), Request: req, done: make(chan struct{})}
	id := r.Header.Get(callHeader)
	u.mu.Lock()
	u.all = append(u.all, c)
	if id != "" {
		u.calls[id] = c
		if ch, ok := u.waiter[id]; ok {
			ch <- c
			delete(u.waiter, id)
		}
	}
	u.mu.Unlock()

	h := standin.New(standin.Options{OnResponse: func(path string, status int, body []byte) {
		c.Status, c.Body = status, bytes.Clone(body)
	}})
	h.ServeHTTP(w, r)
	c.ContentType = w.Header().Get("Content-Type")
	close(c.done)
}

// call returns what the stand-in received and wrote for the call id, once
// its handler has finished.
func (u *upstream) call(t testing.TB, id string) *capture {
	t.Helper()
	c := u.arrived(t, id)
	bound := time.NewTimer(callTimeout)
	defer bound.Stop()
	select {
	case <-c.done:
	case <-bound.C:
		t.Fatalf("the stand-in never finished call %s", id)
	}
	return c
}

// arrived waits until the stand-in has received the call id, and returns
// its capture, which is complete once c.done is closed.
func (u *upstream) arrived(t testing.TB, id string) *capture {
	t.Helper()
	u.mu.Lock()
	c, ok := u.calls[id]
	var ch chan *capture
	if !ok {
		ch = make(chan *capture, 1)
		u.waiter[id] = ch
	}
	u.mu.Unlock()
	if ok {
		return c
	}
	bound := time.NewTimer(callTimeout)
	defer bound.Stop()
	select {
	case c = <-ch:
	case <-bound.C:
		t.Fatalf("the stand-in never received call %s", id)
	}
	return c
}

// received reports whether any request the stand-in received contains s.
func (u *upstream) received(s string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.all {
		if bytes.Contains(c.Request, []byte(s)) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// The gateway process.

// gatewayConfig describes a gateway to start.
type gatewayConfig struct {
	Upstream string // the model server's URL
	Config   string // YAML for a --config file, if any
	Dir      string // the data directory (default: a new temporary one)
	Database string // a postgres:// URL, or "" for SQLite in Dir
	Node     string // --node, if set
	Joined   bool   // a further node of a fleet: it prints no first admin key
}

// gateway is an 'aitrail serve' process and the data it writes.
type gateway struct {
	URL      string // http://127.0.0.1:PORT of the running process
	AdminKey string // the first admin key, printed on first start
	Dir      string
	Database string

	args []string
	log  *syncBuffer
	proc *process
}

// process is one run of the binary.
type process struct {
	cmd    *exec.Cmd
	ready  chan string // the listen URL, from stderr
	key    chan string // the first admin key, from stdout
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// startGateway starts 'aitrail serve' on a fresh data directory (or the one
// given) and returns once it accepts calls, with its URL and first admin
// key. It is killed at the end of the test, and the test fails if the race
// detector reported anything in it.
func startGateway(t testing.TB, cfg gatewayConfig) *gateway {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	g := launchGateway(t, cfg)
	t.Cleanup(func() {
		if err := g.close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.log)
		}
	})
	return g
}

func launchGateway(t testing.TB, cfg gatewayConfig) *gateway {
	t.Helper()
	g := &gateway{Dir: cfg.Dir, Database: cfg.Database, log: &syncBuffer{}}
	g.args = []string{"serve", "--data", cfg.Dir, "--listen", "127.0.0.1:0", "--upstream", cfg.Upstream}
	if cfg.Config != "" {
		path := filepath.Join(cfg.Dir, "aitrail.yaml")
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(cfg.Config), 0o600); err != nil {
			t.Fatal(err)
		}
		g.args = append(g.args, "--config", path)
	}
	if cfg.Database != "" {
		g.args = append(g.args, "--database", cfg.Database)
	}
	if cfg.Node != "" {
		g.args = append(g.args, "--node", cfg.Node)
	}
	g.start(t, !cfg.Joined)
	return g
}

// start runs the binary and waits until it serves; with wantKey, also for
// the first admin key it prints on a new log.
func (g *gateway) start(t testing.TB, wantKey bool) {
	t.Helper()
	p := &process{ready: make(chan string, 1), key: make(chan string, 1), exited: make(chan struct{})}
	p.cmd = exec.Command(aitrailBin, g.args...)
	p.cmd.Env = childEnv()
	p.cmd.Stdout = &lineWriter{log: g.log, name: "stdout", onLine: func(line string) {
		if k := keyPattern.FindString(line); k != "" {
			offer(p.key, k)
		}
	}}
	p.cmd.Stderr = &lineWriter{log: g.log, name: "stderr", onLine: func(line string) {
		if m := servingLine.FindStringSubmatch(line); m != nil {
			offer(p.ready, m[1])
		}
	}}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start aitrail serve: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	g.proc = p

	bound := time.NewTimer(startTimeout)
	defer bound.Stop()
	select {
	case g.URL = <-p.ready:
	case <-p.exited:
		t.Fatalf("aitrail %s exited before serving: %v\n%s", strings.Join(g.args, " "), p.err, g.log)
	case <-bound.C:
		p.cmd.Process.Kill()
		t.Fatalf("aitrail serve printed no address within %v\n%s", startTimeout, g.log)
	}
	if !wantKey {
		return
	}
	// The key is printed to stdout before the address goes to stderr.
	select {
	case g.AdminKey = <-p.key:
	case <-p.exited:
		t.Fatalf("aitrail serve exited without printing the first admin key: %v\n%s", p.err, g.log)
	case <-bound.C:
		t.Fatalf("aitrail serve printed no admin key within %v\n%s", startTimeout, g.log)
	}
}

func offer(ch chan string, v string) {
	select {
	case ch <- v:
	default:
	}
}

// running reports whether the process has not exited.
func (g *gateway) running() bool {
	if g.proc == nil {
		return false
	}
	select {
	case <-g.proc.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (g *gateway) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := g.proc.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal aitrail serve: %v", err)
	}
}

// wait waits for the process to exit and returns its exit code (-1 if a
// signal ended it).
func (g *gateway) wait(t testing.TB) int {
	t.Helper()
	bound := time.NewTimer(exitTimeout)
	defer bound.Stop()
	select {
	case <-g.proc.exited:
	case <-bound.C:
		t.Fatalf("aitrail serve did not exit within %v\n%s", exitTimeout, g.log)
	}
	return exitCode(g.proc.err)
}

// stop sends SIGTERM and returns the exit code.
func (g *gateway) stop(t testing.TB) int {
	t.Helper()
	g.signal(t, syscall.SIGTERM)
	return g.wait(t)
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (g *gateway) kill(t testing.TB) {
	t.Helper()
	g.signal(t, syscall.SIGKILL)
	g.wait(t)
}

// restart starts the gateway again on the same data, after it stopped.
func (g *gateway) restart(t testing.TB) {
	t.Helper()
	if g.running() {
		t.Fatal("restart: the gateway is still running")
	}
	g.start(t, false)
}

// close kills the process if it still runs, and reports a data race the
// race detector found in it.
func (g *gateway) close() error {
	if g.running() {
		g.proc.cmd.Process.Kill()
		<-g.proc.exited
	}
	if strings.Contains(g.log.String(), "WARNING: DATA RACE") {
		return fmt.Errorf("the race detector reported a data race in aitrail serve:\n%s", g.log)
	}
	return nil
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// lineWriter splits a process's output into lines, keeps them in log, and
// hands each to onLine as soon as it is complete.
type lineWriter struct {
	log    *syncBuffer
	name   string
	onLine func(string)

	mu      sync.Mutex
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.log.WriteString(w.name + ": " + line + "\n")
		w.onLine(line)
	}
	return len(p), nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use, whose readers can
// wait for what they expect to be written.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed at the next write
}

func (s *syncBuffer) WriteString(v string) {
	s.mu.Lock()
	s.b.WriteString(v)
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
}

// waitFor waits until the buffer contains sub, failing at startTimeout.
func (s *syncBuffer) waitFor(t testing.TB, sub string) {
	t.Helper()
	bound := time.NewTimer(startTimeout)
	defer bound.Stop()
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), sub) {
			s.mu.Unlock()
			return
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-bound.C:
			t.Fatalf("the output never showed %q:\n%s", sub, s)
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ---------------------------------------------------------------------------
// The CLI.

// result is what one CLI command did.
type result struct {
	stdout, stderr string
	code           int
}

// runAitrail runs the binary with args.
func runAitrail(t testing.TB, args ...string) result {
	t.Helper()
	return runAitrailEnv(t, nil, args...)
}

// runAitrailEnv runs the binary with args and the variables env
// ("NAME=value") added to its environment.
func runAitrailEnv(t testing.TB, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, aitrailBin, args...)
	cmd.Env = append(childEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("aitrail %s did not finish within %v", strings.Join(args, " "), cliTimeout)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run aitrail %s: %v", strings.Join(args, " "), err)
	}
	out := result{stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
	if strings.Contains(out.stderr, "WARNING: DATA RACE") {
		t.Errorf("the race detector reported a data race in aitrail %s:\n%s", strings.Join(args, " "), out.stderr)
	}
	return out
}

// storeArgs are the flags that point a command at the gateway's log.
func (g *gateway) storeArgs() []string {
	args := []string{"--data", g.Dir}
	if g.Database != "" {
		args = append(args, "--database", g.Database)
	}
	return args
}

// run runs the CLI command cmd ("verify", "keys revoke") on the gateway's
// log, with args after the flags that locate the log.
func (g *gateway) run(t testing.TB, cmd string, args ...string) result {
	t.Helper()
	all := append(strings.Fields(cmd), g.storeArgs()...)
	return runAitrail(t, append(all, args...)...)
}

// createKey makes a key with 'aitrail keys create' and returns it.
func (g *gateway) createKey(t testing.TB, actor, role string) string {
	t.Helper()
	r := g.run(t, "keys create", "--actor", actor, "--role", role)
	if r.code != 0 {
		t.Fatalf("aitrail keys create --actor %s --role %s: exit %d\n%s", actor, role, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	key := strings.TrimSpace(lines[len(lines)-1])
	if !keyPattern.MatchString(key) || keyPattern.FindString(key) != key {
		t.Fatalf("aitrail keys create printed %q as its last line, want a key", key)
	}
	return key
}

// interaction is one object of 'aitrail query --json'. It is declared here,
// not taken from internal/query, so that the output format itself is
// under test.
type interaction struct {
	LogID          string          `json:"log_id"`
	Seq            int64           `json:"seq"`
	ResponseSeq    *int64          `json:"response_seq"`
	Time           time.Time       `json:"time"`
	Actor          string          `json:"actor"`
	Role           string          `json:"role"`
	Session        string          `json:"session"`
	Reason         string          `json:"reason"`
	ClientIP       string          `json:"client_ip"`
	CorrelationID  string          `json:"correlation_id"`
	Endpoint       string          `json:"endpoint"`
	Model          string          `json:"model"`
	ModelDigest    string          `json:"model_digest"`
	Stream         bool            `json:"stream"`
	Params         json.RawMessage `json:"params"`
	Status         string          `json:"status"`
	UpstreamStatus int             `json:"upstream_status"`
	DoneReason     string          `json:"done_reason"`
	TokensIn       int64           `json:"tokens_in"`
	TokensOut      int64           `json:"tokens_out"`
	LatencyMS      float64         `json:"latency_ms"`
	TTFTMS         float64         `json:"ttft_ms"`
	Prompt         string          `json:"prompt"`
	Response       string          `json:"response"`
	Thinking       string          `json:"thinking"`
	BodiesErased   bool            `json:"bodies_erased"`
	ToolCalls      json.RawMessage `json:"tool_calls"`
	Error          string          `json:"error"`
	PromptHash     string          `json:"prompt_hash"`
	ResponseHash   string          `json:"response_hash"`
}

// query runs 'aitrail query --json' with args and decodes its lines.
func (g *gateway) query(t testing.TB, args ...string) []interaction {
	t.Helper()
	r := g.run(t, "query", append([]string{"--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("aitrail query --json %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	var out []interaction
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		// Unknown counts are null in the output; the tests compare them
		// as -1, which the output itself must never hold.
		it := interaction{TokensIn: -1, TokensOut: -1}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("aitrail query --json printed %q: %v", sc.Text(), err)
		}
		for _, sentinel := range []string{`"tokens_in":-1`, `"tokens_out":-1`, `"response_seq":-1`} {
			if strings.Contains(sc.Text(), sentinel) {
				t.Fatalf("aitrail query --json printed %s where null is meant: %s", sentinel, sc.Text())
			}
		}
		out = append(out, it)
	}
	return out
}

// find returns the interactions whose correlation id is id, among those
// the filter args select.
func (g *gateway) find(t testing.TB, id string, args ...string) []interaction {
	t.Helper()
	var out []interaction
	for _, it := range g.query(t, args...) {
		if it.CorrelationID == id {
			out = append(out, it)
		}
	}
	return out
}

// interaction returns the one interaction with correlation id id.
func (g *gateway) interaction(t testing.TB, id string, args ...string) interaction {
	t.Helper()
	its := g.find(t, id, args...)
	if len(its) != 1 {
		t.Fatalf("aitrail query shows %d interactions with correlation id %s, want 1: %+v", len(its), id, its)
	}
	return its[0]
}

// eventually polls cond on a ticker until it holds, failing the test at
// settleBound with the last explanation cond gave.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(settleBound)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: not so after %v: %s", what, settleBound, why)
		}
	}
}

// ---------------------------------------------------------------------------
// The log's database.

// openDB opens the SQLite log of a stopped or running gateway.
func openDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "audit.db")+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// row is a record as stored, the columns the tests look at.
type row struct {
	Seq            int64
	Kind           string
	Actor          string
	Role           string
	Session        string
	Reason         string
	ClientIP       string
	CorrelationID  string
	Endpoint       string
	Model          string
	Status         string
	UpstreamStatus int
	RequestSeq     int64
	RawLen         int64
	Detail         string
}

// records returns the records with correlation id id, in seq order.
func (g *gateway) records(t testing.TB, id string) []row {
	t.Helper()
	db := openDB(t, g.Dir)
	rows, err := db.Query(`SELECT seq, kind, actor, role, session, reason, client_ip, correlation_id, endpoint,
model, status, upstream_status, request_seq, raw_len, detail FROM records WHERE correlation_id = ? ORDER BY seq`, id)
	if err != nil {
		t.Fatalf("read records: %v", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var detail []byte
		if err := rows.Scan(&r.Seq, &r.Kind, &r.Actor, &r.Role, &r.Session, &r.Reason, &r.ClientIP, &r.CorrelationID,
			&r.Endpoint, &r.Model, &r.Status, &r.UpstreamStatus, &r.RequestSeq, &r.RawLen, &detail); err != nil {
			t.Fatalf("read records: %v", err)
		}
		r.Detail = string(detail)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read records: %v", err)
	}
	return out
}

// ---------------------------------------------------------------------------
// HTTP.

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request and reads the whole answer. header holds
// name/value pairs; a key is sent as a bearer token if not empty.
func call(t testing.TB, method, url, key, body string, header ...string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// ---------------------------------------------------------------------------
// The shared gateway.

// env is a stand-in upstream and a gateway in front of it.
type env struct {
	up *upstream
	gw *gateway
}

var shared struct {
	once sync.Once
	env  *env
	err  string
}

// sharedEnv returns the gateway most tests share, started on first use
// with the default configuration and stopped by TestMain, which then checks
// that it exits cleanly and that its log verifies. Tests keep apart by
// their own actors (keys) and request ids.
func sharedEnv(t testing.TB) *env {
	t.Helper()
	shared.once.Do(func() {
		e := &env{up: newUpstream()}
		ok := false
		defer func() {
			if !ok {
				shared.err = "the shared gateway did not start (see the first test that used it)"
				e.up.close()
			}
		}()
		e.gw = launchGateway(t, gatewayConfig{Upstream: e.up.URL, Dir: mkdirTemp(t)})
		shared.env = e
		ok = true
	})
	if shared.env == nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

func mkdirTemp(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "aitrail-e2e-shared-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// closeShared stops the shared gateway: it must exit 0 on SIGTERM, and its
// log must verify.
func closeShared() error {
	e := shared.env
	if e == nil {
		return nil
	}
	defer os.RemoveAll(e.gw.Dir)
	defer e.up.close()
	var errs []error
	if e.gw.running() {
		e.gw.proc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.gw.proc.exited:
			if code := exitCode(e.gw.proc.err); code != 0 {
				errs = append(errs, fmt.Errorf("exit code %d after SIGTERM, want 0", code))
			}
		case <-time.After(exitTimeout):
			errs = append(errs, fmt.Errorf("did not exit within %v of SIGTERM", exitTimeout))
		}
	}
	if err := e.gw.close(); err != nil {
		errs = append(errs, err)
	}
	cmd := exec.Command(aitrailBin, append([]string{"verify"}, e.gw.storeArgs()...)...)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs = append(errs, fmt.Errorf("aitrail verify: %v\n%s", err, out))
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("gateway output:\n%s", e.gw.log))
	}
	return errors.Join(errs...)
}

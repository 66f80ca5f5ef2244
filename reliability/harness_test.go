package reliability

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/standin"
)

// Sizes of the suite: CI runs the defaults, an on-demand run asks for more.
var (
	kills    = flag.Int("kills", 20, "kill -9 the gateway `N` times in TestCrashConsistency")
	soakTime = flag.Duration("soak", 2*time.Minute, "run TestSoak for this `long`")
)

// Failure bounds. They never pace a test: a healthy run stays far below
// them, and reaching one is reported as a failure.
const (
	startTimeout = 90 * time.Second
	exitTimeout  = 90 * time.Second
	cliTimeout   = 2 * time.Minute
	callTimeout  = 2 * time.Minute
	settleBound  = 60 * time.Second
)

var (
	aitrailBin  string
	servingLine = regexp.MustCompile(`msg="aitrail serving" listen=(http://\S+)`)
	keyPattern  = regexp.MustCompile(`ait_[0-9a-f]{16}_[A-Za-z0-9_-]{43}`)
	idPattern   = regexp.MustCompile(`rel-[0-9a-f]{16}`)
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "aitrail-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	aitrailBin = filepath.Join(dir, "aitrail")
	// Built without -race: the e2e tests run the binary under the race
	// detector; here its memory and speed are what is measured.
	build := exec.Command("go", "build", "-o", aitrailBin, "github.com/aitrail/aitrail/cmd/aitrail")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: cannot build aitrail:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newID returns a fresh call id; the clients put it in their prompts (so
// the counting upstream sees it) and in X-Request-Id (so the record has it
// as its correlation id).
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "rel-" + hex.EncodeToString(b[:])
}

// ---------------------------------------------------------------------------
// The counting upstream.

// upstream is a model server on loopback that notes the call id of every
// request it receives before it answers, by default with the stand-in.
type upstream struct {
	URL string
	srv *httptest.Server

	mu   sync.Mutex
	seen map[string]int
	h    http.Handler
}

func startUpstream(t testing.TB, h http.Handler) *upstream {
	t.Helper()
	if h == nil {
		h = standin.New(standin.Options{})
	}
	u := &upstream{seen: map[string]int{}, h: h}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	u.URL = u.srv.URL
	t.Cleanup(func() {
		u.srv.CloseClientConnections()
		u.srv.Close()
	})
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	u.mu.Lock()
	for _, id := range idPattern.FindAllString(string(body), -1) {
		u.seen[id]++
	}
	u.mu.Unlock()
	u.h.ServeHTTP(w, r)
}

// received returns the ids of every request received so far.
func (u *upstream) received() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]int, len(u.seen))
	for k, v := range u.seen {
		out[k] = v
	}
	return out
}

// ---------------------------------------------------------------------------
// The gateway process.

type gateway struct {
	URL      string
	AdminKey string
	Dir      string

	args []string
	log  *syncBuffer
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startGateway starts 'aitrail serve' on a new data directory in front of
// upstream, with the YAML config if not empty, and returns once it serves.
func startGateway(t testing.TB, upstream, config string) *gateway {
	t.Helper()
	g := &gateway{Dir: t.TempDir(), log: &syncBuffer{}}
	g.args = []string{"serve", "--data", g.Dir, "--listen", "127.0.0.1:0", "--upstream", upstream}
	if config != "" {
		path := filepath.Join(g.Dir, "aitrail.yaml")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		g.args = append(g.args, "--config", path)
	}
	t.Cleanup(func() {
		if g.running() {
			g.cmd.Process.Kill()
			<-g.done
		}
		if t.Failed() {
			t.Logf("gateway output (last 8 KiB):\n%s", tail(g.log.String(), 8<<10))
		}
	})
	g.start(t, true)
	return g
}

func (g *gateway) start(t testing.TB, wantKey bool) {
	t.Helper()
	ready, key := make(chan string, 1), make(chan string, 1)
	g.cmd = exec.Command(aitrailBin, g.args...)
	g.cmd.Stdout = &lineWriter{log: g.log, onLine: func(l string) {
		if k := keyPattern.FindString(l); k != "" {
			offer(key, k)
		}
	}}
	g.cmd.Stderr = &lineWriter{log: g.log, onLine: func(l string) {
		if m := servingLine.FindStringSubmatch(l); m != nil {
			offer(ready, m[1])
		}
	}}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start aitrail serve: %v", err)
	}
	g.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		g.err = cmd.Wait()
		close(done)
	}(g.cmd, g.done)
	bound := time.NewTimer(startTimeout)
	defer bound.Stop()
	select {
	case g.URL = <-ready:
	case <-g.done:
		t.Fatalf("aitrail serve exited before serving: %v\n%s", g.err, tail(g.log.String(), 8<<10))
	case <-bound.C:
		t.Fatalf("aitrail serve printed no address within %v", startTimeout)
	}
	if wantKey {
		select {
		case g.AdminKey = <-key:
		case <-bound.C:
			t.Fatalf("aitrail serve printed no admin key within %v", startTimeout)
		}
	}
}

func offer(ch chan string, v string) {
	select {
	case ch <- v:
	default:
	}
}

func (g *gateway) running() bool {
	if g.done == nil {
		return false
	}
	select {
	case <-g.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (g *gateway) kill(t testing.TB) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill aitrail serve: %v", err)
	}
	g.wait(t)
}

func (g *gateway) wait(t testing.TB) {
	t.Helper()
	select {
	case <-g.done:
	case <-time.After(exitTimeout):
		t.Fatalf("aitrail serve did not exit within %v", exitTimeout)
	}
}

// restart starts the gateway again on the same data.
func (g *gateway) restart(t testing.TB) {
	t.Helper()
	g.start(t, false)
}

// pid returns the running process's id.
func (g *gateway) pid() int { return g.cmd.Process.Pid }

// run runs the aitrail command cmd ("verify", "keys create") on the
// gateway's data directory with args, and returns its exit code, stdout
// and stderr.
func (g *gateway) run(t testing.TB, cmd string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	args = append(append(strings.Fields(cmd), "--data", g.Dir), args...)
	c := exec.CommandContext(ctx, aitrailBin, args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if ctx.Err() != nil {
		t.Fatalf("aitrail %s did not finish within %v", strings.Join(args, " "), cliTimeout)
	}
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run aitrail %s: %v", strings.Join(args, " "), err)
	}
	return code, stdout.String(), stderr.String()
}

// createKey makes a user key with 'aitrail keys create'.
func (g *gateway) createKey(t testing.TB, actor string) string {
	t.Helper()
	code, out, errOut := g.run(t, "keys create", "--actor", actor, "--role", "user")
	k := keyPattern.FindString(out)
	if code != 0 || k == "" {
		t.Fatalf("aitrail keys create: exit %d, %q %q", code, out, errOut)
	}
	return k
}

// verify runs 'aitrail verify' and fails the test unless it passes.
func (g *gateway) verify(t testing.TB, when string) {
	t.Helper()
	if code, out, errOut := g.run(t, "verify"); code != 0 {
		t.Fatalf("aitrail verify %s: exit %d\n%s%s", when, code, out, errOut)
	}
}

// interaction is the part of an 'aitrail query --json' line the suite reads.
type interaction struct {
	CorrelationID  string `json:"correlation_id"`
	Endpoint       string `json:"endpoint"`
	Status         string `json:"status"`
	UpstreamStatus int    `json:"upstream_status"`
	Error          string `json:"error"`
	Stream         bool   `json:"stream"`
	ResponseSeq    *int64 `json:"response_seq"`
}

// interactions returns every interaction of the log by correlation id.
func (g *gateway) interactions(t testing.TB) map[string]interaction {
	t.Helper()
	code, out, errOut := g.run(t, "query", "--json")
	if code != 0 {
		t.Fatalf("aitrail query --json: exit %d: %s", code, errOut)
	}
	all := map[string]interaction{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var it interaction
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("aitrail query --json printed %q: %v", sc.Text(), err)
		}
		if _, dup := all[it.CorrelationID]; dup && it.CorrelationID != "" {
			t.Errorf("two interactions have correlation id %s", it.CorrelationID)
		}
		all[it.CorrelationID] = it
	}
	return all
}

// eventually polls cond until it holds, failing at settleBound.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(settleBound)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %v: %s", what, settleBound, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthy reports whether GET /healthz answers 200.
func (g *gateway) healthy() bool {
	resp, err := http.Get(g.URL + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// ---------------------------------------------------------------------------
// Output.

type lineWriter struct {
	log     *syncBuffer
	onLine  func(string)
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
			return len(p), nil
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.log.WriteString(line + "\n")
		w.onLine(line)
	}
}

// syncBuffer keeps a process's output, at most its last 1 MiB.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) WriteString(v string) {
	s.mu.Lock()
	s.b = append(s.b, v...)
	if len(s.b) > 2<<20 {
		s.b = append([]byte(nil), s.b[len(s.b)-1<<20:]...)
	}
	s.mu.Unlock()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// balancer is the load balancer of the fleet procedure: round robin over
// the gateways, passing a call to the next one when a gateway does not
// take the connection (stopped, killed, restarting).
type balancer struct {
	mu       sync.Mutex
	backends []string
	next     int
}

func (b *balancer) set(i int, u string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends[i] = u
}

func (b *balancer) pick() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.backends)
	order := make([]string, 0, n)
	for i := range n {
		order = append(order, b.backends[(b.next+i)%n])
	}
	b.next++
	return order
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, base := range b.pick() {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			continue // not taken: the next gateway
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no gateway took the call", http.StatusBadGateway)
}

// TestFleet runs the fleet procedure of docs/OPERATIONS.md with two and
// with three gateways on one PostgreSQL behind a load balancer, the
// others joined with the first's keys; calls through the balancer while
// the second gateway is restarted and the last killed; keys, holds and erasures from the CLI
// pointed at a data directory only; a second gateway of one node name
// refused; verify clean, with every node's key from the database, then
// catching a record altered on one node and a log rolled back.
func TestFleet(t *testing.T) {
	for _, size := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d gateways", size), func(t *testing.T) { testFleet(t, size) })
	}
}

func testFleet(t *testing.T, size int) {
	nodes := []string{"gw1", "gw2", "gw3"}[:size]
	last := nodes[size-1]
	dbURL, _, _ := postgresDatabase(t)
	t.Parallel()
	ctx := context.Background()
	up := startUpstream(t)
	base := t.TempDir()
	dir := func(node string) string { return filepath.Join(base, node) }
	// The configuration file of every node: one anchor file for the whole
	// fleet (on another volume in production), and checkpoints every
	// second, so that the test sees fleet checkpoints soon (every 6 s).
	cfgFile := filepath.Join(base, "aitrail.yaml")
	cfgText := "checkpoint:\n  interval: 1s\nanchors:\n  files: [" + filepath.Join(base, "fleet-anchor.jsonl") + "]\n"
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	serveArgsAs := func(d, node string) []string {
		return []string{"serve", "--config", cfgFile, "--data", dir(d), "--database", dbURL, "--node", node,
			"--listen", "127.0.0.1:0", "--upstream", up.URL}
	}
	serveArgs := func(node string) []string { return serveArgsAs(node, node) }
	startNode := func(node string, joined bool) *gateway {
		t.Helper()
		g := &gateway{Dir: dir(node), Database: dbURL, log: &syncBuffer{}, args: serveArgs(node)}
		t.Cleanup(func() {
			if err := g.close(); err != nil {
				t.Error(err)
			}
			if t.Failed() {
				t.Logf("gateway %s output:\n%s", node, g.log)
			}
		})
		g.start(t, !joined)
		return g
	}
	cli := func(args ...string) result {
		t.Helper()
		return runAitrail(t, args...)
	}
	must := func(r result, what string) result {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", what, r.code, r.stdout, r.stderr)
		}
		return r
	}

	// 1. The first gateway, then the fleet's keys for the others.
	g1 := startNode("gw1", false)
	keysFile := filepath.Join(base, "fleet-keys.json")
	must(cli("fleet", "export-keys", "--data", dir("gw1"), "-o", keysFile), "fleet export-keys")
	if fi, err := os.Stat(keysFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, mode %v; want 0600", err, fi.Mode())
	}
	// A node that has not joined is refused before it makes keys of its own.
	r := cli(serveArgs("unjoined")...)
	if r.code == 0 || !strings.Contains(r.stderr, "has not joined") || !strings.Contains(r.stderr, "aitrail fleet join") {
		t.Fatalf("serve of a node that has not joined: exit %d, want a refusal naming fleet join\n%s", r.code, r.stderr)
	}
	for _, n := range append(slices.Clone(nodes[1:]), "gw1-again") {
		must(cli("fleet", "join", "--from", keysFile, "--data", dir(n)), "fleet join "+n)
	}
	gws := []*gateway{g1}
	for _, n := range nodes[1:] {
		gws = append(gws, startNode(n, true))
	}

	// 2. A second gateway of node gw1 (its own data directory) is refused.
	r = cli(serveArgsAs("gw1-again", "gw1")...)
	if r.code == 0 || !strings.Contains(r.stderr, `another gateway serves node "gw1"`) {
		t.Fatalf("a second gateway with --node gw1: exit %d, want refused\n%s", r.code, r.stderr)
	}

	// 3. Keys and holds from the CLI given only a data directory: it finds
	// the gateway's PostgreSQL database (and makes no SQLite log there).
	key := func(d, actor string) string {
		t.Helper()
		r := must(cli("keys", "create", "--data", d, "--actor", actor, "--role", "user"), "keys create --data "+d)
		return strings.TrimSpace(r.stdout)
	}
	userKey := key(dir("gw2"), "fleet-app")
	heldKey := key(dir(last), "fleet-held")
	for _, n := range nodes {
		if _, err := os.Stat(filepath.Join(dir(n), "audit.db")); err == nil {
			t.Errorf("a command given --data %s made a SQLite log there", dir(n))
		}
	}
	r = cli("keys", "list", "--data", dir("gw1"), "--database", "sqlite")
	if r.code == 0 || !strings.Contains(r.stderr, "belongs to the gateway on database") {
		t.Errorf("keys list --database sqlite on a PostgreSQL gateway's directory: exit %d, want refused\n%s", r.code, r.stderr)
	}
	must(cli("hold", "add", "--data", dir("gw1"), "--reason", "matter 7", "--actor", "fleet-held"), "hold add")
	// A directory with a log's keys but neither serve.json nor a SQLite
	// database (a gateway's, reached without its database) gets no new log.
	stray := dir("stray")
	must(cli("fleet", "join", "--from", keysFile, "--data", stray), "fleet join stray")
	r = cli("keys", "create", "--data", stray, "--actor", "x", "--role", "user")
	if r.code == 0 || !strings.Contains(r.stderr, "no new log is started in it") {
		t.Errorf("keys create in a directory with keys but no log: exit %d, want refused\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(stray, "audit.db")); err == nil {
		t.Error("keys create made a SQLite log in a directory that holds another log's keys")
	}

	// 4. Calls through the balancer, concurrently, while gw2 is restarted
	// and the last gateway killed (kill -9) and started again at once.
	lb := &balancer{}
	for _, g := range gws {
		lb.backends = append(lb.backends, g.URL)
	}
	front := httptest.NewServer(lb)
	defer front.Close()
	var failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, mail := userKey, "erase.me@example.com"
			if w == 3 {
				k, mail = heldKey, "kept@example.com"
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"model":"tiny","stream":false,"messages":[{"role":"user","content":"worker %d call %d, mail %s"}]}`, w, i, mail)
				req, _ := http.NewRequest(http.MethodPost, front.URL+"/api/chat", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+k)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d", resp.StatusCode))
				}
				calls.Add(1)
			}
		}()
	}
	waitCalls := func(n int64) {
		t.Helper()
		eventually(t, fmt.Sprintf("%d calls through the balancer", n), func() (bool, string) {
			return calls.Load() >= n, fmt.Sprintf("%d calls", calls.Load())
		})
	}
	waitCalls(40)
	if gws[1].stop(t) != 0 {
		t.Error("gw2 did not exit 0 on SIGTERM")
	}
	waitCalls(calls.Load() + 20)
	gws[1].restart(t)
	lb.set(1, gws[1].URL)
	waitCalls(calls.Load() + 20)
	gws[size-1].kill(t)
	gws[size-1].restart(t) // at once: the same data directory takes its lease back
	lb.set(size-1, gws[size-1].URL)
	waitCalls(calls.Load() + 40)
	close(stop)
	wg.Wait()
	// A call in flight on gw2 at its stop is finished; the last's at the kill
	// may fail (the balancer does not retry a call sent).
	if n := failed.Load(); n > 1 {
		t.Errorf("%d of %d calls through the balancer failed; first: %v", n, calls.Load(), firstErr.Load())
	}

	// 5. Erasure and holds span the fleet.
	r = cli("erase", "--data", dir(last), "--email", "erase.me@example.com", "--reason", "ticket 42")
	if r.code != 0 {
		t.Fatalf("erase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, n := range nodes {
		if !strings.Contains(r.stdout, "Erased the bodies of") || !strings.Contains(r.stdout, " of log "+n+" ") {
			t.Errorf("erase did not erase on log %s:\n%s", n, r.stdout)
		}
	}
	r = cli("erase", "--data", dir("gw1"), "--email", "kept@example.com", "--reason", "ticket 43")
	if r.code != 1 || strings.Contains(r.stdout, "Erased the bodies") || !strings.Contains(r.stdout, "under legal hold") {
		t.Errorf("erase of a held actor's value: exit %d, want 1 and nothing erased on any log\n%s%s", r.code, r.stdout, r.stderr)
	}
	found := must(cli("find", "--data", dir("gw2"), "--email", "kept@example.com", "--json"), "find")
	for _, n := range nodes {
		if !strings.Contains(found.stdout, `"`+n+`"`) {
			t.Errorf("find on gw2's directory found no record of log %s:\n%.2000s", n, found.stdout)
		}
	}

	// 6. Verify: clean, every log's key from the database, and a fleet
	// checkpoint that commits to every log.
	type verifyJSON struct {
		OK   bool `json:"ok"`
		Logs []struct {
			Log   string `json:"log"`
			OK    bool   `json:"ok"`
			Trust string `json:"trust_anchor"`
		} `json:"logs"`
		Fleet *struct {
			OK   bool `json:"ok"`
			Logs int  `json:"logs"`
		} `json:"fleet"`
	}
	verify := func(args ...string) (result, verifyJSON) {
		t.Helper()
		r := cli(append([]string{"verify", "--json"}, args...)...)
		var v verifyJSON
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("verify --json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		return r, v
	}
	eventually(t, "a fleet checkpoint of every log", func() (bool, string) {
		r, v := verify("--data", dir("gw1"))
		return v.Fleet != nil && v.Fleet.Logs == size, r.stdout
	})
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// gw2Committed is the largest size of gw2 that a fleet checkpoint
	// signed by gw1 (and so in gw1's anchor file) committed to. Step 8
	// cuts gw2 below it.
	gw2Committed := func() int64 {
		rows, err := db.QueryContext(ctx, `SELECT note FROM fleet_checkpoints WHERE signer LIKE 'aitrail/gw1/%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var most int64
		for rows.Next() {
			var msg []byte
			if err := rows.Scan(&msg); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(msg), "\n") {
				if f := strings.Fields(line); len(f) == 3 && f[0] == "gw2" {
					if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n > most {
						most = n
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return most
	}
	eventually(t, "a fleet checkpoint signed by gw1 that commits to gw2's records", func() (bool, string) {
		n := gw2Committed()
		return n >= 2, fmt.Sprintf("gw1 committed to %d records of gw2", n)
	})
	for _, g := range gws {
		if g.stop(t) != 0 {
			t.Errorf("gateway %s did not exit 0 on SIGTERM", g.Dir)
		}
	}
	r, v := verify("--data", dir("gw2"))
	if r.code != 0 || !v.OK || len(v.Logs) != size || v.Fleet == nil || !v.Fleet.OK {
		t.Fatalf("verify of the fleet: exit %d, want 0 with %d logs and the fleet checkpoints\n%s%s", r.code, size, r.stdout, r.stderr)
	}
	for _, l := range v.Logs {
		want := "the key the node recorded in the database"
		if l.Log == "gw2" {
			want = "this data directory's log.pub"
		}
		if l.Trust != want {
			t.Errorf("verify: log %s: trust anchor %q, want %q", l.Log, l.Trust, want)
		}
	}
	var given []string
	for _, n := range nodes {
		given = append(given, "--key", strings.TrimSpace(must(cli("keys", "log-key", "--data", dir(n)), "keys log-key").stdout))
	}
	text := must(cli(append([]string{"verify", "--data", dir("gw1")}, given...)...), "verify --key (every node's)")
	if strings.Count(text.stdout, "trust anchor: the key given with --key") != size || !strings.Contains(text.stdout, "fleet: ") {
		t.Errorf("verify --key ...: want each log checked against its given key, and the fleet line:\n%s", text.stdout)
	}

	// 7. A record altered on one node is caught, naming the node and seq.
	var seq int64
	var model string
	if err := db.QueryRowContext(ctx, `SELECT seq, model FROM records WHERE log_id = $1 AND kind = 'model.request' ORDER BY seq LIMIT 1`, last).Scan(&seq, &model); err != nil {
		t.Fatalf("find a request of %s: %v", last, err)
	}
	pg := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	pg(`UPDATE records SET model = 'altered' WHERE log_id = $1 AND seq = $2`, last, seq)
	r = cli("verify", "--data", dir("gw1"))
	if want := fmt.Sprintf("log %s: TAMPERED: first bad record is %d", last, seq); r.code != 1 || !strings.Contains(r.stdout, want) {
		t.Errorf("verify after altering %s's record %d: exit %d, want 1 and %q\n%s", last, seq, r.code, want, r.stdout)
	}
	pg(`UPDATE records SET model = $3 WHERE log_id = $1 AND seq = $2`, last, seq, model)
	must(cli("verify", "--data", dir("gw1")), "verify once the record is put back")

	// 8. A log cut back with its checkpoints (consistent in itself) is
	// caught by the fleet checkpoints another node signed and anchored.
	cut := gw2Committed() / 2
	for _, q := range []string{
		`DELETE FROM records WHERE log_id = 'gw2' AND seq >= $1`,
		`DELETE FROM bodies WHERE log_id = 'gw2' AND seq >= $1`,
		`DELETE FROM tree WHERE log_id = 'gw2' AND idx >= $1`,
		`DELETE FROM checkpoints WHERE log_id = 'gw2' AND size > $1`,
		`DELETE FROM pii_index WHERE log_id = 'gw2' AND seq >= $1`,
	} {
		pg(q, cut)
	}
	pg(`DELETE FROM fleet_checkpoints`)
	r = cli("verify", "--data", dir("gw1"))
	if r.code != 1 || !strings.Contains(r.stdout, "fleet: TAMPERED") || !strings.Contains(r.stdout, "log gw2 had") {
		t.Errorf("verify after cutting gw2 back to %d records: exit %d, want the fleet checkpoints to catch it\n%s", cut, r.code, r.stdout)
	}
}

// TestFleetLeaseLost checks that a gateway whose node another holder took
// (its lease lost) stops serving at once, and says why.
func TestFleetLeaseLost(t *testing.T) {
	dbURL, _, _ := postgresDatabase(t)
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Database: dbURL, Node: "solo"})
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	far := time.Now().Add(time.Hour).UnixNano()
	if _, err := db.Exec(`UPDATE node_leases SET holder = 'elsewhere:/data', expires_ns = $1 WHERE node = 'solo'`, far); err != nil {
		t.Fatal(err)
	}
	if code := g.wait(t); code != 1 {
		t.Errorf("serve after losing its lease: exit %d, want 1", code)
	}
	if out := g.log.String(); !strings.Contains(out, `stopped serving node "solo": lost the node's lease: another gateway holds node "solo" now`) {
		t.Errorf("serve's output does not say the lease was lost:\n%s", out)
	}
}

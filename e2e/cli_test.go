package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// commands are every command and subcommand of the binary.
var commands = []string{
	"serve", "demo", "keys", "keys create", "keys list", "keys revoke", "keys log-key",
	"query", "stats", "verify", "find", "redact", "raw", "retention", "retention show", "retention run",
	"hold", "hold add", "hold list", "hold release", "erase", "vault", "vault keygen", "vault rotate",
	"prove", "verify-proof", "witness", "witness vkey", "standin", "version",
	"backup", "restore", "fleet", "fleet export-keys", "fleet join",
}

// TestCLIHelp: every command and subcommand answers --help (and 'help
// CMD') with its usage line and a sentence per flag, on stdout, exit 0.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	flagLine := regexp.MustCompile(`^  --[a-z-]+( [A-Z_]+)?$`)
	for _, cmd := range commands {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			r := runAitrail(t, append(strings.Fields(cmd), "--help")...)
			if r.code != 0 {
				t.Fatalf("aitrail %s --help: exit %d, want 0\n%s", cmd, r.code, r.stderr)
			}
			if want := "Usage: aitrail " + cmd; !strings.HasPrefix(r.stdout, want) {
				t.Errorf("aitrail %s --help printed %q, want it to start with %q", cmd, r.stdout, want)
			}
			lines := strings.Split(r.stdout, "\n")
			for i, l := range lines {
				if !strings.HasPrefix(l, "  --") {
					continue
				}
				if !flagLine.MatchString(l) {
					t.Errorf("aitrail %s --help: flag line %q is not '  --name [VALUE]'", cmd, l)
				}
				if i+1 >= len(lines) || len(strings.TrimSpace(lines[i+1])) < 8 {
					t.Errorf("aitrail %s --help: flag %q has no sentence saying what it does", cmd, l)
				}
			}
			if h := runAitrail(t, append([]string{"help"}, strings.Fields(cmd)...)...); h.code != 0 || h.stdout != r.stdout {
				t.Errorf("aitrail help %s: exit %d, printed\n%s\nwant exit 0 and what --help printed\n%s", cmd, h.code, h.stdout, r.stdout)
			}
		})
	}
	if r := runAitrail(t, "help"); r.code != 0 || !strings.Contains(r.stdout, "aitrail stats") {
		t.Errorf("aitrail help: exit %d, want 0 and the commands, stats among them\n%s", r.code, r.stdout)
	}
}

// TestCLIMistyped: a mistyped command or subcommand is refused (exit 2)
// with the one meant.
func TestCLIMistyped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // the hint, "" for none
	}{
		{[]string{"verifiy"}, "did you mean 'aitrail verify'?"},
		{[]string{"qeury", "--json"}, "did you mean 'aitrail query'?"},
		{[]string{"stat"}, "did you mean 'aitrail stats'?"},
		{[]string{"keys", "craete", "--actor", "x"}, "did you mean 'aitrail keys create'?"},
		{[]string{"hold", "lsit"}, "did you mean 'aitrail hold list'?"},
		{[]string{"retention", "rn"}, "did you mean 'aitrail retention run'?"},
		{[]string{"zzyzx"}, ""},
	} {
		r := runAitrail(t, tc.args...)
		if r.code != 2 {
			t.Errorf("aitrail %s: exit %d, want 2\n%s", strings.Join(tc.args, " "), r.code, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "aitrail: error: unknown") {
			t.Errorf("aitrail %s: stderr %q, want an unknown-command error", strings.Join(tc.args, " "), r.stderr)
		}
		if tc.want == "" && strings.Contains(r.stderr, "did you mean") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("aitrail %s: stderr %q, want the hint %q", strings.Join(tc.args, " "), r.stderr, tc.want)
		}
	}
}

// TestCLIConsistency drives the listing and changing commands the way an
// operator types them: flags after the positional arguments, one time
// syntax, --json with snake_case fields and nulls.
func TestCLIConsistency(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	key := g.createKey(t, "consistent", "user")
	if got := call(t, http.MethodPost, g.URL+"/api/chat", key, `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"hi"}]}`); got.status != http.StatusOK {
		t.Fatalf("a call: status %d: %s", got.status, got.body)
	}
	data := []string{"--data", g.Dir}
	cli := func(want int, args ...string) result {
		t.Helper()
		r := runAitrail(t, args...)
		if r.code != want {
			t.Fatalf("aitrail %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
		return r
	}

	// keys list --json, before and after a revocation given its flags last.
	keys := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, obj := range jsonLines(t, cli(0, append([]string{"keys", "list", "--json"}, data...)...).stdout) {
			out[obj["actor"].(string)] = obj
		}
		return out
	}
	k := keys()["consistent"]
	if k == nil || k["revoked"] != false || k["revoked_at"] != nil || k["key_id"] == "" || !strings.Contains(key, k["key_id"].(string)) {
		t.Fatalf("keys list --json shows %v for the new key, want its key_id, revoked false, revoked_at null", k)
	}
	if _, ok := keys()["admin"]["created_at"].(string); !ok {
		t.Errorf("keys list --json has no created_at string: %v", keys()["admin"])
	}
	r := cli(0, append([]string{"keys", "revoke", k["key_id"].(string)}, data...)...)
	if !strings.Contains(r.stdout, "revoked key "+k["key_id"].(string)) {
		t.Errorf("keys revoke ID --data DIR printed %q", r.stdout)
	}
	if k := keys()["consistent"]; k["revoked"] != true || k["revoked_at"] == nil {
		t.Errorf("keys list --json after the revocation: %v, want revoked true and revoked_at set", k)
	}

	// One time syntax: durations with days and weeks, dates, RFC 3339.
	for _, args := range [][]string{
		{"query", "--since", "7d"}, {"query", "--since", "2w", "--until", "now"}, {"query", "--on", "2026-03-14"},
		{"query", "--since", "2026-01-01", "--until", "2099-01-01T00:00:00Z"},
		{"stats", "--since", "24h"}, {"stats", "--since", "1y6mo", "--by", "day"},
	} {
		cli(0, append(args, data...)...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "--since", "yesterday"}, `"yesterday" is not a time`},
		{[]string{"query", "--since", "1d", "--until", "2d"}, "is not before --until"},
		{[]string{"stats", "--until", "7x"}, `"7x" is not a time`},
		{[]string{"hold", "add", "--reason", "r", "--since", "last week"}, `"last week" is not a time`},
		{[]string{"query", "--status", "fine"}, `"fine" is not a status: use ok, error, denied`},
		{[]string{"stats", "--by", "week"}, `--by "week": use actor, key, model, day`},
		{[]string{"keys", "list", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		r := cli(2, append(tc.args, data...)...)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("aitrail %s: stderr %q, want %q", strings.Join(tc.args, " "), r.stderr, tc.want)
		}
	}

	// Holds: a relative window, an expiry counted forward, release with
	// its flags after the id, listings in JSON.
	id := strings.TrimSpace(cli(0, append([]string{"hold", "add", "--reason", "matter 7", "--since", "24h", "--expires", "30d"}, data...)...).stdout)
	holds := jsonLines(t, cli(0, append([]string{"hold", "list", "--json"}, data...)...).stdout)
	if len(holds) != 1 || holds[0]["id"] != id || holds[0]["open"] != true || holds[0]["since"] == nil || holds[0]["expires"] == nil {
		t.Fatalf("hold list --json = %v, want the open hold %s with since and expires", holds, id)
	}
	cli(0, append([]string{"hold", "release", id, "--reason", "settled"}, data...)...)
	if holds := jsonLines(t, cli(0, append([]string{"hold", "list", "--json"}, data...)...).stdout); len(holds) != 0 {
		t.Errorf("hold list --json after the release = %v, want none open", holds)
	}
	if holds := jsonLines(t, cli(0, append([]string{"hold", "list", "--json", "--all"}, data...)...).stdout); len(holds) != 1 || holds[0]["released_at"] == nil {
		t.Errorf("hold list --json --all = %v, want the released hold with released_at", holds)
	}

	// retention run --json: one object, snake_case, no -1 where none is meant.
	g.stop(t)
	r = cli(0, append([]string{"retention", "run", "--dry-run", "--json"}, data...)...)
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("retention run --json printed %q: %v", r.stdout, err)
	}
	if rep["log_id"] != "main" || rep["dry_run"] != true || rep["layers"] == nil {
		t.Errorf("retention run --json = %v, want log_id main, dry_run true, layers", rep)
	}
	if strings.Contains(r.stdout, ":-1") || strings.Contains(r.stdout, `"LogID"`) {
		t.Errorf("retention run --json holds a -1 sentinel or a Go field name: %s", r.stdout)
	}
}

// jsonLines decodes one JSON object per line.
func jsonLines(t testing.TB, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("not a JSON object per line: %q: %v", sc.Text(), err)
		}
		objs = append(objs, obj)
	}
	return objs
}

// TestStats: usage figures by actor, key and model, in 'aitrail stats'
// from the log and in /metrics, add up to what the calls were.
func TestStats(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	alice, bob := g.createKey(t, "alice", "user"), g.createKey(t, "bob", "user")
	chat := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"count me"}]}`
	for _, k := range []string{alice, alice, alice, bob} {
		if got := call(t, http.MethodPost, g.URL+"/api/chat", k, chat); got.status != http.StatusOK {
			t.Fatalf("a call: status %d: %s", got.status, got.body)
		}
	}
	if got := call(t, http.MethodPost, g.URL+"/api/chat", "", chat); got.status != http.StatusUnauthorized {
		t.Fatalf("a call without a key: status %d, want 401", got.status)
	}
	var in, out int64
	for _, it := range g.query(t) {
		if it.Actor == "alice" {
			in, out = in+it.TokensIn, out+it.TokensOut
		}
	}
	if in <= 0 || out <= 0 {
		t.Fatalf("the stand-in counted %d tokens in and %d out for alice, want some", in, out)
	}
	aliceKey := strings.Split(alice, "_")[1]

	type figures struct {
		Group     string   `json:"group"`
		Calls     int64    `json:"calls"`
		TokensIn  int64    `json:"tokens_in"`
		TokensOut int64    `json:"tokens_out"`
		OK        int64    `json:"ok"`
		Denied    int64    `json:"denied"`
		P50       *float64 `json:"latency_p50_ms"`
	}
	stats := func(by string) (map[string]figures, figures) {
		r := g.run(t, "stats", "--by", by, "--json", "--since", "1h")
		if r.code != 0 {
			t.Fatalf("aitrail stats --by %s: exit %d\n%s", by, r.code, r.stderr)
		}
		var rep struct {
			By     string    `json:"by"`
			Groups []figures `json:"groups"`
			Total  figures   `json:"total"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("aitrail stats --json printed %q: %v", r.stdout, err)
		}
		m := map[string]figures{}
		for _, f := range rep.Groups {
			m[f.Group] = f
		}
		return m, rep.Total
	}
	byActor, total := stats("actor")
	if a := byActor["alice"]; a.Calls != 3 || a.OK != 3 || a.TokensIn != in || a.TokensOut != out || a.P50 == nil {
		t.Errorf("stats for alice = %+v, want 3 calls, 3 ok, %d tokens in, %d out, a p50", a, in, out)
	}
	if b := byActor["bob"]; b.Calls != 1 {
		t.Errorf("stats for bob = %+v, want 1 call", b)
	}
	if total.Calls != 5 || total.Denied != 1 {
		t.Errorf("stats total = %+v, want 5 calls, 1 denied", total)
	}
	if byKey, _ := stats("key"); byKey[aliceKey].Calls != 3 {
		t.Errorf("stats by key = %+v, want 3 calls by alice's key %s", byKey, aliceKey)
	}
	if byModel, _ := stats("model"); byModel["tiny"].Calls != 4 {
		t.Errorf("stats by model = %+v, want 4 calls to tiny", byModel)
	}
	if r := g.run(t, "stats", "--by", "actor"); r.code != 0 || !regexp.MustCompile(`(?m)^\s+alice\s+3\s`).MatchString(r.stdout) {
		t.Errorf("aitrail stats --by actor: exit %d\n%s\nwant a line for alice with 3 calls", r.code, r.stdout)
	}

	got := call(t, http.MethodGet, g.URL+"/metrics", "", "")
	for _, want := range []string{
		`aitrail_actor_calls_total{actor="alice"} 3`,
		`aitrail_actor_calls_total{actor="bob"} 1`,
		fmt.Sprintf(`aitrail_actor_tokens_total{actor="alice",direction="in"} %d`, in),
		fmt.Sprintf(`aitrail_actor_tokens_total{actor="alice",direction="out"} %d`, out),
		fmt.Sprintf(`aitrail_key_calls_total{key_id=%q} 3`, aliceKey),
		`aitrail_model_calls_total{model="tiny"} 4`,
	} {
		if !strings.Contains(string(got.body), want) {
			t.Errorf("/metrics has no line %q", want)
		}
	}
}

// TestVersion: the version comes from the build information, and the
// gateway records it when it starts.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := runAitrail(t, "version")
	first, _, _ := strings.Cut(r.stdout, "\n")
	if r.code != 0 || !strings.HasPrefix(first, "aitrail ") || first == "aitrail dev" || !strings.Contains(r.stdout, "built with "+runtime.Version()) {
		t.Fatalf("aitrail version: exit %d\n%s\nwant 'aitrail VERSION' and 'built with %s'", r.code, r.stdout, runtime.Version())
	}
	var v struct {
		Version   string `json:"version"`
		GoVersion string `json:"go_version"`
	}
	if r := runAitrail(t, "version", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil || v.GoVersion != runtime.Version() ||
		"aitrail "+v.Version != first {
		t.Errorf("aitrail version --json: exit %d, %q; want version %q and go_version %s", r.code, r.stdout, first, runtime.Version())
	}

	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	var detail string
	if err := openDB(t, g.Dir).QueryRow(`SELECT detail FROM records WHERE kind = 'gateway.started'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	var started struct {
		Version   string `json:"version"`
		GoVersion string `json:"go_version"`
	}
	if err := json.Unmarshal([]byte(detail), &started); err != nil || started.Version != v.Version || started.GoVersion != v.GoVersion {
		t.Errorf("gateway.started records %s, want version %q and go_version %q", detail, v.Version, v.GoVersion)
	}
}

// TestAdminKeyAfterListen: a gateway that cannot bind its address shows
// no admin key and makes none; the next start, which can, shows it.
func TestAdminKeyAfterListen(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	r := runAitrail(t, "serve", "--data", dir, "--listen", ln.Addr().String(), "--upstream", up.URL)
	if r.code == 0 || !strings.Contains(r.stderr, "cannot listen on "+ln.Addr().String()) {
		t.Fatalf("aitrail serve on a taken port: exit %d, want an error naming the address\n%s", r.code, r.stderr)
	}
	if keyPattern.MatchString(r.stdout) || strings.Contains(r.stdout, "admin key") {
		t.Errorf("aitrail serve printed an admin key although it could not listen:\n%s", r.stdout)
	}
	// startGateway fails unless this start prints the first admin key.
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Dir: dir})
	if got := call(t, http.MethodGet, g.URL+"/aitrail/v1/holds", g.AdminKey, ""); got.status != http.StatusOK {
		t.Errorf("GET /aitrail/v1/holds with the admin key: status %d: %s", got.status, got.body)
	}
}

// TestQueryNodes: on a PostgreSQL fleet, query lists every node's calls in
// the order they were made and names the node of each.
func TestQueryNodes(t *testing.T) {
	dsn, _, _ := postgresDatabase(t)
	t.Parallel()
	up := startUpstream(t)
	a := startGateway(t, gatewayConfig{Upstream: up.URL, Database: dsn, Node: "alpha"})
	// The second node joins the fleet (docs/OPERATIONS.md): it takes the
	// fleet-wide keys from the first, and prints no admin key.
	keys := filepath.Join(t.TempDir(), "fleet-keys.json")
	if r := runAitrail(t, "fleet", "export-keys", "--data", a.Dir, "-o", keys); r.code != 0 {
		t.Fatalf("fleet export-keys: exit %d\n%s", r.code, r.stderr)
	}
	bDir := t.TempDir()
	if r := runAitrail(t, "fleet", "join", "--from", keys, "--data", bDir); r.code != 0 {
		t.Fatalf("fleet join: exit %d\n%s", r.code, r.stderr)
	}
	b := startGateway(t, gatewayConfig{Upstream: up.URL, Database: dsn, Node: "beta", Dir: bDir, Joined: true})
	ka, kb := a.createKey(t, "ann", "user"), b.createKey(t, "ben", "user")
	var ids []string
	for i, g := range []*gateway{b, a, b, a} {
		k := map[*gateway]string{a: ka, b: kb}[g]
		id := newID("call-")
		body := fmt.Sprintf(`{"model":"tiny","stream":false,"messages":[{"role":"user","content":"call %d"}]}`, i)
		if got := call(t, http.MethodPost, g.URL+"/api/chat", k, body, "X-Request-Id", id); got.status != http.StatusOK {
			t.Fatalf("call %d: status %d: %s", i, got.status, got.body)
		}
		ids = append(ids, id)
	}
	var got, nodes []string
	for _, it := range a.query(t) {
		got = append(got, it.CorrelationID)
		nodes = append(nodes, it.LogID)
	}
	if strings.Join(got, " ") != strings.Join(ids, " ") || strings.Join(nodes, " ") != "beta alpha beta alpha" {
		t.Errorf("query --json lists %v on nodes %v, want %v on beta alpha beta alpha", got, nodes, ids)
	}
	r := a.run(t, "query")
	lines := regexp.MustCompile(`(?m)^(alpha|beta)#\d+ `).FindAllStringSubmatch(r.stdout, -1)
	if len(lines) != 4 || lines[0][1] != "beta" || lines[1][1] != "alpha" {
		t.Errorf("aitrail query on two nodes printed\n%s\nwant each call headed NODE#SEQ, beta's first", r.stdout)
	}
}

// postgresDatabase makes a fresh database on the server AITRAIL_TEST_POSTGRES
// names, dropped at the end of the test, and returns its URL, a connection
// to the server and the database's name; without the variable it skips the
// test.
func postgresDatabase(t *testing.T) (dsn string, admin *sql.DB, name string) {
	t.Helper()
	server := os.Getenv("AITRAIL_TEST_POSTGRES")
	if server == "" {
		t.Skip("AITRAIL_TEST_POSTGRES is not set; start a server with: eval \"$(scripts/postgres.sh start)\"")
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name = newID("aitrail_e2e_")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("AITRAIL_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String(), admin, name
}

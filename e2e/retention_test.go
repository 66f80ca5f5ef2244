package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// retentionConfig is a configuration whose retention periods are the
// defaults except those given (a period of "1ns" makes every record due:
// the records age, as far as the policy sees, without waiting).
func retentionConfig(layers string) string {
	return integConfig + "retention:\n  interval: 0s\n" + layers
}

// TestRetentionThroughTheBinary takes records through every layer of the
// policy with the CLI: the raw bodies go first (their keys destroyed), a
// legal hold keeps an actor's records, its release lets the next purge take
// them, an erasure request on a held record erases nothing, --dry-run
// changes nothing, the sealed records are pruned up to a signed checkpoint,
// and verification stays green at every step.
func TestRetentionThroughTheBinary(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	alice := integCreateKey(t, dir, "alice")
	bob := integCreateKey(t, dir, "bob")
	cfgPath := filepath.Join(t.TempDir(), "aitrail.yaml")
	setPolicy := func(layers string) {
		if err := os.WriteFile(cfgPath, []byte(retentionConfig(layers)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setPolicy("")
	g := integGateway(t, dir, up.URL, retentionConfig(""))
	for i, c := range []struct{ key, prompt string }{
		{alice, "write to alice@example.com about the merger"},
		{bob, "bob@example.net asks for lunch"},
		{alice, "second question from alice@example.com"},
	} {
		r := call(t, http.MethodPost, g.URL+"/api/generate", c.key, `{"model":"tiny","stream":false,"prompt":"`+c.prompt+`"}`,
			"X-Request-Id", fmt.Sprint("ret-", i))
		if r.status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	if code := g.stop(t); code != 0 { // seals the raw bodies and signs a checkpoint
		t.Fatalf("serve exited %d", code)
	}
	cli := func(args ...string) result {
		t.Helper()
		return runAitrail(t, append(args, "--data", dir, "--config", cfgPath)...)
	}
	verify := func(when string) map[string]any {
		t.Helper()
		r := cli("verify", "--json")
		var rep map[string]any
		json.Unmarshal([]byte(r.stdout), &rep)
		if r.code != 0 {
			t.Fatalf("%s: aitrail verify exit %d\n%s%s", when, r.code, r.stdout, r.stderr)
		}
		return rep
	}
	seqOf := func(id string) string {
		for _, it := range g.query(t) {
			if it.CorrelationID == id {
				return fmt.Sprint(it.Seq)
			}
		}
		t.Fatalf("no interaction %s", id)
		return ""
	}
	prompt := func(id string) (string, bool) {
		for _, it := range g.query(t) {
			if it.CorrelationID == id {
				return it.Prompt, it.BodiesErased
			}
		}
		return "", false
	}
	aliceSeq := seqOf("ret-0")

	// The policy in force, as a document.
	show := cli("retention", "show")
	for _, want := range []string{"AITRAIL RETENTION POLICY", "sealed records", "7 years (7y)", "1 year (1y)", "90 days (90d)", "Legal holds in force: 0"} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("retention show lacks %q:\n%s", want, show.stdout)
		}
	}

	// Under the default policy nothing is due.
	if r := cli("retention", "run"); r.code != 0 || strings.Contains(r.stdout, "erased 1") {
		t.Fatalf("retention run under the defaults: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Raw bodies due: a dry run says so and changes nothing.
	setPolicy("  raw: 1ns\n")
	dry := cli("retention", "run", "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "Dry run") || !strings.Contains(dry.stdout, "raw bodies 1ns\twould erase 6") &&
		!strings.Contains(dry.stdout, "would erase 6") {
		t.Fatalf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if r := cli("raw", aliceSeq, "--reason", "check before the purge"); r.code != 0 {
		t.Fatalf("the dry run destroyed a raw body: %s", r.stderr)
	}
	if r := cli("retention", "run"); r.code != 0 || !strings.Contains(r.stdout, "erased 6") {
		t.Fatalf("retention run, raw due: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli("raw", aliceSeq, "--reason", "check after the purge"); r.code == 0 || !strings.Contains(r.stderr, "destroyed under the retention policy") {
		t.Errorf("raw body after the purge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	verify("after the raw purge")

	// A legal hold on alice; then every body is due.
	hold := cli("hold", "add", "--actor", "alice", "--reason", "matter 2026-031")
	holdID := strings.TrimSpace(hold.stdout)
	if hold.code != 0 || !strings.HasPrefix(holdID, "hold-") {
		t.Fatalf("hold add: exit %d\n%s%s", hold.code, hold.stdout, hold.stderr)
	}
	if r := cli("hold", "add", "--actor", "x"); r.code != 2 {
		t.Errorf("hold add without --reason: exit %d, want 2", r.code)
	}
	if r := cli("hold", "add", "--text", "alice@example.com", "--reason", "x"); r.code != 2 || !strings.Contains(r.stderr, "EMAIL") {
		t.Errorf("hold add --text on a value the redactor replaces: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if l := cli("hold", "list"); !strings.Contains(l.stdout, holdID) || !strings.Contains(l.stdout, "actor alice") {
		t.Errorf("hold list:\n%s", l.stdout)
	}
	setPolicy("  raw: 1ns\n  redacted: 1ns\n  pii: 1ns\n")
	if r := cli("retention", "run"); r.code != 0 || !strings.Contains(r.stdout, "kept by legal holds") {
		t.Fatalf("retention run under a hold: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if p, erased := prompt("ret-0"); erased || !strings.Contains(p, "merger") {
		t.Errorf("alice's held prompt: %q erased=%v", p, erased)
	}
	if p, erased := prompt("ret-1"); !erased || p != "" {
		t.Errorf("bob's prompt after the purge: %q erased=%v", p, erased)
	}
	if f := cli("find", "--email", "bob@example.net"); f.code != 0 || !strings.Contains(f.stderr, "0 interactions") {
		t.Errorf("the PII index still finds bob: exit %d\n%s%s", f.code, f.stdout, f.stderr)
	}
	rep := verify("after the purge under a hold")
	if rep == nil {
		t.Fatal("verify printed no JSON")
	}

	// An erasure request on a held record erases nothing, and says so.
	er := cli("erase", "--email", "alice@example.com", "--reason", "DSR 88")
	if er.code != 1 || !strings.Contains(er.stdout, "Nothing erased") || !strings.Contains(er.stdout, holdID) {
		t.Fatalf("erase under a hold: exit %d\n%s%s", er.code, er.stdout, er.stderr)
	}
	if p, _ := prompt("ret-0"); !strings.Contains(p, "merger") {
		t.Errorf("the refused erasure erased: %q", p)
	}

	// Released: the request now erases alice's bodies.
	if r := cli("hold", "release", holdID, "--reason", "matter closed"); r.code != 0 {
		t.Fatalf("hold release: exit %d\n%s", r.code, r.stderr)
	}
	er = cli("erase", "--email", "alice@example.com", "--reason", "DSR 88")
	if er.code != 0 || !strings.Contains(er.stdout, "Erased the bodies of 4 records") {
		t.Fatalf("erase: exit %d\n%s%s", er.code, er.stdout, er.stderr)
	}
	if p, erased := prompt("ret-0"); !erased || p != "" {
		t.Errorf("alice's prompt after the erasure: %q", p)
	}
	verify("after the erasure")

	// Sealed records due: pruned up to a signed checkpoint; the log still
	// verifies, from there.
	setPolicy("  sealed: 1ns\n  raw: 1ns\n  redacted: 1ns\n  pii: 1ns\n")
	dry = cli("retention", "run", "--dry-run")
	if !strings.Contains(dry.stdout, "would prune records 0 to") {
		t.Fatalf("dry run of the prune:\n%s%s", dry.stdout, dry.stderr)
	}
	if r := cli("retention", "run"); r.code != 0 || !strings.Contains(r.stdout, "pruned records 0 to") {
		t.Fatalf("retention run, sealed due: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep = verify("after the prune")
	logs, _ := rep["logs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["pruned"].(float64) == 0 {
		t.Errorf("verify --json does not report the prune: %v", rep)
	}
	db := openDB(t, dir)
	var kinds int
	db.QueryRow(`SELECT count(*) FROM records WHERE kind IN ('body.erased', 'log.pruned', 'hold.added', 'hold.released', 'erasure.requested')`).Scan(&kinds)
	db.Close()
	if kinds == 0 {
		t.Error("the purge's events are not in the log")
	}
}

// TestServePurgesOnSchedule: serve runs the purge by itself.
func TestServePurgesOnSchedule(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "sched")
	g := integGateway(t, dir, up.URL, integConfig+"retention:\n  interval: 200ms\n  raw: 1ns\n  redacted: 1ns\n  pii: 1ns\n")
	r := call(t, http.MethodPost, g.URL+"/api/generate", key, `{"model":"tiny","stream":false,"prompt":"scheduled"}`, "X-Request-Id", "sched-1")
	if r.status != http.StatusOK {
		t.Fatalf("call: %d %s", r.status, r.body)
	}
	eventually(t, "the scheduled purge erases the bodies", func() (bool, string) {
		for _, it := range g.query(t) {
			if it.CorrelationID == "sched-1" {
				return it.BodiesErased, fmt.Sprintf("prompt %q", it.Prompt)
			}
		}
		return false, "no interaction"
	})
	if code := g.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if v := runAitrail(t, "verify", "--data", dir); v.code != 0 {
		t.Errorf("verify after the scheduled purge: exit %d\n%s", v.code, v.stdout)
	}
}

// TestHoldsAPI: an admin sets and releases a legal hold over HTTP; an
// auditor may list holds but not set them; a user may do neither. The hold
// keeps a record that serve's scheduled purge would otherwise erase, and
// its release lets the next purge take it.
func TestHoldsAPI(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	alice := integCreateKey(t, dir, "alice")
	bob := integCreateKey(t, dir, "bob")
	g := integGateway(t, dir, up.URL, integConfig+"retention:\n  interval: 200ms\n  raw: 1ns\n  redacted: 1ns\n  pii: 1ns\n")
	admin := g.createKey(t, "ops", "admin")
	auditor := g.createKey(t, "audit", "auditor")
	holds := g.URL + "/aitrail/v1/holds"

	// Refusals and bad holds, each with a clear error.
	for _, c := range []struct {
		name, key, body string
		status          int
		says            string
	}{
		{"no key", "", `{"reason":"x","actor":"alice"}`, 401, "API key"},
		{"a user", alice, `{"reason":"x","actor":"alice"}`, 403, "admin only"},
		{"an auditor", auditor, `{"reason":"x","actor":"alice"}`, 403, "admin only"},
		{"no reason", admin, `{"actor":"alice"}`, 400, "reason is required"},
		{"a misspelt criterion", admin, `{"reason":"x","actr":"alice"}`, 400, "actr"},
		{"not JSON", admin, `reason=x`, 400, "JSON"},
		{"a bad time", admin, `{"reason":"x","since":"last tuesday"}`, 400, "since"},
		{"until before since", admin, `{"reason":"x","since":"2026-03-14","until":"2026-03-13"}`, 400, "until"},
		{"a redacted value as text", admin, `{"reason":"x","text":"alice@example.com"}`, 400, "EMAIL"},
	} {
		r := call(t, http.MethodPost, holds, c.key, c.body)
		if r.status != c.status || !strings.Contains(string(r.body), c.says) || !strings.Contains(string(r.body), `"error"`) {
			t.Errorf("%s setting a hold: %d %s, want %d saying %q", c.name, r.status, r.body, c.status, c.says)
		}
	}

	// The hold comes before alice's call: records that arrive later are
	// held too.
	r := call(t, http.MethodPost, holds, admin, `{"reason":"matter 2026-044","actor":"alice","expires":"2099-01-01"}`)
	var h struct {
		ID            string `json:"id"`
		Criteria      string `json:"criteria"`
		Open          bool   `json:"open"`
		Expires       string `json:"expires"`
		CreatedBy     string `json:"created_by"`
		ReleasedBy    string `json:"released_by"`
		ReleaseReason string `json:"release_reason"`
	}
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &h) != nil || !strings.HasPrefix(h.ID, "hold-") ||
		!h.Open || h.CreatedBy != "ops" || !strings.Contains(h.Criteria, "alice") || !strings.HasPrefix(h.Expires, "2099-01-01") {
		t.Fatalf("an admin setting a hold: %d %s", r.status, r.body)
	}
	if r := call(t, http.MethodGet, holds, alice, ""); r.status != http.StatusForbidden {
		t.Errorf("a user listing holds: %d %s, want 403", r.status, r.body)
	}
	r = call(t, http.MethodGet, holds, auditor, "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), h.ID) || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("an auditor listing holds: %d %s", r.status, r.body)
	}

	for _, c := range []struct{ key, id string }{{alice, "held-1"}, {bob, "free-1"}} {
		r := call(t, http.MethodPost, g.URL+"/api/generate", c.key, `{"model":"tiny","stream":false,"prompt":"the merger"}`, "X-Request-Id", c.id)
		if r.status != http.StatusOK {
			t.Fatalf("call %s: %d %s", c.id, r.status, r.body)
		}
	}
	erased := func(id string) (bool, string) {
		for _, it := range g.query(t) {
			if it.CorrelationID == id {
				return it.BodiesErased, fmt.Sprintf("%s: prompt %q", id, it.Prompt)
			}
		}
		return false, "no interaction " + id
	}
	eventually(t, "the scheduled purge erases bob's bodies", func() (bool, string) { return erased("free-1") })
	if gone, what := erased("held-1"); gone {
		t.Errorf("the purge that erased bob's bodies erased alice's, under a hold (%s)", what)
	}

	release := holds + "/" + h.ID + "/release"
	for _, c := range []struct {
		name, key, url, body string
		status               int
	}{
		{"a user", alice, release, `{"reason":"done"}`, 403},
		{"an auditor", auditor, release, `{"reason":"done"}`, 403},
		{"no reason", admin, release, `{}`, 400},
		{"an unknown hold", admin, holds + "/hold-000000000000/release", `{"reason":"done"}`, 404},
	} {
		if r := call(t, http.MethodPost, c.url, c.key, c.body); r.status != c.status {
			t.Errorf("%s releasing a hold: %d %s, want %d", c.name, r.status, r.body, c.status)
		}
	}
	if gone, what := erased("held-1"); gone {
		t.Errorf("alice's bodies erased before the hold was released (%s)", what)
	}
	r = call(t, http.MethodPost, release, admin, `{"reason":"matter closed"}`)
	if r.status != http.StatusOK || json.Unmarshal(r.body, &h) != nil || h.Open || h.ReleasedBy != "ops" || h.ReleaseReason != "matter closed" {
		t.Fatalf("an admin releasing the hold: %d %s", r.status, r.body)
	}
	if r := call(t, http.MethodPost, release, admin, `{"reason":"again"}`); r.status != http.StatusConflict {
		t.Errorf("releasing a released hold: %d %s, want 409", r.status, r.body)
	}
	eventually(t, "the next purge erases alice's bodies", func() (bool, string) { return erased("held-1") })
	if r := call(t, http.MethodGet, holds, auditor, ""); r.status != http.StatusOK || strings.Contains(string(r.body), h.ID) {
		t.Errorf("holds in force after the release: %d %s, want none", r.status, r.body)
	}
	if r := call(t, http.MethodGet, holds+"?all=true", admin, ""); r.status != http.StatusOK || !strings.Contains(string(r.body), "matter closed") {
		t.Errorf("all holds: %d %s, want the released one", r.status, r.body)
	}

	if code := g.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	// Setting and releasing are events by the admin; every refusal is
	// recorded too.
	db := openDB(t, dir)
	for _, c := range []struct {
		query string
		want  int
	}{
		{`SELECT count(*) FROM records WHERE kind = 'hold.added' AND actor = 'ops' AND role = 'admin' AND reason = 'matter 2026-044'`, 1},
		{`SELECT count(*) FROM records WHERE kind = 'hold.released' AND actor = 'ops' AND reason = 'matter closed'`, 1},
		{`SELECT count(*) FROM records WHERE kind = 'auth.denied' AND actor IN ('alice', 'audit') AND endpoint LIKE '%/aitrail/v1/holds%'`, 5},
	} {
		var n int
		if err := db.QueryRow(c.query).Scan(&n); err != nil || n != c.want {
			t.Errorf("%s = %d, %v; want %d", c.query, n, err, c.want)
		}
	}
	if v := runAitrail(t, "verify", "--data", dir); v.code != 0 {
		t.Errorf("verify: exit %d\n%s", v.code, v.stdout)
	}
}

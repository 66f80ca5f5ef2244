package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRedaction: what a prompt holds of e-mail addresses, card numbers and
// secrets never reaches the stored bodies; placeholders are numbered per
// record; 'aitrail find' lists the interactions that held a value; a
// blocked type refuses the call in the caller's dialect and is recorded.
func TestRedaction(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "redacted")
	g := integGateway(t, dir, up.URL, integConfig+"redact:\n  actions:\n    US_SSN: block\n")

	const prompt = "Mail alice@example.com the card 4111 1111 1111 1111, cc bob@corp.io and ALICE@example.com; token ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	secrets := []string{"alice@example.com", "ALICE@example.com", "bob@corp.io", "4111 1111 1111 1111", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
	r := call(t, http.MethodPost, g.URL+"/api/chat", key,
		`{"model":"tiny","stream":false,"messages":[{"role":"user","content":"`+prompt+`"}]}`, "X-Request-Id", "redact-1")
	if r.status != http.StatusOK {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	its := g.query(t, "--actor", "redacted")
	var it *interaction
	for i := range its {
		if its[i].CorrelationID == "redact-1" {
			it = &its[i]
		}
	}
	if it == nil {
		t.Fatalf("the call is not in the log: %+v", its)
	}
	const want = "user: Mail [EMAIL_1] the card [CREDIT_CARD_1], cc [EMAIL_2] and [EMAIL_1]; token [GITHUB_TOKEN_1]"
	if it.Prompt != want {
		t.Errorf("recorded prompt = %q, want %q", it.Prompt, want)
	}
	if it.PromptHash == "" {
		t.Error("the original prompt's hash is not kept")
	}
	// Nothing of the values is stored in clear, anywhere in the bodies.
	db := openDB(t, dir)
	rows, err := db.Query(`SELECT content FROM bodies`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b []byte
		rows.Scan(&b)
		for _, s := range secrets {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
				t.Errorf("a stored body holds %q: %s", s, b)
			}
		}
	}
	rows.Close()
	db.Close()

	// Data-subject search, by the index of keyed hashes.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--email", "Alice@Example.COM"}, 1},
		{[]string{"--card", "4111-1111-1111-1111"}, 1},
		{[]string{"--email", "nobody@example.com"}, 0},
	} {
		res := g.run(t, "find", append(tc.args, "--json")...)
		n := strings.Count(res.stdout, "\n")
		if res.code != 0 || n != tc.want || (n > 0 && !strings.Contains(res.stdout, `"correlation_id":"redact-1"`)) {
			t.Errorf("aitrail find %v = exit %d, %d interactions\n%s%s; want %d", tc.args, res.code, n, res.stdout, res.stderr, tc.want)
		}
	}

	// A blocked type: refused in each dialect, recorded as blocked.
	for _, tc := range []struct{ path, body, shape string }{
		{"/api/generate", `{"model":"tiny","prompt":"my SSN is 536-22-8726"}`, `{"error":"aitrail: the request contains US_SSN`},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"SSN 536-22-8726"}]}`, `"type":"permission_error"`},
	} {
		r := call(t, http.MethodPost, g.URL+tc.path, key, tc.body)
		if r.status != http.StatusForbidden || !bytes.Contains(r.body, []byte(tc.shape)) {
			t.Errorf("POST %s with an SSN = %d %s, want 403 with %s", tc.path, r.status, r.body, tc.shape)
		}
	}
	blocked := g.query(t, "--actor", "redacted", "--status", "blocked")
	if len(blocked) != 2 || strings.Contains(blocked[0].Prompt, "536-22-8726") || !strings.Contains(blocked[0].Prompt, "[US_SSN_1]") {
		t.Errorf("blocked calls recorded as %+v; want 2, the SSN redacted", blocked)
	}
	if res := g.run(t, "find", "--ssn", "536228726", "--json"); strings.Count(res.stdout, "\n") != 2 {
		t.Errorf("aitrail find --ssn: %s%s; want the 2 blocked attempts", res.stdout, res.stderr)
	}
}

// TestRedactCommand: 'aitrail redact --jsonl' redacts what it reads with the
// configured rules and never prints the values it found.
func TestRedactCommand(t *testing.T) {
	t.Parallel()
	cfg := t.TempDir() + "/aitrail.yaml"
	if err := os.WriteFile(cfg, []byte("redact:\n  rules:\n    - {type: EMPLOYEE_ID, pattern: 'EMP-[0-9]{6}'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(aitrailBin, "redact", "--jsonl", "--config", cfg)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(`{"text":"EMP-123456 wrote to ceo@example.com"}` + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aitrail redact: %v", err)
	}
	const want = `{"redacted":"[EMPLOYEE_ID_1] wrote to [EMAIL_1]"`
	if !strings.HasPrefix(string(out), want) || strings.Contains(string(out), "ceo@example.com") || strings.Contains(string(out), "123456") {
		t.Errorf("aitrail redact --jsonl printed %s, want it to start with %s and hold no value", out, want)
	}
}

// TestRawVault: the raw prompt is kept encrypted, beside the redacted log;
// 'aitrail raw' shows it only with a stated reason, records the read in the
// log first, and the log stays intact.
func TestRawVault(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "vaulted")
	g := integGateway(t, dir, up.URL, integConfig)
	const secret = "reach me at carol@example.org"
	r := call(t, http.MethodPost, g.URL+"/api/generate", key, `{"model":"tiny","stream":false,"prompt":"`+secret+`"}`, "X-Request-Id", "vault-1")
	if r.status != http.StatusOK {
		t.Fatalf("generate: %d %s", r.status, r.body)
	}
	if code := g.stop(t); code != 0 { // drains the background seals
		t.Fatalf("serve exited %d", code)
	}
	var seq string
	for _, it := range g.query(t, "--actor", "vaulted") {
		if it.CorrelationID == "vault-1" {
			seq = fmt.Sprint(it.Seq)
			if strings.Contains(it.Prompt, "carol@example.org") {
				t.Errorf("the log holds the address in clear: %q", it.Prompt)
			}
		}
	}
	if seq == "" {
		t.Fatal("the call is not in the log")
	}
	if res := g.run(t, "raw", seq); res.code != 2 {
		t.Errorf("aitrail raw without --reason: exit %d, want 2 (usage)", res.code)
	}
	res := g.run(t, "raw", seq, "--reason", "subject access request 17")
	if res.code != 0 || !strings.Contains(res.stdout, secret) || !strings.Contains(res.stderr, "matches its sealed commitment") {
		t.Fatalf("aitrail raw: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	raw := g.run(t, "raw", seq, "--part", "raw", "--reason", "subject access request 17")
	if raw.code != 0 || !strings.Contains(raw.stdout, `"prompt":"`+secret+`"`) {
		t.Errorf("aitrail raw --part raw: exit %d\n%s%s", raw.code, raw.stdout, raw.stderr)
	}
	db := openDB(t, dir)
	var n int
	db.QueryRow(`SELECT count(*) FROM records WHERE kind = 'raw.read' AND reason = 'subject access request 17' AND request_seq = ?`, seq).Scan(&n)
	db.Close()
	if n != 2 {
		t.Errorf("%d raw.read events with the reason, want 2", n)
	}
	if v := runAitrail(t, "verify", "--data", dir); v.code != 0 {
		t.Errorf("aitrail verify after the reads: exit %d\n%s", v.code, v.stdout)
	}
}

// TestRawReadAPI: auditors and admins read a raw body over HTTP with their
// own key and a stated reason; the read is recorded first; users never can.
func TestRawReadAPI(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	user := integCreateKey(t, dir, "raw-user")
	auditor := runAitrail(t, "keys", "create", "--actor", "raw-auditor", "--role", "auditor", "--data", dir)
	akey := strings.TrimSpace(auditor.stdout[strings.LastIndex(strings.TrimSpace(auditor.stdout), "\n")+1:])
	g := integGateway(t, dir, up.URL, integConfig)
	const secret = "dave@example.net"
	r := call(t, http.MethodPost, g.URL+"/api/generate", user, `{"model":"tiny","stream":false,"prompt":"mail `+secret+`"}`, "X-Request-Id", "raw-api-1")
	if r.status != http.StatusOK {
		t.Fatalf("generate: %d %s", r.status, r.body)
	}
	var seq int64 = -1
	for _, it := range g.query(t, "--actor", "raw-user") {
		if it.CorrelationID == "raw-api-1" {
			seq = it.Seq
		}
	}
	url := fmt.Sprintf("%s/aitrail/v1/raw/main/%d", g.URL, seq)
	if r := call(t, http.MethodGet, url, user, "", "X-Access-Reason", "curious"); r.status != http.StatusForbidden {
		t.Errorf("a user reading a raw body: %d %s, want 403", r.status, r.body)
	}
	if r := call(t, http.MethodGet, url, akey, ""); r.status != http.StatusForbidden || !bytes.Contains(r.body, []byte("reason")) {
		t.Errorf("an auditor without a reason: %d %s, want 403 asking for one", r.status, r.body)
	}
	var got reply
	eventually(t, "the raw body is in the vault", func() (bool, string) { // sealed in the background
		got = call(t, http.MethodGet, url, akey, "", "X-Access-Reason", "complaint 88")
		return got.status == http.StatusOK, fmt.Sprintf("%d %s", got.status, got.body)
	})
	if !bytes.Contains(got.body, []byte(secret)) || got.header.Get("Cache-Control") != "no-store" {
		t.Errorf("raw read = %s (Cache-Control %q), want the body before redaction, not cached", got.body, got.header.Get("Cache-Control"))
	}
	db := openDB(t, dir)
	var n int
	db.QueryRow(`SELECT count(*) FROM records WHERE kind = 'raw.read' AND actor = 'raw-auditor' AND reason = 'complaint 88' AND request_seq = ?`, seq).Scan(&n)
	db.Close()
	if n < 1 {
		t.Errorf("no raw.read event by the auditor with the reason")
	}
}

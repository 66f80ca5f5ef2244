package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nodeCall is one line of the Node tests' report: a call made with a Node
// SDK and what the SDK returned.
type nodeCall struct {
	ID         string `json:"id"`
	Endpoint   string `json:"endpoint"`
	Stream     bool   `json:"stream"`
	Prompt     string `json:"prompt"`
	Text       string `json:"text"`
	Embeddings int    `json:"embeddings"`
	TokensIn   int64  `json:"tokens_in"`
	TokensOut  int64  `json:"tokens_out"`
}

// TestNodeSDKs runs the Node SDK tests in e2e/node (node --test) against
// the shared gateway with a key of their own, then checks from here that
// every call they report was answered with exactly what the stand-in said
// and recorded as theirs.
func TestNodeSDKs(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the Node SDK tests need Node.js 20 or later")
	}
	for _, pkg := range []string{"ollama", "openai"} {
		if _, err := os.Stat(filepath.Join("node", "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("e2e/node/node_modules/%s is missing: run 'npm ci' in e2e/node first (scripts/test.sh does)", pkg)
		}
	}
	t.Parallel()
	e := sharedEnv(t)
	const actor = "node-sdk"
	key := e.gw.createKey(t, actor, "user")
	report := filepath.Join(t.TempDir(), "calls.jsonl")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap")
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(), "AITRAIL_URL="+e.gw.URL, "AITRAIL_KEY="+key, "AITRAIL_REPORT="+report, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test in e2e/node: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^# tests (\d+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("node --test printed no test count:\n%s", out)
	}
	ran, _ := strconv.Atoi(string(m[1]))

	calls := readNodeReport(t, report)
	if len(calls) != ran || ran == 0 {
		t.Fatalf("the Node tests reported %d calls, but %d tests ran:\n%s", len(calls), ran, out)
	}
	byID := map[string]interaction{}
	for _, it := range e.gw.query(t, "--actor", actor) {
		byID[it.CorrelationID] = it
	}
	for _, c := range calls {
		t.Run(c.Prompt, func(t *testing.T) {
			up := e.up.call(t, c.ID)
			want := answerOf(t, up.Path, up.Body)
			if up.Path != c.Endpoint || c.Text != want.text || c.Embeddings != want.embeddings {
				t.Errorf("node got %q (%d embeddings) from %s, the stand-in said %q (%d embeddings) on %s",
					c.Text, c.Embeddings, c.Endpoint, want.text, want.embeddings, up.Path)
			}
			if c.TokensIn != want.tokensIn || c.TokensOut != want.tokensOut {
				t.Errorf("node got tokens %d in, %d out; the stand-in said %d, %d", c.TokensIn, c.TokensOut, want.tokensIn, want.tokensOut)
			}
			it, ok := byID[c.ID]
			if !ok {
				t.Fatalf("aitrail query --actor %s has no interaction with correlation id %s", actor, c.ID)
			}
			checkRecorded(t, it, recorded{
				actor: actor, role: "user", endpoint: "POST " + c.Endpoint, model: "tiny", stream: c.Stream,
				prompt: c.Prompt, response: c.Text, tokensIn: want.tokensIn, tokensOut: want.tokensOut,
			})
		})
	}
}

func readNodeReport(t testing.TB, path string) []nodeCall {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the Node tests wrote no report: %v", err)
	}
	defer f.Close()
	var calls []nodeCall
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c nodeCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}

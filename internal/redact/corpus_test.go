package redact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aitrail/aitrail/internal/redact/internal/corpusgen"
)

var update = flag.Bool("update", false, "rewrite the generated files of testdata/corpus")

// TestCorpusUpToDate checks that the committed corpus is what the
// generator writes. Regenerate it with
//
//	go test ./internal/redact -run TestCorpusUpToDate -update
func TestCorpusUpToDate(t *testing.T) {
	for _, f := range corpusgen.Generate(corpusgen.Seed) {
		path := filepath.Join("testdata", "corpus", f.Name)
		want := corpusgen.Encode(f.Examples)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the generator writes; run: go test ./internal/redact -run TestCorpusUpToDate -update", path)
		}
	}
}

type labelled struct {
	file     string
	line     int
	Text     string `json:"text"`
	Entities []struct {
		Type  Type   `json:"type"`
		Value string `json:"value"`
	} `json:"entities"`
}

func loadCorpus(t testing.TB) []labelled {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.jsonl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus in testdata/corpus: %v", err)
	}
	var all []labelled
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			ex := labelled{file: filepath.Base(p), line: n}
			if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
				t.Fatalf("%s:%d: %v", p, n, err)
			}
			all = append(all, ex)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

// The baseline: five plain regular expressions of the kind tutorials
// offer.
var baseline = []struct {
	typ Type
	re  *regexp.Regexp
}{
	{USSSN, regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)},
	{CreditCard, regexp.MustCompile(`\b(?:\d[ -]*?){13,16}\b`)},
	{Email, regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`)},
	{Phone, regexp.MustCompile(`\b(?:\+?1[-.]?)?\(?\d{3}\)?[-.]?\d{3}[-.]?\d{4}\b`)},
	{DateOfBirth, regexp.MustCompile(`\b(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01])/(?:19|20)\d{2}\b`)},
}

func baselineFindings(text string) []Finding {
	var fs []Finding
	for _, b := range baseline {
		for _, m := range b.re.FindAllStringIndex(text, -1) {
			fs = append(fs, Finding{Type: b.typ, Start: m[0], End: m[1]})
		}
	}
	return fs
}

func baselineHas(t Type) bool {
	for _, b := range baseline {
		if b.typ == t {
			return true
		}
	}
	return false
}

// covered reports whether a finding of type t covers text[start:end].
func covered(fs []Finding, t Type, start, end int) bool {
	for _, f := range fs {
		if f.Type == t && f.Start <= start && end <= f.End {
			return true
		}
	}
	return false
}

type score struct{ n, found, baseFound int }

// The goals: recall on every structured type and secret, and on the
// keyword-anchored types (whose corpus always has the keyword), and the
// false-positive rate on look-alike texts.
var (
	structured = []Type{Email, Phone, USSSN, CreditCard, IBAN, IPAddress, AWSAccessKey, GitHubToken,
		SlackToken, OpenAIKey, JWT, PrivateKey, Password, ConnectionString}
	anchoredTypes = []Type{DateOfBirth, MedicalRecordNumber, Passport, DriversLicense}
)

const (
	structuredGoal = 0.98
	anchoredGoal   = 0.95
	fpGoal         = 0.01
	minOccurrences = 100
	minNegatives   = 500
)

// TestCorpus measures recall per type and the false-positive rate on the
// labelled corpus, for the redactor and for the baseline, prints the table
// of docs/REDACTION.md (with -v), and checks the goals.
func TestCorpus(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	scores := make(map[Type]*score)
	type fileScore struct{ texts, entities, found, negatives, fp int }
	files := make(map[string]*fileScore)
	var fileNames []string
	var negatives, fp, baseFP, spurious, positives int
	var misses, falsePositives []string
	for _, ex := range loadCorpus(t) {
		_, fs := r.Redact(ex.Text)
		bfs := baselineFindings(ex.Text)
		fsc := files[ex.file]
		if fsc == nil {
			fsc = &fileScore{}
			files[ex.file] = fsc
			fileNames = append(fileNames, ex.file)
		}
		fsc.texts++
		if len(ex.Entities) == 0 {
			negatives++
			fsc.negatives++
			if len(fs) > 0 {
				fp++
				fsc.fp++
				falsePositives = append(falsePositives, fmt.Sprintf("%s:%d: %s %q in %q", ex.file, ex.line, fs[0].Type, fs[0].Value, ex.Text))
			}
			if len(bfs) > 0 {
				baseFP++
			}
			continue
		}
		positives++
		var spans [][2]int
		from := make(map[string]int) // the next occurrence of a value is searched from here
		for _, e := range ex.Entities {
			i := strings.Index(ex.Text[from[e.Value]:], e.Value)
			if i < 0 {
				t.Fatalf("%s:%d: entity %s %q is not in the text", ex.file, ex.line, e.Type, e.Value)
			}
			start := from[e.Value] + i
			end := start + len(e.Value)
			from[e.Value] = end
			spans = append(spans, [2]int{start, end})
			sc := scores[e.Type]
			if sc == nil {
				sc = &score{}
				scores[e.Type] = sc
			}
			sc.n++
			fsc.entities++
			if covered(fs, e.Type, start, end) {
				sc.found++
				fsc.found++
			} else {
				misses = append(misses, fmt.Sprintf("%s:%d: %s %q", ex.file, ex.line, e.Type, e.Value))
			}
			if covered(bfs, e.Type, start, end) {
				sc.baseFound++
			}
		}
		for _, f := range fs {
			if !slices.ContainsFunc(spans, func(s [2]int) bool { return f.Start < s[1] && s[0] < f.End }) {
				spurious++
				if testing.Verbose() {
					t.Logf("spurious: %s:%d: %s %q", ex.file, ex.line, f.Type, f.Value)
				}
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "| type | occurrences | recall | baseline recall |\n|---|---:|---:|---:|\n")
	for _, typ := range append(slices.Clone(structured), anchoredTypes...) {
		sc := scores[typ]
		if sc == nil {
			sc = &score{}
		}
		base := "—"
		if baselineHas(typ) {
			base = fmt.Sprintf("%.3f", ratio(sc.baseFound, sc.n))
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f | %s |\n", typ, sc.n, ratio(sc.found, sc.n), base)
	}
	fmt.Fprintf(&b, "\n| false positives | redactor | baseline |\n|---|---:|---:|\n")
	fmt.Fprintf(&b, "| negative texts with any finding (of %d) | %d (%.2f%%) | %d (%.2f%%) |\n",
		negatives, fp, 100*ratio(fp, negatives), baseFP, 100*ratio(baseFP, negatives))
	fmt.Fprintf(&b, "| findings outside any label, in %d positive texts | %d | — |\n", positives, spurious)
	fmt.Fprintf(&b, "\n| file | texts | entities found | negative texts with a finding |\n|---|---:|---:|---:|\n")
	for _, name := range fileNames {
		f := files[name]
		fmt.Fprintf(&b, "| %s | %d | %d of %d | %d of %d |\n", name, f.texts, f.found, f.entities, f.fp, f.negatives)
	}
	if testing.Verbose() {
		fmt.Println(b.String())
		for _, m := range misses {
			t.Logf("missed: %s", m)
		}
		for _, m := range falsePositives {
			t.Logf("false positive: %s", m)
		}
	}

	if negatives < minNegatives {
		t.Errorf("%d negative texts, want at least %d", negatives, minNegatives)
	}
	if rate := ratio(fp, negatives); rate > fpGoal {
		t.Errorf("false positives on %.2f%% of negative texts, want at most %.0f%%; first: %s", 100*rate, 100*fpGoal, falsePositives[0])
	}
	for _, typ := range append(slices.Clone(structured), anchoredTypes...) {
		goal := structuredGoal
		if slices.Contains(anchoredTypes, typ) {
			goal = anchoredGoal
		}
		sc := scores[typ]
		if sc == nil || sc.n < minOccurrences {
			t.Errorf("%s: %d occurrences in the corpus, want at least %d", typ, sc.n, minOccurrences)
			continue
		}
		if rec := ratio(sc.found, sc.n); rec < goal {
			t.Errorf("%s: recall %.3f, want at least %.2f", typ, rec, goal)
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

package standin

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// vocabulary holds the words the stand-in models say: the words the
// captured tiny model said.
var vocabulary = []string{
	"happy", "same", "runs", "song", "that", "loud", "when", "now", "more",
	"friend", "love", "no", "door", "tells", "such", "do", "were", "grows",
	"was", "flies", "swims", "big", "writes", "blue", "sleeps", "should",
	"city", "woman", "dog", "cloud", "sky", "quiet", "cat", "test", "light",
	"have", "fear", "gold", "goes", "just", "there", "can", "water", "how",
	"new", "who",
}

// thoughts holds the words tiny-think thinks in.
var thoughts = []string{
	"hmm", "the", "user", "asks", "so", "answer", "with", "words", "okay",
	"let", "me", "think",
}

const (
	// defaultTokens is how many tokens a model says when nothing limits it.
	defaultTokens = 12
	// maxTokens bounds num_predict.
	maxTokens = 2048
	// thinkingTokens is how many tokens tiny-think thinks.
	thinkingTokens = 4
	// embedDim is the length of the tiny models' embeddings.
	embedDim = 64
)

// newRand returns a generator seeded from parts.
func newRand(parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum64()
	return rand.New(rand.NewPCG(sum, sum^0x9e3779b97f4a7c15))
}

// words counts the whitespace-separated words of s.
func words(s string) int { return len(strings.Fields(s)) }

// genInput is what a generation depends on.
type genInput struct {
	text         string // all the input text, which seeds the words
	promptTokens int
	opts         genOptions
	think        bool            // whether the model thinks first
	format       json.RawMessage // a format to answer in, if any
	tools        tools           // tools to call, if the model may call one
}

// A generation is what a model says to one request.
type generation struct {
	thinking []string   // thinking tokens
	content  []string   // content tokens
	calls    []toolCall // tool calls, said after thinking instead of content
	reason   string     // "stop" or "length"
	prompt   int        // prompt tokens
	eval     int        // generated tokens
	rand     *rand.Rand
}

// generate decides what a model says to in.
func (s *Server) generate(in genInput) *generation {
	seed := ""
	if in.opts.seed != nil {
		seed = strconv.Itoa(*in.opts.seed)
	}
	r := newRand(in.text, seed)
	g := &generation{prompt: in.promptTokens, reason: "stop", rand: r}
	if in.think {
		for range thinkingTokens {
			g.thinking = append(g.thinking, " "+thoughts[r.IntN(len(thoughts))])
		}
	}
	limit := defaultTokens
	if in.opts.numPredict > 0 {
		limit = min(in.opts.numPredict, maxTokens)
		g.reason = "length"
	}
	switch {
	case len(in.tools) > 0:
		call := s.makeCall(in.tools[0], r)
		g.calls = []toolCall{call}
		g.eval = len(g.thinking) + len(call.Function.Arguments.raw)/4 + 6
		g.reason = "stop"
		return g
	case len(in.format) > 0 && !bytes.Equal(in.format, []byte("null")) && !bytes.Equal(in.format, []byte(`""`)):
		// The answer is as long as the JSON value, unless num_predict
		// cuts it short.
		text := string(fakeValue(formatSchema(in.format), r, 0))
		g.reason = "stop"
		for _, tok := range splitTokens(text) {
			if in.opts.numPredict > 0 && len(g.content) == limit {
				g.reason = "length"
				break
			}
			g.content = append(g.content, tok)
		}
	default:
		for range limit {
			g.content = append(g.content, " "+vocabulary[r.IntN(len(vocabulary))])
		}
	}
	g.applyStops(in.opts.stop)
	g.eval = len(g.thinking) + len(g.content)
	if g.reason == "stop" {
		g.eval++ // the end-of-sequence token
	}
	return g
}

// applyStops ends the content before the first stop sequence in it.
func (g *generation) applyStops(stops []string) {
	var acc strings.Builder
	for i, tok := range g.content {
		prev := acc.Len()
		acc.WriteString(tok)
		cut := -1
		for _, st := range stops {
			if st == "" {
				continue
			}
			if j := strings.Index(acc.String(), st); j >= 0 && (cut < 0 || j < cut) {
				cut = j
			}
		}
		if cut < 0 {
			continue
		}
		g.content = g.content[:i]
		if cut > prev {
			g.content = append(g.content, acc.String()[prev:cut])
		}
		g.reason = "stop"
		return
	}
}

// text returns all the content.
func (g *generation) text() string { return strings.Join(g.content, "") }

// thought returns all the thinking.
func (g *generation) thought() string { return strings.Join(g.thinking, "") }

// metrics returns plausible timings for g; waited is time spent pausing
// between chunks.
func (g *generation) metrics(waited time.Duration) metrics {
	r := g.rand
	load := time.Duration(1_500_000 + r.IntN(1_000_000))
	prompt := time.Duration(g.prompt*60_000 + 900_000 + r.IntN(500_000))
	eval := time.Duration(g.eval*3_000_000+r.IntN(2_000_000)) + waited
	return metrics{
		TotalDuration:      load + prompt + eval + time.Duration(300_000+r.IntN(200_000)),
		LoadDuration:       load,
		PromptEvalCount:    g.prompt,
		PromptEvalDuration: prompt,
		EvalCount:          g.eval,
		EvalDuration:       eval,
	}
}

// context returns token ids for the prompt and the answer, as
// /api/generate reports its context.
func (g *generation) context(prompt string) []int {
	ids := make([]int, 0, g.prompt+g.eval)
	r := newRand("context", prompt)
	for len(ids) < g.prompt+g.eval {
		ids = append(ids, 3+r.IntN(717))
	}
	return ids
}

// splitTokens splits text into token-sized pieces: punctuation alone,
// words with the space before them.
func splitTokens(text string) []string {
	var toks []string
	start := 0
	for i, c := range text {
		if i > start && (strings.ContainsRune(`{}[]":, `, c) || strings.ContainsRune(`{}[]":,`, rune(text[i-1]))) {
			toks = append(toks, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		toks = append(toks, text[start:])
	}
	return toks
}

// formatSchema returns the JSON schema of a format: a schema object as is,
// and for "json" a schema of an object with one string property.
func formatSchema(format json.RawMessage) json.RawMessage {
	if bytes.HasPrefix(bytes.TrimSpace(format), []byte("{")) {
		return format
	}
	return json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}}}`)
}

// objectKeys returns the keys of a JSON object in order, and the values.
func objectKeys(raw json.RawMessage) ([]string, map[string]json.RawMessage) {
	var vals map[string]json.RawMessage
	if json.Unmarshal(raw, &vals) != nil {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var keys []string
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil, nil
		}
	}
	return keys, vals
}

// fakeValue makes up a JSON value that fits a JSON schema.
func fakeValue(schema json.RawMessage, r *rand.Rand, depth int) []byte {
	var sc struct {
		Type       json.RawMessage   `json:"type"`
		Enum       []json.RawMessage `json:"enum"`
		Properties json.RawMessage   `json:"properties"`
		Items      json.RawMessage   `json:"items"`
	}
	json.Unmarshal(schema, &sc)
	if len(sc.Enum) > 0 {
		return compact(sc.Enum[0])
	}
	typ := ""
	if json.Unmarshal(sc.Type, &typ) != nil {
		var ts []string
		json.Unmarshal(sc.Type, &ts)
		for _, t := range ts {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	word := func() []byte {
		b, _ := json.Marshal(vocabulary[r.IntN(len(vocabulary))])
		return b
	}
	switch typ {
	case "integer":
		return strconv.AppendInt(nil, int64(1+r.IntN(99)), 10)
	case "number":
		return strconv.AppendFloat(nil, float64(1+r.IntN(999))/10, 'f', -1, 64)
	case "boolean":
		return []byte("true")
	case "null":
		return []byte("null")
	case "array":
		if depth > 4 || len(sc.Items) == 0 {
			return []byte("[]")
		}
		return append(append([]byte("["), fakeValue(sc.Items, r, depth+1)...), ']')
	case "object":
		return fakeObject(sc.Properties, r, depth)
	case "":
		if len(sc.Properties) > 0 {
			return fakeObject(sc.Properties, r, depth)
		}
		return word()
	default:
		return word()
	}
}

func fakeObject(props json.RawMessage, r *rand.Rand, depth int) []byte {
	keys, vals := objectKeys(props)
	if depth > 4 || len(keys) == 0 {
		return []byte("{}")
	}
	b := []byte("{")
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		b = append(append(b, kb...), ':')
		b = append(b, fakeValue(vals[k], r, depth+1)...)
	}
	return append(b, '}')
}

func compact(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return []byte("null")
	}
	return buf.Bytes()
}

// makeCall makes up a call of t with arguments that fit its parameters.
func (s *Server) makeCall(t tool, r *rand.Rand) toolCall {
	args := fakeObject(t.Function.Parameters.Properties, r, 0)
	return toolCall{
		ID: callID(s.next()),
		Function: toolCallFunction{
			Name:      t.Function.Name,
			Arguments: toolCallFunctionArguments{raw: args},
		},
	}
}

// callID returns a tool call id like Ollama's: "call_" and eight
// lower-case letters and digits.
func callID(n uint64) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	r := newRand("call", strconv.FormatUint(n, 10))
	b := []byte("call_")
	for range 8 {
		b = append(b, letters[r.IntN(len(letters))])
	}
	return string(b)
}

// embedTokens counts the tokens of an input to embed.
func embedTokens(text string) int { return words(text) + 2 }

// embedding returns the embedding of text, normalized to length 1 as
// /api/embed returns it.
func embedding(text string) []float32 {
	v := rawEmbedding(text)
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := float32(1 / math.Max(math.Sqrt(sum), 1e-12))
	for i := range v {
		v[i] *= norm
	}
	return v
}

// rawEmbedding returns the embedding of text as the model computes it,
// before normalization, as the legacy /api/embeddings returns it.
func rawEmbedding(text string) []float32 {
	r := newRand("embed", text)
	v := make([]float32, embedDim)
	v[0] = float32(3.1 + r.Float64()*0.4)
	for i := 1; i < embedDim; i++ {
		v[i] = float32(r.NormFloat64() * 0.35)
	}
	return v
}

// truncateEmbedding shortens v to dims values and normalizes it again, as
// the dimensions parameter asks.
func truncateEmbedding(v []float32, dims int) []float32 {
	if dims <= 0 || dims >= len(v) {
		return v
	}
	v = v[:dims]
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := float32(1 / math.Max(math.Sqrt(sum), 1e-12))
	for i := range v {
		v[i] *= norm
	}
	return v
}

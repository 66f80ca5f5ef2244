package standin

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// A modelName is a model name in Ollama's form, host/namespace/model:tag.
type modelName struct {
	host, namespace, model, tag string
}

const (
	defaultHost      = "registry.ollama.ai"
	defaultNamespace = "library"
	defaultTag       = "latest"
	missingPart      = "!MISSING!"
)

// parseName parses s as Ollama does, filling in the default host,
// namespace and tag. An empty part between separators makes the name
// invalid.
func parseName(s string) modelName {
	var n modelName
	if strings.LastIndex(s, ":") > strings.LastIndex(s, "/") {
		s, n.tag, _ = cutLast(s, ":")
	}
	var ok bool
	if s, n.model, ok = cutLast(s, "/"); !ok {
		n.model = s
	} else if s, n.namespace, ok = cutLast(s, "/"); !ok {
		n.namespace = s
	} else if _, host, ok := strings.Cut(s, "://"); ok {
		n.host = host
	} else {
		n.host = s
	}
	n.host = cmp.Or(n.host, defaultHost)
	n.namespace = cmp.Or(n.namespace, defaultNamespace)
	n.tag = cmp.Or(n.tag, defaultTag)
	return n
}

// cutLast cuts s at its last sep; an empty part on either side becomes
// missingPart.
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return cmp.Or(s[:i], missingPart), cmp.Or(s[i+len(sep):], missingPart), true
}

// valid reports whether every part of n is present and well formed.
func (n modelName) valid() bool {
	return validPart(n.host, 350, true, true) &&
		validPart(n.namespace, 80, false, false) &&
		validPart(n.model, 80, true, false) &&
		validPart(n.tag, 80, true, false)
}

func validPart(s string, max int, dots, colons bool) bool {
	if len(s) < 1 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		word := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
		switch {
		case i == 0 && !word:
			return false
		case word, c == '-' && i > 0, c == '.' && dots, c == ':' && colons:
		default:
			return false
		}
	}
	return true
}

// String returns host/namespace/model:tag.
func (n modelName) String() string {
	return n.host + "/" + n.namespace + "/" + n.model + ":" + n.tag
}

// key returns the registry key of n: model names compare case-insensitively.
func (n modelName) key() string { return strings.ToLower(n.String()) }

// displayShortest returns n without the default host and namespace.
func (n modelName) displayShortest() string {
	var b strings.Builder
	if !strings.EqualFold(n.host, defaultHost) {
		b.WriteString(n.host + "/" + n.namespace + "/")
	} else if !strings.EqualFold(n.namespace, defaultNamespace) {
		b.WriteString(n.namespace + "/")
	}
	b.WriteString(n.model + ":" + n.tag)
	return b.String()
}

// A kind is the behaviour of a model.
type kind int

const (
	kindPlain kind = iota
	kindSlow
	kindError
	kindStall
	kindThink
)

// A model is a model the stand-in serves.
type model struct {
	name     modelName
	kind     kind
	digest   string
	size     int64
	modified time.Time
	template string
	system   string
	params   [][2]string // PARAMETER lines, in order
}

func (m *model) key() string { return m.name.key() }

// thinks reports whether m has the thinking capability.
func (m *model) thinks() bool { return m.kind == kindThink }

// usesTools reports whether m has the tools capability.
func (m *model) usesTools() bool { return m.kind == kindThink }

// capabilities returns m's capabilities as /api/show lists them.
func (m *model) capabilities() []string {
	if m.kind == kindThink {
		return []string{"completion", "tools", "thinking"}
	}
	return []string{"completion"}
}

const (
	// tinyDigest is the manifest digest of the captured model.
	tinyDigest = "849ccfe8f3440d369343c258da03ce1c0b55039c0dda4d217cb7dcedbcc29cc1"
	// tinyBlob is the digest of its weights.
	tinyBlob = "9e17cbd7dc03aed8c68a1cf5582a51f3592f553a5481639fbc76b0774dd5022d"
	// tinySize is the size /api/tags gives for it.
	tinySize = 370550
	// loadedSize is the size /api/ps gives for it.
	loadedSize = 1305856
	// contextLength is its context length.
	contextLength = 2048
	// modelsDir is where the models directory of the captured server was.
	modelsDir = "/var/lib/ollama/models"
)

// tinyModified is when the captured model was modified.
var tinyModified = time.Date(2026, 11, 23, 5, 49, 21, 151730720, time.UTC)

const tinyTemplate = "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}" +
	"{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"

const thinkTemplate = "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}" +
	"{{- if .Tools }}<|im_start|>tools\n{{ range .Tools }}{{ . }}\n{{ end }}<|im_end|>\n{{ end }}" +
	"{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}" +
	"{{ .Content }}{{ range .ToolCalls }}<tool_call>{{ .Function }}</tool_call>{{ end }}<|im_end|>\n{{ end }}" +
	"<|im_start|>assistant\n{{ if .Think }}<think>{{ end }}"

// madeUpDigest returns a digest for a model that only the stand-in has.
func madeUpDigest(parts ...string) string {
	h := sha256.Sum256([]byte("standin\x00" + strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

// builtinModels returns the models every new Server serves.
func builtinModels() []*model {
	params := [][2]string{{"num_ctx", "2048"}, {"stop", "<|im_end|>"}}
	mk := func(name string, k kind, age time.Duration, tmpl string) *model {
		m := &model{
			name:     parseName(name),
			kind:     k,
			digest:   tinyDigest,
			size:     tinySize,
			modified: tinyModified.Add(-age),
			template: tmpl,
			params:   params,
		}
		if name != "tiny" {
			m.digest = madeUpDigest(name)
			m.size = tinySize + int64(len(tmpl)-len(tinyTemplate)) + int64(len(name))
		}
		return m
	}
	return []*model{
		mk("tiny", kindPlain, 0, tinyTemplate),
		mk("tiny-slow", kindSlow, 1*time.Second, tinyTemplate),
		mk("tiny-error", kindError, 2*time.Second, tinyTemplate),
		mk("tiny-stall", kindStall, 3*time.Second, tinyTemplate),
		mk("tiny-think", kindThink, 4*time.Second, thinkTemplate),
	}
}

// modelDetails is the details object of /api/tags, /api/show and /api/ps.
type modelDetails struct {
	ParentModel       string   `json:"parent_model"`
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}

func details(parent string) modelDetails {
	return modelDetails{
		ParentModel:       parent,
		Format:            "gguf",
		Family:            "llama",
		Families:          []string{"llama"},
		ParameterSize:     "174K",
		QuantizationLevel: "F16",
	}
}

// modelInfo is the model_info object of /api/show for the tiny models.
func modelInfo() map[string]any {
	return map[string]any{
		"general.alignment":                      32,
		"general.architecture":                   "llama",
		"general.file_type":                      1,
		"general.parameter_count":                174400,
		"llama.attention.head_count":             4,
		"llama.attention.head_count_kv":          4,
		"llama.attention.layer_norm_rms_epsilon": 0.00001,
		"llama.block_count":                      2,
		"llama.context_length":                   contextLength,
		"llama.embedding_length":                 embedDim,
		"llama.feed_forward_length":              128,
		"llama.rope.dimension_count":             16,
		"llama.rope.freq_base":                   10000,
		"llama.vocab_size":                       720,
		"tokenizer.ggml.add_bos_token":           false,
		"tokenizer.ggml.add_eos_token":           false,
		"tokenizer.ggml.bos_token_id":            0,
		"tokenizer.ggml.eos_token_id":            2,
		"tokenizer.ggml.merges":                  nil,
		"tokenizer.ggml.model":                   "gpt2",
		"tokenizer.ggml.padding_token_id":        0,
		"tokenizer.ggml.pre":                     "default",
		"tokenizer.ggml.token_type":              nil,
		"tokenizer.ggml.tokens":                  nil,
	}
}

// tensor is one entry of the tensors list of /api/show.
type tensor struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []uint64 `json:"shape"`
}

// tensors lists the tensors of the tiny models' weights.
func tensors() []tensor {
	var ts []tensor
	for blk := range 2 {
		for _, t := range []tensor{
			{"attn_k.weight", "F16", []uint64{64, 64}},
			{"attn_norm.weight", "F32", []uint64{64}},
			{"attn_output.weight", "F16", []uint64{64, 64}},
			{"attn_q.weight", "F16", []uint64{64, 64}},
			{"attn_v.weight", "F16", []uint64{64, 64}},
			{"ffn_down.weight", "F16", []uint64{128, 64}},
			{"ffn_gate.weight", "F16", []uint64{64, 128}},
			{"ffn_norm.weight", "F32", []uint64{64}},
			{"ffn_up.weight", "F16", []uint64{64, 128}},
		} {
			t.Name = fmt.Sprintf("blk.%d.%s", blk, t.Name)
			ts = append(ts, t)
		}
	}
	return append(ts,
		tensor{"output.weight", "F16", []uint64{64, 720}},
		tensor{"output_norm.weight", "F32", []uint64{64}},
		tensor{"token_embd.weight", "F16", []uint64{64, 720}},
	)
}

// blobPath returns the path of a blob in the models directory.
func blobPath(digest string) string {
	return modelsDir + "/blobs/sha256-" + digest
}

// modelfile returns the Modelfile /api/show gives for m.
func (m *model) modelfile() string {
	var b strings.Builder
	b.WriteString("# Modelfile generated by \"ollama show\"\n")
	b.WriteString("# To build a new Modelfile based on this, replace FROM with:\n")
	fmt.Fprintf(&b, "# FROM %s\n\n", m.name.displayShortest())
	fmt.Fprintf(&b, "FROM %s\n", blobPath(tinyBlob))
	fmt.Fprintf(&b, "TEMPLATE \"%s\"\n", m.template)
	if m.system != "" {
		fmt.Fprintf(&b, "SYSTEM \"%s\"\n", m.system)
	}
	for _, p := range m.params {
		fmt.Fprintf(&b, "PARAMETER %s %s\n", p[0], p[1])
	}
	return b.String()
}

// parameters returns the parameters text /api/show gives for m.
func (m *model) parameters() string {
	var lines []string
	for _, p := range m.params {
		v := p[1]
		if p[0] == "stop" {
			v = fmt.Sprintf("%q", v)
		}
		lines = append(lines, fmt.Sprintf("%-30s %s", p[0], v))
	}
	return strings.Join(lines, "\n")
}

// A layer is a blob of a model, as pull, push and create report it.
type layer struct {
	digest string
	size   int64
}

// layers returns m's blobs: the weights, the template, the parameters and
// the system prompt, if any. Their sizes and the config add up to m.size.
func (m *model) layers() []layer {
	ls := []layer{
		{tinyBlob, 0},
		{madeUpDigest("template", m.template), int64(len(m.template))},
		{madeUpDigest("params", m.parameters()), int64(len(m.parameters()) + 2)},
	}
	if m.system != "" {
		ls = append(ls, layer{madeUpDigest("system", m.system), int64(len(m.system))})
	}
	const configSize = 487
	ls[0].size = m.size - configSize
	for _, l := range ls[1:] {
		ls[0].size -= l.size
	}
	return ls
}

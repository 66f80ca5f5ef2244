package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// sdkResult is what an SDK call returned: the text, the token counts the
// SDK reported (-1 when it reports none), and the number of embeddings.
type sdkResult struct {
	text                string
	tokensIn, tokensOut int64
	embeddings          int
}

// sdkCase is one SDK call through the gateway.
type sdkCase struct {
	name     string
	endpoint string // the path aitrail records, e.g. /api/chat
	stream   bool
	prompt   string // what was asked: the record's prompt must contain it
	do       func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error)
}

// sdkKit gives a call its clients. Their transport adds the stand-in call
// id (and, for Ollama, the key) to every request and keeps the response
// headers, to read X-Request-Id.
type sdkKit struct {
	gw     *gateway
	key    string
	callID string
	tr     *headerTransport
}

func newSDKKit(g *gateway, key string) *sdkKit {
	k := &sdkKit{gw: g, key: key, callID: newID("call-")}
	k.tr = &headerTransport{add: http.Header{callHeader: {k.callID}}}
	return k
}

func (k *sdkKit) ollama(t testing.TB) *api.Client {
	t.Helper()
	base, err := url.Parse(k.gw.URL)
	if err != nil {
		t.Fatal(err)
	}
	k.tr.add.Set("Authorization", "Bearer "+k.key)
	return api.NewClient(base, &http.Client{Transport: k.tr})
}

func (k *sdkKit) openai() *openai.Client {
	c := openai.NewClient(option.WithBaseURL(k.gw.URL+"/v1/"), option.WithAPIKey(k.key),
		option.WithHTTPClient(&http.Client{Transport: k.tr}), option.WithMaxRetries(0))
	return &c
}

// headerTransport adds headers to each request and keeps the headers of
// the last response.
type headerTransport struct {
	add http.Header

	mu   sync.Mutex
	last http.Header
}

func (h *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.add {
		r.Header[k] = v
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		h.mu.Lock()
		h.last = resp.Header.Clone()
		h.mu.Unlock()
	}
	return resp, err
}

func (h *headerTransport) responseHeader(name string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last.Get(name)
}

func TestOllamaSDK(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "go-ollama-sdk"
	key := e.gw.createKey(t, actor, "user")
	no, yes := false, true
	tests := []sdkCase{
		{
			name: "chat streamed", endpoint: "/api/chat", stream: true, prompt: "Why is the sky blue? (Go Ollama chat, streamed)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				return ollamaChat(ctx, k.ollama(t), &api.ChatRequest{Model: "tiny", Stream: &yes,
					Messages: []api.Message{{Role: "system", Content: "Answer briefly."}, {Role: "user", Content: prompt}}})
			},
		},
		{
			name: "chat", endpoint: "/api/chat", prompt: "Why is the sea salty? (Go Ollama chat)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				return ollamaChat(ctx, k.ollama(t), &api.ChatRequest{Model: "tiny", Stream: &no,
					Messages: []api.Message{{Role: "user", Content: prompt}}, Options: map[string]any{"num_predict": 20}})
			},
		},
		{
			name: "generate streamed", endpoint: "/api/generate", stream: true, prompt: "Write a haiku about audits. (Go Ollama generate, streamed)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				return ollamaGenerate(ctx, k.ollama(t), &api.GenerateRequest{Model: "tiny", Prompt: prompt, Stream: &yes})
			},
		},
		{
			name: "generate", endpoint: "/api/generate", prompt: "Write a limerick about logs. (Go Ollama generate)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				return ollamaGenerate(ctx, k.ollama(t), &api.GenerateRequest{Model: "tiny", Prompt: prompt, Stream: &no})
			},
		},
		{
			name: "embed", endpoint: "/api/embed", prompt: "first document to embed (Go Ollama embed)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				resp, err := k.ollama(t).Embed(ctx, &api.EmbedRequest{Model: "tiny", Input: []string{prompt, "second document"}})
				if err != nil {
					return sdkResult{}, err
				}
				return sdkResult{tokensIn: int64(resp.PromptEvalCount), tokensOut: -1, embeddings: len(resp.Embeddings)}, nil
			},
		},
	}
	runSDKCases(t, e, actor, key, tests)
}

func ollamaChat(ctx context.Context, c *api.Client, req *api.ChatRequest) (sdkResult, error) {
	var r sdkResult
	err := c.Chat(ctx, req, func(resp api.ChatResponse) error {
		r.text += resp.Message.Content
		if resp.Done {
			r.tokensIn, r.tokensOut = int64(resp.PromptEvalCount), int64(resp.EvalCount)
		}
		return nil
	})
	return r, err
}

func ollamaGenerate(ctx context.Context, c *api.Client, req *api.GenerateRequest) (sdkResult, error) {
	var r sdkResult
	err := c.Generate(ctx, req, func(resp api.GenerateResponse) error {
		r.text += resp.Response
		if resp.Done {
			r.tokensIn, r.tokensOut = int64(resp.PromptEvalCount), int64(resp.EvalCount)
		}
		return nil
	})
	return r, err
}

func TestOpenAISDK(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	const actor = "go-openai-sdk"
	key := e.gw.createKey(t, actor, "user")
	tests := []sdkCase{
		{
			name: "chat completions streamed", endpoint: "/v1/chat/completions", stream: true, prompt: "Summarise our Q3 results. (Go OpenAI chat, streamed)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				stream := k.openai().Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
					Model:         "tiny",
					Messages:      []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage(prompt)},
					StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
				})
				defer stream.Close()
				r := sdkResult{tokensIn: -1, tokensOut: -1}
				for stream.Next() {
					chunk := stream.Current()
					if len(chunk.Choices) > 0 {
						r.text += chunk.Choices[0].Delta.Content
					}
					if chunk.JSON.Usage.Valid() {
						r.tokensIn, r.tokensOut = chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens
					}
				}
				return r, stream.Err()
			},
		},
		{
			name: "chat completions", endpoint: "/v1/chat/completions", prompt: "Draft a status update. (Go OpenAI chat)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				resp, err := k.openai().Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
					Model:       "tiny",
					Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
					Temperature: openai.Float(0.2),
				})
				if err != nil {
					return sdkResult{}, err
				}
				return sdkResult{text: resp.Choices[0].Message.Content, tokensIn: resp.Usage.PromptTokens, tokensOut: resp.Usage.CompletionTokens}, nil
			},
		},
		{
			name: "completions streamed", endpoint: "/v1/completions", stream: true, prompt: "Once upon a time (Go OpenAI completions, streamed)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				stream := k.openai().Completions.NewStreaming(ctx, openai.CompletionNewParams{
					Model:         "tiny",
					Prompt:        openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
					MaxTokens:     openai.Int(16),
					StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
				})
				defer stream.Close()
				r := sdkResult{tokensIn: -1, tokensOut: -1}
				for stream.Next() {
					chunk := stream.Current()
					if len(chunk.Choices) > 0 {
						r.text += chunk.Choices[0].Text
					}
					if chunk.JSON.Usage.Valid() {
						r.tokensIn, r.tokensOut = chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens
					}
				}
				return r, stream.Err()
			},
		},
		{
			name: "completions", endpoint: "/v1/completions", prompt: "The quick brown fox (Go OpenAI completions)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				resp, err := k.openai().Completions.New(ctx, openai.CompletionNewParams{
					Model:  "tiny",
					Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
				})
				if err != nil {
					return sdkResult{}, err
				}
				return sdkResult{text: resp.Choices[0].Text, tokensIn: resp.Usage.PromptTokens, tokensOut: resp.Usage.CompletionTokens}, nil
			},
		},
		{
			name: "embeddings", endpoint: "/v1/embeddings", prompt: "vector me (Go OpenAI embeddings)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				resp, err := k.openai().Embeddings.New(ctx, openai.EmbeddingNewParams{
					Model: "tiny",
					Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{prompt, "and me"}},
				})
				if err != nil {
					return sdkResult{}, err
				}
				return sdkResult{tokensIn: resp.Usage.PromptTokens, tokensOut: -1, embeddings: len(resp.Data)}, nil
			},
		},
		{
			name: "responses", endpoint: "/v1/responses", prompt: "What did we decide yesterday? (Go OpenAI responses)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				resp, err := k.openai().Responses.New(ctx, responses.ResponseNewParams{
					Model: "tiny",
					Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)},
				})
				if err != nil {
					return sdkResult{}, err
				}
				return sdkResult{text: resp.OutputText(), tokensIn: resp.Usage.InputTokens, tokensOut: resp.Usage.OutputTokens}, nil
			},
		},
		{
			name: "responses streamed", endpoint: "/v1/responses", stream: true, prompt: "Plan the offsite. (Go OpenAI responses, streamed)",
			do: func(ctx context.Context, k *sdkKit, prompt string) (sdkResult, error) {
				stream := k.openai().Responses.NewStreaming(ctx, responses.ResponseNewParams{
					Model:           "tiny",
					Instructions:    openai.String("Answer in a few words."),
					Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)},
					MaxOutputTokens: openai.Int(24),
				})
				defer stream.Close()
				r := sdkResult{tokensIn: -1, tokensOut: -1}
				for stream.Next() {
					ev := stream.Current()
					switch ev.Type {
					case "response.output_text.delta":
						r.text += ev.Delta
					case "response.completed", "response.incomplete":
						r.tokensIn, r.tokensOut = ev.Response.Usage.InputTokens, ev.Response.Usage.OutputTokens
					}
				}
				return r, stream.Err()
			},
		},
	}
	runSDKCases(t, e, actor, key, tests)
}

// runSDKCases makes each call as actor and checks it against what the
// stand-in sent and what aitrail recorded.
func runSDKCases(t *testing.T, e *env, actor, key string, tests []sdkCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			k := newSDKKit(e.gw, key)
			got, err := tc.do(ctx, k, tc.prompt)
			if err != nil {
				t.Fatalf("SDK call: %v", err)
			}
			up := e.up.call(t, k.callID)
			if up.Path != tc.endpoint {
				t.Errorf("the stand-in was called on %s, want %s", up.Path, tc.endpoint)
			}
			want := answerOf(t, up.Path, up.Body)
			if got.text != want.text {
				t.Errorf("SDK text = %q, want the upstream's %q", got.text, want.text)
			}
			if got.embeddings != want.embeddings {
				t.Errorf("SDK embeddings = %d, want the upstream's %d", got.embeddings, want.embeddings)
			}
			if got.tokensIn != want.tokensIn || got.tokensOut != want.tokensOut {
				t.Errorf("SDK tokens = %d in, %d out, want the upstream's %d, %d", got.tokensIn, got.tokensOut, want.tokensIn, want.tokensOut)
			}
			reqID := k.tr.responseHeader("X-Request-Id")
			if reqID == "" {
				t.Fatal("the answer has no X-Request-Id header")
			}
			it := e.gw.interaction(t, reqID, "--actor", actor)
			checkRecorded(t, it, recorded{
				actor: actor, role: "user", endpoint: "POST " + tc.endpoint, model: "tiny", stream: tc.stream,
				prompt: tc.prompt, response: got.text, tokensIn: want.tokensIn, tokensOut: want.tokensOut,
			})
		})
	}
}

// recorded is what an interaction that succeeded must show.
type recorded struct {
	actor, role, endpoint, model string
	stream                       bool
	prompt                       string // contained in the recorded prompt
	response                     string
	tokensIn, tokensOut          int64
}

func checkRecorded(t testing.TB, it interaction, want recorded) {
	t.Helper()
	digest := tinyDigest
	if want.model != "tiny" {
		digest = it.ModelDigest // only tiny's digest is the captured one
	}
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"actor", it.Actor, want.actor},
		{"role", it.Role, want.role},
		{"endpoint", it.Endpoint, want.endpoint},
		{"model", it.Model, want.model},
		{"model_digest", it.ModelDigest, digest},
		{"stream", it.Stream, want.stream},
		{"status", it.Status, "ok"},
		{"upstream_status", it.UpstreamStatus, http.StatusOK},
		{"tokens_in", it.TokensIn, want.tokensIn},
		{"tokens_out", it.TokensOut, want.tokensOut},
		{"response", it.Response, want.response},
		{"error", it.Error, ""},
	} {
		if c.got != c.want {
			t.Errorf("query: %s = %#v, want %#v", c.field, c.got, c.want)
		}
	}
	if !strings.Contains(it.Prompt, want.prompt) {
		t.Errorf("query: prompt = %q, want it to contain %q", it.Prompt, want.prompt)
	}
	if it.PromptHash == "" || it.ResponseHash == "" {
		t.Errorf("query: prompt_hash = %q, response_hash = %q, want both set", it.PromptHash, it.ResponseHash)
	}
	if it.ResponseSeq == nil || *it.ResponseSeq <= it.Seq {
		t.Errorf("query: response_seq = %v for request %d, want a later record", it.ResponseSeq, it.Seq)
	}
	if it.ClientIP != "127.0.0.1" {
		t.Errorf("query: client_ip = %q, want 127.0.0.1", it.ClientIP)
	}
}

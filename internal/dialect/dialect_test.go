package dialect

import "testing"

func TestLookup(t *testing.T) {
	tests := []struct {
		path string
		want Endpoint
		ok   bool
	}{
		{"/api/chat", Endpoint{Ollama, Chat, "/api/chat"}, true},
		{"/api/generate", Endpoint{Ollama, Generate, "/api/generate"}, true},
		{"/api/embed", Endpoint{Ollama, Embed, "/api/embed"}, true},
		{"/api/embeddings", Endpoint{Ollama, Embed, "/api/embeddings"}, true},
		{"/v1/chat/completions", Endpoint{OpenAI, Chat, "/v1/chat/completions"}, true},
		{"/v1/completions", Endpoint{OpenAI, Completion, "/v1/completions"}, true},
		{"/v1/embeddings", Endpoint{OpenAI, Embed, "/v1/embeddings"}, true},
		{"/v1/responses", Endpoint{OpenAI, Responses, "/v1/responses"}, true},
		{"/api/tags", Endpoint{}, false},
		{"/v1/models", Endpoint{}, false},
		{"/api/chat/", Endpoint{}, false},
		{"/API/CHAT", Endpoint{}, false},
		{"", Endpoint{}, false},
	}
	for _, tt := range tests {
		got, ok := Lookup(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %v, %v, want %v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Ollama.String(), "ollama"},
		{OpenAI.String(), "openai"},
		{API(9).String(), "API(9)"},
		{Chat.String(), "chat"},
		{Generate.String(), "generate"},
		{Embed.String(), "embed"},
		{Completion.String(), "completion"},
		{Responses.String(), "responses"},
		{Kind(0).String(), "Kind(0)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

package dialect

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestErrorBody(t *testing.T) {
	tests := []struct {
		api    API
		status int
		msg    string
		want   string
	}{
		{Ollama, 400, "model is required", `{"error":"model is required"}`},
		{Ollama, 404, "model 'nope' not found", `{"error":"model 'nope' not found"}`},
		{Ollama, 400, `"tiny" does not support thinking`, `{"error":"\"tiny\" does not support thinking"}`},
		{Ollama, 502, "a <b> & c\n\x00\xff", `{"error":"a \u003cb\u003e \u0026 c\n\u0000\ufffd"}`},
		{OpenAI, 400, "model is required", `{"error":{"message":"model is required","type":"invalid_request_error","param":null,"code":null}}`},
		{OpenAI, 401, "invalid key", `{"error":{"message":"invalid key","type":"authentication_error","param":null,"code":"invalid_api_key"}}`},
		{OpenAI, 403, "no", `{"error":{"message":"no","type":"permission_error","param":null,"code":null}}`},
		{OpenAI, 404, "model 'nope' not found", `{"error":{"message":"model 'nope' not found","type":"not_found_error","param":null,"code":null}}`},
		{OpenAI, 405, "method", `{"error":{"message":"method","type":"invalid_request_error","param":null,"code":null}}`},
		{OpenAI, 413, "too big", `{"error":{"message":"too big","type":"invalid_request_error","param":null,"code":null}}`},
		{OpenAI, 429, "slow down", `{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`},
		{OpenAI, 500, "x", `{"error":{"message":"x","type":"api_error","param":null,"code":null}}`},
		{OpenAI, 503, "x", `{"error":{"message":"x","type":"api_error","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		got := ErrorBody(tt.api, tt.status, tt.msg)
		if string(got) != tt.want {
			t.Errorf("ErrorBody(%s, %d, %q) = %s, want %s", tt.api, tt.status, tt.msg, got, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("ErrorBody(%s, %d, %q) = %s, not valid JSON", tt.api, tt.status, tt.msg, got)
		}
		path := "/api/chat"
		if tt.api == OpenAI {
			path = "/v1/chat/completions"
		}
		r, err := ParseResponse(mustLookup(t, path), tt.status, got)
		if err != nil || r.Error != validString([]byte(tt.msg)) {
			t.Errorf("ParseResponse(ErrorBody(%s, %d, %q)) = %q, %v, want the message back", tt.api, tt.status, tt.msg, r.Error, err)
		}
	}
}

// TestErrorBodyMatchesCaptures rebuilds the real server's 404 bodies.
func TestErrorBodyMatchesCaptures(t *testing.T) {
	if got, want := ErrorBody(Ollama, 404, "model 'nope' not found"), readCapture(t, "err_chat_404.json"); !bytes.Equal(got, want) {
		t.Errorf("ErrorBody(ollama, 404) = %s, want %s", got, want)
	}
	// Ollama's OpenAI layer writes this one with json.Encoder, hence "\n".
	if got, want := append(ErrorBody(OpenAI, 404, "model 'nope' not found"), '\n'), readCapture(t, "err_oai_404.json"); !bytes.Equal(got, want) {
		t.Errorf("ErrorBody(openai, 404)+\"\\n\" = %s, want %s", got, want)
	}
	if got, want := ErrorBody(Ollama, 400, `"tiny" does not support thinking`), readCapture(t, "err_think.json"); !bytes.Equal(got, want) {
		t.Errorf("ErrorBody(ollama, 400) = %s, want %s", got, want)
	}
}

func TestStreamErrorFrame(t *testing.T) {
	tests := []struct {
		api  API
		msg  string
		want string
	}{
		{Ollama, "boom", "{\"error\":\"boom\"}\n"},
		{Ollama, "a\nb", "{\"error\":\"a\\nb\"}\n"},
		{OpenAI, "boom", "data: {\"error\":{\"message\":\"boom\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\n"},
		{OpenAI, "a\r\n\r\nb", "data: {\"error\":{\"message\":\"a\\r\\n\\r\\nb\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\n"},
	}
	for _, tt := range tests {
		if got := StreamErrorFrame(tt.api, tt.msg); string(got) != tt.want {
			t.Errorf("StreamErrorFrame(%s, %q) = %q, want %q", tt.api, tt.msg, got, tt.want)
		}
	}
}

package dialect

import "testing"

// benchStream feeds a captured stream, frame by frame, through a new Stream
// per iteration, the way the gateway does. ns/frame is the cost of one
// FrameLen plus Observe.
func benchStream(b *testing.B, path, file string) {
	ep := mustLookup(b, path)
	data := readCapture(b, file)
	frames := 0
	for buf := data; ; frames++ {
		n := NewStream(ep).FrameLen(buf)
		if n == 0 {
			break
		}
		buf = buf[n:]
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s := NewStream(ep)
		buf := data
		for n := s.FrameLen(buf); n > 0; n = s.FrameLen(buf) {
			s.Observe(buf[:n])
			buf = buf[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
	b.ReportMetric(float64(frames), "frames/op")
}

func BenchmarkObserveOllamaChat(b *testing.B) {
	benchStream(b, "/api/chat", "chat_stream.ndjson")
}

func BenchmarkObserveOllamaGenerate(b *testing.B) {
	benchStream(b, "/api/generate", "generate_stream.ndjson")
}

func BenchmarkObserveOpenAIChat(b *testing.B) {
	benchStream(b, "/v1/chat/completions", "oai_stream.sse")
}

// BenchmarkObserveOpenAIChatStripped is BenchmarkObserveOpenAIChat when the
// gateway asked for the usage (StripUsage): every frame is also trimmed.
// Trim works in place, so each iteration first copies the capture afresh
// (about 6 KB), which the figure includes.
func BenchmarkObserveOpenAIChatStripped(b *testing.B) {
	ep := mustLookup(b, "/v1/chat/completions")
	data := readCapture(b, "oai_stream.sse")
	buf := make([]byte, len(data))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, data)
		s := NewStream(ep)
		s.StripUsage()
		for rest := buf; ; {
			n := s.FrameLen(rest)
			if n == 0 {
				break
			}
			s.Observe(rest[:n])
			s.Trim(rest[:n])
			rest = rest[n:]
		}
	}
}

// BenchmarkObserveFrame measures one content frame on a long-lived Stream:
// the steady state of a long answer.
func BenchmarkObserveFrame(b *testing.B) {
	for _, bc := range []struct{ name, path, frame string }{
		{"ollama", "/api/chat", `{"model":"tiny","created_at":"2026-11-23T05:50:19.974066089Z","message":{"role":"assistant","content":" happy"},"done":false}` + "\n"},
		{"openai", "/v1/chat/completions", `data: {"id":"chatcmpl-761","object":"chat.completion.chunk","created":1795413020,"model":"tiny","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":" happy"},"finish_reason":null}]}` + "\n\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := NewStream(mustLookup(b, bc.path))
			frame := []byte(bc.frame)
			b.ReportAllocs()
			for b.Loop() {
				s.Observe(frame[:s.FrameLen(frame)])
			}
		})
	}
}

// BenchmarkResult measures taking a Result of a finished stream.
func BenchmarkResult(b *testing.B) {
	s := NewStream(mustLookup(b, "/v1/chat/completions"))
	data := readCapture(b, "oai_stream.sse")
	for n := s.FrameLen(data); n > 0; n = s.FrameLen(data) {
		s.Observe(data[:n])
		data = data[n:]
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Result()
	}
}

package gateway

import "strings"

// The rules by which Ollama names a model, mirrored from its types/model
// package (ParseName, Name.IsFullyQualified, Name.EqualFold) so that the
// gateway finds the digest of every name Ollama itself accepts for a model:
// "tiny", "tiny:latest", "TINY", "library/tiny" and
// "registry.ollama.ai/library/tiny:latest" are one model. A name has up to
// four parts, host/namespace/model:tag; a missing host is
// registry.ollama.ai, a missing namespace library, a missing tag latest,
// and names compare case-insensitively. (Mirrored rather than imported: the
// ollama module is linked only into the tests, which check this copy
// against it.)
const (
	ollamaHost      = "registry.ollama.ai"
	ollamaNamespace = "library"
	ollamaTag       = "latest"
)

// modelKey returns the key under which Ollama finds the model named s: its
// fully qualified name, lower-cased. ok is false when s is not a valid
// Ollama name (an OpenAI-compatible server's "org/model" may still be
// looked up by its exact text).
func modelKey(s string) (key string, ok bool) {
	var host, namespace, model, tag string
	rest := s
	if strings.LastIndex(rest, ":") > strings.LastIndex(rest, "/") {
		i := strings.LastIndex(rest, ":")
		rest, tag = rest[:i], rest[i+1:]
		if rest == "" || tag == "" {
			return "", false // a part the separator promised is missing
		}
	}
	if i := strings.LastIndex(rest, "/"); i < 0 {
		model = rest
	} else {
		rest, model = rest[:i], rest[i+1:]
		if j := strings.LastIndex(rest, "/"); j < 0 {
			namespace = rest
		} else {
			rest, namespace = rest[:j], rest[j+1:]
			host = rest
			if _, h, found := strings.Cut(rest, "://"); found {
				host = h
			}
		}
		if rest == "" || model == "" || namespace == "" {
			return "", false
		}
	}
	host = cmpOr(host, ollamaHost)
	namespace = cmpOr(namespace, ollamaNamespace)
	tag = cmpOr(tag, ollamaTag)
	if !namePart(host, 350, true, true) || !namePart(namespace, 80, false, false) ||
		!namePart(model, 80, true, false) || !namePart(tag, 80, true, false) {
		return "", false
	}
	return strings.ToLower(host + "/" + namespace + "/" + model + ":" + tag), true
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// namePart reports whether s is a valid part of an Ollama name: 1 to max
// bytes, starting with a letter, digit or underscore, then those and "-",
// and "." or ":" where allowed.
func namePart(s string, max int, dots, colons bool) bool {
	if len(s) < 1 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		word := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
		switch {
		case word:
		case i == 0:
			return false
		case c == '-', c == '.' && dots, c == ':' && colons:
		default:
			return false
		}
	}
	return true
}

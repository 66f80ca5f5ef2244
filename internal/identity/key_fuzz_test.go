package identity

import (
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzParseKeyID parses arbitrary key texts (what clients send as bearer
// tokens): only a key of the documented shape yields an id, and the id is
// the key's own.
func FuzzParseKeyID(f *testing.F) {
	text, _ := NewKey()
	f.Add(text)
	f.Add("ait_0123456789abcdef_")
	f.Add("ait_zz23456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		id, ok := ParseKeyID(text)
		if !ok {
			return
		}
		if _, err := hex.DecodeString(id); err != nil || len(id) != 16 || !strings.HasPrefix(text, keyPrefix+id+"_") {
			t.Fatalf("ParseKeyID(%q) = %q, not the key's 16 hex digits", text, id)
		}
	})
}

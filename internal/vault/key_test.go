package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLocalKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := LocalKey(make([]byte, n)); err == nil {
			t.Errorf("LocalKey of %d bytes succeeded, want an error", n)
		}
	}
	raw := make([]byte, KeySize)
	rand.Read(raw)
	k1, err := LocalKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	k1again, _ := LocalKey(raw)
	k2 := newMasterKey(t)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(k1.ID()) {
		t.Errorf("ID() = %q, want 16 hex digits", k1.ID())
	}
	if k1.ID() != k1again.ID() || k1.ID() == k2.ID() {
		t.Errorf("IDs %s, %s (same key) and %s (another): want the same ID for the same key only", k1.ID(), k1again.ID(), k2.ID())
	}

	dek := make([]byte, KeySize)
	rand.Read(dek)
	w1, err := k1.Wrap(dek)
	if err != nil {
		t.Fatal(err)
	}
	w2, _ := k1.Wrap(dek)
	if len(w1) != 60 || bytes.Equal(w1, w2) {
		t.Errorf("Wrap = %d bytes, twice the same: %v; want 60 bytes, different each time", len(w1), bytes.Equal(w1, w2))
	}
	if bytes.Contains(w1, dek) {
		t.Errorf("the wrapped key contains the key")
	}
	for _, w := range [][]byte{w1, w2} {
		if got, err := k1again.Unwrap(w); err != nil || !bytes.Equal(got, dek) {
			t.Errorf("Unwrap = %x, %v; want %x", got, err, dek)
		}
	}
	if _, err := k2.Unwrap(w1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Unwrap with another key: %v, want ErrCorrupt", err)
	}
	if _, err := k1.Wrap(dek[:16]); err == nil {
		t.Errorf("Wrap of a 16-byte key succeeded, want an error")
	}
}

func TestGenerateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.key")
	if err := GenerateKeyFile(path); err != nil {
		t.Fatalf("GenerateKeyFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %v, want 0600", mode)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(content) {
		t.Errorf("key file holds %q, want 64 hex digits and a newline", content)
	}
	k1, err := LoadKey(path)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	k2, err := KeyFromEnv(string(content))
	if err != nil {
		t.Fatalf("KeyFromEnv: %v", err)
	}
	if k1.ID() != k2.ID() {
		t.Errorf("LoadKey and KeyFromEnv of one key: IDs %s and %s", k1.ID(), k2.ID())
	}

	if err := GenerateKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("GenerateKeyFile over an existing file: %v, want fs.ErrExist", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, content) {
		t.Errorf("GenerateKeyFile changed an existing key file")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if err := GenerateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	if k3, err := LoadKey(other); err != nil || k3.ID() == k1.ID() {
		t.Errorf("a second generated key: %v, %v; want another key", k3, err)
	}
}

func TestKeyParseErrors(t *testing.T) {
	secret := strings.Repeat("0123456789abcdef", 4)
	for _, value := range []string{
		"",
		secret[:63],
		secret + "0",
		secret[:62] + "zz",
		secret[:60] + "é",
		"AITRAIL_VAULT_KEY=" + secret,
	} {
		_, err := KeyFromEnv(value)
		if err == nil {
			t.Errorf("KeyFromEnv(%q) succeeded, want an error", value)
			continue
		}
		if len(value) >= 8 && strings.Contains(err.Error(), value[:8]) {
			t.Errorf("KeyFromEnv error %q repeats the value", err)
		}
		path := filepath.Join(t.TempDir(), "vault.key")
		os.WriteFile(path, []byte(value), 0o600)
		if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadKey of %q: %v, want an error naming the file", value, err)
		} else if len(value) >= 8 && strings.Contains(err.Error(), value[:8]) {
			t.Errorf("LoadKey error %q repeats the file's content", err)
		}
	}
	if _, err := KeyFromEnv("  " + strings.ToUpper(secret) + "\r\n"); err != nil {
		t.Errorf("KeyFromEnv of upper-case hex with white space: %v", err)
	}
	if _, err := LoadKey(filepath.Join(t.TempDir(), "missing.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadKey of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// FuzzKeyFromEnv checks that key parsing accepts exactly 64 hex digits
// (with white space around them) and never quotes its input in an error.
func FuzzKeyFromEnv(f *testing.F) {
	f.Add(strings.Repeat("ab", 32))
	f.Add(" " + strings.Repeat("AB", 32) + "\n")
	f.Add(strings.Repeat("ab", 31) + "g0")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		k, err := KeyFromEnv(value)
		valid := regexp.MustCompile(`^[0-9a-fA-F]{64}$`).MatchString(strings.TrimSpace(value))
		if (err == nil) != valid {
			t.Fatalf("KeyFromEnv(%q) = %v, %v; valid: %v", value, k, err, valid)
		}
		if trimmed := strings.TrimSpace(value); err != nil && len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed) {
			t.Fatalf("KeyFromEnv error %q repeats the value", err)
		}
	})
}

// FuzzUnwrap checks that unwrapping arbitrary bytes fails cleanly.
func FuzzUnwrap(f *testing.F) {
	k, err := LocalKey(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	w, _ := k.Wrap(make([]byte, KeySize))
	f.Add(w)
	f.Add([]byte{})
	f.Add(w[:12])
	f.Fuzz(func(t *testing.T, wrapped []byte) {
		dek, err := k.Unwrap(wrapped)
		if err == nil && len(dek) != KeySize {
			t.Fatalf("Unwrap(%x) = %d bytes, want %d", wrapped, len(dek), KeySize)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Unwrap(%x): %v, want ErrCorrupt", wrapped, err)
		}
	})
}

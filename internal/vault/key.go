package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A MasterKey wraps and unwraps data keys. The vault stores every data key
// only in wrapped form, beside the ID of the master key that wrapped it.
// LocalKey is a 32-byte key held in memory (read from a file or an
// environment variable); the interface leaves room for a key management
// service, whose Wrap and Unwrap would be remote calls.
//
// Implementations must be safe for concurrent use.
type MasterKey interface {
	// ID returns a stable identifier of the key, stored with each data key
	// it wraps. It must not reveal the key, and distinct keys must have
	// distinct IDs.
	ID() string
	// Wrap encrypts and authenticates a data key.
	Wrap(dek []byte) ([]byte, error)
	// Unwrap reverses Wrap. It fails if wrapped was altered or was wrapped
	// by another key.
	Unwrap(wrapped []byte) ([]byte, error)
}

// KeySize is the size of a master key and of a data key: 32 bytes, for
// AES-256.
const KeySize = 32

// wrapAAD is the associated data of a wrapped data key, so that nothing
// else encrypted under the same master key can pass for a data key.
const wrapAAD = "aitrail.vault.dek.v1"

// localKey is a MasterKey held in memory.
type localKey struct {
	id   string
	aead cipher.AEAD
}

// LocalKey returns a MasterKey for a KeySize-byte key. It wraps a data key
// with AES-256-GCM under a random 12-byte nonce and the associated data
// "aitrail.vault.dek.v1"; the wrapped key is the nonce followed by the
// ciphertext and the tag (60 bytes for a 32-byte data key).
//
// Its ID is the first 8 bytes, in hex (16 digits), of SHA-256 of
// "aitrail.vault.key.v1\n" followed by the key. The prefix keeps the ID
// unrelated to any plain hash of the same bytes used elsewhere.
//
// A random nonce limits one master key to about 2^32 wraps; rotate long
// before that many records (see Vault.Rotate).
func LocalKey(key []byte) (MasterKey, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("vault master key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte("aitrail.vault.key.v1\n"))
	h.Write(key)
	return &localKey{id: hex.EncodeToString(h.Sum(nil)[:8]), aead: aead}, nil
}

func (k *localKey) ID() string { return k.id }

func (k *localKey) Wrap(dek []byte) ([]byte, error) {
	if len(dek) != KeySize {
		return nil, fmt.Errorf("wrap: data key is %d bytes, want %d", len(dek), KeySize)
	}
	return k.aead.Seal(nil, nil, dek, []byte(wrapAAD)), nil
}

func (k *localKey) Unwrap(wrapped []byte) ([]byte, error) {
	dek, err := k.aead.Open(nil, nil, wrapped, []byte(wrapAAD))
	if err != nil {
		return nil, fmt.Errorf("unwrap with master key %s: %w", k.id, ErrCorrupt)
	}
	return dek, nil
}

// LoadKey reads a master key from a file holding 64 hex digits (and
// optionally surrounding white space), as GenerateKeyFile writes. Keep the
// file readable only by aitrail's user, and not on the volume (or in the
// backups) of the vault's database: see the package documentation.
func LoadKey(path string) (MasterKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read vault key: %w", err)
	}
	key, err := parseHexKey(string(b))
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("vault key file %s: %w", path, err)
	}
	defer clear(key)
	return LocalKey(key)
}

// KeyFromEnv returns the master key given as 64 hex digits in value, the
// content of an environment variable such as AITRAIL_VAULT_KEY. Errors never
// repeat the value.
func KeyFromEnv(value string) (MasterKey, error) {
	key, err := parseHexKey(value)
	if err != nil {
		return nil, fmt.Errorf("vault key from the environment: %w", err)
	}
	defer clear(key)
	return LocalKey(key)
}

// parseHexKey decodes a master key written as 64 hex digits. Its errors
// say what is wrong without quoting the input, which may be a key.
func parseHexKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) != 2*KeySize {
		return nil, fmt.Errorf("want %d hex digits, found %d characters", 2*KeySize, len(s))
	}
	key := make([]byte, KeySize)
	if _, err := hex.Decode(key, []byte(s)); err != nil {
		clear(key)
		return nil, fmt.Errorf("want %d hex digits, found other characters", 2*KeySize)
	}
	return key, nil
}

// GenerateKeyFile writes a new random master key to path, as 64 hex digits
// and a newline, in a file of mode 0600, and syncs it to disk: losing the
// master key loses every body it wrapped. It fails if path exists, so it
// never overwrites a key.
func GenerateKeyFile(path string) (err error) {
	key := make([]byte, KeySize)
	rand.Read(key)
	text := make([]byte, 2*KeySize+1)
	hex.Encode(text, key)
	text[2*KeySize] = '\n'
	clear(key)
	defer clear(text)

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create vault key: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if _, err := f.Write(text); err != nil {
		return fmt.Errorf("write vault key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write vault key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write vault key %s: %w", path, err)
	}
	// Make the new directory entry durable too; not every system can sync
	// a directory, and the file itself is already on disk.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

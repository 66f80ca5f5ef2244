package fleet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// keysFormat is the format line of a keys file.
const keysFormat = "aitrail-fleet-keys/1"

// Secrets are the fleet-wide secret keys, as a keys file carries them from a
// node of the fleet to one that joins it. The file is one JSON object:
//
//	{"format":"aitrail-fleet-keys/1","commitment_key":"<64 hex>","pii_key":"<64 hex>"}
//
// pii_key is absent when the fleet keeps no PII index. Whoever holds the
// file can test guesses against every node's body commitments and PII
// index: it is written with mode 0600, and should be deleted once the node
// has joined.
type Secrets struct {
	Commitment []byte // 32 bytes
	PII        []byte // 32 bytes, or nil
}

type keysJSON struct {
	Format     string `json:"format"`
	Commitment string `json:"commitment_key"`
	PII        string `json:"pii_key,omitempty"`
}

// Marshal returns the keys file's content.
func (s Secrets) Marshal() []byte {
	j := keysJSON{Format: keysFormat, Commitment: hex.EncodeToString(s.Commitment)}
	if s.PII != nil {
		j.PII = hex.EncodeToString(s.PII)
	}
	b, _ := json.Marshal(j)
	return append(b, '\n')
}

// ParseSecrets parses a keys file. It is strict: the format line, known
// fields only, and keys of exactly 32 bytes.
func ParseSecrets(b []byte) (Secrets, error) {
	var j keysJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Secrets{}, fmt.Errorf("not an aitrail fleet keys file: %w", err)
	}
	if dec.More() {
		return Secrets{}, errors.New("not an aitrail fleet keys file: data after the object")
	}
	if j.Format != keysFormat {
		return Secrets{}, fmt.Errorf("not an aitrail fleet keys file: format %q, want %q", j.Format, keysFormat)
	}
	var s Secrets
	var err error
	if s.Commitment, err = key32("commitment_key", j.Commitment); err != nil {
		return Secrets{}, err
	}
	if j.PII != "" {
		if s.PII, err = key32("pii_key", j.PII); err != nil {
			return Secrets{}, err
		}
	}
	return s, nil
}

func key32(name, h string) ([]byte, error) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("keys file: %s: want 32 hex-encoded bytes", name)
	}
	return b, nil
}

// Install writes the fleet's keys into a data directory as its key files
// (hex and a newline, mode 0600), at commitmentPath and piiPath. A key file
// that exists already must hold the same key: a directory with keys of its
// own has records sealed under them, which the fleet's keys cannot read.
// It reports whether it wrote anything.
func Install(s Secrets, commitmentPath, piiPath string) (wrote bool, err error) {
	type file struct {
		path, name string
		key        []byte
	}
	files := []file{{commitmentPath, "commitment key", s.Commitment}}
	if s.PII != nil {
		files = append(files, file{piiPath, "PII index key", s.PII})
	}
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read %s: %w", f.path, err)
		}
		if strings.TrimSpace(string(b)) != hex.EncodeToString(f.key) {
			return false, fmt.Errorf("%s already holds another %s than the fleet's", f.path, f.name)
		}
	}
	for _, f := range files {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // the same key, checked above
		}
		if err != nil {
			return wrote, fmt.Errorf("create %s: %w", f.path, err)
		}
		_, err = fh.WriteString(hex.EncodeToString(f.key) + "\n")
		if err == nil {
			err = fh.Sync()
		}
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return wrote, fmt.Errorf("write %s: %w", f.path, err)
		}
		wrote = true
	}
	return wrote, nil
}

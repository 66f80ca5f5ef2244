package record

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Commitment labels: what a commitment is over. A label is bound into the
// commitment so that a request's raw bytes can never pass for its body.
const (
	LabelRaw   = "raw"   // the exact bytes exchanged with the caller
	LabelBody  = "body"  // the stored, readable (redacted) body
	LabelClear = "clear" // the body before redaction, kept only in the vault
)

// A Committer makes keyed commitments to record bodies.
//
// A plain SHA-256 of a short prompt ("yes", a phone number) can be reversed
// by hashing candidates, so aitrail never stores one. Instead every record
// has a unique 16-byte Nonce (see NewNonce), and
//
//	salt       = HMAC-SHA256(key, "aitrail.salt.v1" || nonce)
//	commitment = HMAC-SHA256(salt, label || 0x00 || data)
//
// where key is the log's 32-byte commitment key, kept outside the database.
// Whoever holds only the database cannot confirm a guess. The operator can
// prove that a produced body is the one logged by revealing that record's
// salt alone, which says nothing about any other record.
type Committer struct {
	key []byte
}

// KeySize is the size of a commitment key.
const KeySize = 32

// NewCommitter returns a Committer for a KeySize-byte key.
func NewCommitter(key []byte) (*Committer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("commitment key is %d bytes, want %d", len(key), KeySize)
	}
	return &Committer{key: append([]byte(nil), key...)}, nil
}

// Salt returns the salt of the record with the given nonce.
func (c *Committer) Salt(nonce [16]byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("aitrail.salt.v1"))
	m.Write(nonce[:])
	return m.Sum(nil)
}

// Commit returns the commitment to data under label for the record with
// the given nonce. It is safe for concurrent use.
func (c *Committer) Commit(nonce [16]byte, label string, data []byte) Hash {
	return CommitWithSalt(c.Salt(nonce), label, data)
}

// CommitWithSalt computes a commitment from a revealed salt, for verifiers
// that were handed one record's salt and not the key.
func CommitWithSalt(salt []byte, label string, data []byte) Hash {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(data)
	var h Hash
	m.Sum(h[:0])
	return h
}

// NewNonce returns a fresh nonce: the time in milliseconds since 1970 (6
// bytes, big-endian), then 10 random bytes.
//
// A nonce must be unique (two records with one nonce would share a salt);
// it need not be secret, since salts derive from the secret key, and it
// says no more than the record's time does. 80 random bits make a
// collision among the nonces of one millisecond negligible. The time
// prefix puts records made together next to each other in indexes keyed by
// nonce (the vault's): their writes touch a few pages at the right edge
// instead of one random page each.
func NewNonce() [16]byte {
	return nonceAt(time.Now())
}

func nonceAt(t time.Time) [16]byte {
	var n [16]byte
	binary.BigEndian.PutUint64(n[:8], uint64(t.UnixMilli())<<16) // the low 48 bits, first
	if _, err := rand.Read(n[6:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		panic(errors.New("crypto/rand failed: " + err.Error()))
	}
	return n
}

package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// algCosignatureV1 is the signature type of Ed25519 cosignature/v1 keys in
// c2sp.org/signed-note (the type of a log's own Ed25519 keys is 0x01).
const algCosignatureV1 = 0x04

// timestampedSize is the length of a cosignature/v1 signature after the
// key ID: an 8-byte big-endian timestamp and a 64-byte Ed25519 signature.
const timestampedSize = 8 + ed25519.SignatureSize

// GenerateKey returns a new Ed25519 cosigning key for a witness named name
// (a schema-less URL such as "witness.example.com/w1" is customary; it must
// not contain spaces or '+'), as a secret skey and its public vkey.
//
// The vkey is in the c2sp.org/signed-note verifier key format with
// signature type 0x04:
//
//	<name>+<key ID, 8 hex digits>+base64(0x04 || 32-byte public key)
//
// The skey follows the note package's private key format, with the same
// type byte and the 32-byte Ed25519 seed:
//
//	PRIVATE+KEY+<name>+<key ID, 8 hex digits>+base64(0x04 || 32-byte seed)
//
// The key ID is the first 4 bytes of SHA-256(name || "\n" || 0x04 ||
// public key), per c2sp.org/tlog-cosignature.
func GenerateKey(name string) (skey, vkey string, err error) {
	if !validName(name) {
		return "", "", fmt.Errorf("witness name %q: want a non-empty name without spaces or '+'", name)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	id := keyID(name, pub)
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, id,
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, priv.Seed()...)))
	return skey, verifierKey(name, id, pub), nil
}

// A Signer makes cosignature/v1 signatures with a witness's key. It is a
// note.Signer: note.Sign(n, s) cosigns the note n at the current time. It
// is safe for concurrent use.
type Signer struct {
	name string
	id   uint32
	key  ed25519.PrivateKey
}

var _ note.Signer = (*Signer)(nil)

// NewSigner returns the Signer of an skey made by GenerateKey.
func NewSigner(skey string) (*Signer, error) {
	errKey := errors.New("malformed witness signing key: want PRIVATE+KEY+<name>+<key id>+<key>")
	rest, ok := strings.CutPrefix(strings.TrimSpace(skey), "PRIVATE+KEY+")
	if !ok {
		return nil, errKey
	}
	name, id, key, err := splitKey(rest)
	if err != nil {
		return nil, errKey
	}
	if key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("witness signing key is of type 0x%02x, not an Ed25519 cosignature key (0x%02x)", key[0], algCosignatureV1)
	}
	if len(key) != 1+ed25519.SeedSize {
		return nil, errKey
	}
	priv := ed25519.NewKeyFromSeed(key[1:])
	if keyID(name, priv.Public().(ed25519.PublicKey)) != id {
		return nil, errors.New("witness signing key: its key id does not match the key")
	}
	return &Signer{name: name, id: id, key: priv}, nil
}

// Name returns the witness's name, the name in its signature lines.
func (s *Signer) Name() string { return s.name }

// KeyHash returns the key ID.
func (s *Signer) KeyHash() uint32 { return s.id }

// Sign returns a cosignature of msg at the current time: the 8-byte
// timestamp followed by the Ed25519 signature of the cosignature/v1 message.
// msg should be a checkpoint's text: a cosignature states that the witness
// checked it.
func (s *Signer) Sign(msg []byte) ([]byte, error) { return s.sign(msg, time.Now()), nil }

// VerifierKey returns the witness's vkey.
func (s *Signer) VerifierKey() string {
	return verifierKey(s.name, s.id, s.key.Public().(ed25519.PublicKey))
}

func (s *Signer) sign(msg []byte, t time.Time) []byte {
	ts := max(t.Unix(), 0)
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, timestampedSize), uint64(ts))
	return append(sig, ed25519.Sign(s.key, cosignedMessage(ts, msg))...)
}

// line returns the note signature line of a cosignature of text at t.
func (s *Signer) line(text []byte, t time.Time) string {
	sig := binary.BigEndian.AppendUint32(nil, s.id)
	sig = append(sig, s.sign(text, t)...)
	return "— " + s.name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
}

// NewVerifier returns a note.Verifier of the cosignature/v1 signatures made
// by the witness whose vkey is given (see GenerateKey for the format). With
// note.Open it verifies a cosigned checkpoint; CosignatureTime then reads
// when the witness signed.
func NewVerifier(vkey string) (note.Verifier, error) {
	errKey := errors.New("malformed witness verifier key: want <name>+<key id>+<key>")
	name, id, key, err := splitKey(strings.TrimSpace(vkey))
	if err != nil {
		return nil, errKey
	}
	if key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("witness verifier key is of type 0x%02x, not an Ed25519 cosignature key (0x%02x)", key[0], algCosignatureV1)
	}
	if len(key) != 1+ed25519.PublicKeySize {
		return nil, errKey
	}
	pub := ed25519.PublicKey(key[1:])
	if keyID(name, pub) != id {
		return nil, errors.New("witness verifier key: its key id does not match the key")
	}
	return &verifier{name: name, id: id, key: pub}, nil
}

type verifier struct {
	name string
	id   uint32
	key  ed25519.PublicKey
}

func (v *verifier) Name() string    { return v.name }
func (v *verifier) KeyHash() uint32 { return v.id }

func (v *verifier) Verify(msg, sig []byte) bool {
	if len(sig) != timestampedSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > math.MaxInt64 {
		return false
	}
	return ed25519.Verify(v.key, cosignedMessage(int64(ts), msg), sig[8:])
}

// CosignatureTime returns the time at which a cosignature/v1 signature was
// made. It reads the timestamp only: verify the signature first.
func CosignatureTime(sig note.Signature) (time.Time, error) {
	b, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(b) != 4+timestampedSize {
		return time.Time{}, errors.New("malformed cosignature")
	}
	ts := binary.BigEndian.Uint64(b[4:])
	if ts > math.MaxInt64 {
		return time.Time{}, errors.New("malformed cosignature: timestamp out of range")
	}
	return time.Unix(int64(ts), 0), nil
}

// cosignedMessage returns the message a cosignature/v1 signs: a header
// line, a timestamp line, and the whole note text (the checkpoint).
//
//	cosignature/v1
//	time <POSIX seconds, decimal>
//	<checkpoint text>
func cosignedMessage(ts int64, text []byte) []byte {
	m := make([]byte, 0, 32+len(text))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendInt(m, ts, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// keyID is the key ID of an Ed25519 cosignature key: the first 4 bytes of
// SHA-256(name || "\n" || 0x04 || public key).
func keyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func verifierKey(name string, id uint32, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, id, base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
}

// splitKey splits "<name>+<8 hex digits>+<base64>" into its parts; key is
// not empty.
func splitKey(s string) (name string, id uint32, key []byte, err error) {
	name, rest, _ := strings.Cut(s, "+")
	hex8, b64, _ := strings.Cut(rest, "+")
	n, err1 := strconv.ParseUint(hex8, 16, 32)
	key, err2 := base64.StdEncoding.Strict().DecodeString(b64)
	if !validName(name) || len(hex8) != 8 || err1 != nil || err2 != nil || len(key) == 0 {
		return "", 0, nil, errors.New("malformed key")
	}
	return name, uint32(n), key, nil
}

// validName reports whether name can name a key in a signed note.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

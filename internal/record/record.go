// Package record defines aitrail's log records and their canonical encoding.
//
// A record has a sealed part and, optionally, a body. The sealed part is
// every field of Record: it is encoded canonically (see Encode), the
// encoding is hashed into the record's entry hash, which chains to the
// previous record, and the encoding is the leaf of the log's Merkle tree.
// A body (the readable, possibly redacted, text of a prompt or an answer)
// is stored beside the record and is bound to it only through BodyHash, a
// keyed commitment (see Committer), so a body can be erased under a
// retention policy without breaking the chain or the tree.
//
// docs/FORMAT.md specifies the same encoding for independent verifiers.
package record

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the format version written into every record.
const Version = 1

// Hash is a SHA-256 digest.
type Hash [sha256.Size]byte

// String returns the hash in lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros (the genesis prev hash, or "absent").
func (h Hash) IsZero() bool { return h == Hash{} }

// Kinds of record. Model calls produce two records, a request and a
// response linked to it by RequestSeq; everything else is an event.
const (
	KindRequest  = "model.request"  // a model call, sealed before the prompt is forwarded
	KindResponse = "model.response" // its outcome, sealed before the answer's final chunk is released
	KindAdmin    = "model.admin"    // a model management call (pull, push, create, copy, delete)

	KindAuthDenied     = "auth.denied"             // a call refused for want of a valid identity or role
	KindRejected       = "request.rejected"        // a call to an unknown endpoint or with a wrong method
	KindKeyCreated     = "key.created"             // an API key was created
	KindKeyRevoked     = "key.revoked"             // an API key was revoked
	KindSessionCreated = "session.created"         // a session with a declared reason was opened
	KindGatewayStarted = "gateway.started"         // serve started (Detail holds the effective configuration)
	KindGatewayStopped = "gateway.stopped"         // serve stopped cleanly
	KindInterrupted    = "interaction.interrupted" // a request found without a response after a crash
	// KindUnrecordedOutcome is the outcome of a call whose response record
	// could not be written when it ended, recorded once the log could be
	// written again (Detail: the cause and what is known).
	KindUnrecordedOutcome = "interaction.unrecorded_outcome"
	KindLogCreated        = "log.created"       // the first record of every log
	KindHeartbeat         = "heartbeat"         // serve is running and recording, traffic or not
	KindErased            = "body.erased"       // bodies erased under a policy (Detail: Erasure)
	KindRawRead           = "raw.read"          // a raw body was read from the vault, by whom and why
	KindHoldAdded         = "hold.added"        // a legal hold was set (Detail: the hold)
	KindHoldReleased      = "hold.released"     // a legal hold was released
	KindPruned            = "log.pruned"        // the records before a signed checkpoint were deleted (Detail: Prune)
	KindErasureRequest    = "erasure.requested" // a data subject's erasure request, and its outcome
	KindRestored          = "log.restored"      // the first record of a log that continues one restored from a backup (Detail: Restore)

	KindConfigReloaded     = "config.reloaded"      // serve put a reloaded configuration in force (SIGHUP)
	KindConfigReloadFailed = "config.reload_failed" // serve refused a reloaded configuration and kept the one in force
)

// Statuses of model calls.
const (
	StatusOK            = "ok"
	StatusError         = "error"
	StatusDenied        = "denied"
	StatusBlocked       = "blocked"
	StatusClientAborted = "client_aborted"
	StatusPending       = "pending"     // on request records: the outcome is in the response record
	StatusInterrupted   = "interrupted" // on interaction.interrupted events
)

// A Record is one entry of the log. Every field is sealed: it is covered by
// the entry hash and the Merkle leaf. Fields that do not apply are zero.
type Record struct {
	Version int64  // format version (Version)
	LogID   string // the log this record belongs to (one per gateway node)
	Seq     int64  // position in the log, from 0, without gaps
	Time    int64  // when the record was sequenced, Unix nanoseconds UTC; never decreases within a log
	Kind    string // one of the Kind constants

	Actor         string // who: the authenticated actor id
	Role          string // the actor's role (user, auditor, admin)
	Session       string // session id (X-Session-Id or one opened through the API)
	Reason        string // the session's declared reason for access
	ClientIP      string // the caller's network address (no port)
	CorrelationID string // X-Request-Id, the trace id of traceparent, or one generated

	Endpoint       string // "POST /api/chat" and the like
	Model          string // model name as requested
	ModelDigest    string // the upstream's digest of that model, when known
	Params         []byte // compact JSON object of the request's generation parameters
	Stream         bool   // whether the answer was streamed
	Status         string // one of the Status constants
	UpstreamStatus int64  // HTTP status the upstream answered with (0: not reached)
	DoneReason     string // why generation ended (stop, length, tool_calls, load...)
	RequestSeq     int64  // on responses: Seq of the request record; -1 otherwise
	TokensIn       int64  // the upstream's prompt token count (-1: unknown)
	TokensOut      int64  // the upstream's completion token count (-1: unknown)
	LatencyUS      int64  // on responses: microseconds from request received to last byte
	TTFTUS         int64  // on streamed responses: microseconds to the first content chunk

	// Nonce individualises the keyed commitments of this record (see Committer).
	Nonce [16]byte
	// RawHash commits to the exact bytes exchanged with the caller: the
	// request body as received on requests, the response body as delivered
	// on responses. RawLen is their length.
	RawHash Hash
	RawLen  int64
	// BodyHash commits to the stored (redacted) body; zero when the record
	// has none.
	BodyHash Hash
	// ClearHash commits to the body before redaction, which only the
	// encrypted vault keeps; zero when none was kept.
	ClearHash Hash
	// Detail is a compact JSON object with kind-specific facts (event
	// details, error messages); empty when there are none.
	Detail []byte

	PrevHash Hash // EntryHash of the record Seq-1; zero for Seq 0
}

// TimeUTC returns r.Time as a time.Time in UTC.
func (r *Record) TimeUTC() time.Time { return time.Unix(0, r.Time).UTC() }

// Field tags of the canonical encoding, in encoding order.
const (
	tagVersion byte = iota + 1
	tagLogID
	tagSeq
	tagTime
	tagKind
	tagActor
	tagRole
	tagSession
	tagReason
	tagClientIP
	tagCorrelationID
	tagEndpoint
	tagModel
	tagModelDigest
	tagParams
	tagStream
	tagStatus
	tagUpstreamStatus
	tagDoneReason
	tagRequestSeq
	tagTokensIn
	tagTokensOut
	tagLatencyUS
	tagTTFTUS
	tagNonce
	tagRawHash
	tagRawLen
	tagBodyHash
	tagClearHash
	tagDetail
	tagPrevHash
	numTags = tagPrevHash
)

// magic starts every encoding, so that a record hash can never be
// confused with a hash of anything else.
const magic = "aitrail.record.v1\n"

// Encode returns the canonical encoding of r's sealed fields: the ASCII
// string "aitrail.record.v1\n" followed by every field in tag order, each as
// a one-byte tag, a four-byte big-endian length and the value. Strings and
// JSON are their UTF-8 bytes, integers eight bytes big-endian two's
// complement, booleans one byte (0 or 1), the nonce 16 bytes, and hashes 32
// bytes, or zero bytes when the hash is absent (all zero) except PrevHash,
// which is always 32 bytes.
func Encode(r *Record) []byte {
	n := len(magic) + int(numTags)*5 + 14*8 + 16 + 4*32 + 1 +
		len(r.LogID) + len(r.Kind) + len(r.Actor) + len(r.Role) + len(r.Session) +
		len(r.Reason) + len(r.ClientIP) + len(r.CorrelationID) + len(r.Endpoint) +
		len(r.Model) + len(r.ModelDigest) + len(r.Params) + len(r.Status) +
		len(r.DoneReason) + len(r.Detail)
	b := make([]byte, 0, n)
	b = append(b, magic...)
	b = appendInt(b, tagVersion, r.Version)
	b = appendBytes(b, tagLogID, r.LogID)
	b = appendInt(b, tagSeq, r.Seq)
	b = appendInt(b, tagTime, r.Time)
	b = appendBytes(b, tagKind, r.Kind)
	b = appendBytes(b, tagActor, r.Actor)
	b = appendBytes(b, tagRole, r.Role)
	b = appendBytes(b, tagSession, r.Session)
	b = appendBytes(b, tagReason, r.Reason)
	b = appendBytes(b, tagClientIP, r.ClientIP)
	b = appendBytes(b, tagCorrelationID, r.CorrelationID)
	b = appendBytes(b, tagEndpoint, r.Endpoint)
	b = appendBytes(b, tagModel, r.Model)
	b = appendBytes(b, tagModelDigest, r.ModelDigest)
	b = appendBytes(b, tagParams, r.Params)
	stream := byte(0)
	if r.Stream {
		stream = 1
	}
	b = appendBytes(b, tagStream, []byte{stream})
	b = appendBytes(b, tagStatus, r.Status)
	b = appendInt(b, tagUpstreamStatus, r.UpstreamStatus)
	b = appendBytes(b, tagDoneReason, r.DoneReason)
	b = appendInt(b, tagRequestSeq, r.RequestSeq)
	b = appendInt(b, tagTokensIn, r.TokensIn)
	b = appendInt(b, tagTokensOut, r.TokensOut)
	b = appendInt(b, tagLatencyUS, r.LatencyUS)
	b = appendInt(b, tagTTFTUS, r.TTFTUS)
	b = appendBytes(b, tagNonce, r.Nonce[:])
	b = appendHash(b, tagRawHash, r.RawHash)
	b = appendInt(b, tagRawLen, r.RawLen)
	b = appendHash(b, tagBodyHash, r.BodyHash)
	b = appendHash(b, tagClearHash, r.ClearHash)
	b = appendBytes(b, tagDetail, r.Detail)
	b = appendBytes(b, tagPrevHash, r.PrevHash[:])
	return b
}

func appendBytes[T string | []byte](b []byte, tag byte, v T) []byte {
	b = append(b, tag)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func appendInt(b []byte, tag byte, v int64) []byte {
	b = append(b, tag, 0, 0, 0, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendHash(b []byte, tag byte, h Hash) []byte {
	if h.IsZero() {
		return appendBytes(b, tag, []byte(nil))
	}
	return appendBytes(b, tag, h[:])
}

// Decode parses a canonical encoding produced by Encode. It is strict: every
// tag must appear once, in order, with a valid length, and nothing may follow.
func Decode(b []byte) (*Record, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, errors.New("decode record: missing aitrail.record.v1 header")
	}
	b = b[len(magic):]
	r := new(Record)
	for tag := byte(1); tag <= numTags; tag++ {
		if len(b) < 5 {
			return nil, fmt.Errorf("decode record: truncated before field %d", tag)
		}
		if b[0] != tag {
			return nil, fmt.Errorf("decode record: field %d where %d belongs", b[0], tag)
		}
		n := binary.BigEndian.Uint32(b[1:5])
		if uint64(n) > uint64(len(b)-5) {
			return nil, fmt.Errorf("decode record: field %d overruns the record", tag)
		}
		v := b[5 : 5+n]
		b = b[5+n:]
		if err := r.set(tag, v); err != nil {
			return nil, fmt.Errorf("decode record: field %d: %w", tag, err)
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("decode record: %d trailing bytes", len(b))
	}
	return r, nil
}

func (r *Record) set(tag byte, v []byte) error {
	intField := func(p *int64) error {
		if len(v) != 8 {
			return fmt.Errorf("integer of %d bytes", len(v))
		}
		*p = int64(binary.BigEndian.Uint64(v))
		return nil
	}
	hashField := func(p *Hash, optional bool) error {
		if optional && len(v) == 0 {
			*p = Hash{}
			return nil
		}
		if len(v) != len(p) {
			return fmt.Errorf("hash of %d bytes", len(v))
		}
		copy(p[:], v)
		if optional && p.IsZero() {
			return errors.New("absent hash must be empty, not zeros")
		}
		return nil
	}
	switch tag {
	case tagVersion:
		return intField(&r.Version)
	case tagLogID:
		r.LogID = string(v)
	case tagSeq:
		return intField(&r.Seq)
	case tagTime:
		return intField(&r.Time)
	case tagKind:
		r.Kind = string(v)
	case tagActor:
		r.Actor = string(v)
	case tagRole:
		r.Role = string(v)
	case tagSession:
		r.Session = string(v)
	case tagReason:
		r.Reason = string(v)
	case tagClientIP:
		r.ClientIP = string(v)
	case tagCorrelationID:
		r.CorrelationID = string(v)
	case tagEndpoint:
		r.Endpoint = string(v)
	case tagModel:
		r.Model = string(v)
	case tagModelDigest:
		r.ModelDigest = string(v)
	case tagParams:
		r.Params = clone(v)
	case tagStream:
		if len(v) != 1 || v[0] > 1 {
			return errors.New("boolean must be one byte, 0 or 1")
		}
		r.Stream = v[0] == 1
	case tagStatus:
		r.Status = string(v)
	case tagUpstreamStatus:
		return intField(&r.UpstreamStatus)
	case tagDoneReason:
		r.DoneReason = string(v)
	case tagRequestSeq:
		return intField(&r.RequestSeq)
	case tagTokensIn:
		return intField(&r.TokensIn)
	case tagTokensOut:
		return intField(&r.TokensOut)
	case tagLatencyUS:
		return intField(&r.LatencyUS)
	case tagTTFTUS:
		return intField(&r.TTFTUS)
	case tagNonce:
		if len(v) != len(r.Nonce) {
			return fmt.Errorf("nonce of %d bytes", len(v))
		}
		copy(r.Nonce[:], v)
	case tagRawHash:
		return hashField(&r.RawHash, true)
	case tagRawLen:
		return intField(&r.RawLen)
	case tagBodyHash:
		return hashField(&r.BodyHash, true)
	case tagClearHash:
		return hashField(&r.ClearHash, true)
	case tagDetail:
		r.Detail = clone(v)
	case tagPrevHash:
		return hashField(&r.PrevHash, false)
	}
	return nil
}

func clone(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// EntryHash returns the record's chain hash: SHA-256 of Encode(r). Because
// the encoding ends with PrevHash, each entry hash commits to the whole log
// before it.
func EntryHash(r *Record) Hash {
	return sha256.Sum256(Encode(r))
}

// NewEvent returns an event record of the given kind with status ok, a
// fresh nonce and detail, marshalled as JSON, as its Detail (nil for none).
// Fields that do not apply to events are set to their "none" values.
func NewEvent(kind string, detail any) *Record {
	r := &Record{
		Kind:       kind,
		Status:     StatusOK,
		RequestSeq: -1,
		TokensIn:   -1,
		TokensOut:  -1,
		Nonce:      NewNonce(),
	}
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			panic(fmt.Sprintf("record: event detail of %s does not marshal: %v", kind, err))
		}
		r.Detail = b
	}
	return r
}

// CleanString returns s as a valid sealed string: invalid UTF-8 and NUL
// bytes (which PostgreSQL refuses in text) become U+FFFD.
func CleanString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= utf8.RuneSelf {
			return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
		}
	}
	return s
}

// Erasure is the Detail of a body.erased event: which layer of which
// records was erased, and why. The sealed parts of those records stay, so
// the chain and the tree still verify; verification reports their bodies as
// erased per policy.
//
// The records are listed one by one (Seqs) or as inclusive ranges
// (Ranges: [first, last] pairs); a range covers the records in it that had
// the layer, and may include records that had none.
type Erasure struct {
	// Layer is what was erased: LayerRedacted (the stored body; also
	// when empty), LayerRaw (the vault's raw body, by destroying its data
	// key) or LayerPII (the record's PII index entries).
	Layer  string     `json:"layer,omitempty"`
	Seqs   []int64    `json:"seqs,omitempty"`
	Ranges [][2]int64 `json:"ranges,omitempty"`
	// Count is how many records had the layer erased.
	Count int64 `json:"count,omitempty"`
	// Policy is the rule applied ("retention: redacted bodies 1y", "erasure
	// request"), and Reason any further words.
	Policy string `json:"policy"`
	Reason string `json:"reason,omitempty"`
	// Cutoff, for a retention purge: records before this time (RFC 3339)
	// were past the policy.
	Cutoff string `json:"cutoff,omitempty"`
	// Held counts the records past the policy that a legal hold kept.
	Held int64 `json:"held,omitempty"`
}

// Restore is the Detail of a log.restored event, the first record of a log
// that continues another (Log) after it was restored from a backup: the
// restored log holds Size records, whose last entry hash is Head and whose
// Merkle root is Root, while its anchors hold a checkpoint of AnchoredSize
// records (Anchored, whose SHA-256 is AnchoredHash): records MissingFrom to
// MissingTo were recorded after the backup and are lost. OriginKey is the
// verifier key of the new log; Handover is a note signed by the restored
// log's key that vouches for it (see docs/FORMAT.md).
type Restore struct {
	LogID         string `json:"log_id"`
	FormatVersion int    `json:"format_version"`
	OriginKey     string `json:"origin_key"`
	Log           string `json:"log"`
	Size          int64  `json:"size"`
	Head          string `json:"head"` // hex
	Root          string `json:"root"` // base64
	AnchoredSize  int64  `json:"anchored_size"`
	Anchored      string `json:"anchored"`
	AnchoredHash  string `json:"anchored_hash"` // hex
	MissingFrom   int64  `json:"missing_from"`
	MissingTo     int64  `json:"missing_to"`
	Handover      string `json:"handover"`
}

// Prune is the Detail of a log.pruned event: the records before Size were
// deleted, sealed parts and all, because they had passed the retention of
// sealed records. The log goes on verifying from Checkpoint, the signed
// checkpoint of size Size, whose root covers them; Head is the entry hash
// of record Size-1, to which record Size links.
type Prune struct {
	From       int64  `json:"from"` // the first record deleted
	Size       int64  `json:"size"` // records before this are deleted
	Head       string `json:"head"` // hex
	Time       int64  `json:"time"` // of record Size-1, Unix nanoseconds
	Checkpoint string `json:"checkpoint"`
	Policy     string `json:"policy"`
	Cutoff     string `json:"cutoff"`
}

// The layers of a record that retention erases.
const (
	LayerSealed   = "sealed"
	LayerRedacted = "redacted"
	LayerRaw      = "raw"
	LayerPII      = "pii"
)

// Covers reports whether e names record seq.
func (e *Erasure) Covers(seq int64) bool {
	for _, r := range e.Ranges {
		if seq >= r[0] && seq <= r[1] {
			return true
		}
	}
	return slices.Contains(e.Seqs, seq)
}

// Compress returns seqs, sorted, as inclusive ranges of consecutive numbers.
func Compress(seqs []int64) [][2]int64 {
	s := slices.Clone(seqs)
	slices.Sort(s)
	var out [][2]int64
	for _, q := range s {
		if n := len(out); n > 0 && q <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], q)
			continue
		}
		out = append(out, [2]int64{q, q})
	}
	return out
}

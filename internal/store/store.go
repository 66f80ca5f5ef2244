// Package store defines how aitrail's log is kept: the Store interface that
// the sqlite and postgres packages implement, and the types they exchange.
//
// A store holds one or more logs (one per gateway node), each a sequence of
// records (package record) with, beside them, the records' bodies, the
// stored hashes of each log's Merkle tree, and the API keys and sessions the
// gateway authenticates with. Records are written only by Append, in batches
// that are atomic and durable when Append returns.
package store

import (
	"context"
	"errors"

	"github.com/aitrail/aitrail/internal/record"
)

// ErrNotFound is returned when a record, body, key or session does not exist.
var ErrNotFound = errors.New("not found")

// A Body is the stored body of the record Seq.
type Body struct {
	Seq     int64
	Content []byte
}

// A TreeHash is one stored hash of a log's Merkle tree, at the index given
// by tlog.StoredHashIndex.
type TreeHash struct {
	Index int64
	Hash  record.Hash
}

// A PIIEntry indexes one sensitive value found in record Seq: MAC is a
// keyed HMAC of the normalised value (never the value), so that every record
// holding a given e-mail address can be found for a data-subject request.
type PIIEntry struct {
	Seq  int64
	Type string // the redact type, e.g. EMAIL
	MAC  record.Hash
}

// A PIIRef names a record that held an indexed value.
type PIIRef struct {
	LogID string
	Seq   int64
	Type  string
}

// A Batch is what one Append writes.
type Batch struct {
	Records []*record.Record // in sequence order, continuing the log
	// EntryHashes, if set, are the records' entry hashes, as the writer
	// already computed them; otherwise the store computes them.
	EntryHashes []record.Hash
	Bodies      []Body
	Hashes      []TreeHash
	PII         []PIIEntry
}

// A Head is the last record of a log.
type Head struct {
	Seq       int64 // -1 for an empty log
	Time      int64
	EntryHash record.Hash
}

// AppendTx is the view of a log that Append's build function gets, inside
// the write transaction.
type AppendTx interface {
	// Head returns the log's last record.
	Head(ctx context.Context) (Head, error)
	// ReadHashes returns the stored tree hashes at the given indexes.
	ReadHashes(ctx context.Context, indexes []int64) ([]record.Hash, error)
}

// A Filter selects records for Search. Zero fields select everything.
type Filter struct {
	LogID       string   // "" for every log
	Kinds       []string // record kinds
	Actor       string
	Session     string
	Model       string
	Since       int64   // Unix nanoseconds, inclusive
	Until       int64   // Unix nanoseconds, exclusive
	RequestSeqs []int64 // records whose RequestSeq is one of these
	Seqs        []int64 // records with one of these Seq
	Limit       int     // 0: no limit
}

// A Key is an API key as stored: never the key itself, only its hash.
type Key struct {
	ID        string      // public identifier, part of the key text
	Hash      record.Hash // SHA-256 of the whole key text
	Actor     string
	Role      string
	CreatedAt int64 // Unix nanoseconds
	CreatedBy string
	RevokedAt int64 // 0 while valid
}

// A Session groups calls and carries a declared reason for access.
type Session struct {
	ID        string
	Actor     string
	Reason    string
	CreatedAt int64
}

// A Checkpoint is a signed note stating a log's size and Merkle root
// (package ledger makes and checks them).
type Checkpoint struct {
	Size int64
	Time int64 // when it was signed, Unix nanoseconds
	Note []byte
}

// Store is a durable home for aitrail's logs. Implementations are safe for
// concurrent use, including by several processes at once.
type Store interface {
	// Append runs build inside a write transaction on the log logID and
	// writes the batch it returns. Writers of one log are serialised, also
	// across processes, so build sees the true head. Append returns once the
	// batch is durable, or an error, in which case nothing was written.
	Append(ctx context.Context, logID string, build func(context.Context, AppendTx) (*Batch, error)) error

	// Head returns the last record of a log (Seq -1 when it is empty).
	Head(ctx context.Context, logID string) (Head, error)
	// Scan calls fn for the records of a log with Seq >= from, in order of
	// Seq as stored (a tampered store may have gaps or repeats; Scan
	// reports rows as they are). It stops at fn's first error.
	Scan(ctx context.Context, logID string, from int64, fn func(*record.Record, record.Hash) error) error
	// Search returns the records matching f, ordered by log and Seq.
	Search(ctx context.Context, f Filter) ([]*record.Record, error)
	// ScanBodies calls fn for the stored bodies of a log with Seq >= from,
	// in order of Seq. It stops at fn's first error.
	ScanBodies(ctx context.Context, logID string, from int64, fn func(seq int64, content []byte) error) error
	// DeleteBodies deletes the bodies of the given records of a log and
	// returns how many there were.
	DeleteBodies(ctx context.Context, logID string, seqs []int64) (int64, error)
	// Body returns the body of record seq, or ErrNotFound.
	Body(ctx context.Context, logID string, seq int64) ([]byte, error)
	// ReadHashes returns stored tree hashes of a log.
	ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error)
	// Unanswered returns the Seq of the pending request records
	// (model.request or model.admin) of a log that have neither a response
	// nor an interrupted event: calls a crash cut short.
	Unanswered(ctx context.Context, logID string) ([]int64, error)
	// Logs returns the ids of the logs held.
	Logs(ctx context.Context) ([]string, error)

	// AddCheckpoint stores a signed checkpoint of a log. A second
	// checkpoint of the same size is an error.
	AddCheckpoint(ctx context.Context, logID string, c Checkpoint) error
	// Checkpoints returns a log's checkpoints with Size >= from, by size.
	Checkpoints(ctx context.Context, logID string, from int64) ([]Checkpoint, error)

	// FindPII returns the records whose index holds mac (of any type when
	// typ is ""), by log and seq.
	FindPII(ctx context.Context, typ string, mac record.Hash) ([]PIIRef, error)
	// DeletePII removes the index entries of the given records.
	DeletePII(ctx context.Context, logID string, seqs []int64) (int64, error)

	// CreateKey stores a new key.
	CreateKey(ctx context.Context, k Key) error
	// Key returns the key with the given id, or ErrNotFound.
	Key(ctx context.Context, id string) (Key, error)
	// Keys returns every key, oldest first.
	Keys(ctx context.Context) ([]Key, error)
	// RevokeKey marks a key revoked at time at. Revoking a revoked key keeps
	// the first time; an unknown id is ErrNotFound.
	RevokeKey(ctx context.Context, id string, at int64) error

	// CreateSession stores a session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the given id, or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)

	// Close releases the store.
	Close() error
}

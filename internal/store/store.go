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

// ErrReleased is returned when releasing a hold that was released already.
var ErrReleased = errors.New("hold already released")

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

// A Hold is a legal hold: while it is open (not released, not expired),
// every purge keeps the records it matches, including records that arrive
// after it was set. Empty criteria match every record.
type Hold struct {
	ID      string
	Reason  string // why it was set (a case, a matter)
	Actor   string // records of this actor
	Session string // records of this session
	Model   string // records of this model
	Since   int64  // records at or after this time, Unix nanoseconds (0: no bound)
	Until   int64  // records before this time (0: no bound)
	Text    string // records whose stored body contains this text, ignoring case
	Expires int64  // when the hold ends by itself (0: only when released)

	CreatedAt int64
	CreatedBy string
	// Set when the hold is released.
	ReleasedAt    int64
	ReleasedBy    string
	ReleaseReason string
}

// A RetentionMark is how far the purge of one layer of one log has gone:
// every record before Next has been purged or deferred. Policy is the
// policy the purge applied, as text; when it changes, every deferred record
// is judged again.
type RetentionMark struct {
	Next   int64
	Policy string
}

// A Deferred record is one the purge of a layer passed over: kept longer by
// its policy, or held. It is judged again once Due (Unix nanoseconds) is
// reached.
type Deferred struct {
	Seq int64
	Due int64
}

// A Base is where a pruned log now starts: the records before Size were
// deleted under the retention policy. Checkpoint is the signed checkpoint
// of size Size from which the rest is verified; Head and Time are the entry
// hash and time of the last pruned record (record Size-1), which record Size
// links to.
type Base struct {
	Size       int64
	Head       record.Hash
	Time       int64
	Checkpoint []byte
}

// Space is how much room a database takes.
type Space struct {
	Bytes int64 // the size of its files
	Free  int64 // of which free pages, reusable (0 where unknown)
}

// Store is a durable home for aitrail's logs. Implementations are safe for
// concurrent use, including by several processes at once.
type Store interface {
	// Append runs build inside a write transaction on the log logID and
	// writes the batch it returns. Writers of one log are serialised, also
	// across processes, so build sees the true head. Append returns once the
	// batch is durable, or an error, in which case nothing was written.
	Append(ctx context.Context, logID string, build func(context.Context, AppendTx) (*Batch, error)) error

	// Head returns the last record of a log (Seq -1 when it is empty). Of a
	// log pruned to its end it returns the base's last record.
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
	// nor an interrupted event: calls a crash cut short. Its cost is that
	// of the calls it returns, not of the log's length (serve calls it
	// before it listens).
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

	// AddHold stores a new hold.
	AddHold(ctx context.Context, h Hold) error
	// Holds returns every hold, released ones too, oldest first.
	Holds(ctx context.Context) ([]Hold, error)
	// ReleaseHold marks an open hold released. An unknown id is
	// ErrNotFound; a released hold is ErrReleased.
	ReleaseHold(ctx context.Context, id string, at int64, by, reason string) error

	// RetentionMark returns how far the purge of layer has gone in a log
	// (the zero mark if it never ran).
	RetentionMark(ctx context.Context, logID, layer string) (RetentionMark, error)
	// AdvanceRetention moves a layer's mark from old to next, in one
	// transaction with the changes to its deferred records: those in defer
	// are added (or their Due replaced), those in done removed. When
	// next.Policy differs from old.Policy, every deferred record of the
	// layer is made due at once (Due 0) before defer applies. If the stored
	// mark is no longer old (another purge moved it), it changes nothing
	// and returns false.
	AdvanceRetention(ctx context.Context, logID, layer string, old, next RetentionMark, deferred []Deferred, done []int64) (bool, error)
	// DeferredDue returns up to limit deferred records of a layer with Due
	// <= due and Seq > after, by Seq.
	DeferredDue(ctx context.Context, logID, layer string, due, after int64, limit int) ([]Deferred, error)

	// Base returns where a log starts (the zero Base if it was never
	// pruned).
	Base(ctx context.Context, logID string) (Base, error)
	// SetBase moves a log's start forward to b. It fails unless b.Size is
	// larger than the current base and at most the log's length; it
	// deletes nothing (PruneBefore does).
	SetBase(ctx context.Context, logID string, b Base) error
	// PruneBefore deletes up to limit records before the log's base, with
	// their bodies, PII index entries and deferred entries, in one short
	// transaction, and returns how many records it deleted: 0 once none is
	// left.
	PruneBefore(ctx context.Context, logID string, limit int) (int64, error)
	// PruneTree deletes, in one short transaction, up to limit of the tree
	// hashes before the log's base that only pruned records need (it keeps
	// those the base's checkpoint and later proofs are made from), and
	// returns how many it deleted. Once none is left it deletes the
	// checkpoints smaller than the base and returns 0. Call it once
	// PruneBefore has returned 0.
	PruneTree(ctx context.Context, logID string, limit int) (int64, error)

	// Space reports the database's size.
	Space(ctx context.Context) (Space, error)
	// Compact gives up to pages free pages back to the file system, where
	// the database can (SQLite's incremental vacuum), in one short write,
	// and returns how many it gave back. Once none is left, it also
	// empties the write-ahead log, and returns 0. PostgreSQL's autovacuum
	// does this by itself: there it returns 0.
	Compact(ctx context.Context, pages int) (int64, error)

	// Close releases the store.
	Close() error
}

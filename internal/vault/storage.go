package vault

import (
	"context"
	"encoding/hex"
	"time"
)

// A Ref names one record in the vault: its log and its nonce.
type Ref struct {
	LogID string
	Nonce [16]byte
}

// String returns "LOGID/NONCE", the nonce in hex.
func (r Ref) String() string { return r.LogID + "/" + hex.EncodeToString(r.Nonce[:]) }

// A WrappedKey is a record's data key as stored: wrapped by the master key
// whose ID is KeyID.
type WrappedKey struct {
	KeyID   string
	Wrapped []byte
}

// A Part is one sealed part of a record: its name and its ciphertext (see
// the package documentation for the format).
type Part struct {
	Name   string
	Sealed []byte
}

// A StoredKey is a record's data key with the record it belongs to.
type StoredKey struct {
	Ref Ref
	Key WrappedKey
}

// A PutItem is what one Put stores: see Storage.Put.
type PutItem struct {
	Ref     Ref
	Key     *WrappedKey
	Parts   []Part
	Expires time.Time
}

// A KeyChange replaces a record's wrapped data key Old by New.
type KeyChange struct {
	Ref      Ref
	Old, New WrappedKey
}

// Storage is where a Vault keeps ciphertexts and wrapped data keys: a
// database of its own, never the audit log's. OpenSQLite and OpenPostgres
// return the two implementations. Storage never sees a plaintext or an
// unwrapped key; it keeps, per record, one row of key (the wrapped data
// key, its master key ID and the record's expiry) and one row per part.
//
// Shredding turns the key row into a tombstone: it keeps the record's name
// and the time of the shred, and forgets the key. A tombstone is never
// revived: Put of a shredded record fails with ErrShredded.
//
// Every method is safe for concurrent use, also by several Storages (or
// processes) on one database. Writes are durable when they return.
type Storage interface {
	// Key returns the data key of the record ref: ErrNotFound if it has
	// none, ErrShredded if it was shredded.
	Key(ctx context.Context, ref Ref) (WrappedKey, error)

	// Put stores parts of the record ref in one transaction, durably.
	// With key not nil it creates the record, whose data key is key; it
	// fails with ErrKeyExists if the record has a data key already, or
	// with ErrShredded if it was shredded. With key nil it adds parts to an
	// existing record; it fails with ErrNotFound if there is none, or with
	// ErrShredded. Either way, it fails with ErrExists if one of the parts
	// is stored already, and the record's expiry becomes the later of its
	// current one and expires. When Put fails it stores nothing.
	Put(ctx context.Context, ref Ref, key *WrappedKey, parts []Part, expires time.Time) error

	// PutMany is Put for several items at once, committed together when
	// they fit in one transaction; errs[i] is the outcome of items[i],
	// which is stored or not whatever becomes of the others.
	PutMany(ctx context.Context, items []PutItem) (errs []error)

	// Part returns the record's data key and the named part: ErrNotFound
	// if either is absent, ErrShredded if the record was shredded. Both are
	// read in one consistent snapshot.
	Part(ctx context.Context, ref Ref, name string) (WrappedKey, []byte, error)

	// Shred forgets the data keys of the records of logID with the given
	// nonces, deletes their parts and leaves tombstones, in one
	// transaction; a nonce never stored gets a tombstone too, so that it
	// can never be sealed later. It returns how many data keys it
	// forgot.
	Shred(ctx context.Context, logID string, nonces [][16]byte, at time.Time) (int, error)

	// Expired returns up to limit records, not shredded, whose expiry is
	// at or before now, soonest expired first.
	Expired(ctx context.Context, now time.Time, limit int) ([]Ref, error)

	// KeysNotWrappedBy returns up to limit data keys, not shredded, whose
	// KeyID is not keyID, in order of (log id, nonce), starting after
	// the record after (from the first, if after is nil).
	KeysNotWrappedBy(ctx context.Context, keyID string, after *Ref, limit int) ([]StoredKey, error)

	// Rewrap applies the changes in one transaction, each only if the
	// record's data key is still the change's Old (it may have been
	// shredded or re-wrapped meanwhile), and returns how many it applied.
	Rewrap(ctx context.Context, changes []KeyChange) (int, error)

	// Close releases the storage's resources.
	Close() error
}

// Package vault keeps the raw bodies of log records (the exact bytes of a
// prompt or an answer, before redaction) encrypted, access-controlled,
// short-lived, and apart from the log.
//
// The log stores redacted bodies and commits to the raw bytes (RawHash);
// the raw bytes themselves, when an operator chooses to keep them, go to a
// vault: a database of its own (a SQLite file, or PostgreSQL tables) that
// only the gateway and the few people allowed to read raw bodies can open,
// and from which every body is shredded when it expires.
//
// # Usage
//
//	master, err := vault.LoadKey("/etc/aitrail/vault.key") // made by vault.GenerateKeyFile
//	st, err := vault.OpenSQLite(ctx, "/var/lib/aitrail/vault.db")
//	v := vault.New(st, master)
//
//	err = v.Seal(ctx, rec.LogID, rec.Nonce, map[string][]byte{"request": raw}, time.Now().Add(30*24*time.Hour))
//	raw, err := v.Open(ctx, rec.LogID, rec.Nonce, "request")
//
//	// The retention job, every few minutes:
//	refs, err := v.Expired(ctx, time.Now(), 500) // then Shred them, log by log
//
// A record is named by its log id and its nonce (record.Record.Nonce, 16
// random bytes, unique per record), so the gateway can seal a raw body
// before or after the record gets its sequence number. Sealing a record
// again adds parts: the request before it is forwarded, the response once
// it is complete.
//
// # Encryption
//
// Each record has its own data key: 32 random bytes, made by the first
// Seal of the record. Each part is encrypted with AES-256-GCM under the
// data key:
//
//	sealed = nonce || AES-256-GCM(dek, nonce, plaintext, aad)   (12-byte random nonce, 16-byte tag)
//	aad    = "aitrail.vault.part.v1" || 0x00 || uint32be(len(logID)) || logID || nonce(16) || part
//
// The associated data binds the ciphertext to its record and part: moved to
// another record (even one sharing its data key) or renamed to another
// part, it fails to open. The data key is stored only wrapped by the master
// key (see LocalKey for the format), beside the master key's ID. Storage
// never sees a plaintext or an unwrapped key. A random 96-bit nonce allows
// 2^32 encryptions per key: a data key encrypts a handful of parts, and a
// master key should be rotated long before it has wrapped 2^32 data keys.
//
// # Master keys and rotation
//
// The master key lives outside the vault's database: in a file (LoadKey),
// an environment variable (KeyFromEnv), or, through the MasterKey
// interface, a key management service. To rotate, make a new key, restart
// every gateway of the vault with New(st, newKey, oldKey) (so that none
// wraps new data keys with the old one), and call Rotate: it re-wraps every
// data key under the new key without touching the ciphertexts. Once Rotate
// has returned without error, the database as it is now no longer needs
// the old key: drop it from New, and destroy it (see below for why that
// matters).
//
// # What shredding guarantees
//
// Shred forgets a record's data key and deletes its ciphertexts, in one
// transaction, leaving a tombstone so that Open reports ErrShredded (and a
// later Seal of the record is refused). Without the data key the
// ciphertext is useless: AES-256-GCM under a random key that exists
// nowhere any more cannot be decrypted, and putting the ciphertext back
// (from a backup of vault_entries alone, say) does not bring the body
// back.
//
// After Shred returns, the record cannot be read from the vault's database
// as it is now: through the vault or SQL, and, on SQLite, not from the
// database files on disk either. On SQLite, secure_delete overwrites the
// deleted key and ciphertexts with zeros, and the write-ahead log, which
// still holds the earlier pages, is checkpointed and truncated (a reader
// still holding an old snapshot can delay that; the frames are then
// overwritten as the log is reused). Below SQLite, a journaling file
// system, a copy-on-write file system or an SSD's wear levelling may keep
// old blocks that no file names any more.
//
// Shred cannot reach copies made before it ran. A backup, snapshot or
// replica of the vault's database taken before the shred still holds the
// wrapped data key, and whoever holds that copy and the master key that
// wrapped the data key can read the body. On PostgreSQL the same holds
// for the server's own history: the old row version stays in the table
// file until VACUUM reuses its space (which it need not zero), and in the
// WAL, its archive and point-in-time recovery base backups. Shredding
// therefore protects copies only under these deployment rules:
//
//   - Keep the master key out of the vault's database, off its volume, and
//     out of its backups. A copy of the database without the master key
//     is only ciphertext and wrapped keys.
//   - Back up the vault's database (vault_keys in particular) only with a
//     retention no longer than that of the raw bodies, or not at all: the
//     log itself holds the redacted bodies and commits to the raw ones.
//   - Rotate the master key at least once per retention period and then
//     destroy the old key. Every copy taken before the rotation holds data
//     keys wrapped only by the destroyed key, and is shredded as a whole:
//     destroying a master key is the one way to shred what backups hold.
//
// # Memory
//
// The vault clears the data keys it unwraps as soon as it has made the
// cipher it needs, and the plaintexts it decrypts to compare them. In Go
// this is best effort: crypto/aes keeps an expanded copy of the key (the
// first round key is the key itself) until the garbage collector frees it,
// which does not zero memory; the runtime may copy a stack holding a key
// when the stack grows; Open returns the plaintext to a caller that must
// clear it itself; and nothing here keeps memory out of swap or core
// dumps (disable both on the gateway's host). Go's experimental
// runtime/secret (GOEXPERIMENT=runtimesecret) may later do better.
//
// # Concurrency and durability
//
// A Vault is safe for concurrent use, also with other Vaults (other
// processes, or gateway nodes) on the same database. Seal and Shred return
// once their writes are durable.
package vault

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors. Test for them with errors.Is.
var (
	// ErrNotFound means the record, or the part, was never sealed.
	ErrNotFound = errors.New("not in the vault")
	// ErrShredded means the record was shredded: its data key is gone.
	ErrShredded = errors.New("shredded")
	// ErrExists means a part was sealed already; each part is sealed once.
	ErrExists = errors.New("part already sealed")
	// ErrKeyExists is what Storage.Put returns when asked to create a record
	// that has a data key already; the Vault then uses that key.
	ErrKeyExists = errors.New("record already has a data key")
	// ErrCorrupt means a ciphertext or a wrapped key failed to
	// authenticate: it was altered, or moved to another record or part.
	ErrCorrupt = errors.New("authentication failed: the data was altered or moved")
	// ErrUnknownKey means a data key was wrapped by a master key that the
	// Vault was not given; the error names the key's ID.
	ErrUnknownKey = errors.New("unknown master key")
)

// A Vault seals and opens raw bodies. It is safe for concurrent use.
type Vault struct {
	st     Storage
	master MasterKey
	keys   map[string]MasterKey // by ID: master, then the older keys
}

// New returns a vault over st using master, the current key, which wraps
// new data keys, and older keys, which can still unwrap (for rotation, see
// Rotate). Keys are told apart by their IDs; of keys with one ID, the
// first given is used. New panics if master is nil.
func New(st Storage, master MasterKey, older ...MasterKey) *Vault {
	if master == nil {
		panic("vault.New: nil master key")
	}
	v := &Vault{st: st, master: master, keys: map[string]MasterKey{}}
	for _, k := range append([]MasterKey{master}, older...) {
		if k == nil {
			continue
		}
		if _, ok := v.keys[k.ID()]; !ok {
			v.keys[k.ID()] = k
		}
	}
	return v
}

// maxExpiry is the latest expiry that Unix nanoseconds can represent.
var maxExpiry = time.Unix(0, 1<<63-1)

// Seal stores the raw parts (named "request", "response" and the like) of
// the record with nonce in log logID, each encrypted with AES-256-GCM under
// the record's data key, and returns once they are durable. The first Seal
// of a record makes a fresh data key and wraps it with the master key;
// sealing the record again adds parts under the same key.
//
// Each part is sealed once: sealing an existing part again fails with
// ErrExists, unless every part given is stored already with the same
// content (a retried Seal), which succeeds. A shredded record cannot be
// sealed (ErrShredded). When Seal fails, none of the parts was stored.
//
// The record expires at expires, or at the latest expiry that any Seal of
// it gave; Expired then returns it. Part names are 1 to 64 ASCII letters,
// digits, '.', '_' or '-'.
func (v *Vault) Seal(ctx context.Context, logID string, nonce [16]byte, parts map[string][]byte, expires time.Time) error {
	ref := Ref{LogID: logID, Nonce: nonce}
	if err := v.checkSeal(ref, parts, expires); err != nil {
		return fmt.Errorf("seal %s: %w", ref, err)
	}
	// Almost every Seal makes a new record (the gateway seals each record
	// once, under a fresh nonce), so it creates the record without reading
	// its key first.
	return v.seal(ctx, ref, parts, expires, true)
}

// seal stores the checked parts of the record ref. With fresh, its first
// round makes a new data key; otherwise, or if the record exists
// (ErrKeyExists: sealed before, or by a concurrent Seal), it uses the
// record's own key.
func (v *Vault) seal(ctx context.Context, ref Ref, parts map[string][]byte, expires time.Time, fresh bool) error {
	for round := range 3 {
		item, err := v.encrypt(ctx, ref, parts, expires, fresh && round == 0)
		if err != nil {
			return fmt.Errorf("seal %s: %w", ref, err)
		}
		err = v.st.Put(ctx, ref, item.Key, item.Parts, expires)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrKeyExists) && item.Key != nil:
			continue
		case errors.Is(err, ErrExists) && v.sealedAlready(ctx, ref, parts):
			return nil // a retried Seal: every part is stored with this content
		}
		return fmt.Errorf("seal %s: %w", ref, err)
	}
	return fmt.Errorf("seal %s: the record's data key keeps changing", ref)
}

// A Body is one record's raw parts, to seal with SealMany.
type Body struct {
	LogID   string
	Nonce   [16]byte
	Parts   map[string][]byte
	Expires time.Time
}

// SealMany seals several records' bodies as Seal does, committing them
// together, and returns once they are durable: errs[i] is the outcome of
// bodies[i], which is sealed or not whatever becomes of the others. It
// costs one transaction, where as many Seals cost one each unless they are
// concurrent.
func (v *Vault) SealMany(ctx context.Context, bodies []Body) (errs []error) {
	errs = make([]error, len(bodies))
	items := make([]PutItem, 0, len(bodies))
	index := make([]int, 0, len(bodies)) // bodies[index[j]] is items[j]
	for i, b := range bodies {
		ref := Ref{LogID: b.LogID, Nonce: b.Nonce}
		if err := v.checkSeal(ref, b.Parts, b.Expires); err != nil {
			errs[i] = fmt.Errorf("seal %s: %w", ref, err)
			continue
		}
		item, err := v.encrypt(ctx, ref, b.Parts, b.Expires, true)
		if err != nil {
			errs[i] = fmt.Errorf("seal %s: %w", ref, err)
			continue
		}
		items = append(items, item)
		index = append(index, i)
	}
	if len(items) == 0 {
		return errs
	}
	for j, err := range v.st.PutMany(ctx, items) {
		i := index[j]
		switch b := bodies[i]; {
		case err == nil:
		case errors.Is(err, ErrKeyExists) || errors.Is(err, ErrExists):
			// The record exists: seal with its own key.
			errs[i] = v.seal(ctx, items[j].Ref, b.Parts, b.Expires, false)
		default:
			errs[i] = fmt.Errorf("seal %s: %w", items[j].Ref, err)
		}
	}
	return errs
}

// encrypt encrypts the parts under the record's data key (see dataKey),
// into what Put stores.
func (v *Vault) encrypt(ctx context.Context, ref Ref, parts map[string][]byte, expires time.Time, fresh bool) (PutItem, error) {
	dek, newKey, err := v.dataKey(ctx, ref, fresh)
	if err != nil {
		return PutItem{}, err
	}
	aead, err := newAEAD(dek)
	clear(dek)
	if err != nil {
		return PutItem{}, err
	}
	sealed := make([]Part, 0, len(parts))
	for name, p := range parts {
		sealed = append(sealed, Part{Name: name, Sealed: aead.Seal(nil, nil, p, partAAD(ref, name))})
	}
	slices.SortFunc(sealed, func(a, b Part) int { return strings.Compare(a.Name, b.Name) })
	return PutItem{Ref: ref, Key: newKey, Parts: sealed, Expires: expires}, nil
}

// dataKey returns the data key to seal the record ref with: the record's
// own, unwrapped, or (when fresh is set, or the record has none) a new one,
// which newKey then holds wrapped for Put to store. The caller clears dek.
func (v *Vault) dataKey(ctx context.Context, ref Ref, fresh bool) (dek []byte, newKey *WrappedKey, err error) {
	if !fresh {
		wk, err := v.st.Key(ctx, ref)
		if err == nil {
			dek, err = v.unwrap(wk)
			return dek, nil, err
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
	}
	dek = make([]byte, KeySize)
	rand.Read(dek)
	w, err := v.master.Wrap(dek)
	if err != nil {
		clear(dek)
		return nil, nil, fmt.Errorf("wrap data key with master key %s: %w", v.master.ID(), err)
	}
	return dek, &WrappedKey{KeyID: v.master.ID(), Wrapped: w}, nil
}

// sealedAlready reports whether every part is stored with the given
// content, which is what a retried Seal finds.
func (v *Vault) sealedAlready(ctx context.Context, ref Ref, parts map[string][]byte) bool {
	for name, want := range parts {
		got, err := v.Open(ctx, ref.LogID, ref.Nonce, name)
		same := err == nil && bytes.Equal(got, want)
		clear(got)
		if !same {
			return false
		}
	}
	return true
}

func (v *Vault) checkSeal(ref Ref, parts map[string][]byte, expires time.Time) error {
	if err := checkLogID(ref.LogID); err != nil {
		return err
	}
	if len(parts) == 0 {
		return errors.New("no parts to seal")
	}
	for name := range parts {
		if err := checkPartName(name); err != nil {
			return err
		}
	}
	if expires.IsZero() {
		return errors.New("no expiry: raw bodies must expire")
	}
	if expires.Before(time.Unix(0, 1)) || expires.After(maxExpiry) {
		return fmt.Errorf("expiry %s is out of range", expires.Format(time.RFC3339))
	}
	return nil
}

// checkLogID refuses log ids that PostgreSQL's TEXT cannot hold, so that
// every backend accepts the same ids.
func checkLogID(id string) error {
	if id == "" {
		return errors.New("empty log id")
	}
	if !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("log id %q is not valid UTF-8 without NUL bytes", id)
	}
	return nil
}

func checkPartName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("part name %q: want 1 to 64 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("part name %q: want only ASCII letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// Open decrypts one part of the record with nonce in log logID. It fails
// with ErrShredded if the record was shredded, ErrNotFound if the record or
// the part was never sealed, ErrCorrupt if the part or its data key was
// altered or moved, and ErrUnknownKey if the data key was wrapped by a
// master key the Vault was not given. The caller should clear the
// plaintext once done with it.
func (v *Vault) Open(ctx context.Context, logID string, nonce [16]byte, part string) ([]byte, error) {
	ref := Ref{LogID: logID, Nonce: nonce}
	wk, sealed, err := v.st.Part(ctx, ref, part)
	if err != nil {
		return nil, fmt.Errorf("open %s part %q: %w", ref, part, err)
	}
	dek, err := v.unwrap(wk)
	if err != nil {
		return nil, fmt.Errorf("open %s part %q: %w", ref, part, err)
	}
	aead, err := newAEAD(dek)
	clear(dek)
	if err != nil {
		return nil, fmt.Errorf("open %s part %q: %w", ref, part, err)
	}
	plain, err := aead.Open(nil, nil, sealed, partAAD(ref, part))
	if err != nil {
		return nil, fmt.Errorf("open %s part %q: %w", ref, part, ErrCorrupt)
	}
	if plain == nil {
		plain = []byte{} // an empty part was sealed: say so, not nil
	}
	return plain, nil
}

// unwrap unwraps a data key with the master key that wrapped it.
func (v *Vault) unwrap(wk WrappedKey) ([]byte, error) {
	mk, ok := v.keys[wk.KeyID]
	if !ok {
		return nil, fmt.Errorf("data key is wrapped by master key %q, which this vault was not given: %w", wk.KeyID, ErrUnknownKey)
	}
	dek, err := mk.Unwrap(wk.Wrapped)
	if err != nil {
		return nil, err
	}
	if len(dek) != KeySize {
		clear(dek)
		return nil, fmt.Errorf("data key unwrapped by master key %s is %d bytes: %w", wk.KeyID, len(dek), ErrCorrupt)
	}
	return dek, nil
}

// Shred destroys the data keys of the records of logID with the given
// nonces and deletes their parts, in one transaction: crypto-shredding.
// Each leaves a tombstone, so that Open fails with ErrShredded and Seal is
// refused, also for a nonce that was never sealed (shredding a record
// before its raw body is sealed keeps that body out). It returns how many
// data keys it destroyed, once the shred is durable. See the package
// documentation for what shredding guarantees, and what it cannot reach.
func (v *Vault) Shred(ctx context.Context, logID string, nonces [][16]byte) (int, error) {
	if err := checkLogID(logID); err != nil {
		return 0, fmt.Errorf("shred: %w", err)
	}
	if len(nonces) == 0 {
		return 0, nil
	}
	n, err := v.st.Shred(ctx, logID, nonces, time.Now())
	if err != nil {
		return 0, fmt.Errorf("shred %d records of log %q: %w", len(nonces), logID, err)
	}
	return n, nil
}

// Expired returns up to limit records whose expiry is at or before now and
// that are not shredded yet, soonest expired first. The retention job
// calls it, shreds what it returns, and repeats until it returns none.
func (v *Vault) Expired(ctx context.Context, now time.Time, limit int) ([]Ref, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("expired: limit %d, want a positive number", limit)
	}
	refs, err := v.st.Expired(ctx, now, limit)
	if err != nil {
		return nil, fmt.Errorf("expired: %w", err)
	}
	return refs, nil
}

// rotateBatch is how many data keys Rotate re-wraps per transaction.
var rotateBatch = 256

// Rotate re-wraps every data key that is still wrapped by another key than
// the current master key with the current one, without re-encrypting any
// part, and returns how many it re-wrapped. It works in batches of one
// transaction each: interrupted, it can be called again and continues, and
// called when there is nothing to do, it returns 0.
//
// Data keys that it cannot unwrap (their master key was not given to New,
// or they fail to authenticate) are left as they are; Rotate goes on with
// the others and then returns an error that counts them and names the
// first. Only after a Rotate without error may the older keys be dropped.
func (v *Vault) Rotate(ctx context.Context) (int, error) {
	id := v.master.ID()
	var after *Ref
	total, failed := 0, 0
	var firstErr error
	for {
		keys, err := v.st.KeysNotWrappedBy(ctx, id, after, rotateBatch)
		if err != nil {
			return total, fmt.Errorf("rotate to master key %s: %w", id, err)
		}
		if len(keys) == 0 {
			break
		}
		changes := make([]KeyChange, 0, len(keys))
		for _, k := range keys {
			c, err := v.rewrap(k)
			if err != nil {
				if failed++; firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", k.Ref, err)
				}
				continue
			}
			changes = append(changes, c)
		}
		if len(changes) > 0 {
			n, err := v.st.Rewrap(ctx, changes)
			total += n
			if err != nil {
				return total, fmt.Errorf("rotate to master key %s: %w", id, err)
			}
		}
		if len(keys) < rotateBatch {
			break
		}
		after = &keys[len(keys)-1].Ref
	}
	if failed > 0 {
		return total, fmt.Errorf("rotate to master key %s: %d data keys could not be re-wrapped (the older keys are still needed), first %w", id, failed, firstErr)
	}
	return total, nil
}

func (v *Vault) rewrap(k StoredKey) (KeyChange, error) {
	dek, err := v.unwrap(k.Key)
	if err != nil {
		return KeyChange{}, err
	}
	w, err := v.master.Wrap(dek)
	clear(dek)
	if err != nil {
		return KeyChange{}, fmt.Errorf("wrap data key with master key %s: %w", v.master.ID(), err)
	}
	return KeyChange{Ref: k.Ref, Old: k.Key, New: WrappedKey{KeyID: v.master.ID(), Wrapped: w}}, nil
}

// newAEAD returns AES-256-GCM under dek, with random nonces prepended to
// the ciphertext. The caller may clear dek as soon as it returns.
func newAEAD(dek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// partAAD returns the associated data of a part: see the package
// documentation.
func partAAD(ref Ref, part string) []byte {
	const label = "aitrail.vault.part.v1\x00"
	b := make([]byte, 0, len(label)+4+len(ref.LogID)+len(ref.Nonce)+len(part))
	b = append(b, label...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ref.LogID)))
	b = append(b, ref.LogID...)
	b = append(b, ref.Nonce[:]...)
	return append(b, part...)
}

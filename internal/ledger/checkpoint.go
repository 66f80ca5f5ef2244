package ledger

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// A Checkpoint states the size and Merkle root of a log. Its text is the
// body of a C2SP tlog-checkpoint signed note:
//
//	<origin>\n
//	<size, decimal>\n
//	<root hash, base64 (standard, padded)>\n
//
// The origin names the log (and is the name of its signing key).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// String returns the checkpoint's text.
func (c Checkpoint) String() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint parses a checkpoint's text. It is strict: exactly three
// lines (extension lines are not used by aitrail and are refused), a
// non-empty origin, a size without sign or leading zeros, and a 32-byte
// root in canonical base64.
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.SplitAfter(text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return c, errors.New("malformed checkpoint: want three lines")
	}
	c.Origin = strings.TrimSuffix(lines[0], "\n")
	if c.Origin == "" || strings.ContainsAny(c.Origin, " \t") {
		return c, errors.New("malformed checkpoint: bad origin line")
	}
	size := strings.TrimSuffix(lines[1], "\n")
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != size {
		return c, fmt.Errorf("malformed checkpoint: bad size %q", size)
	}
	c.Size = n
	root := strings.TrimSuffix(lines[2], "\n")
	b, err := base64.StdEncoding.DecodeString(root)
	if err != nil || len(b) != len(c.Root) || base64.StdEncoding.EncodeToString(b) != root {
		return c, fmt.Errorf("malformed checkpoint: bad root hash %q", root)
	}
	copy(c.Root[:], b)
	return c, nil
}

// ParseSignedCheckpoint parses a signed checkpoint note without checking
// its signatures (for callers that hold no key, or check them elsewhere).
func ParseSignedCheckpoint(msg []byte) (Checkpoint, error) {
	text, _, _ := strings.Cut(string(msg), "\n\n")
	return ParseCheckpoint(text + "\n")
}

// OpenCheckpoint verifies a signed checkpoint note with the known verifiers
// and parses it.
func OpenCheckpoint(msg []byte, known note.Verifiers) (Checkpoint, *note.Note, error) {
	n, err := note.Open(msg, known)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return c, n, err
	}
	signedByOrigin := false
	for _, s := range n.Sigs {
		if s.Name == c.Origin {
			signedByOrigin = true
		}
	}
	if !signedByOrigin {
		return c, n, fmt.Errorf("checkpoint of %q is not signed by its log's key", c.Origin)
	}
	return c, n, nil
}

// GenerateSigningKey returns a new Ed25519 signing key for a log named
// origin, in the note package's encoding, and its verifier key.
func GenerateSigningKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// CheckpointStore is what signing checkpoints needs of a store.
type CheckpointStore interface {
	Head(ctx context.Context, logID string) (store.Head, error)
	ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error)
	AddCheckpoint(ctx context.Context, logID string, c store.Checkpoint) error
	Checkpoints(ctx context.Context, logID string, from int64) ([]store.Checkpoint, error)
}

// An Anchor keeps copies of a log's checkpoints outside its database.
type Anchor interface {
	// Name identifies the anchor in messages.
	Name() string
	// Add records a signed checkpoint. prove returns a consistency proof
	// from an earlier tree size to the checkpoint's, for anchors (witnesses)
	// that check them. It returns a cosigned note when the anchor cosigns.
	Add(ctx context.Context, logID string, signed []byte, c Checkpoint, prove func(from int64) (tlog.TreeProof, error)) (cosigned []byte, err error)
	// Checkpoints returns the signed checkpoints the anchor holds for a log.
	Checkpoints(ctx context.Context, logID string) ([][]byte, error)
}

// StoreHashReader reads a log's stored tree hashes for tlog.
func StoreHashReader(ctx context.Context, st interface {
	ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error)
}, logID string) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := st.ReadHashes(ctx, logID, idx)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

// A Checkpointer signs checkpoints of one log and copies them to anchors.
type Checkpointer struct {
	st       CheckpointStore
	logID    string
	signer   note.Signer
	verifier note.Verifier
	anchors  []Anchor
	now      func() time.Time

	mu   sync.Mutex
	last *Checkpoint // the latest checkpoint signed or read
}

// NewCheckpointer returns a Checkpointer for the log logID, signing with
// skey (whose name is the log's origin).
func NewCheckpointer(st CheckpointStore, logID, skey, vkey string, anchors []Anchor) (*Checkpointer, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("log signing key: %w", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("log verifier key: %w", err)
	}
	if signer.Name() != verifier.Name() || signer.KeyHash() != verifier.KeyHash() {
		return nil, errors.New("the log's signing and verifier keys do not belong together")
	}
	return &Checkpointer{st: st, logID: logID, signer: signer, verifier: verifier, anchors: anchors, now: time.Now}, nil
}

// SetAnchors replaces the anchors that the next checkpoints are copied
// to. A signing under way finishes with the anchors it started with. It is
// safe for concurrent use.
func (c *Checkpointer) SetAnchors(anchors []Anchor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.anchors = anchors
}

// Origin returns the log's origin, the name in its checkpoints.
func (c *Checkpointer) Origin() string { return c.signer.Name() }

// A SignResult says what Sign did.
type SignResult struct {
	Checkpoint Checkpoint
	Note       []byte
	New        bool     // false when the log had not grown since the last checkpoint
	AnchorErrs []error  // anchors that did not take the checkpoint
	Cosigned   [][]byte // the checkpoint with a witness's cosignature, one per witness that gave one
}

// Sign signs a checkpoint of the log's current size, unless it is the size
// of the last one. It never signs a tree that is not consistent with the
// last checkpoint: a log that shrank or whose past changed is refused with
// an error (and is a matter for verification). The checkpoint is stored,
// then copied to every anchor; anchors that fail are reported in the result
// but do not undo the checkpoint. It is safe for concurrent use.
func (c *Checkpointer) Sign(ctx context.Context) (*SignResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		if err := c.loadLast(ctx); err != nil {
			return nil, err
		}
	}
	h, err := c.st.Head(ctx, c.logID)
	if err != nil {
		return nil, err
	}
	size := h.Seq + 1
	if size == 0 || (c.last != nil && size == c.last.Size) {
		return &SignResult{}, nil
	}
	hr := StoreHashReader(ctx, c.st, c.logID)
	root, err := tlog.TreeHash(size, hr)
	if err != nil {
		return nil, fmt.Errorf("tree hash of log %q at size %d: %w", c.logID, size, err)
	}
	cp := Checkpoint{Origin: c.Origin(), Size: size, Root: root}
	if last := c.last; last != nil {
		if size < last.Size {
			return nil, fmt.Errorf("log %q has %d records, fewer than its last checkpoint's %d: refusing to sign", c.logID, size, last.Size)
		}
		proof, err := tlog.ProveTree(size, last.Size, hr)
		if err != nil {
			return nil, fmt.Errorf("consistency proof %d to %d: %w", last.Size, size, err)
		}
		if err := tlog.CheckTree(proof, size, root, last.Size, last.Root); err != nil {
			return nil, fmt.Errorf("log %q is not consistent with its checkpoint of size %d: refusing to sign", c.logID, last.Size)
		}
	}
	msg, err := note.Sign(&note.Note{Text: cp.String()}, c.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	if err := c.st.AddCheckpoint(ctx, c.logID, store.Checkpoint{Size: size, Time: c.now().UnixNano(), Note: msg}); err != nil {
		// Another process (a CLI command beside serve) may have signed
		// this very tree: then it is done, and anchored by that process.
		if same, _ := c.storedAt(ctx, cp); same {
			c.last = &cp
			return &SignResult{Checkpoint: cp}, nil
		}
		return nil, err
	}
	c.last = &cp
	res := &SignResult{Checkpoint: cp, Note: msg, New: true}
	prove := func(from int64) (tlog.TreeProof, error) { return tlog.ProveTree(size, from, hr) }
	var keepers []Anchor // anchors that keep notes given to them (not witnesses)
	for _, a := range c.anchors {
		cosigned, err := a.Add(ctx, c.logID, msg, cp, prove)
		if err != nil {
			res.AnchorErrs = append(res.AnchorErrs, fmt.Errorf("anchor %s: %w", a.Name(), err))
			continue
		}
		if cosigned != nil {
			res.Cosigned = append(res.Cosigned, cosigned)
		} else {
			keepers = append(keepers, a)
		}
	}
	// Keep the cosignatures where checkpoints are kept: they are what
	// proves that someone outside saw this exact log.
	for _, cs := range res.Cosigned {
		for _, a := range keepers {
			if _, err := a.Add(ctx, c.logID, cs, cp, prove); err != nil {
				res.AnchorErrs = append(res.AnchorErrs, fmt.Errorf("anchor %s (cosigned checkpoint): %w", a.Name(), err))
			}
		}
	}
	return res, nil
}

// storedAt reports whether the store holds a valid checkpoint of cp's size
// with cp's root.
func (c *Checkpointer) storedAt(ctx context.Context, cp Checkpoint) (bool, error) {
	cps, err := c.st.Checkpoints(ctx, c.logID, cp.Size)
	if err != nil || len(cps) == 0 || cps[0].Size != cp.Size {
		return false, err
	}
	got, _, err := OpenCheckpoint(cps[0].Note, note.VerifierList(c.verifier))
	return err == nil && got == cp, nil
}

// loadLast finds the latest checkpoint this log's key signed: in the store,
// and in the anchors, so that a database rolled back below what was
// anchored is not signed again (that would fork the log). A stored
// checkpoint that is not signed by the key is an error.
func (c *Checkpointer) loadLast(ctx context.Context) error {
	cps, err := c.st.Checkpoints(ctx, c.logID, 0)
	if err != nil {
		return err
	}
	if len(cps) > 0 {
		latest := cps[len(cps)-1]
		cp, _, err := OpenCheckpoint(latest.Note, note.VerifierList(c.verifier))
		if err != nil {
			return fmt.Errorf("the latest stored checkpoint of log %q (size %d) does not verify: %w", c.logID, latest.Size, err)
		}
		if cp.Size != latest.Size {
			return fmt.Errorf("the latest stored checkpoint of log %q is stored as size %d but says %d", c.logID, latest.Size, cp.Size)
		}
		c.last = &cp
	}
	for _, a := range c.anchors {
		notes, err := a.Checkpoints(ctx, c.logID)
		if err != nil {
			return fmt.Errorf("read anchor %s: %w", a.Name(), err)
		}
		for _, n := range notes {
			cp, _, err := OpenCheckpoint(n, note.VerifierList(c.verifier))
			if err != nil || cp.Origin != c.Origin() {
				continue // not ours, or damaged: verification reports it
			}
			if c.last == nil || cp.Size > c.last.Size {
				cp := cp
				c.last = &cp
			}
		}
	}
	return nil
}

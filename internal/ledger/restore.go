package ledger

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// A Gap is what a log restored from a backup lacks: its anchors hold a
// signed checkpoint larger than the log, and every anchored checkpoint the
// log does reach matches it. The records from Size to Anchored.Size-1 were
// recorded after the backup and are lost; the log itself is a consistent
// prefix of what was anchored.
type Gap struct {
	LogID    string
	Size     int64       // records in the restored log (0 to Size-1)
	Head     record.Hash // entry hash of record Size-1
	Root     tlog.Hash   // Merkle root at Size
	Anchored Checkpoint  // the largest anchored checkpoint of the log
	Note     []byte      // its signed note, as anchored
}

// GapStore is what FindGap reads.
type GapStore interface {
	Head(ctx context.Context, logID string) (store.Head, error)
	ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error)
	Base(ctx context.Context, logID string) (store.Base, error)
}

// A ForkError is an anchored checkpoint that the log reaches but does not
// match: the log was rewritten or forked, which no restore explains.
type ForkError struct {
	LogID string
	Size  int64
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("log %q differs from its anchored checkpoint of size %d: it was rewritten or forked, not restored", e.LogID, e.Size)
}

// FindGap reports whether the log logID is behind its anchors: anchored
// holds the signed checkpoints its anchors keep, checked with verifiers
// (those that do not verify are ignored: verification reports them). It
// returns nil when no valid anchored checkpoint is larger than the log, a
// *ForkError when the largest valid one the log reaches has another root,
// and otherwise the gap. Checkpoints signed by one key are consistent with
// each other (the log never signs otherwise), so the largest one the log
// reaches stands for the smaller ones; full verification checks them all.
// It costs one parse per anchored checkpoint, a few signature checks and a
// few stored tree hashes, not a read of the records.
func FindGap(ctx context.Context, st GapStore, logID string, verifiers note.Verifiers, anchored [][]byte) (*Gap, error) {
	h, err := st.Head(ctx, logID)
	if err != nil {
		return nil, err
	}
	size := h.Seq + 1
	type cand struct {
		size int64
		msg  []byte
	}
	var above, below []cand
	for _, msg := range anchored {
		c, err := ParseSignedCheckpoint(msg)
		switch {
		case err != nil:
		case c.Size > size:
			above = append(above, cand{c.Size, msg})
		case c.Size > 0:
			below = append(below, cand{c.Size, msg})
		}
	}
	bySizeDown := func(a, b cand) int { return cmp.Compare(b.size, a.size) }
	slices.SortStableFunc(above, bySizeDown)
	slices.SortStableFunc(below, bySizeDown)
	var gap *Gap
	for _, c := range above {
		if cp, _, err := OpenCheckpoint(c.msg, verifiers); err == nil {
			gap = &Gap{LogID: logID, Size: size, Head: h.EntryHash, Anchored: cp, Note: c.msg}
			break
		}
	}
	if gap == nil || size == 0 {
		return gap, nil
	}
	base, err := st.Base(ctx, logID)
	if err != nil {
		return nil, err
	}
	hr := StoreHashReader(ctx, st, logID)
	for _, c := range below {
		cp, _, err := OpenCheckpoint(c.msg, verifiers)
		if err != nil {
			continue
		}
		if cp.Size < base.Size {
			break // pruned since: the base's checkpoint vouches for it
		}
		root, err := tlog.TreeHash(cp.Size, hr)
		if err != nil {
			return nil, fmt.Errorf("tree hash of log %q at size %d: %w", logID, cp.Size, err)
		}
		if root != cp.Root {
			return nil, &ForkError{LogID: logID, Size: cp.Size}
		}
		break
	}
	if gap.Root, err = tlog.TreeHash(size, hr); err != nil {
		return nil, fmt.Errorf("tree hash of log %q at size %d: %w", logID, size, err)
	}
	return gap, nil
}

// handoverHeader is the first line of a handover note.
const handoverHeader = "aitrail log restored"

// A Handover is the statement, signed by a restored log's key, that the log
// continues in another log with another key:
//
//	aitrail log restored\n
//	<origin of the restored log>\n
//	<restored size, decimal>\n
//	<Merkle root at that size, standard base64>\n
//	<log id of the new log>\n
//	<verifier key of the new log>\n
type Handover struct {
	Origin    string
	Size      int64
	Root      tlog.Hash
	NewLogID  string
	OriginKey string
}

func (h Handover) text() string {
	return fmt.Sprintf("%s\n%s\n%d\n%s\n%s\n%s\n", handoverHeader, h.Origin, h.Size,
		base64.StdEncoding.EncodeToString(h.Root[:]), h.NewLogID, h.OriginKey)
}

// SignHandover signs h with the restored log's signing key skey (whose name
// must be h.Origin).
func SignHandover(h Handover, skey string) ([]byte, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("log signing key: %w", err)
	}
	if s.Name() != h.Origin {
		return nil, fmt.Errorf("the signing key is of %q, not of the restored log %q", s.Name(), h.Origin)
	}
	return note.Sign(&note.Note{Text: h.text()}, s)
}

// OpenHandover checks a handover note's signature by the restored log's key
// (among known) and parses it strictly.
func OpenHandover(msg []byte, known note.Verifiers) (Handover, error) {
	var h Handover
	n, err := note.Open(msg, known)
	if err != nil {
		return h, fmt.Errorf("handover signature: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 7 || lines[6] != "" || lines[0] != handoverHeader {
		return h, errors.New("malformed handover: want six lines, the first " + strconv.Quote(handoverHeader))
	}
	h.Origin, h.NewLogID, h.OriginKey = lines[1], lines[4], lines[5]
	if h.Size, err = strconv.ParseInt(lines[2], 10, 64); err != nil || h.Size < 0 || strconv.FormatInt(h.Size, 10) != lines[2] {
		return h, fmt.Errorf("malformed handover: bad size %q", lines[2])
	}
	b, err := base64.StdEncoding.DecodeString(lines[3])
	if err != nil || len(b) != len(h.Root) || base64.StdEncoding.EncodeToString(b) != lines[3] {
		return h, fmt.Errorf("malformed handover: bad root %q", lines[3])
	}
	copy(h.Root[:], b)
	signed := false
	for _, s := range n.Sigs {
		signed = signed || s.Name == h.Origin
	}
	if !signed {
		return h, fmt.Errorf("handover of %q is not signed by that log's key", h.Origin)
	}
	if h.Text() != n.Text {
		return h, errors.New("malformed handover: not in canonical form")
	}
	return h, nil
}

// Text returns the handover's text, as signed.
func (h Handover) Text() string { return h.text() }

// RestoreEvent returns the detail of the log.restored event that starts the
// log newLogID (with verifier key newVKey) after gap, and signs its
// handover with the restored log's signing key oldSKey.
func RestoreEvent(gap *Gap, oldSKey, newLogID, newVKey string) (*record.Restore, error) {
	c, err := ParseSignedCheckpoint(gap.Note)
	if err != nil {
		return nil, err
	}
	origin := c.Origin
	ho, err := SignHandover(Handover{Origin: origin, Size: gap.Size, Root: gap.Root, NewLogID: newLogID, OriginKey: newVKey}, oldSKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(gap.Note)
	return &record.Restore{
		LogID: newLogID, FormatVersion: record.Version, OriginKey: newVKey,
		Log: gap.LogID, Size: gap.Size, Head: hex.EncodeToString(gap.Head[:]), Root: base64.StdEncoding.EncodeToString(gap.Root[:]),
		AnchoredSize: gap.Anchored.Size, Anchored: string(gap.Note), AnchoredHash: hex.EncodeToString(sum[:]),
		MissingFrom: gap.Size, MissingTo: gap.Anchored.Size - 1, Handover: string(ho),
	}, nil
}

// FirstRecordStore reads the start of a log.
type FirstRecordStore interface {
	Scan(ctx context.Context, logID string, from int64, fn func(*record.Record, record.Hash) error) error
}

// ReadRestore returns the detail of the log.restored event that starts the
// log logID, or nil if its first record is another (or it has none).
func ReadRestore(ctx context.Context, st FirstRecordStore, logID string) (*record.Restore, error) {
	var first *record.Record
	err := st.Scan(ctx, logID, 0, func(r *record.Record, _ record.Hash) error {
		first = r
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, err
	}
	if first == nil || first.Seq != 0 || first.Kind != record.KindRestored {
		return nil, nil
	}
	var r record.Restore
	if err := json.Unmarshal(first.Detail, &r); err != nil {
		return &record.Restore{LogID: logID}, fmt.Errorf("log %q starts with a log.restored event whose detail does not parse: %w", logID, err)
	}
	return &r, nil
}

// CheckRestore checks a log.restored event r against the log it names:
// its handover must be signed by that log's key (among known) and agree
// with the event, and the restored log's verification report old must end
// at the event's size and head. It returns what is wrong, for a person;
// nothing when the link holds.
func CheckRestore(r *record.Restore, old *Report, known note.Verifiers) []string {
	var bad []string
	h, err := OpenHandover([]byte(r.Handover), known)
	if err != nil {
		bad = append(bad, fmt.Sprintf("its handover does not verify with the key of log %q: %v", r.Log, err))
	} else if h.Size != r.Size || base64.StdEncoding.EncodeToString(h.Root[:]) != r.Root || h.NewLogID != r.LogID || h.OriginKey != r.OriginKey {
		bad = append(bad, "its handover states another size, root, log or key than the event")
	}
	if c, err := ParseSignedCheckpoint([]byte(r.Anchored)); err != nil || c.Size != r.AnchoredSize {
		bad = append(bad, "its anchored checkpoint does not parse or is not of the size it states")
	} else if sum := sha256.Sum256([]byte(r.Anchored)); hex.EncodeToString(sum[:]) != r.AnchoredHash {
		bad = append(bad, "its anchored_hash is not the SHA-256 of its anchored checkpoint")
	}
	if r.MissingFrom != r.Size || r.MissingTo != r.AnchoredSize-1 || r.AnchoredSize <= r.Size {
		bad = append(bad, "its gap does not follow from its sizes")
	}
	if old == nil || old.Records+old.Pruned == 0 {
		bad = append(bad, fmt.Sprintf("the log it continues, %q, is not in the database", r.Log))
	} else {
		n := old.Pruned + old.Records
		switch {
		case n != r.Size:
			bad = append(bad, fmt.Sprintf("it restored %d records of log %q, which holds %d", r.Size, r.Log, n))
		case hex.EncodeToString(old.Head[:]) != r.Head && old.Records > 0:
			bad = append(bad, fmt.Sprintf("it restored log %q at head %s, but its head is %x", r.Log, r.Head, old.Head))
		case b64(old.Root) != r.Root:
			bad = append(bad, fmt.Sprintf("it restored log %q at root %s, but its root is %s", r.Log, r.Root, b64(old.Root)))
		}
	}
	return bad
}

package ledger

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// VerifyStore is what verification reads.
type VerifyStore interface {
	Scan(ctx context.Context, logID string, from int64, fn func(*record.Record, record.Hash) error) error
	ScanBodies(ctx context.Context, logID string, from int64, fn func(seq int64, content []byte) error) error
	Checkpoints(ctx context.Context, logID string, from int64) ([]store.Checkpoint, error)
	ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error)
	Base(ctx context.Context, logID string) (store.Base, error)
}

// VerifyOptions say what Verify checks beyond the chain.
type VerifyOptions struct {
	// Committer checks bodies against their commitments; nil skips bodies.
	Committer *record.Committer
	// Verifiers are the keys whose signatures on checkpoints are trusted
	// (the log's own verifier key, held apart from the database). With
	// none, checkpoints are not checked and nothing counts as covered.
	Verifiers note.Verifiers
	// Anchored are signed checkpoints kept outside the database (anchors,
	// witnesses). Each must verify and match the log: a log shorter than
	// an anchored checkpoint was rolled back or truncated; a different
	// root means the log was rewritten or forked.
	Anchored [][]byte
	// StoredTree also checks the tree hashes stored beside the records,
	// which inclusion and consistency proofs are made from.
	StoredTree bool
	// From, if set, resumes verification where an earlier one ended
	// (Report.End): only the records, bodies and checkpoints from there on
	// are read. Erasures of earlier bodies are taken on trust; a full
	// verification checks them.
	From *Position
	// Restored, if above 0, is the size at which the log was restored from
	// a backup and continued in another log (whose log.restored event says
	// so, see CheckRestore). Anchored checkpoints beyond it are then the
	// records lost since the backup (Report.Missing), not a rollback; the
	// log must end exactly there.
	Restored int64
}

// A Position is where a verification ended: the records before Size were
// verified, with this Merkle root, last entry hash and time.
type Position struct {
	Size int64
	Root tlog.Hash
	Head record.Hash
	Time int64
}

// A Problem is one way in which the stored log differs from what was sealed.
type Problem struct {
	Seq   int64  `json:"seq"`   // the record at fault
	Cause string `json:"cause"` // what is wrong with it, for a person
}

func (p Problem) String() string { return fmt.Sprintf("record %d: %s", p.Seq, p.Cause) }

// A Report is the outcome of verifying one log.
type Report struct {
	LogID    string
	Records  int64       // records read
	Bodies   int64       // bodies checked against their commitments
	Head     record.Hash // recomputed entry hash of the last record
	Root     tlog.Hash   // recomputed Merkle root of all records read
	Problems []Problem   // in order of Seq; empty when the log is intact

	Erased   int64     // bodies absent because a body.erased event erased them
	Warnings []Problem // oddities that are not tampering
	// Pruned is the number of records deleted from the start of the log
	// under the retention policy; the log is verified from there, from a
	// signed checkpoint of that size.
	Pruned int64

	Checkpoints int64 // signed checkpoints checked (stored and anchored)
	Anchored    int64 // of which kept by anchors outside the database
	// Covered is the size of the largest valid checkpoint that matches the
	// log: records below it are proven by a signature; records from
	// Covered on are intact as far as the chain shows, but not yet covered
	// by a checkpoint.
	Covered int64
	// End is where this verification ended, to resume from.
	End Position
	// Missing, for a log restored at its end (VerifyOptions.Restored), is
	// the size of the largest anchored checkpoint beyond it: records End.Size
	// to Missing-1 were recorded after the backup and are lost. 0 if none.
	Missing int64
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify reads the whole log logID and checks, for every record, that the
// sequence has no gap, that its sealed fields still hash to what the next
// record committed to, that time never runs backwards, and that every stored
// body matches its commitment (c may be nil to skip the bodies).
//
// When the chain breaks between two records, Verify names the record at
// fault, not merely the place of the break: a record whose fields were
// edited; one inserted (its successor links past it); one out of place or
// replayed (it links to some other record); a gap where records were
// deleted. After a break it resynchronises on the record read, so every
// independent problem is reported. An error means verification could not
// run; problems are in the report.
func Verify(ctx context.Context, st VerifyStore, logID string, opts VerifyOptions) (*Report, error) {
	v := &verifier{
		rep:    &Report{LogID: logID},
		stored: map[record.Hash]int64{},
		bodies: map[int64]bodyRef{},
		erased: map[int64]int64{},
	}
	v.restored = opts.Restored
	base, err := st.Base(ctx, logID)
	if err != nil {
		return nil, err
	}
	from := int64(0)
	if base.Size > 0 && (opts.From == nil || opts.From.Size < base.Size) {
		if err := v.startAtBase(ctx, st, logID, base, opts); err != nil {
			return nil, err
		}
		from = base.Size
	} else if p := opts.From; p != nil && p.Size > 0 {
		if err := v.resume(ctx, st, logID, p); err != nil {
			return nil, err
		}
		from = p.Size
		v.rep.Covered = p.Size // verified before; later checkpoints extend it
	}
	v.rep.Pruned = base.Size
	if err := v.loadCheckpoints(ctx, st, logID, opts, from); err != nil {
		return nil, err
	}
	err = st.Scan(ctx, logID, from, func(r *record.Record, stored record.Hash) error {
		v.push(r, stored)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.push(nil, record.Hash{}) // flush the window
	v.push(nil, record.Hash{})
	v.rep.Root = v.tree.root()
	v.rep.End = Position{Size: v.tree.n, Root: v.rep.Root, Head: v.chain, Time: v.lastTime}
	v.finishCheckpoints()
	if v.base != nil && !v.baseRecorded {
		v.problem(v.base.Size, "the log starts at record %d, but no log.pruned event records a prune to there: records were deleted from its start", v.base.Size)
	}
	if opts.StoredTree {
		if err := v.checkStoredTree(ctx, st, logID); err != nil {
			return nil, err
		}
	}
	if opts.Committer != nil {
		if err := v.checkBodies(ctx, st, logID, from, opts.Committer); err != nil {
			return nil, err
		}
	}
	sortProblems(v.rep.Problems)
	return v.rep, nil
}

// errStopScan ends a scan early without failing it.
var errStopScan = errors.New("stop scan")

type bodyRef struct {
	nonce [16]byte
	hash  record.Hash
}

type item struct {
	r        *record.Record
	stored   record.Hash // entry_hash as stored beside the record
	computed record.Hash // entry hash recomputed from the fields
}

type verifier struct {
	rep    *Report
	stored map[record.Hash]int64 // stored entry hashes seen, to explain links to elsewhere
	bodies map[int64]bodyRef
	erased map[int64]int64 // record -> the body.erased event that erased its body
	ranges []erasedRange   // records whose bodies an event erased as a range

	// A window of three records: a link is judged when the record after
	// its successor is known.
	prev2, prev *item
	pending     *item

	expect   int64       // the Seq the next record should have
	chain    record.Hash // what the next record's PrevHash should be
	lastTime int64

	from int64 // where a resumed verification started
	// base is where a pruned log starts, when this run starts there; the
	// log.pruned event that records the prune must follow.
	base         *store.Base
	baseRecorded bool
	// The time line: while a gateway runs it records at least a heartbeat
	// every beat, so a longer silence is unrecorded time.
	running bool
	beat    time.Duration

	tree       treeBuilder // the Merkle tree of the records as read
	mismatches []mismatch  // checkpoints whose root the records do not give
	// cpSize is the size of the checkpoints being compared; coveredBelow
	// what matching checkpoints of smaller sizes covered.
	cpSize, coveredBelow int64
	cps                  []checkpoint // checkpoints to compare, by size
	next                 int          // the first of cps not yet reached
	restored             int64        // VerifyOptions.Restored
}

// mismatch is a checkpoint the log does not match.
type mismatch struct {
	from int64 // the size of the last matching checkpoint before it
	c    checkpoint
	root tlog.Hash // the recomputed root
}

// checkpoint is a signed checkpoint to check against the log.
type checkpoint struct {
	Checkpoint
	anchored bool   // from an anchor, not the database
	where    string // for messages
}

func (v *verifier) problem(seq int64, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, Problem{Seq: seq, Cause: fmt.Sprintf(format, args...)})
}

// push takes the next record in stored order (nil at the end). Records are
// judged one step behind, so that the record after is known.
func (v *verifier) push(r *record.Record, stored record.Hash) {
	var next *item
	if r != nil {
		enc := record.Encode(r)
		next = &item{r: r, stored: stored, computed: sha256.Sum256(enc)}
		v.tree.add(tlog.RecordHash(enc))
		v.reachCheckpoints()
	}
	if v.pending != nil {
		v.judge(v.pending, next)
		v.prev2, v.prev = v.prev, v.pending
	}
	v.pending = next
}

// judge checks it, whose predecessor is v.prev and successor next.
func (v *verifier) judge(it, next *item) {
	r := it.r
	v.rep.Records++
	v.rep.Head = it.computed
	if r.LogID != v.rep.LogID {
		v.problem(r.Seq, "belongs to log %q, not %q", r.LogID, v.rep.LogID)
	}
	if r.Version != record.Version {
		v.problem(r.Seq, "unknown format version %d", r.Version)
	}
	gap := false
	switch {
	case r.Seq > v.expect:
		gap = true
		if r.Seq-v.expect == 1 {
			v.problem(v.expect, "missing: deleted from the log (the log jumps from %d to %d)", v.expect-1, r.Seq)
		} else {
			v.problem(v.expect, "missing, with the %d records after it: records %d to %d were deleted", r.Seq-v.expect-1, v.expect, r.Seq-1)
		}
	case r.Seq < v.expect:
		v.problem(r.Seq, "sequence number repeats or goes back (expected %d)", v.expect)
	}
	v.expect = r.Seq + 1

	if r.PrevHash != v.chain && !gap {
		v.explainBreak(it, next)
	}
	if it.stored != it.computed {
		if next != nil && next.r.PrevHash == it.computed {
			v.problem(r.Seq, "stored entry hash altered (the sealed fields are intact: the next record confirms them)")
		} else {
			v.problem(r.Seq, "sealed fields altered: they no longer hash to the entry hash stored with them")
		}
	}
	v.checkTimeline(r)
	if r.Time < v.lastTime {
		v.problem(r.Seq, "time runs backwards (%s is before the previous record's %s)",
			r.TimeUTC().Format(time.RFC3339Nano), time.Unix(0, v.lastTime).UTC().Format(time.RFC3339Nano))
	} else {
		v.lastTime = r.Time
	}
	if !r.BodyHash.IsZero() {
		v.bodies[r.Seq] = bodyRef{nonce: r.Nonce, hash: r.BodyHash}
	}
	switch r.Kind {
	case record.KindErased:
		v.noteErasure(r)
	case record.KindPruned:
		v.notePrune(r)
	}
	v.stored[it.stored] = r.Seq
	// Resynchronise on this record, so that later records are judged on
	// their own.
	v.chain = it.computed
}

// explainBreak names the record at fault when it does not link to its
// predecessor v.prev.
func (v *verifier) explainBreak(it, next *item) {
	r, prev := it.r, v.prev
	switch {
	case prev == nil && v.base != nil:
		v.problem(r.Seq, "does not link to record %d, the last one pruned (as the log's base records it): altered, or the base was", v.from-1)
	case prev == nil && v.from > 0:
		v.problem(r.Seq, "does not link to record %d as verified before: records were changed since the last verification", v.from-1)
	case prev == nil:
		v.problem(r.Seq, "does not start the log: it links to a record that is not there")
	case prev.stored != prev.computed:
		// prev's own fields were altered, and reported when prev was judged.
	case v.prev2 != nil && r.PrevHash == v.prev2.computed:
		v.problem(prev.r.Seq, "inserted: record %d links straight to record %d", r.Seq, v.prev2.r.Seq)
	case v.linksElsewhere(r, next):
	case next != nil && next.r.PrevHash == it.computed:
		// r is confirmed by its successor, so prev changed after r sealed it.
		v.problem(prev.r.Seq, "sealed fields altered, and its stored entry hash rewritten to match: record %d committed to other contents", r.Seq)
	default:
		v.problem(r.Seq, "does not link to record %d: altered, inserted or moved", prev.r.Seq)
	}
}

// linksElsewhere reports a record that links to some other record than its
// predecessor: reordered, duplicated or replayed.
func (v *verifier) linksElsewhere(r *record.Record, next *item) bool {
	if seq, ok := v.stored[r.PrevHash]; ok {
		v.problem(r.Seq, "out of place: it follows record %d, not record %d (reordered, duplicated or replayed)", seq, r.Seq-1)
		return true
	}
	if next != nil && r.PrevHash == next.stored {
		v.problem(r.Seq, "out of place: it follows record %d, which comes after it (reordered)", next.r.Seq)
		return true
	}
	return false
}

func (v *verifier) checkBodies(ctx context.Context, st VerifyStore, logID string, from int64, c *record.Committer) error {
	seen := make(map[int64]bool, len(v.bodies))
	end := v.tree.n // bodies of records appended after the scan are not this run's
	err := st.ScanBodies(ctx, logID, from, func(seq int64, content []byte) error {
		if seq >= end {
			return errStopScan
		}
		ref, ok := v.bodies[seq]
		if !ok {
			v.problem(seq, "has a stored body it never committed to (inserted or moved body)")
			return nil
		}
		seen[seq] = true
		v.rep.Bodies++
		if c.Commit(ref.nonce, record.LabelBody, content) != ref.hash {
			v.problem(seq, "body altered: it does not match the record's body commitment")
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return err
	}
	if err := v.erasuresAfter(ctx, st, logID, end, seen); err != nil {
		return err
	}
	slices.SortFunc(v.ranges, func(a, b erasedRange) int { return cmp.Compare(a.first, b.first) })
	for seq := range v.bodies {
		ev, erased := v.erased[seq]
		if !erased {
			ev, erased = v.erasedInRange(seq)
		}
		switch {
		case !seen[seq] && erased:
			v.rep.Erased++
		case !seen[seq]:
			v.problem(seq, "body missing: deleted with no erasure event")
		case erased:
			v.rep.Warnings = append(v.rep.Warnings, Problem{Seq: seq,
				Cause: fmt.Sprintf("body still stored although event %d erased it (an interrupted purge?)", ev)})
		}
	}
	sortProblems(v.rep.Warnings)
	return nil
}

// erasuresAfter reads the erasure events appended after the records
// verified (from end), when some body is missing: a purge that ran while
// this verification read the log records its event after what was read,
// and deletes the bodies before the bodies are read. Those events are taken
// as they are; the next verification checks them in the chain.
func (v *verifier) erasuresAfter(ctx context.Context, st VerifyStore, logID string, end int64, seen map[int64]bool) error {
	missing := false
	for seq := range v.bodies {
		if !seen[seq] {
			if _, ok := v.erased[seq]; !ok {
				missing = true
				break
			}
		}
	}
	if !missing {
		return nil
	}
	return st.Scan(ctx, logID, end, func(r *record.Record, _ record.Hash) error {
		if r.Kind == record.KindErased {
			v.noteErasure(r)
		}
		return nil
	})
}

// An erasedRange is a range of records whose bodies event erased.
type erasedRange struct{ first, last, event int64 }

// noteErasure reads a body.erased event. An event that names records it
// cannot have erased (itself, later records, records without a body) is a
// problem: the evidence of a deletion must be exact. Only erasures of the
// stored (redacted) layer account for missing bodies; those of the vault
// and the PII index are checked for form.
func (v *verifier) noteErasure(r *record.Record) {
	var e record.Erasure
	if err := json.Unmarshal(r.Detail, &e); err != nil || len(e.Seqs)+len(e.Ranges) == 0 {
		v.problem(r.Seq, "erasure event without a readable list of records")
		return
	}
	stored := e.Layer == "" || e.Layer == record.LayerRedacted
	if !stored && e.Layer != record.LayerRaw && e.Layer != record.LayerPII {
		v.problem(r.Seq, "erasure event of an unknown layer %q", e.Layer)
		return
	}
	for _, rg := range e.Ranges {
		switch {
		case rg[0] > rg[1] || rg[0] < 0:
			v.problem(r.Seq, "erasure event names an empty range [%d, %d]", rg[0], rg[1])
		case rg[1] >= r.Seq:
			v.problem(r.Seq, "erasure event names records up to %d, which do not precede it", rg[1])
		case stored:
			v.ranges = append(v.ranges, erasedRange{rg[0], rg[1], r.Seq})
		}
	}
	for _, seq := range e.Seqs {
		_, hasBody := v.bodies[seq]
		switch {
		case seq < v.from && seq >= 0:
			// Verified before this (resumed) run, or pruned: taken on trust.
		case seq >= r.Seq || seq < 0:
			v.problem(r.Seq, "erasure event names record %d, which does not precede it", seq)
		case !stored:
		case !hasBody:
			v.problem(r.Seq, "erasure event names record %d, which never had a body", seq)
		default:
			v.erased[seq] = r.Seq
		}
	}
}

// erasedInRange returns the event that erased seq's body as part of a
// range, if one did (v.ranges sorted by first).
func (v *verifier) erasedInRange(seq int64) (int64, bool) {
	i, _ := slices.BinarySearchFunc(v.ranges, seq+1, func(r erasedRange, t int64) int { return cmp.Compare(r.first, t) })
	for j := i - 1; j >= 0; j-- {
		if r := v.ranges[j]; seq <= r.last {
			return r.event, true
		}
		if i-j > 64 {
			break // ranges rarely overlap; the nearest ones decide
		}
	}
	return 0, false
}

// notePrune reads a log.pruned event: the one that records the prune to the
// log's present base must state its size and head exactly.
func (v *verifier) notePrune(r *record.Record) {
	var p record.Prune
	if err := json.Unmarshal(r.Detail, &p); err != nil || p.Size <= 0 {
		v.problem(r.Seq, "prune event without a readable boundary")
		return
	}
	if p.Size > r.Seq {
		v.problem(r.Seq, "prune event names records up to %d, which do not precede it", p.Size-1)
		return
	}
	if v.base != nil && p.Size == v.base.Size {
		if p.Head != v.base.Head.String() || p.Time != v.base.Time {
			v.problem(r.Seq, "prune event's boundary (head %s) is not the log's base (head %s)", p.Head, v.base.Head)
		}
		v.baseRecorded = true
	}
}

// startAtBase sets the verifier up to start where a pruned log starts: from
// the signed checkpoint of the base's size, whose root the stored tree must
// still give, and the base's head, which the first record must link to.
func (v *verifier) startAtBase(ctx context.Context, st VerifyStore, logID string, b store.Base, opts VerifyOptions) error {
	v.base = &b
	var c Checkpoint
	var err error
	if opts.Verifiers != nil {
		c, _, err = OpenCheckpoint(b.Checkpoint, opts.Verifiers)
	} else {
		// No key to check the signature with: take the root as stored.
		c, err = ParseSignedCheckpoint(b.Checkpoint)
	}
	switch {
	case err != nil:
		v.problem(b.Size, "the checkpoint the log was pruned at does not verify: %v", err)
	case c.Size != b.Size:
		v.problem(b.Size, "the checkpoint the log was pruned at has size %d, not %d", c.Size, b.Size)
	}
	p := &Position{Size: b.Size, Root: c.Root, Head: b.Head, Time: b.Time}
	if err := v.resume(ctx, st, logID, p); err != nil {
		v.problem(b.Size, "the stored tree does not give the root of the checkpoint the log was pruned at: %v", err)
		v.from, v.expect, v.chain, v.lastTime = p.Size, p.Size, p.Head, p.Time
		v.tree = treeBuilder{n: p.Size}
	}
	return nil
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Seq, b.Seq) })
}

// treeBuilder computes an RFC 6962 Merkle root incrementally, keeping only
// the roots of the complete subtrees on the right edge (O(log n) memory).
type treeBuilder struct {
	n     int64
	stack []tlog.Hash
}

func (t *treeBuilder) add(leaf tlog.Hash) {
	h := leaf
	for n := t.n; n&1 == 1; n >>= 1 {
		h = tlog.NodeHash(t.stack[len(t.stack)-1], h)
		t.stack = t.stack[:len(t.stack)-1]
	}
	t.stack = append(t.stack, h)
	t.n++
}

func (t *treeBuilder) root() tlog.Hash {
	if len(t.stack) == 0 {
		return tlog.Hash{}
	}
	r := t.stack[len(t.stack)-1]
	for i := len(t.stack) - 2; i >= 0; i-- {
		r = tlog.NodeHash(t.stack[i], r)
	}
	return r
}

// loadCheckpoints reads the stored and anchored checkpoints, reporting any
// that does not verify.
func (v *verifier) loadCheckpoints(ctx context.Context, st VerifyStore, logID string, opts VerifyOptions, from int64) error {
	if opts.Verifiers == nil {
		return nil
	}
	stored, err := st.Checkpoints(ctx, logID, from+1)
	if err != nil {
		return err
	}
	// add checks one signed checkpoint; size is the size it is stored
	// under, or -1 for anchored ones.
	add := func(msg []byte, size int64, anchored bool, where string) {
		c, _, err := OpenCheckpoint(msg, opts.Verifiers)
		if err != nil {
			v.problem(max(size-1, 0), "%s does not verify: %v", where, err)
			return
		}
		if size >= 0 && c.Size != size {
			v.problem(max(size-1, 0), "%s says size %d", where, c.Size)
			return
		}
		if c.Size < from {
			return // before where this run starts: verified before, or pruned
		}
		v.cps = append(v.cps, checkpoint{Checkpoint: c, anchored: anchored, where: where})
	}
	for _, c := range stored {
		add(c.Note, c.Size, false, fmt.Sprintf("stored checkpoint of size %d", c.Size))
	}
	for i, msg := range opts.Anchored {
		add(msg, -1, true, fmt.Sprintf("anchored checkpoint #%d", i+1))
	}
	// Checkpoints of another log (another origin) are not this log's.
	if len(v.cps) > 0 {
		origin := v.cps[0].Origin
		for _, c := range v.cps {
			if c.Origin != origin {
				v.problem(c.Size-1, "%s is of log %q, not %q", c.where, c.Origin, origin)
			}
		}
	}
	slices.SortStableFunc(v.cps, func(a, b checkpoint) int { return cmp.Compare(a.Size, b.Size) })
	return nil
}

// reachCheckpoints compares the root of the records read so far with every
// checkpoint of that size.
func (v *verifier) reachCheckpoints() {
	for v.next < len(v.cps) && v.cps[v.next].Size <= v.tree.n {
		c := v.cps[v.next]
		v.next++
		v.rep.Checkpoints++
		if c.anchored {
			v.rep.Anchored++
		}
		if c.Size == 0 {
			continue
		}
		if c.Size != v.tree.n {
			continue // unreachable: sizes are visited in order
		}
		if c.Size != v.cpSize {
			// The first checkpoint of this size: what was covered below it.
			v.cpSize, v.coveredBelow = c.Size, v.rep.Covered
		}
		if root := v.tree.root(); root != c.Root {
			// Judged at the end, when the chain's own findings in the range
			// are known.
			v.mismatches = append(v.mismatches, mismatch{from: v.coveredBelow, c: c, root: root})
			continue
		}
		if c.Size > v.rep.Covered {
			v.rep.Covered = c.Size
		}
	}
}

// finishCheckpoints reports the checkpoints the log does not match, and
// those beyond its end. A mismatch that the chain already explains (an
// edited, inserted or moved record in its range) is reported behind the
// first of those records; one the chain does not explain (the records were
// rewritten consistently: a forgery or a fork) names the range from the
// last matching checkpoint, the most that can be said.
func (v *verifier) finishCheckpoints() {
	for _, m := range v.mismatches {
		seq, explained := m.from, false
		for _, p := range v.rep.Problems {
			if p.Seq >= m.from && p.Seq < m.c.Size && (!explained || p.Seq < seq) {
				seq, explained = p.Seq, true
			}
		}
		v.problem(seq, "records %d to %d differ from the %s (root %s, recomputed %s): the log was rewritten or forked",
			m.from, m.c.Size-1, m.c.where, b64(m.c.Root), b64(m.root))
	}
	for ; v.next < len(v.cps); v.next++ {
		c := v.cps[v.next]
		v.rep.Checkpoints++
		if c.anchored {
			v.rep.Anchored++
		}
		if v.restored > 0 && v.restored == v.tree.n && c.anchored {
			v.rep.Missing = max(v.rep.Missing, c.Size) // lost since the backup it was restored from
			continue
		}
		v.problem(v.tree.n, "the log has %d records but the %s covers %d: the log was truncated or rolled back",
			v.tree.n, c.where, c.Size)
	}
}

// checkStoredTree checks the tree hashes stored for proofs against the
// recomputed root.
func (v *verifier) checkStoredTree(ctx context.Context, st VerifyStore, logID string) error {
	if v.tree.n == 0 {
		return nil
	}
	got, err := tlog.TreeHash(v.tree.n, StoreHashReader(ctx, st, logID))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			v.problem(v.tree.n-1, "stored tree hashes are missing: proofs cannot be made")
			return nil
		}
		return err
	}
	if got != v.rep.Root {
		v.problem(v.tree.n-1, "stored tree hashes do not match the records (root %s, recomputed %s): proofs would be wrong", b64(got), b64(v.rep.Root))
	}
	return nil
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// resume sets the verifier up to continue after p: the chain from p's last
// entry hash, and the tree from the stored hashes of its right edge, which
// must give p's root.
func (v *verifier) resume(ctx context.Context, st VerifyStore, logID string, p *Position) error {
	var idx []int64
	var start int64
	for l := 62; l >= 0; l-- {
		if p.Size&(1<<l) != 0 {
			idx = append(idx, tlog.StoredHashIndex(l, start>>l))
			start += 1 << l
		}
	}
	hs, err := StoreHashReader(ctx, st, logID).ReadHashes(idx)
	if err != nil {
		return fmt.Errorf("resume verification at %d: %w", p.Size, err)
	}
	v.tree = treeBuilder{n: p.Size, stack: hs}
	if v.tree.root() != p.Root {
		return fmt.Errorf("resume verification at %d: the stored tree no longer has the root verified before; verify the whole log", p.Size)
	}
	v.from, v.expect, v.chain, v.lastTime = p.Size, p.Size, p.Head, p.Time
	return nil
}

// checkTimeline warns of silences longer than two heartbeats while a
// gateway was running: it was hung or suspended, or stopped without
// recording it (a crash), or records were removed. A warning, not a
// failure: the records themselves are intact.
func (v *verifier) checkTimeline(r *record.Record) {
	if v.running && v.beat > 0 && v.lastTime > 0 {
		if gap := time.Duration(r.Time - v.lastTime); gap > 2*v.beat+10*time.Second {
			cause := fmt.Sprintf("%s without a record before this one while the gateway was running (heartbeat every %s): it was hung or suspended, or records were removed", gap.Round(time.Second), v.beat)
			if r.Kind == record.KindGatewayStarted {
				cause = fmt.Sprintf("the gateway restarted after %s without recording that it stopped (a crash or a kill)", gap.Round(time.Second))
			}
			v.rep.Warnings = append(v.rep.Warnings, Problem{Seq: r.Seq, Cause: cause})
		}
	}
	switch r.Kind {
	case record.KindGatewayStarted:
		var d struct {
			Heartbeat string `json:"heartbeat"`
		}
		json.Unmarshal(r.Detail, &d)
		beat, err := time.ParseDuration(d.Heartbeat)
		v.running, v.beat = err == nil && beat > 0, beat
	case record.KindGatewayStopped:
		v.running = false
	}
}

// Package ledger is the only writer of aitrail's log.
//
// Callers hand records to Append from any number of goroutines. One writer
// goroutine takes whatever is waiting, assigns sequence numbers and times,
// chains the entry hashes, extends the log's RFC 6962 Merkle tree (the
// stored hashes of golang.org/x/mod/sumdb/tlog), and writes the whole group
// in one store transaction: one commit and one fsync for many callers
// (group commit). Each caller is woken once its record is durable. If the
// store fails, every caller of that group gets the error and nothing of the
// group was written: aitrail refuses a call it cannot record (fail-closed).
package ledger

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("ledger closed")

// Store is what the ledger needs of a store.
type Store interface {
	Append(ctx context.Context, logID string, build func(context.Context, store.AppendTx) (*store.Batch, error)) error
}

// An Entry is a record to append, with its body.
type Entry struct {
	// Record is filled by the caller except for Version, LogID, Seq, Time
	// and PrevHash, which Append sets.
	Record *record.Record
	// Body is stored beside the record; nil for none.
	Body []byte
	// PII indexes the sensitive values found in the record (their Seq is
	// set by Append).
	PII []store.PIIEntry
}

// Observer receives the ledger's measurements. Its methods must be cheap
// and safe for concurrent use.
type Observer interface {
	// Committed is called after each group with its size and duration, and
	// the error if it failed.
	Committed(records int, d time.Duration, err error)
	// Queue is called with the number of entries waiting for the writer.
	Queue(n int)
}

// Options configure a Ledger.
type Options struct {
	// MaxBatch caps the entries written in one transaction (default 512).
	MaxBatch int
	// Now is the clock (default time.Now). Record times never go backwards
	// even if it does.
	Now func() time.Time
	// Observer, if set, receives measurements.
	Observer Observer
}

// A Ledger appends to one log.
type Ledger struct {
	st    Store
	logID string
	opts  Options

	reqs chan *request
	mu   sync.RWMutex // guards closed against sends racing with Close
	done chan struct{}

	closed bool

	// Owned by the writer goroutine: the head it last wrote and the tree
	// hashes it knows, so that an append reads only the head from the
	// store. If the head in the store is not the one cached (another
	// process appended), the cache is dropped.
	head   store.Head
	hashes map[int64]tlog.Hash
}

// maxCachedHashes bounds the tree hash cache; past it the cache restarts
// (the hashes an append needs are then read from the store once).
const maxCachedHashes = 1 << 20

type request struct {
	entries []*Entry
	ctx     context.Context
	err     chan error
}

// New returns a Ledger that appends to the log logID of st, and starts its
// writer. Close stops it.
func New(st Store, logID string, opts Options) *Ledger {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Ledger{
		st:    st,
		logID: logID,
		opts:  opts,
		reqs:  make(chan *request, 4096),
		done:  make(chan struct{}),
		head:  store.Head{Seq: -2},
	}
	go l.run()
	return l
}

// LogID returns the id of the log the ledger appends to.
func (l *Ledger) LogID() string { return l.logID }

// Append appends the entries, in order and without others between them,
// and returns once they are durable. It sets each record's Version, LogID,
// Seq, Time and PrevHash. If it returns an error, none of them was written.
// If ctx ends first Append returns ctx.Err(), and the entries may or may not
// be written. It is safe for concurrent use.
func (l *Ledger) Append(ctx context.Context, entries ...*Entry) error {
	if len(entries) == 0 {
		return nil
	}
	req := &request{entries: entries, ctx: ctx, err: make(chan error, 1)}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
	if l.opts.Observer != nil {
		l.opts.Observer.Queue(len(l.reqs))
	}
	select {
	case err := <-req.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what was already handed to Append, then stops the writer.
// Appends after Close fail with ErrClosed.
func (l *Ledger) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.reqs)
	}
	l.mu.Unlock()
	<-l.done
}

func (l *Ledger) run() {
	defer close(l.done)
	var group []*request
	for req := range l.reqs {
		group = append(group[:0], req)
		n := len(req.entries)
	drain:
		for n < l.opts.MaxBatch {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
				n += len(r.entries)
			default:
				break drain
			}
		}
		start := time.Now()
		err := l.write(group)
		if l.opts.Observer != nil {
			l.opts.Observer.Committed(n, time.Since(start), err)
			l.opts.Observer.Queue(len(l.reqs))
		}
		if err != nil && len(group) > 1 {
			// One bad record (a value the database refuses) must not
			// refuse everyone else's call: write each request alone.
			for _, r := range group {
				r.err <- l.write([]*request{r})
			}
			continue
		}
		for _, r := range group {
			r.err <- err
		}
	}
}

// write appends one group in one transaction. A request whose caller has
// already gone is still written: its record may have been promised
// elsewhere, and a record too many is harmless where one too few is not.
func (l *Ledger) write(group []*request) error {
	// The store transaction must not be cut short by one caller's context.
	ctx := context.Background()
	var newHead store.Head
	pending := map[int64]tlog.Hash{}
	err := l.st.Append(ctx, l.logID, func(ctx context.Context, tx store.AppendTx) (*store.Batch, error) {
		h, err := tx.Head(ctx)
		if err != nil {
			return nil, err
		}
		if h != l.head || len(l.hashes) > maxCachedHashes {
			l.hashes = map[int64]tlog.Hash{}
		}
		clear(pending)
		b := &store.Batch{}
		hr := &batchHashes{ctx: ctx, tx: tx, pending: pending, cache: l.hashes}
		seq, prev, last := h.Seq+1, h.EntryHash, h.Time
		now := l.opts.Now().UnixNano()
		if now < last {
			now = last
		}
		for _, req := range group {
			for _, e := range req.entries {
				r := e.Record
				r.Version = record.Version
				r.LogID = l.logID
				r.Seq = seq
				r.Time = now
				r.PrevHash = prev
				enc := record.Encode(r)
				hashes, err := tlog.StoredHashes(seq, enc, hr)
				if err != nil {
					return nil, fmt.Errorf("extend tree at %d: %w", seq, err)
				}
				base := tlog.StoredHashIndex(0, seq)
				for i, th := range hashes {
					idx := base + int64(i)
					hr.pending[idx] = th
					b.Hashes = append(b.Hashes, store.TreeHash{Index: idx, Hash: record.Hash(th)})
				}
				prev = sha256.Sum256(enc)
				b.Records = append(b.Records, r)
				b.EntryHashes = append(b.EntryHashes, prev)
				if e.Body != nil {
					b.Bodies = append(b.Bodies, store.Body{Seq: seq, Content: e.Body})
				}
				for _, p := range e.PII {
					p.Seq = seq
					b.PII = append(b.PII, p)
				}
				seq++
			}
		}
		newHead = store.Head{Seq: seq - 1, Time: now, EntryHash: prev}
		return b, nil
	})
	if err != nil {
		l.head = store.Head{Seq: -2}
		return fmt.Errorf("append to log %q: %w", l.logID, err)
	}
	l.head = newHead
	for idx, h := range pending {
		l.hashes[idx] = h
	}
	return nil
}

// batchHashes reads tree hashes for tlog: those of the group being written
// (pending), then those the ledger knows (cache), then the store's.
type batchHashes struct {
	ctx     context.Context
	tx      store.AppendTx
	pending map[int64]tlog.Hash
	cache   map[int64]tlog.Hash
}

func (b *batchHashes) known(idx int64) (tlog.Hash, bool) {
	if h, ok := b.pending[idx]; ok {
		return h, true
	}
	h, ok := b.cache[idx]
	return h, ok
}

func (b *batchHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, idx := range indexes {
		if h, ok := b.known(idx); ok {
			out[i] = h
		} else {
			missing = append(missing, idx)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := b.tx.ReadHashes(b.ctx, missing)
	if err != nil {
		return nil, err
	}
	j := 0
	for i, idx := range indexes {
		if _, ok := b.known(idx); !ok {
			out[i] = tlog.Hash(got[j])
			b.cache[idx] = out[i]
			j++
		}
	}
	return out, nil
}

// BodyDeleter deletes stored bodies.
type BodyDeleter interface {
	DeleteBodies(ctx context.Context, logID string, seqs []int64) (int64, error)
}

// Erase erases the bodies of the records seqs under a policy: it first
// appends a body.erased event naming them (the evidence of the deletion,
// durable before anything is deleted), then deletes them. by is the event's
// record with Actor and Role set (the rest is filled in).
func Erase(ctx context.Context, l *Ledger, st BodyDeleter, seqs []int64, e record.Erasure, actor, role string) (int64, error) {
	if len(seqs) == 0 {
		return 0, nil
	}
	e.Seqs = seqs
	ev := record.NewEvent(record.KindErased, e)
	ev.Actor, ev.Role = actor, role
	if err := l.Append(ctx, &Entry{Record: ev}); err != nil {
		return 0, fmt.Errorf("record the erasure: %w", err)
	}
	return st.DeleteBodies(ctx, l.LogID(), seqs)
}

package vault

import (
	"context"
	"sync"
	"time"
)

// A Queue seals in the background. The audit log does not depend on the
// vault (records commit to the clear body by hash), so a gateway need not
// wait for each raw body's fsync. Seal hands the body to a batcher, which
// gathers bodies for up to the queue's linger (or until it has maxBatch)
// and seals them with SealMany: one transaction and one fsync for the lot.
// Fewer, larger commits leave the disk and the processors to the audit
// log's own commits, which callers do wait for.
//
// When the queue is full, Seal seals synchronously instead, so a body is
// never dropped for want of room. A crash loses what was still queued
// (usually the bodies of the last linger); Close seals all of it first.
type Queue struct {
	v      *Vault
	items  chan Body
	linger time.Duration
	onErr  func(error)
	done   chan struct{}
	once   sync.Once
}

// maxBatch is the most bodies the batcher seals in one SealMany.
const maxBatch = 256

// NewQueue starts a batcher sealing into v from a queue of capacity
// bodies, gathering each batch for up to linger. onErr is called (from the
// batcher) for every seal that fails.
func NewQueue(v *Vault, capacity int, linger time.Duration, onErr func(error)) *Queue {
	q := &Queue{v: v, items: make(chan Body, capacity), linger: linger, onErr: onErr, done: make(chan struct{})}
	go q.run()
	return q
}

func (q *Queue) run() {
	defer close(q.done)
	// Since Go 1.23 a stopped or reset timer never delivers a stale tick.
	timer := time.NewTimer(q.linger)
	timer.Stop()
	for first := range q.items {
		batch := []Body{first}
		timer.Reset(q.linger)
	gather:
		for len(batch) < maxBatch {
			select {
			case b, ok := <-q.items:
				if !ok {
					break gather // closed: seal what we have, then stop
				}
				batch = append(batch, b)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		for _, err := range q.v.SealMany(context.Background(), batch) {
			if err != nil && q.onErr != nil {
				q.onErr(err)
			}
		}
	}
}

// Seal queues the parts, or seals them at once if the queue is full (and
// then returns the seal's error). It must not be called after Close.
func (q *Queue) Seal(ctx context.Context, logID string, nonce [16]byte, parts map[string][]byte, expires time.Time) error {
	b := Body{LogID: logID, Nonce: nonce, Parts: parts, Expires: expires}
	select {
	case q.items <- b:
		return nil
	default:
	}
	err := q.v.Seal(ctx, logID, nonce, parts, expires)
	if err != nil && q.onErr != nil {
		q.onErr(err)
	}
	return err
}

// Close seals everything queued, then stops the batcher.
func (q *Queue) Close() {
	q.once.Do(func() { close(q.items) })
	<-q.done
}

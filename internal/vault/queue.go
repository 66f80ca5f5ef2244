package vault

import (
	"context"
	"sync"
	"time"
)

// A Queue seals in the background. The audit log does not depend on the
// vault (records commit to the clear body by hash), so a gateway need not
// wait for each raw body's fsync: Seal hands the body to workers, whose
// concurrent seals share the vault's group commits. When the queue is full,
// Seal seals synchronously instead, so a body is never dropped for want of
// room. A crash loses what was still queued; Close waits for all of it.
type Queue struct {
	v     *Vault
	items chan queued
	onErr func(error)
	wg    sync.WaitGroup
	once  sync.Once
}

type queued struct {
	logID   string
	nonce   [16]byte
	parts   map[string][]byte
	expires time.Time
}

// NewQueue starts workers sealing into v from a queue of capacity bodies.
// onErr is called (from a worker) for every seal that fails.
func NewQueue(v *Vault, workers, capacity int, onErr func(error)) *Queue {
	q := &Queue{v: v, items: make(chan queued, capacity), onErr: onErr}
	for i := 0; i < workers; i++ {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for it := range q.items {
				q.seal(context.Background(), it)
			}
		}()
	}
	return q
}

func (q *Queue) seal(ctx context.Context, it queued) error {
	err := q.v.Seal(ctx, it.logID, it.nonce, it.parts, it.expires)
	if err != nil && q.onErr != nil {
		q.onErr(err)
	}
	return err
}

// Seal queues the parts, or seals them at once if the queue is full (and
// then returns the seal's error). It must not be called after Close.
func (q *Queue) Seal(ctx context.Context, logID string, nonce [16]byte, parts map[string][]byte, expires time.Time) error {
	it := queued{logID: logID, nonce: nonce, parts: parts, expires: expires}
	select {
	case q.items <- it:
		return nil
	default:
		return q.seal(ctx, it)
	}
}

// Close seals everything queued, then stops the workers.
func (q *Queue) Close() {
	q.once.Do(func() { close(q.items) })
	q.wg.Wait()
}

package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LeaseTTL is how long a node's lease lasts unless renewed. Its holder
// renews it every LeaseTTL/3; a gateway killed without a clean stop keeps
// its node name from any other holder for at most LeaseTTL (the same
// holder, a restart on the same data directory, takes it back at once).
const LeaseTTL = 15 * time.Second

// A HeldError is a lease another holder has.
type HeldError struct {
	Node    string
	Holder  string
	Expires time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("node %q is held by another gateway (%s) until %s unless it renews its lease",
		e.Node, e.Holder, e.Expires.UTC().Format(time.RFC3339))
}

// ErrLost is returned by Lease.Run when the lease was lost: another holder
// took it.
var ErrLost = errors.New("lost the node's lease")

// A Lease is the right to write one node's log. It is held in the
// node_leases table: a row per node with its holder and expiry, taken with
// a conditional update (the row is free, expired, or already this
// holder's), as Sunlight's lock backend takes its checkpoint's.
type Lease struct {
	db     *sql.DB
	node   string
	holder string
	ttl    time.Duration
	now    func() time.Time
}

// Acquire takes the lease on node for holder, which names the gateway (its
// host and data directory) in messages to the others. It returns a
// *HeldError if another holder has it and it has not expired.
func Acquire(ctx context.Context, db *sql.DB, node, holder string, ttl time.Duration) (*Lease, error) {
	l := &Lease{db: db, node: node, holder: holder, ttl: ttl, now: time.Now}
	if _, err := db.ExecContext(ctx, `INSERT INTO node_leases (node, holder, expires_ns) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, node, holder); err != nil {
		return nil, fmt.Errorf("take the lease on node %q: %w", node, err)
	}
	ok, err := l.take(ctx, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		var h string
		var exp int64
		if err := db.QueryRowContext(ctx, `SELECT holder, expires_ns FROM node_leases WHERE node = $1`, node).Scan(&h, &exp); err != nil {
			return nil, fmt.Errorf("take the lease on node %q: %w", node, err)
		}
		return nil, &HeldError{Node: node, Holder: h, Expires: time.Unix(0, exp)}
	}
	return l, nil
}

// take extends the lease; with steal, also from an expired holder.
func (l *Lease) take(ctx context.Context, steal bool) (bool, error) {
	start := l.now()
	q := `UPDATE node_leases SET holder = $1, expires_ns = $2 WHERE node = $3 AND holder = $1`
	args := []any{l.holder, start.Add(l.ttl).UnixNano(), l.node}
	if steal {
		q = `UPDATE node_leases SET holder = $1, expires_ns = $2 WHERE node = $3 AND (holder = $1 OR expires_ns < $4)`
		args = append(args, start.UnixNano())
	}
	res, err := l.db.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("renew the lease on node %q: %w", l.node, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renew the lease on node %q: %w", l.node, err)
	}
	return n == 1, nil
}

// Run renews the lease every ttl/3 until ctx ends, then releases it (and
// returns the release's error). It returns an error wrapping ErrLost as
// soon as it finds the lease another's: the caller must stop writing the
// node's log at once. While the database cannot be reached it keeps
// trying: the node cannot write its log then either, and when the
// database is back it renews the lease, even expired, unless another
// holder took it meanwhile.
func (l *Lease) Run(ctx context.Context) error {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return l.release()
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		ok, err := l.take(rctx, false)
		cancel()
		if err == nil && !ok {
			return fmt.Errorf("%w: another gateway holds node %q now", ErrLost, l.node)
		}
	}
}

// release gives the lease up, so that another holder may take it at once.
func (l *Lease) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
	defer cancel()
	_, err := l.db.ExecContext(ctx, `UPDATE node_leases SET expires_ns = 0 WHERE node = $1 AND holder = $2`, l.node, l.holder)
	if err != nil {
		return fmt.Errorf("release the lease on node %q: %w", l.node, err)
	}
	return nil
}

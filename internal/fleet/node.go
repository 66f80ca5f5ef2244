package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
)

// NodeOptions describe a gateway joining its fleet at start.
type NodeOptions struct {
	LogID  string // the node's name, which is its log's id
	Holder string // who takes the lease: host and data directory
	TTL    time.Duration
	// VerifierKey and SigningKey are the node's log keys.
	VerifierKey, SigningKey string
	// Secrets are the node's fleet-wide keys by name, nil where it has
	// none (see CheckSecrets).
	Secrets map[string][]byte
	// Anchors take the node's fleet checkpoints (file anchors).
	Anchors []ledger.Anchor
	// Every is about how often the fleet signs a fleet checkpoint.
	Every time.Duration
}

// A Node is a serving gateway's place in the fleet: it holds the node's
// lease and signs fleet checkpoints.
type Node struct {
	lease  *Lease
	signer *Signer
}

// Join takes the node's lease, then records its verifier key and checks
// its fleet-wide keys against the database. The lease comes first, so
// that a second gateway of the same name is refused before it writes
// anything. Run keeps the lease.
func Join(ctx context.Context, db *sql.DB, o NodeOptions) (*Node, error) {
	if o.TTL == 0 {
		o.TTL = LeaseTTL
	}
	lease, err := Acquire(ctx, db, o.LogID, o.Holder, o.TTL)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Node, error) {
		return nil, errors.Join(err, lease.release())
	}
	if o.VerifierKey == "" {
		return fail(fmt.Errorf("node %q has no log verifier key", o.LogID))
	}
	if err := RecordKey(ctx, db, o.LogID, o.VerifierKey); err != nil {
		return fail(err)
	}
	if err := CheckSecrets(ctx, db, o.Secrets); err != nil {
		return fail(err)
	}
	n := &Node{lease: lease}
	if o.SigningKey != "" {
		if n.signer, err = NewSigner(db, o.SigningKey, o.Anchors, o.Every); err != nil {
			return fail(err)
		}
	}
	return n, nil
}

// Run renews the node's lease until ctx ends (see Lease.Run).
func (n *Node) Run(ctx context.Context) error { return n.lease.Run(ctx) }

// SignCheckpoint signs a fleet checkpoint if the heads moved (see
// Signer.Sign).
func (n *Node) SignCheckpoint(ctx context.Context) (*Checkpoint, []error, error) {
	if n.signer == nil {
		return nil, nil, nil
	}
	return n.signer.Sign(ctx)
}

// Joined reports whether the fleet in db has fleet-wide keys already, so
// that a new node must join it (take them from a node) before its first
// start rather than make its own.
func Joined(ctx context.Context, db *sql.DB) (bool, error) {
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM fleet_keys`).Scan(&n); err != nil {
		return false, fmt.Errorf("read the fleet's keys: %w", err)
	}
	return n > 0, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/store"
)

// Base implements store.Store.
func (s *Store) Base(ctx context.Context, logID string) (store.Base, error) {
	return s.base(ctx, s.db, logID)
}

func (s *Store) base(ctx context.Context, q querier, logID string) (store.Base, error) {
	var b store.Base
	var head []byte
	err := q.QueryRowContext(ctx, `SELECT size, head, time_ns, checkpoint FROM log_bases WHERE log_id = $1`, logID).
		Scan(&b.Size, &head, &b.Time, &b.Checkpoint)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Base{}, nil
	}
	if err != nil {
		return store.Base{}, fmt.Errorf("read base of log %q: %w", logID, err)
	}
	copy(b.Head[:], head)
	if len(b.Checkpoint) == 0 {
		b.Checkpoint = nil
	}
	return b, nil
}

// SetBase implements store.Store.
func (s *Store) SetBase(ctx context.Context, logID string, b store.Base) error {
	what := fmt.Sprintf("move the base of log %q to %d", logID, b.Size)
	tx, unlock, err := s.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer unlock()
	defer tx.Rollback() // a no-op once committed
	cur, err := s.base(ctx, tx, logID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if b.Size <= cur.Size {
		return fmt.Errorf("%s: it starts at %d already", what, cur.Size)
	}
	h, err := s.head(ctx, tx, logID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if b.Size > h.Seq+1 {
		return fmt.Errorf("%s: it has only %d records", what, h.Seq+1)
	}
	// The WHERE keeps the base from moving back if another SetBase
	// committed since it was read (on PostgreSQL, where this transaction
	// does not hold a lock from the start).
	res, err := tx.ExecContext(ctx, `INSERT INTO log_bases (log_id, size, head, time_ns, checkpoint) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (log_id) DO UPDATE SET size = excluded.size, head = excluded.head, time_ns = excluded.time_ns, checkpoint = excluded.checkpoint
WHERE log_bases.size < excluded.size`, logID, b.Size, b.Head[:], b.Time, nonNil(b.Checkpoint))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n != 1 {
		return fmt.Errorf("%s: another process moved it at the same time", what)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// PruneBefore implements store.Store. A limit of 0 or less is an error.
func (s *Store) PruneBefore(ctx context.Context, logID string, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("prune log %q: limit %d, want at least 1", logID, limit)
	}
	b, err := s.Base(ctx, logID)
	if err != nil || b.Size == 0 {
		return 0, err
	}
	// Start past what this store pruned already: on PostgreSQL the index
	// keeps the entries of deleted rows until a vacuum, and reading them
	// again in each call would make a long prune quadratic.
	from := int64(0)
	if v, ok := s.pruned.Load(logID); ok {
		from = v.(int64)
	}
	var lo int64
	err = s.db.QueryRowContext(ctx, `SELECT seq FROM records WHERE log_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT 1`,
		logID, from, b.Size).Scan(&lo)
	switch {
	case err == nil:
		hi := min(lo+int64(limit), b.Size)
		n, err := s.pruneRecords(ctx, logID, hi)
		if err == nil {
			// No record before hi is left, and none can come back:
			// appends go after the head, which is past the base.
			s.pruned.Store(logID, hi)
		}
		return n, err
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("prune log %q: %w", logID, err)
	}
	return 0, nil
}

// pruneRecords deletes, in one transaction, the records of a log before
// hi, with their bodies, PII index entries and deferred entries, and
// returns how many records it deleted.
func (s *Store) pruneRecords(ctx context.Context, logID string, hi int64) (int64, error) {
	what := fmt.Sprintf("prune log %q before %d", logID, hi)
	tx, unlock, err := s.beginWrite(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer unlock()
	defer tx.Rollback() // a no-op once committed
	res, err := tx.ExecContext(ctx, `DELETE FROM records WHERE log_id = $1 AND seq < $2`, logID, hi)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	for _, table := range []string{"bodies", "pii_index", "unanswered"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE log_id = $1 AND seq < $2`, logID, hi); err != nil {
			return 0, fmt.Errorf("%s: %s: %w", what, table, err)
		}
	}
	// Deferred entries are keyed by layer first: delete layer by layer, so
	// that each delete is a range of the primary key. Every layer with
	// deferred entries has a mark, written in the same transaction.
	layers, err := s.layers(ctx, tx, logID)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	for _, layer := range layers {
		_, err := tx.ExecContext(ctx, `DELETE FROM retention_deferred WHERE log_id = $1 AND layer = $2 AND seq < $3`, logID, layer, hi)
		if err != nil {
			return 0, fmt.Errorf("%s: deferred records of layer %q: %w", what, layer, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// layers returns the layers of a log that have a retention mark.
func (s *Store) layers(ctx context.Context, q querier, logID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT layer FROM retention_marks WHERE log_id = $1`, logID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var layer string
		if err := rows.Scan(&layer); err != nil {
			return nil, err
		}
		out = append(out, layer)
	}
	return out, rows.Err()
}

// PruneTree implements store.Store. A limit of 0 or less is an error.
//
// The hashes stored before record base, those with an index below
// tlog.StoredHashIndex(0, base), are the nodes lying wholly inside the
// first base leaves. Of that region, tree hashes, inclusion proofs of
// records base and later, consistency proofs between trees of size base
// and more, and the hashes an append computes only ever read the maximal
// complete subtrees of [0, base): the nodes of base's right edge, which
// rightEdge lists (and the verifier reads to resume at base). Every other
// node there lies inside one of those, so nothing is ever computed from it.
// (TestRightEdgeSuffices checks this for every base of trees up to 70
// leaves.)
func (s *Store) PruneTree(ctx context.Context, logID string, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("prune the tree of log %q: limit %d, want at least 1", logID, limit)
	}
	b, err := s.Base(ctx, logID)
	if err != nil || b.Size == 0 {
		return 0, err
	}
	keep := rightEdge(b.Size)
	end := tlog.StoredHashIndex(0, b.Size)
	ps := make([]string, len(keep))
	args := []any{logID, nil, nil}
	for i, idx := range keep {
		args = append(args, idx)
		ps[i] = "$" + strconv.Itoa(len(args))
	}
	notKept := `idx NOT IN (` + strings.Join(ps, ",") + `)`
	// Start past what this store pruned already for this base (see
	// PruneBefore; a later base keeps other hashes). Once pruned, only the
	// kept hashes remain before end, so this reads at most 63 rows (and,
	// on PostgreSQL, the index entries of rows deleted since the last
	// vacuum).
	from := int64(0)
	if v, ok := s.prunedTree.Load(logID); ok && v.([2]int64)[0] == b.Size {
		from = v.([2]int64)[1]
	}
	var lo int64
	args[1], args[2] = from, end
	err = s.db.QueryRowContext(ctx, `SELECT idx FROM tree WHERE log_id = $1 AND idx >= $2 AND idx < $3 AND `+notKept+
		` ORDER BY idx LIMIT 1`, args...).Scan(&lo)
	switch {
	case err == nil:
		// Nodes are stored in order, so [lo, lo+limit) holds at most
		// limit rows.
		hi := min(lo+int64(limit), end)
		args[1], args[2] = lo, hi
		res, err := s.exec(ctx, `DELETE FROM tree WHERE log_id = $1 AND idx >= $2 AND idx < $3 AND `+notKept, args...)
		if err != nil {
			return 0, fmt.Errorf("prune the tree of log %q: %w", logID, err)
		}
		s.prunedTree.Store(logID, [2]int64{b.Size, hi})
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("prune the tree of log %q: %w", logID, err)
		}
		// lo is not kept, so the range held one row at least; if
		// another prune deleted it meanwhile, the caller must still
		// come back for the rest.
		return max(n, 1), nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("prune the tree of log %q: %w", logID, err)
	}
	if _, err := s.exec(ctx, `DELETE FROM checkpoints WHERE log_id = $1 AND size < $2`, logID, b.Size); err != nil {
		return 0, fmt.Errorf("prune checkpoints of log %q: %w", logID, err)
	}
	return 0, nil
}

// rightEdge returns the stored hash indexes of the maximal complete
// subtrees of the first n leaves, largest first: one for each bit set in n.
func rightEdge(n int64) []int64 {
	var idx []int64
	var start int64
	for l := 62; l >= 0; l-- {
		if n&(1<<l) != 0 {
			idx = append(idx, tlog.StoredHashIndex(l, start>>l))
			start += 1 << l
		}
	}
	return idx
}

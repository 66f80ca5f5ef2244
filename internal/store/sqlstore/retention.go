package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aitrail/aitrail/internal/store"
)

const holdColumns = `id, reason, actor, session, model, since_ns, until_ns, text, expires_ns,
created_ns, created_by, released_ns, released_by, release_reason`

// AddHold implements store.Store.
func (s *Store) AddHold(ctx context.Context, h store.Hold) error {
	_, err := s.exec(ctx, `INSERT INTO holds (`+holdColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		h.ID, h.Reason, h.Actor, h.Session, h.Model, h.Since, h.Until, h.Text, h.Expires,
		h.CreatedAt, h.CreatedBy, h.ReleasedAt, h.ReleasedBy, h.ReleaseReason)
	if err != nil {
		return fmt.Errorf("store hold %s: %w", h.ID, err)
	}
	return nil
}

// Holds implements store.Store.
func (s *Store) Holds(ctx context.Context) ([]store.Hold, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+holdColumns+` FROM holds ORDER BY created_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	defer rows.Close()
	var out []store.Hold
	for rows.Next() {
		var h store.Hold
		err := rows.Scan(&h.ID, &h.Reason, &h.Actor, &h.Session, &h.Model, &h.Since, &h.Until, &h.Text, &h.Expires,
			&h.CreatedAt, &h.CreatedBy, &h.ReleasedAt, &h.ReleasedBy, &h.ReleaseReason)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	return out, nil
}

// ReleaseHold implements store.Store. A hold is released when its
// released_ns is not 0, so at must not be 0.
func (s *Store) ReleaseHold(ctx context.Context, id string, at int64, by, reason string) error {
	if at == 0 {
		return fmt.Errorf("release hold %s: no release time", id)
	}
	res, err := s.exec(ctx, `UPDATE holds SET released_ns = $1, released_by = $2, release_reason = $3
WHERE id = $4 AND released_ns = 0`, at, by, reason, id)
	if err != nil {
		return fmt.Errorf("release hold %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("release hold %s: %w", id, err)
	} else if n == 1 {
		return nil
	}
	// Holds are never deleted, so a hold that exists was released.
	var released int64
	err = s.db.QueryRowContext(ctx, `SELECT released_ns FROM holds WHERE id = $1`, id).Scan(&released)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("hold %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("release hold %s: %w", id, err)
	}
	return fmt.Errorf("hold %s: %w", id, store.ErrReleased)
}

// RetentionMark implements store.Store.
func (s *Store) RetentionMark(ctx context.Context, logID, layer string) (store.RetentionMark, error) {
	var m store.RetentionMark
	err := s.db.QueryRowContext(ctx, `SELECT next_seq, policy FROM retention_marks WHERE log_id = $1 AND layer = $2`,
		logID, layer).Scan(&m.Next, &m.Policy)
	if errors.Is(err, sql.ErrNoRows) {
		return store.RetentionMark{}, nil
	}
	if err != nil {
		return m, fmt.Errorf("read retention mark of layer %q of log %q: %w", layer, logID, err)
	}
	return m, nil
}

// AdvanceRetention implements store.Store. A seq both in deferred and in
// done ends up removed.
//
// The compare-and-swap on the mark is the transaction's first write. On
// SQLite the transaction holds the database's write lock from BEGIN. On
// PostgreSQL the UPDATE ... WHERE the old values locks the mark's row, and
// a concurrent one waits for that lock, then finds the new values (READ
// COMMITTED re-reads a row changed by a committed transaction) and changes
// nothing; two first purges race on the INSERT, and the loser's
// ON CONFLICT DO NOTHING waits for the winner's commit, then inserts nothing.
func (s *Store) AdvanceRetention(ctx context.Context, logID, layer string, old, next store.RetentionMark, deferred []store.Deferred, done []int64) (bool, error) {
	what := fmt.Sprintf("advance retention of layer %q of log %q", layer, logID)
	tx, unlock, err := s.beginWrite(ctx)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	defer unlock()
	defer tx.Rollback() // a no-op once committed
	swapped, err := swapMark(ctx, tx, logID, layer, old, next)
	if err != nil || !swapped {
		return false, wrap(what, err)
	}
	if next.Policy != old.Policy {
		_, err := tx.ExecContext(ctx, `UPDATE retention_deferred SET due_ns = 0 WHERE log_id = $1 AND layer = $2`, logID, layer)
		if err != nil {
			return false, fmt.Errorf("%s: make deferred records due: %w", what, err)
		}
	}
	if err := upsertDeferred(ctx, tx, logID, layer, deferred); err != nil {
		return false, fmt.Errorf("%s: defer records: %w", what, err)
	}
	_, err = execIn(ctx, tx, `DELETE FROM retention_deferred WHERE log_id = $1 AND layer = $2 AND seq IN (%s)`,
		[]any{logID, layer}, done)
	if err != nil {
		return false, fmt.Errorf("%s: remove deferred records: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("%s: commit: %w", what, err)
	}
	return true, nil
}

// wrap adds what to err, if there is one.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// swapMark sets a layer's mark to next if it is old, and reports whether
// it did.
func swapMark(ctx context.Context, tx *sql.Tx, logID, layer string, old, next store.RetentionMark) (bool, error) {
	if old == (store.RetentionMark{}) {
		// No row is the zero mark.
		res, err := tx.ExecContext(ctx, `INSERT INTO retention_marks (log_id, layer, next_seq, policy)
VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, logID, layer, next.Next, next.Policy)
		if err != nil {
			return false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return n == 1, err
		}
		// A row exists; it may hold the zero mark too.
	}
	res, err := tx.ExecContext(ctx, `UPDATE retention_marks SET next_seq = $1, policy = $2
WHERE log_id = $3 AND layer = $4 AND next_seq = $5 AND policy = $6`,
		next.Next, next.Policy, logID, layer, old.Next, old.Policy)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// upsertDeferred adds deferred records of a layer or replaces their Due,
// several rows to a statement.
func upsertDeferred(ctx context.Context, tx *sql.Tx, logID, layer string, ds []store.Deferred) error {
	// One statement must not name a row twice (PostgreSQL refuses to
	// update a row twice in one ON CONFLICT DO UPDATE): the last Due wins.
	at := make(map[int64]int, len(ds))
	uniq := make([]store.Deferred, 0, len(ds))
	for _, d := range ds {
		if i, ok := at[d.Seq]; ok {
			uniq[i] = d
			continue
		}
		at[d.Seq] = len(uniq)
		uniq = append(uniq, d)
	}
	const rows = maxIn / 2
	for len(uniq) > 0 {
		chunk := uniq[:min(len(uniq), rows)]
		uniq = uniq[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO retention_deferred (log_id, layer, seq, due_ns) VALUES `)
		args := make([]any, 0, 2+2*len(chunk))
		args = append(args, logID, layer)
		for i, d := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			n := len(args)
			b.WriteString("($1,$2,$" + strconv.Itoa(n+1) + ",$" + strconv.Itoa(n+2) + ")")
			args = append(args, d.Seq, d.Due)
		}
		b.WriteString(` ON CONFLICT (log_id, layer, seq) DO UPDATE SET due_ns = excluded.due_ns`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// DeferredDue implements store.Store. A limit of 0 or less is no limit.
func (s *Store) DeferredDue(ctx context.Context, logID, layer string, due, after int64, limit int) ([]store.Deferred, error) {
	q := `SELECT seq, due_ns FROM retention_deferred WHERE log_id = $1 AND layer = $2 AND due_ns <= $3 AND seq > $4 ORDER BY seq`
	args := []any{logID, layer, due, after}
	if limit > 0 {
		q += ` LIMIT $5`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read deferred records of layer %q of log %q: %w", layer, logID, err)
	}
	defer rows.Close()
	var out []store.Deferred
	for rows.Next() {
		var d store.Deferred
		if err := rows.Scan(&d.Seq, &d.Due); err != nil {
			return nil, fmt.Errorf("read deferred records of layer %q of log %q: %w", layer, logID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read deferred records of layer %q of log %q: %w", layer, logID, err)
	}
	return out, nil
}

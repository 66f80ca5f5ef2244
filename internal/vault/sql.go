package vault

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SQLStorage is a Storage in a SQL database: SQLite (OpenSQLite) or
// PostgreSQL (OpenPostgres). Both use the same two tables:
//
//	vault_keys     log_id, nonce     primary key: the record
//	               key_id            ID of the master key that wrapped the data key; '' once shredded
//	               wrapped_dek       the wrapped data key; NULL once shredded
//	               expires_ns        the record's expiry, Unix nanoseconds
//	               created_ns        when the record was first sealed
//	               shredded_ns       when it was shredded; 0 while it is not (a tombstone otherwise)
//	vault_entries  log_id, nonce     the record (a foreign key to vault_keys)
//	               part              the part's name ("request", "response"...)
//	               sealed            the part's ciphertext
//	vault_keys_expires               index of vault_keys (expires_ns) WHERE shredded_ns = 0, for Expired
//
// A tombstone (about 60 bytes with its key) is kept for good, so that Open
// can tell a shredded record from one never sealed and a late Seal cannot
// revive it. The queries use $N placeholders, which both databases accept.
type SQLStorage struct {
	db   *sql.DB
	name string // "sqlite" or "postgres", for error messages

	// Put's group commit: the requests waiting for the next group, and
	// whether a caller is leading one.
	mu      sync.Mutex
	queue   []*putRequest
	leading bool

	// afterShred, if set, runs after a shred has committed (SQLite
	// truncates its write-ahead log there).
	afterShred func(ctx context.Context)
	// close, if set, runs before the database is closed.
	close func()
}

var _ Storage = (*SQLStorage)(nil)

// DB returns the underlying database, for maintenance and tests.
func (s *SQLStorage) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *SQLStorage) Close() error {
	if s.close != nil {
		s.close()
	}
	return s.db.Close()
}

func (s *SQLStorage) errorf(format string, args ...any) error {
	return fmt.Errorf("%s vault: "+format, append([]any{s.name}, args...)...)
}

// Key implements Storage.Key.
func (s *SQLStorage) Key(ctx context.Context, ref Ref) (WrappedKey, error) {
	var k WrappedKey
	var shredded int64
	err := s.db.QueryRowContext(ctx,
		`SELECT key_id, wrapped_dek, shredded_ns FROM vault_keys WHERE log_id = $1 AND nonce = $2`,
		ref.LogID, ref.Nonce[:]).Scan(&k.KeyID, &k.Wrapped, &shredded)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return k, ErrNotFound
	case err != nil:
		return k, s.errorf("read data key: %w", err)
	case shredded != 0:
		return WrappedKey{}, ErrShredded
	}
	return k, nil
}

// Part implements Storage.Part, reading the key and the part in one
// statement.
func (s *SQLStorage) Part(ctx context.Context, ref Ref, name string) (WrappedKey, []byte, error) {
	var k WrappedKey
	var shredded int64
	var sealed []byte
	var found bool // sealed may be empty, and then scans as nil
	// One statement, so key and part come from one snapshot.
	err := s.db.QueryRowContext(ctx, `SELECT k.key_id, k.wrapped_dek, k.shredded_ns, e.sealed, e.part IS NOT NULL
FROM vault_keys k LEFT JOIN vault_entries e ON e.part = $1 AND e.log_id = k.log_id AND e.nonce = k.nonce
WHERE k.log_id = $2 AND k.nonce = $3`, name, ref.LogID, ref.Nonce[:]).Scan(&k.KeyID, &k.Wrapped, &shredded, &sealed, &found)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return k, nil, ErrNotFound
	case err != nil:
		return k, nil, s.errorf("read part: %w", err)
	case shredded != 0:
		return WrappedKey{}, nil, ErrShredded
	case !found:
		return k, nil, ErrNotFound
	}
	return k, sealed, nil
}

// inTx runs fn in a transaction and commits it. On SQLite, BEGIN takes the
// write lock (_txlock=immediate), so transactions are serialised; on
// PostgreSQL the statements lock the rows they change, in the order
// explained at Put and Shred.
func (s *SQLStorage) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("commit: %w", err)
	}
	return nil
}

// maxGroup is the most Puts that one transaction commits, to keep it
// short: the others wait for the next.
const maxGroup = 128

// A putRequest is one Put waiting for its group's commit.
type putRequest struct {
	ctx     context.Context
	ref     Ref
	key     *WrappedKey
	parts   []Part
	expires int64
	done    chan putResult // buffered: the leader never waits on it
}

// A putResult tells a waiting Put its outcome, or that it leads the next
// group.
type putResult struct {
	err  error
	lead bool
}

// Put implements Storage.Put (see PutMany).
func (s *SQLStorage) Put(ctx context.Context, ref Ref, key *WrappedKey, parts []Part, expires time.Time) error {
	return s.PutMany(ctx, []PutItem{{Ref: ref, Key: key, Parts: parts, Expires: expires}})[0]
}

// PutMany implements Storage.PutMany. It commits concurrent calls together
// (group commit), as the ledger does for the audit log: one transaction,
// and one fsync, for every item waiting when the previous group's commit
// ends (up to maxGroup). The first caller leads: it commits the waiting
// group, then hands the lead to the first item that arrived meanwhile,
// whose caller commits the next group. An item that fails (ErrExists,
// ErrShredded...) leaves the others' writes intact (see writeGroup).
func (s *SQLStorage) PutMany(ctx context.Context, items []PutItem) []error {
	if len(items) == 0 {
		return nil
	}
	reqs := make([]*putRequest, len(items))
	for i, it := range items {
		reqs[i] = &putRequest{ctx: ctx, ref: it.Ref, key: it.Key, parts: it.Parts,
			expires: it.Expires.UnixNano(), done: make(chan putResult, 1)}
	}
	s.mu.Lock()
	s.queue = append(s.queue, reqs...)
	lead := !s.leading
	s.leading = true
	s.mu.Unlock()

	// The items are committed in order (the queue is first in, first out),
	// and the lead is handed to an item only once every item before it has
	// its outcome, so waiting for each in turn cannot miss the lead.
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		for {
			if lead {
				s.leadGroup()
				lead = false
			}
			res := <-r.done
			if !res.lead {
				errs[i] = res.err
				break
			}
			lead = true
		}
	}
	return errs
}

// leadGroup commits the group at the head of the queue, then hands the
// lead to the next item waiting, if any.
func (s *SQLStorage) leadGroup() {
	s.mu.Lock()
	n := min(len(s.queue), maxGroup)
	group := s.queue[:n:n]
	s.queue = s.queue[n:]
	s.mu.Unlock()
	s.commitGroup(group)

	s.mu.Lock()
	if len(s.queue) > 0 {
		s.queue[0].done <- putResult{lead: true}
	} else {
		s.leading = false
	}
	s.mu.Unlock()
}

// commitGroup writes the requests of group in one transaction and tells
// each its outcome. Requests whose context is done when their turn comes
// fail with its error; once begun, a request runs to the end (cancelling
// a statement could break the connection, and the group with it).
//
// On PostgreSQL the requests lock their records' key rows, which Shred and
// Rewrap lock too; every transaction locks rows in the order of (log id,
// nonce), so that none waits for another that waits for it.
func (s *SQLStorage) commitGroup(group []*putRequest) {
	slices.SortStableFunc(group, func(a, b *putRequest) int {
		if c := strings.Compare(a.ref.LogID, b.ref.LogID); c != 0 {
			return c
		}
		return bytes.Compare(a.ref.Nonce[:], b.ref.Nonce[:])
	})
	errs := make([]error, len(group))
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// A member's context, without its cancellation: the group is not that
	// member's alone.
	ctx := context.WithoutCancel(group[0].ctx)
	if err := s.writeGroup(ctx, group, errs); err != nil {
		failAll(err)
	}
	for i, r := range group {
		r.done <- putResult{err: errs[i]}
	}
}

// writeGroup writes the requests in one transaction, setting errs[i] to
// the error of request i. It returns an error if the transaction failed as
// a whole, and nothing of it was written.
//
// A group whose requests all create records (the usual case: the gateway
// seals each record once) is first written with two statements, one for
// all data keys and one for all parts. If any row is refused (a record or
// part that exists, a tombstone), that transaction is rolled back and the
// group written again request by request, each within a savepoint, so that
// a failure undoes only its own statements and names its own error. A
// statement of the first attempt that fails is handled the same way.
func (s *SQLStorage) writeGroup(ctx context.Context, group []*putRequest, errs []error) error {
	live := make([]*putRequest, 0, len(group))
	creating := true
	for i, r := range group {
		if errs[i] = r.ctx.Err(); errs[i] == nil {
			live = append(live, r)
			creating = creating && r.key != nil
		}
	}
	if len(live) == 0 {
		return nil
	}
	if creating && len(live) > 1 {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return s.errorf("begin: %w", err)
		}
		// An error here (a refused row aside) is retried request by
		// request too, where it fails only the requests it belongs to.
		if ok, err := s.putAll(ctx, tx, live); err == nil && ok {
			if err := tx.Commit(); err != nil {
				return s.errorf("commit: %w", err)
			}
			return nil
		}
		tx.Rollback()
	}
	return s.writeEach(ctx, group, errs, len(live) > 1)
}

// writeEach writes the group's requests one by one in one transaction,
// each within a savepoint if there are several.
func (s *SQLStorage) writeEach(ctx context.Context, group []*putRequest, errs []error, savepoints bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errorf("begin: %w", err)
	}
	exec := func(q string) error {
		if !savepoints {
			return nil
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return s.errorf("%s: %w", q, err)
		}
		return nil
	}
	written := 0
	for i, r := range group {
		if errs[i] != nil {
			continue // its context was done
		}
		if err := exec(`SAVEPOINT put`); err != nil {
			tx.Rollback()
			return err
		}
		if errs[i] = s.put(ctx, tx, r); errs[i] != nil {
			err = exec(`ROLLBACK TO SAVEPOINT put`)
		} else {
			written++
			err = exec(`RELEASE SAVEPOINT put`)
		}
		if err != nil {
			tx.Rollback()
			return err
		}
	}
	if written == 0 {
		tx.Rollback() // nothing to commit
		return nil
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("commit: %w", err)
	}
	return nil
}

// putAll creates the records of reqs, all with data keys, with one
// statement for the keys and one for the parts. It reports whether every
// row was written; if not, the caller rolls back.
func (s *SQLStorage) putAll(ctx context.Context, tx *sql.Tx, reqs []*putRequest) (bool, error) {
	now := time.Now().UnixNano()
	rows := s.rows()
	for _, r := range reqs {
		rows.add(r.ref.LogID, r.ref.Nonce[:], r.key.KeyID, r.key.Wrapped, r.expires, now, 0)
	}
	n, err := rows.insert(ctx, tx, `vault_keys (log_id, nonce, key_id, wrapped_dek, expires_ns, created_ns, shredded_ns)`)
	if err != nil || n != len(reqs) {
		return false, s.errorIf("write data keys: %w", err)
	}
	rows = s.rows()
	for _, r := range reqs {
		for _, p := range r.parts {
			rows.add(r.ref.LogID, r.ref.Nonce[:], p.Name, p.Sealed)
		}
	}
	n, err = rows.insert(ctx, tx, `vault_entries (log_id, nonce, part, sealed)`)
	if err != nil || n != rows.n {
		return false, s.errorIf("write parts: %w", err)
	}
	return true, nil
}

// errorIf is errorf for a possibly nil error: nil stays nil.
func (s *SQLStorage) errorIf(format string, err error) error {
	if err == nil {
		return nil
	}
	return s.errorf(format, err)
}

// valueRows builds multi-row INSERT ... VALUES statements: with numbered
// parameters ($1) for PostgreSQL, plain ones (?) for SQLite, which parses
// those much faster.
type valueRows struct {
	numbered bool
	rows     [][]any
	n        int // rows
}

// Limits of one statement: well below SQLite's 32766 parameters and
// PostgreSQL's 65535, and its message size (1 GB): parts can be large.
const (
	maxStatementRows  = 500
	maxStatementBytes = 16 << 20
)

// rows returns an empty valueRows for the storage's database.
func (s *SQLStorage) rows() valueRows { return valueRows{numbered: s.name == "postgres"} }

func (v *valueRows) add(row ...any) {
	v.rows = append(v.rows, row)
	v.n++
}

// insert runs INSERT INTO into VALUES ... ON CONFLICT DO NOTHING, in as
// few statements as the limits allow, and returns how many rows they
// inserted: fewer than added if some conflicted.
func (v *valueRows) insert(ctx context.Context, tx *sql.Tx, into string) (int, error) {
	total := 0
	for rest := v.rows; len(rest) > 0; {
		n, size := 0, 0
		for n < len(rest) && n < maxStatementRows && (n == 0 || size < maxStatementBytes) {
			for _, a := range rest[n] {
				if b, ok := a.([]byte); ok {
					size += len(b)
				}
			}
			n++
		}
		q := make([]byte, 0, 64+len(into)+n*32)
		q = append(q, "INSERT INTO "...)
		q = append(q, into...)
		q = append(q, " VALUES "...)
		var args []any
		for i, row := range rest[:n] {
			if i > 0 {
				q = append(q, ',')
			}
			q = append(q, '(')
			for j, a := range row {
				if j > 0 {
					q = append(q, ", "...)
				}
				args = append(args, a)
				if v.numbered {
					q = append(q, '$')
					q = strconv.AppendInt(q, int64(len(args)), 10)
				} else {
					q = append(q, '?')
				}
			}
			q = append(q, ')')
		}
		q = append(q, " ON CONFLICT DO NOTHING"...)
		res, err := tx.ExecContext(ctx, string(q), args...)
		if err != nil {
			return total, err
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(affected)
		rest = rest[n:]
	}
	return total, nil
}

// put runs one request's statements in tx.
func (s *SQLStorage) put(ctx context.Context, tx *sql.Tx, r *putRequest) error {
	ref, key := r.ref, r.key
	// First the key row, which the statement locks (a new row, or an
	// updated one): a concurrent Shred of the record waits for this
	// transaction, and then deletes the parts it added.
	var res sql.Result
	var err error
	if key != nil {
		res, err = tx.ExecContext(ctx, `INSERT INTO vault_keys
(log_id, nonce, key_id, wrapped_dek, expires_ns, created_ns, shredded_ns) VALUES ($1, $2, $3, $4, $5, $6, 0)
ON CONFLICT DO NOTHING`, ref.LogID, ref.Nonce[:], key.KeyID, key.Wrapped, r.expires, time.Now().UnixNano())
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE vault_keys SET expires_ns = CASE WHEN expires_ns < $1 THEN $1 ELSE expires_ns END
WHERE log_id = $2 AND nonce = $3 AND shredded_ns = 0`, r.expires, ref.LogID, ref.Nonce[:])
	}
	if err != nil {
		return s.errorf("write data key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.errorf("write data key: %w", err)
	} else if n == 0 {
		// Why not? The conflicting row, or its absence, is committed by
		// now: INSERT ... ON CONFLICT and UPDATE wait for the transaction
		// that holds it.
		var shredded int64
		err := tx.QueryRowContext(ctx, `SELECT shredded_ns FROM vault_keys WHERE log_id = $1 AND nonce = $2`,
			ref.LogID, ref.Nonce[:]).Scan(&shredded)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return s.errorf("read data key: %w", err)
		case shredded != 0:
			return ErrShredded
		case key != nil:
			return ErrKeyExists
		default:
			return ErrNotFound // records are never deleted, so this cannot happen
		}
	}
	// All parts in one statement; ON CONFLICT DO NOTHING skips the ones
	// stored already, which the count of rows reveals.
	rows := s.rows()
	for _, p := range r.parts {
		rows.add(ref.LogID, ref.Nonce[:], p.Name, p.Sealed)
	}
	n, err := rows.insert(ctx, tx, `vault_entries (log_id, nonce, part, sealed)`)
	if err != nil {
		return s.errorf("write parts: %w", err)
	}
	if n != rows.n {
		return fmt.Errorf("%d of parts %s: %w", rows.n-n, partNames(r.parts), ErrExists)
	}
	return nil
}

// partNames lists the names of parts, for messages.
func partNames(parts []Part) string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = strconv.Quote(p.Name)
	}
	return strings.Join(names, ", ")
}

// Shred implements Storage.Shred. On SQLite it then checkpoints and
// truncates the write-ahead log (see OpenSQLite).
func (s *SQLStorage) Shred(ctx context.Context, logID string, nonces [][16]byte, at time.Time) (int, error) {
	// Lock rows in one order, (log id, nonce) as Rewrap does, so that two
	// transactions never wait for each other (PostgreSQL's row locks).
	nonces = slices.Clone(nonces)
	slices.SortFunc(nonces, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	nonces = slices.Compact(nonces)
	atNS := at.UnixNano()
	if atNS == 0 {
		atNS = 1 // 0 means "not shredded"
	}
	shredded := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		shredded = 0
		for _, nonce := range nonces {
			// Key row first: it waits for a Put in progress on the record,
			// so that the DELETE below sees the parts that Put added.
			n, err := s.forget(ctx, tx, logID, nonce, atNS)
			if err != nil {
				return err
			}
			if n == 0 {
				// No live key; leave a tombstone unless there is a row.
				// If a Put is creating one right now, the INSERT waits for
				// it, conflicts, and the second UPDATE shreds what it
				// created.
				res, err := tx.ExecContext(ctx, `INSERT INTO vault_keys
(log_id, nonce, key_id, wrapped_dek, expires_ns, created_ns, shredded_ns) VALUES ($1, $2, '', NULL, 0, $3, $3)
ON CONFLICT DO NOTHING`, logID, nonce[:], atNS)
				if err != nil {
					return s.errorf("shred: write tombstone: %w", err)
				}
				if ins, err := res.RowsAffected(); err != nil {
					return s.errorf("shred: write tombstone: %w", err)
				} else if ins == 0 {
					if n, err = s.forget(ctx, tx, logID, nonce, atNS); err != nil {
						return err
					}
				}
			}
			shredded += int(n)
			if _, err := tx.ExecContext(ctx, `DELETE FROM vault_entries WHERE log_id = $1 AND nonce = $2`,
				logID, nonce[:]); err != nil {
				return s.errorf("shred: delete parts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if s.afterShred != nil {
		s.afterShred(ctx)
	}
	return shredded, nil
}

// forget turns a live key row into a tombstone and reports whether there
// was one.
func (s *SQLStorage) forget(ctx context.Context, tx *sql.Tx, logID string, nonce [16]byte, atNS int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE vault_keys SET key_id = '', wrapped_dek = NULL, shredded_ns = $1
WHERE log_id = $2 AND nonce = $3 AND shredded_ns = 0`, atNS, logID, nonce[:])
	if err != nil {
		return 0, s.errorf("shred: forget data key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.errorf("shred: forget data key: %w", err)
	}
	return n, nil
}

// Expired implements Storage.Expired.
func (s *SQLStorage) Expired(ctx context.Context, now time.Time, limit int) ([]Ref, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT log_id, nonce FROM vault_keys
WHERE shredded_ns = 0 AND expires_ns <= $1 ORDER BY expires_ns, log_id, nonce LIMIT $2`, now.UnixNano(), limit)
	if err != nil {
		return nil, s.errorf("expired: %w", err)
	}
	defer rows.Close()
	var refs []Ref
	for rows.Next() {
		var r Ref
		var nonce []byte
		if err := rows.Scan(&r.LogID, &nonce); err != nil {
			return nil, s.errorf("expired: %w", err)
		}
		if err := setNonce(&r, nonce); err != nil {
			return nil, s.errorf("expired: %w", err)
		}
		refs = append(refs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("expired: %w", err)
	}
	return refs, nil
}

// KeysNotWrappedBy implements Storage.KeysNotWrappedBy.
func (s *SQLStorage) KeysNotWrappedBy(ctx context.Context, keyID string, after *Ref, limit int) ([]StoredKey, error) {
	const cols = `SELECT log_id, nonce, key_id, wrapped_dek FROM vault_keys WHERE shredded_ns = 0 AND key_id <> $1`
	var rows *sql.Rows
	var err error
	if after == nil {
		rows, err = s.db.QueryContext(ctx, cols+` ORDER BY log_id, nonce LIMIT $2`, keyID, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, cols+` AND (log_id > $2 OR (log_id = $2 AND nonce > $3))
ORDER BY log_id, nonce LIMIT $4`, keyID, after.LogID, after.Nonce[:], limit)
	}
	if err != nil {
		return nil, s.errorf("list data keys: %w", err)
	}
	defer rows.Close()
	var keys []StoredKey
	for rows.Next() {
		var k StoredKey
		var nonce []byte
		if err := rows.Scan(&k.Ref.LogID, &nonce, &k.Key.KeyID, &k.Key.Wrapped); err != nil {
			return nil, s.errorf("list data keys: %w", err)
		}
		if err := setNonce(&k.Ref, nonce); err != nil {
			return nil, s.errorf("list data keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("list data keys: %w", err)
	}
	return keys, nil
}

// Rewrap implements Storage.Rewrap.
func (s *SQLStorage) Rewrap(ctx context.Context, changes []KeyChange) (int, error) {
	done := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		done = 0
		for _, c := range changes {
			res, err := tx.ExecContext(ctx, `UPDATE vault_keys SET key_id = $1, wrapped_dek = $2
WHERE log_id = $3 AND nonce = $4 AND shredded_ns = 0 AND key_id = $5 AND wrapped_dek = $6`,
				c.New.KeyID, c.New.Wrapped, c.Ref.LogID, c.Ref.Nonce[:], c.Old.KeyID, c.Old.Wrapped)
			if err != nil {
				return s.errorf("rewrap: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return s.errorf("rewrap: %w", err)
			}
			done += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return done, nil
}

func setNonce(r *Ref, b []byte) error {
	if len(b) != len(r.Nonce) {
		return fmt.Errorf("record of log %q has a nonce of %d bytes, want %d", r.LogID, len(b), len(r.Nonce))
	}
	copy(r.Nonce[:], b)
	return nil
}

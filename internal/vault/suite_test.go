package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// runSuite runs the tests that every Storage must pass, one subtest per
// part of the contract, against SQLite and PostgreSQL alike.
//
// For every subtest it calls newDB, which must create a fresh, empty
// database that lasts until t ends and return open, which opens a new
// SQLStorage on that database each time it is called, as a separate
// process would. runSuite closes every storage it opens. The tests tamper
// with the database through SQL that both backends accept.
func runSuite(t *testing.T, newDB func(t *testing.T) (open func() (*SQLStorage, error))) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() *SQLStorage)
	}{
		{"RoundTrip", testRoundTrip},
		{"AddParts", testAddParts},
		{"SealMany", testSealMany},
		{"SealManyLarge", testSealManyLarge},
		{"ExpiryOfResealed", testExpiryOfResealed},
		{"AADBinding", testAADBinding},
		{"Tamper", testTamper},
		{"Shred", testShred},
		{"ShreddedCiphertextIsUseless", testShreddedCiphertext},
		{"Expired", testExpired},
		{"Rotate", testRotate},
		{"RotateUnknownKey", testRotateUnknownKey},
		{"ConcurrentRecords", testConcurrentRecords},
		{"ConcurrentFirstSeal", testConcurrentFirstSeal},
		{"ConcurrentSealShred", testConcurrentSealShred},
		{"ConcurrentRefusals", testConcurrentRefusals},
		{"ConcurrentRotate", testConcurrentRotate},
		{"TwoHandles", testTwoHandles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			openDB := newDB(t)
			tt.fn(t, func() *SQLStorage {
				t.Helper()
				st, err := openDB()
				if err != nil {
					t.Fatalf("open storage: %v", err)
				}
				t.Cleanup(func() {
					if err := st.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
				return st
			})
		})
	}
}

func newMasterKey(t testing.TB) MasterKey {
	t.Helper()
	b := make([]byte, KeySize)
	rand.Read(b)
	k, err := LocalKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func nonceN(i int) [16]byte {
	var n [16]byte
	copy(n[:15], fmt.Sprintf("nonce%010d", i))
	n[15] = 0xff // not UTF-8: PostgreSQL would refuse it in a TEXT column
	return n
}

// future is an expiry that no test reaches.
var future = time.Now().Add(24 * time.Hour)

func seal(t *testing.T, v *Vault, logID string, nonce [16]byte, parts map[string]string) {
	t.Helper()
	m := map[string][]byte{}
	for k, s := range parts {
		m[k] = []byte(s)
	}
	if err := v.Seal(t.Context(), logID, nonce, m, future); err != nil {
		t.Fatalf("Seal(%q, %x): %v", logID, nonce, err)
	}
}

// checkOpen checks that a part opens to want.
func checkOpen(t *testing.T, v *Vault, logID string, nonce [16]byte, part, want string) {
	t.Helper()
	got, err := v.Open(t.Context(), logID, nonce, part)
	if err != nil || string(got) != want {
		t.Errorf("Open(%q, %x, %q) = %.40q, %v; want %.40q", logID, nonce, part, got, err, want)
	}
}

// checkOpenErr checks that opening a part fails with target.
func checkOpenErr(t *testing.T, v *Vault, logID string, nonce [16]byte, part string, target error) error {
	t.Helper()
	got, err := v.Open(t.Context(), logID, nonce, part)
	if !errors.Is(err, target) {
		t.Errorf("Open(%q, %x, %q) = %.40q, %v; want error %v", logID, nonce, part, got, err, target)
	}
	return err
}

func exec(t *testing.T, st *SQLStorage, q string, args ...any) int64 {
	t.Helper()
	res, err := st.DB().ExecContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func count(t *testing.T, st *SQLStorage, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func blob(t *testing.T, st *SQLStorage, q string, args ...any) []byte {
	t.Helper()
	var b []byte
	if err := st.DB().QueryRowContext(t.Context(), q, args...).Scan(&b); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return b
}

func testRoundTrip(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	secret := "Patient Jane Roe, born 1970-01-01, asks about her diagnosis. " + strings.Repeat("x", 4096)
	binary := string([]byte{0, 1, 2, 0xff, 0xfe, 0})
	seal(t, v, "log-a", nonceN(1), map[string]string{"request": secret, "response": "", "meta.v1_x-y": binary})
	seal(t, v, "log-b", nonceN(1), map[string]string{"request": "another log, same nonce"})

	checkOpen(t, v, "log-a", nonceN(1), "request", secret)
	checkOpen(t, v, "log-a", nonceN(1), "meta.v1_x-y", binary)
	checkOpen(t, v, "log-b", nonceN(1), "request", "another log, same nonce")
	if got, err := v.Open(t.Context(), "log-a", nonceN(1), "response"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Open of an empty part = %q (nil: %v), %v; want an empty, non-nil slice", got, got == nil, err)
	}
	checkOpenErr(t, v, "log-a", nonceN(1), "other", ErrNotFound)
	checkOpenErr(t, v, "log-a", nonceN(2), "request", ErrNotFound)
	checkOpenErr(t, v, "log-c", nonceN(1), "request", ErrNotFound)

	// The storage holds no plaintext.
	rows, err := st.DB().QueryContext(t.Context(), `SELECT sealed FROM vault_entries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("Jane Roe")) {
			t.Errorf("vault_entries holds plaintext")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func testAddParts(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	n := nonceN(1)
	seal(t, v, "log", n, map[string]string{"request": "prompt"})
	wrapped := blob(t, st, `SELECT wrapped_dek FROM vault_keys WHERE nonce = $1`, n[:])
	seal(t, v, "log", n, map[string]string{"response": "answer"})
	if got := blob(t, st, `SELECT wrapped_dek FROM vault_keys WHERE nonce = $1`, n[:]); !bytes.Equal(got, wrapped) {
		t.Errorf("a second Seal changed the record's wrapped data key")
	}
	if c := count(t, st, `SELECT count(*) FROM vault_keys`); c != 1 {
		t.Errorf("%d rows in vault_keys after two Seals of one record, want 1", c)
	}
	checkOpen(t, v, "log", n, "request", "prompt")
	checkOpen(t, v, "log", n, "response", "answer")

	// A retried Seal succeeds; a different content or a mix fails whole.
	seal(t, v, "log", n, map[string]string{"request": "prompt", "response": "answer"})
	for _, parts := range []map[string][]byte{
		{"request": []byte("another prompt")},
		{"request": []byte("prompt"), "extra": []byte("new")},
	} {
		if err := v.Seal(t.Context(), "log", n, parts, future); !errors.Is(err, ErrExists) {
			t.Errorf("Seal of %d parts, one sealed already with other content: %v, want ErrExists", len(parts), err)
		}
	}
	checkOpen(t, v, "log", n, "request", "prompt")
	checkOpenErr(t, v, "log", n, "extra", ErrNotFound)
}

// testSealMany seals a batch whose bodies meet every outcome: each gets
// its own, and the batch's failures leave the others sealed.
func testSealMany(t *testing.T, open func() *SQLStorage) {
	v := New(open(), newMasterKey(t))
	ctx := t.Context()
	seal(t, v, "log", nonceN(1), map[string]string{"request": "old"})
	seal(t, v, "log", nonceN(2), map[string]string{"request": "same"})
	seal(t, v, "log", nonceN(3), map[string]string{"request": "was"})
	if _, err := v.Shred(ctx, "log", [][16]byte{nonceN(4)}); err != nil {
		t.Fatal(err)
	}
	body := func(i int, part, text string) Body {
		return Body{LogID: "log", Nonce: nonceN(i), Parts: map[string][]byte{part: []byte(text)}, Expires: future}
	}
	bodies := []Body{
		body(10, "request", "new ten"),
		body(1, "response", "added to one"), // an existing record: the long way
		body(2, "request", "same"),          // a retry: sealed already, the same
		body(3, "request", "different"),     // sealed already, otherwise
		body(4, "request", "too late"),      // shredded
		body(11, "bad name!", "x"),          // refused before storage
		body(12, "request", "new twelve"),
		body(12, "response", "twelve again"), // the same record twice in one batch
	}
	errs := v.SealMany(ctx, bodies)
	if len(errs) != len(bodies) {
		t.Fatalf("SealMany returned %d errors for %d bodies", len(errs), len(bodies))
	}
	want := []error{nil, nil, nil, ErrExists, ErrShredded, errors.New("part name"), nil, nil}
	for i, w := range want {
		switch {
		case w == nil && errs[i] != nil, w != nil && errs[i] == nil:
			t.Errorf("body %d: %v, want %v", i, errs[i], w)
		case w != nil && !errors.Is(errs[i], w) && !strings.Contains(fmt.Sprint(errs[i]), w.Error()):
			t.Errorf("body %d: %v, want %v", i, errs[i], w)
		}
	}
	checkOpen(t, v, "log", nonceN(10), "request", "new ten")
	checkOpen(t, v, "log", nonceN(1), "request", "old")
	checkOpen(t, v, "log", nonceN(1), "response", "added to one")
	checkOpen(t, v, "log", nonceN(3), "request", "was")
	checkOpenErr(t, v, "log", nonceN(4), "request", ErrShredded)
	checkOpenErr(t, v, "log", nonceN(11), "bad name!", ErrNotFound)
	checkOpen(t, v, "log", nonceN(12), "request", "new twelve")
	checkOpen(t, v, "log", nonceN(12), "response", "twelve again")
}

// testSealManyLarge seals a batch with more parts than one SQL statement
// may carry parameters for, and checks that an empty PutMany leaves the
// storage usable.
func testSealManyLarge(t *testing.T, open func() *SQLStorage) {
	st := open()
	if errs := st.PutMany(t.Context(), nil); len(errs) != 0 {
		t.Fatalf("PutMany of nothing = %v", errs)
	}
	v := New(st, newMasterKey(t))
	const records, parts = 128, 70 // 128×70×4 parameters: more than SQLite's 32766 and PostgreSQL's 65535/2
	bodies := make([]Body, records)
	for i := range bodies {
		ps := map[string][]byte{}
		for j := range parts {
			ps[fmt.Sprintf("p%d", j)] = []byte(fmt.Sprintf("%d.%d", i, j))
		}
		bodies[i] = Body{LogID: "log", Nonce: nonceN(i), Parts: ps, Expires: future}
	}
	for i, err := range v.SealMany(t.Context(), bodies) {
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
	}
	checkOpen(t, v, "log", nonceN(0), "p0", "0.0")
	checkOpen(t, v, "log", nonceN(records-1), fmt.Sprintf("p%d", parts-1), fmt.Sprintf("%d.%d", records-1, parts-1))
	if n := count(t, st, `SELECT count(*) FROM vault_entries`); n != records*parts {
		t.Errorf("%d parts stored, want %d", n, records*parts)
	}
}

func testExpiryOfResealed(t *testing.T, open func() *SQLStorage) {
	v := New(open(), newMasterKey(t))
	ctx := t.Context()
	base := time.Unix(1_800_000_000, 0)
	n := nonceN(1)
	for _, exp := range []time.Time{base, base.Add(-time.Hour), base.Add(time.Hour)} {
		part := fmt.Sprint("p", exp.Unix())
		if err := v.Seal(ctx, "log", n, map[string][]byte{part: []byte("x")}, exp); err != nil {
			t.Fatalf("Seal: %v", err)
		}
	}
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{base, 0},
		{base.Add(time.Hour - 1), 0},
		{base.Add(time.Hour), 1},
	} {
		if refs, err := v.Expired(ctx, tc.now, 10); err != nil || len(refs) != tc.want {
			t.Errorf("Expired(%v) = %v, %v; want %d records (the latest expiry counts)", tc.now, refs, err, tc.want)
		}
	}
}

func testAADBinding(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	ctx := t.Context()

	// Renamed to another part of its record (same data key).
	n := nonceN(1)
	seal(t, v, "log", n, map[string]string{"request": "prompt", "response": "answer"})
	exec(t, st, `DELETE FROM vault_entries WHERE nonce = $1 AND part = 'response'`, n[:])
	exec(t, st, `UPDATE vault_entries SET part = 'response' WHERE nonce = $1 AND part = 'request'`, n[:])
	checkOpenErr(t, v, "log", n, "response", ErrCorrupt)

	// Moved to another nonce, or another log, whose record has the same
	// data key (its key row copied): only the associated data tells.
	for i, move := range []struct{ logID, field string }{{"log", "nonce"}, {"other-log", "log_id"}} {
		from, to := nonceN(10+i), nonceN(20+i)
		if move.field == "log_id" {
			to = from
		}
		seal(t, v, "log", from, map[string]string{"request": "prompt"})
		exec(t, st, `INSERT INTO vault_keys (log_id, nonce, key_id, wrapped_dek, expires_ns, created_ns, shredded_ns)
SELECT $1, $2, key_id, wrapped_dek, expires_ns, created_ns, shredded_ns FROM vault_keys WHERE log_id = $3 AND nonce = $4`,
			move.logID, to[:], "log", from[:])
		exec(t, st, `UPDATE vault_entries SET log_id = $1, nonce = $2 WHERE log_id = $3 AND nonce = $4`,
			move.logID, to[:], "log", from[:])
		checkOpenErr(t, v, move.logID, to, "request", ErrCorrupt)
		checkOpenErr(t, v, "log", from, "request", ErrNotFound)
	}

	// Swapped between records with their own data keys.
	a, b := nonceN(30), nonceN(31)
	seal(t, v, "log", a, map[string]string{"request": "prompt a"})
	seal(t, v, "log", b, map[string]string{"request": "prompt b"})
	sa := blob(t, st, `SELECT sealed FROM vault_entries WHERE nonce = $1`, a[:])
	sb := blob(t, st, `SELECT sealed FROM vault_entries WHERE nonce = $1`, b[:])
	exec(t, st, `UPDATE vault_entries SET sealed = $1 WHERE nonce = $2`, sb, a[:])
	exec(t, st, `UPDATE vault_entries SET sealed = $1 WHERE nonce = $2`, sa, b[:])
	checkOpenErr(t, v, "log", a, "request", ErrCorrupt)
	checkOpenErr(t, v, "log", b, "request", ErrCorrupt)

	if _, err := v.Open(ctx, "log", nonceN(1), "request"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of the renamed part's old name: %v, want ErrNotFound", err)
	}
}

func testTamper(t *testing.T, open func() *SQLStorage) {
	st := open()
	current, older, absent := newMasterKey(t), newMasterKey(t), newMasterKey(t)
	v := New(st, current, older)

	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 0x01
			return b
		}
	}
	for i, tc := range []struct {
		name   string
		column string // "sealed" or "wrapped_dek"
		change func([]byte) []byte
	}{
		{"ciphertext nonce", "sealed", flip(0)},
		{"ciphertext body", "sealed", flip(20)},
		{"ciphertext tag", "sealed", flip(-1)},
		{"ciphertext truncated", "sealed", func(b []byte) []byte { return b[:10] }},
		{"ciphertext empty", "sealed", func(b []byte) []byte { return []byte{} }},
		{"wrapped key nonce", "wrapped_dek", flip(0)},
		{"wrapped key body", "wrapped_dek", flip(15)},
		{"wrapped key tag", "wrapped_dek", flip(-1)},
		{"wrapped key truncated", "wrapped_dek", func(b []byte) []byte { return b[:len(b)-1] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := nonceN(i)
			seal(t, v, "log", n, map[string]string{"request": "some prompt of a few dozen bytes, for the test"})
			table := "vault_entries"
			if tc.column == "wrapped_dek" {
				table = "vault_keys"
			}
			b := blob(t, st, `SELECT `+tc.column+` FROM `+table+` WHERE nonce = $1`, n[:])
			exec(t, st, `UPDATE `+table+` SET `+tc.column+` = $1 WHERE nonce = $2`, tc.change(b), n[:])
			checkOpenErr(t, v, "log", n, "request", ErrCorrupt)
			// Nor can the record take more parts under an altered key.
			if tc.column == "wrapped_dek" {
				if err := v.Seal(t.Context(), "log", n, map[string][]byte{"response": []byte("x")}, future); !errors.Is(err, ErrCorrupt) {
					t.Errorf("Seal with an altered data key: %v, want ErrCorrupt", err)
				}
			}
		})
	}

	t.Run("key id of a key the vault has", func(t *testing.T) {
		n := nonceN(100)
		seal(t, v, "log", n, map[string]string{"request": "prompt"})
		exec(t, st, `UPDATE vault_keys SET key_id = $1 WHERE nonce = $2`, older.ID(), n[:])
		checkOpenErr(t, v, "log", n, "request", ErrCorrupt)
	})
	t.Run("key id of a key the vault lacks", func(t *testing.T) {
		n := nonceN(101)
		seal(t, v, "log", n, map[string]string{"request": "prompt"})
		exec(t, st, `UPDATE vault_keys SET key_id = $1 WHERE nonce = $2`, absent.ID(), n[:])
		err := checkOpenErr(t, v, "log", n, "request", ErrUnknownKey)
		if err != nil && !strings.Contains(err.Error(), absent.ID()) {
			t.Errorf("Open error %q does not name the key %s", err, absent.ID())
		}
	})
}

func testShred(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	ctx := t.Context()
	r1, r2, r3, never := nonceN(1), nonceN(2), nonceN(3), nonceN(4)
	for _, n := range [][16]byte{r1, r2, r3} {
		seal(t, v, "log", n, map[string]string{"request": "prompt", "response": "answer"})
	}
	seal(t, v, "other-log", r1, map[string]string{"request": "the other log's"})

	got, err := v.Shred(ctx, "log", [][16]byte{r1, r2, never, r1})
	if err != nil || got != 2 {
		t.Fatalf("Shred = %d, %v; want 2", got, err)
	}
	for _, n := range [][16]byte{r1, r2, never} {
		for _, part := range []string{"request", "response", "other"} {
			checkOpenErr(t, v, "log", n, part, ErrShredded)
		}
		if err := v.Seal(ctx, "log", n, map[string][]byte{"late": []byte("x")}, future); !errors.Is(err, ErrShredded) {
			t.Errorf("Seal of a shredded record: %v, want ErrShredded", err)
		}
	}
	checkOpen(t, v, "log", r3, "response", "answer")
	checkOpen(t, v, "other-log", r1, "request", "the other log's")

	// The database holds neither the data keys nor the ciphertexts.
	if c := count(t, st, `SELECT count(*) FROM vault_entries WHERE log_id = 'log' AND nonce IN ($1, $2, $3)`, r1[:], r2[:], never[:]); c != 0 {
		t.Errorf("%d parts of shredded records remain", c)
	}
	if c := count(t, st, `SELECT count(*) FROM vault_keys WHERE log_id = 'log' AND (wrapped_dek IS NOT NULL OR key_id <> '' OR shredded_ns = 0) AND nonce IN ($1, $2, $3)`, r1[:], r2[:], never[:]); c != 0 {
		t.Errorf("%d data keys of shredded records remain", c)
	}

	if got, err := v.Shred(ctx, "log", [][16]byte{r1, r2}); err != nil || got != 0 {
		t.Errorf("Shred again = %d, %v; want 0", got, err)
	}
	if got, err := v.Shred(ctx, "log", nil); err != nil || got != 0 {
		t.Errorf("Shred of nothing = %d, %v; want 0", got, err)
	}
	if refs, err := v.Expired(ctx, future.Add(time.Hour), 10); err != nil || len(refs) != 2 {
		t.Errorf("Expired after Shred = %v, %v; want the 2 records not shredded", refs, err)
	}
}

// testShreddedCiphertext checks that the ciphertexts of a shredded record,
// restored from a copy of vault_entries, open to nothing: not under the
// tombstone, nor under another data key wrapped by the same master key.
func testShreddedCiphertext(t *testing.T, open func() *SQLStorage) {
	st := open()
	master := newMasterKey(t)
	v := New(st, master)
	n := nonceN(1)
	seal(t, v, "log", n, map[string]string{"request": "prompt", "response": "answer"})
	saved := map[string][]byte{}
	for _, part := range []string{"request", "response"} {
		saved[part] = blob(t, st, `SELECT sealed FROM vault_entries WHERE nonce = $1 AND part = $2`, n[:], part)
	}
	if got, err := v.Shred(t.Context(), "log", [][16]byte{n}); err != nil || got != 1 {
		t.Fatalf("Shred = %d, %v; want 1", got, err)
	}

	for part, sealed := range saved {
		exec(t, st, `INSERT INTO vault_entries (log_id, nonce, part, sealed) VALUES ('log', $1, $2, $3)`, n[:], part, sealed)
	}
	checkOpenErr(t, v, "log", n, "request", ErrShredded)

	dek := make([]byte, KeySize)
	rand.Read(dek)
	w, err := master.Wrap(dek)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, st, `UPDATE vault_keys SET key_id = $1, wrapped_dek = $2, shredded_ns = 0 WHERE nonce = $3`, master.ID(), w, n[:])
	for part := range saved {
		checkOpenErr(t, v, "log", n, part, ErrCorrupt)
	}
}

func testExpired(t *testing.T, open func() *SQLStorage) {
	v := New(open(), newMasterKey(t))
	ctx := t.Context()
	base := time.Unix(1_800_000_000, 0)
	var want []Ref
	for i := range 10 {
		logID := []string{"log-a", "log-b"}[i%2]
		exp := base.Add(time.Duration(i) * time.Minute)
		if err := v.Seal(ctx, logID, nonceN(i), map[string][]byte{"request": []byte("x")}, exp); err != nil {
			t.Fatalf("Seal: %v", err)
		}
		want = append(want, Ref{LogID: logID, Nonce: nonceN(i)})
	}
	now := base.Add(4 * time.Minute) // records 0 to 4 have expired
	if refs, err := v.Expired(ctx, base.Add(-time.Nanosecond), 10); err != nil || len(refs) != 0 {
		t.Errorf("Expired before any expiry = %v, %v; want none", refs, err)
	}
	refs, err := v.Expired(ctx, now, 3)
	if err != nil || !equalRefs(refs, want[:3]) {
		t.Errorf("Expired(limit 3) = %v, %v; want %v", refs, err, want[:3])
	}
	refs, err = v.Expired(ctx, now, 100)
	if err != nil || !equalRefs(refs, want[:5]) {
		t.Fatalf("Expired = %v, %v; want %v", refs, err, want[:5])
	}

	// The retention job's loop: shred in batches, log by log.
	for {
		refs, err := v.Expired(ctx, now, 2)
		if err != nil {
			t.Fatalf("Expired: %v", err)
		}
		if len(refs) == 0 {
			break
		}
		byLog := map[string][][16]byte{}
		for _, r := range refs {
			byLog[r.LogID] = append(byLog[r.LogID], r.Nonce)
		}
		for logID, nonces := range byLog {
			if n, err := v.Shred(ctx, logID, nonces); err != nil || n != len(nonces) {
				t.Fatalf("Shred = %d, %v; want %d", n, err, len(nonces))
			}
		}
	}
	for i, r := range want {
		_, err := v.Open(ctx, r.LogID, r.Nonce, "request")
		if shredded := errors.Is(err, ErrShredded); shredded != (i < 5) {
			t.Errorf("record %d: Open error %v; want shredded %v", i, err, i < 5)
		}
	}
	if _, err := v.Expired(ctx, now, 0); err == nil {
		t.Errorf("Expired with limit 0 succeeded, want an error")
	}
}

func equalRefs(a, b []Ref) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testRotate(t *testing.T, open func() *SQLStorage) {
	defer func(n int) { rotateBatch = n }(rotateBatch)
	rotateBatch = 7

	st := open()
	ctx := t.Context()
	oldKey, newKey := newMasterKey(t), newMasterKey(t)
	vOld := New(st, oldKey)
	const records = 20
	for i := range records {
		seal(t, vOld, "log", nonceN(i), map[string]string{"request": fmt.Sprint("prompt ", i)})
	}
	seal(t, vOld, "log", nonceN(records), map[string]string{"request": "to be shredded"})
	if _, err := vOld.Shred(ctx, "log", [][16]byte{nonceN(records)}); err != nil {
		t.Fatal(err)
	}
	n3 := nonceN(3) // any one
	sealedBefore := blob(t, st, `SELECT sealed FROM vault_entries WHERE nonce = $1`, n3[:])

	v := New(st, newKey, oldKey)
	checkOpen(t, v, "log", nonceN(0), "request", "prompt 0") // before rotation, through the older key
	seal(t, v, "log", nonceN(0), map[string]string{"response": "added before rotation"})
	seal(t, v, "log", nonceN(100), map[string]string{"request": "sealed under the new key"})

	n, err := v.Rotate(ctx)
	if err != nil || n != records {
		t.Fatalf("Rotate = %d, %v; want %d", n, err, records)
	}
	if n, err := v.Rotate(ctx); err != nil || n != 0 {
		t.Errorf("Rotate again = %d, %v; want 0", n, err)
	}
	if c := count(t, st, `SELECT count(*) FROM vault_keys WHERE shredded_ns = 0 AND key_id <> $1`, newKey.ID()); c != 0 {
		t.Errorf("%d data keys not wrapped by the new key after Rotate", c)
	}
	if got := blob(t, st, `SELECT sealed FROM vault_entries WHERE nonce = $1`, n3[:]); !bytes.Equal(got, sealedBefore) {
		t.Errorf("Rotate re-encrypted a part; it should only re-wrap data keys")
	}

	// The old key can go.
	vNew := New(st, newKey)
	for i := range records {
		checkOpen(t, vNew, "log", nonceN(i), "request", fmt.Sprint("prompt ", i))
	}
	checkOpen(t, vNew, "log", nonceN(0), "response", "added before rotation")
	checkOpen(t, vNew, "log", nonceN(100), "request", "sealed under the new key")
	checkOpenErr(t, vNew, "log", nonceN(records), "request", ErrShredded)
	err = checkOpenErr(t, vOld, "log", nonceN(0), "request", ErrUnknownKey)
	if err != nil && !strings.Contains(err.Error(), newKey.ID()) {
		t.Errorf("Open error %q does not name the key %s", err, newKey.ID())
	}
}

func testRotateUnknownKey(t *testing.T, open func() *SQLStorage) {
	defer func(n int) { rotateBatch = n }(rotateBatch)
	rotateBatch = 3

	st := open()
	k1, k2, lost := newMasterKey(t), newMasterKey(t), newMasterKey(t)
	for i := range 10 {
		k := k1
		if i == 4 || i == 7 {
			k = lost
		}
		seal(t, New(st, k), "log", nonceN(i), map[string]string{"request": "x"})
	}
	v := New(st, k2, k1)
	n, err := v.Rotate(t.Context())
	if n != 8 || !errors.Is(err, ErrUnknownKey) || !strings.Contains(fmt.Sprint(err), lost.ID()) || !strings.Contains(fmt.Sprint(err), "2 data keys") {
		t.Errorf("Rotate = %d, %v; want 8 and an error counting 2 data keys under key %s", n, err, lost.ID())
	}
	if n, err := v.Rotate(t.Context()); n != 0 || !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Rotate again = %d, %v; want 0 and the same error", n, err)
	}
	if n, err := New(st, k2, k1, lost).Rotate(t.Context()); n != 2 || err != nil {
		t.Errorf("Rotate with the lost key found = %d, %v; want 2", n, err)
	}
}

func testConcurrentRecords(t *testing.T, open func() *SQLStorage) {
	v := New(open(), newMasterKey(t))
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				n := nonceN(g*100 + i)
				req, resp := fmt.Appendf(nil, "request %d/%d", g, i), fmt.Appendf(nil, "response %d/%d", g, i)
				if err := v.Seal(ctx, "log", n, map[string][]byte{"request": req}, future); err != nil {
					t.Errorf("Seal: %v", err)
					return
				}
				if err := v.Seal(ctx, "log", n, map[string][]byte{"response": resp}, future); err != nil {
					t.Errorf("Seal: %v", err)
					return
				}
				for part, want := range map[string][]byte{"request": req, "response": resp} {
					if got, err := v.Open(ctx, "log", n, part); err != nil || !bytes.Equal(got, want) {
						t.Errorf("Open = %q, %v; want %q", got, err, want)
					}
				}
				if i%3 == 0 {
					if c, err := v.Shred(ctx, "log", [][16]byte{n}); err != nil || c != 1 {
						t.Errorf("Shred = %d, %v; want 1", c, err)
					}
					if _, err := v.Open(ctx, "log", n, "request"); !errors.Is(err, ErrShredded) {
						t.Errorf("Open after Shred: %v, want ErrShredded", err)
					}
				}
			}
		})
	}
	wg.Wait()
}

// testConcurrentFirstSeal seals one new record from many goroutines at
// once, each its own part: one data key must win, and every part must be
// sealed under it.
func testConcurrentFirstSeal(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	const goroutines = 12
	for r := range 3 {
		n := nonceN(r)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				part := fmt.Sprint("part", g)
				if err := v.Seal(t.Context(), "log", n, map[string][]byte{part: []byte(part)}, future); err != nil {
					t.Errorf("Seal of %s: %v", part, err)
				}
			})
		}
		wg.Wait()
		for g := range goroutines {
			part := fmt.Sprint("part", g)
			checkOpen(t, v, "log", n, part, part)
		}
	}
	if c := count(t, st, `SELECT count(*) FROM vault_keys`); c != 3 {
		t.Errorf("%d data keys for 3 records", c)
	}
}

// testConcurrentSealShred races Seals against Shreds of the same records:
// a Seal either lands before the shred, and is shredded with the record,
// or fails with ErrShredded; no part may outlive its data key.
func testConcurrentSealShred(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	ctx := t.Context()
	const records = 30
	var wg sync.WaitGroup
	for i := range records {
		n := nonceN(i)
		wg.Go(func() {
			for _, part := range []string{"request", "response"} {
				err := v.Seal(ctx, "log", n, map[string][]byte{part: []byte("x")}, future)
				if err != nil && !errors.Is(err, ErrShredded) {
					t.Errorf("Seal: %v", err)
				}
			}
		})
		wg.Go(func() {
			if _, err := v.Shred(ctx, "log", [][16]byte{n}); err != nil {
				t.Errorf("Shred: %v", err)
			}
		})
	}
	wg.Wait()
	if c := count(t, st, `SELECT count(*) FROM vault_entries e JOIN vault_keys k ON k.log_id = e.log_id AND k.nonce = e.nonce
WHERE k.shredded_ns <> 0`); c != 0 {
		t.Errorf("%d parts of shredded records remain", c)
	}
	for i := range records {
		checkOpenErr(t, v, "log", nonceN(i), "request", ErrShredded)
	}
}

// testConcurrentRefusals seals from many goroutines at once, some Seals
// refused (a part sealed already with other content, a shredded record):
// the refusals must not take the others down with them, as they could if
// Seals that commit together failed together.
func testConcurrentRefusals(t *testing.T, open func() *SQLStorage) {
	st := open()
	v := New(st, newMasterKey(t))
	ctx := t.Context()
	const records = 60
	for i := 0; i < records; i += 2 {
		seal(t, v, "log", nonceN(i), map[string]string{"request": "first"})
		if i%6 == 0 {
			if _, err := v.Shred(ctx, "log", [][16]byte{nonceN(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	for i := range records {
		wg.Go(func() {
			err := v.Seal(ctx, "log", nonceN(i), map[string][]byte{"request": []byte("second")}, future)
			var want error
			switch {
			case i%6 == 0:
				want = ErrShredded
			case i%2 == 0:
				want = ErrExists
			}
			if !errors.Is(err, want) { // errors.Is(err, nil) is err == nil
				t.Errorf("Seal of record %d: %v, want %v", i, err, want)
			}
		})
	}
	wg.Wait()
	for i := range records {
		switch {
		case i%6 == 0:
			checkOpenErr(t, v, "log", nonceN(i), "request", ErrShredded)
		case i%2 == 0:
			checkOpen(t, v, "log", nonceN(i), "request", "first")
		default:
			checkOpen(t, v, "log", nonceN(i), "request", "second")
		}
	}
}

// testConcurrentRotate rotates while records are sealed and opened.
func testConcurrentRotate(t *testing.T, open func() *SQLStorage) {
	defer func(n int) { rotateBatch = n }(rotateBatch)
	rotateBatch = 5

	st := open()
	ctx := t.Context()
	oldKey, newKey := newMasterKey(t), newMasterKey(t)
	vOld := New(st, oldKey)
	for i := range 40 {
		seal(t, vOld, "log", nonceN(i), map[string]string{"request": fmt.Sprint(i)})
	}
	v := New(st, newKey, oldKey)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := v.Rotate(ctx); err != nil {
			t.Errorf("Rotate: %v", err)
		}
	})
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < 40; i += 4 {
				n := nonceN(i)
				if err := v.Seal(ctx, "log", n, map[string][]byte{"response": []byte("r")}, future); err != nil {
					t.Errorf("Seal: %v", err)
				}
				checkOpen(t, v, "log", n, "request", fmt.Sprint(i))
				if i%5 == 0 {
					if _, err := v.Shred(ctx, "log", [][16]byte{n}); err != nil {
						t.Errorf("Shred: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	if _, err := v.Rotate(ctx); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	vNew := New(st, newKey)
	for i := range 40 {
		if i%5 == 0 {
			checkOpenErr(t, vNew, "log", nonceN(i), "response", ErrShredded)
			continue
		}
		checkOpen(t, vNew, "log", nonceN(i), "request", fmt.Sprint(i))
		checkOpen(t, vNew, "log", nonceN(i), "response", "r")
	}
}

// testTwoHandles seals through two storages on one database, as two
// processes or gateway nodes would.
func testTwoHandles(t *testing.T, open func() *SQLStorage) {
	k := newMasterKey(t)
	v1, v2 := New(open(), k), New(open(), k)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i, v := range []*Vault{v1, v2} {
		wg.Go(func() {
			part := fmt.Sprint("part", i)
			for r := range 15 {
				if err := v.Seal(ctx, "log", nonceN(r), map[string][]byte{part: []byte(part)}, future); err != nil {
					t.Errorf("Seal: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for r := range 15 {
		for _, v := range []*Vault{v1, v2} {
			checkOpen(t, v, "log", nonceN(r), "part0", "part0")
			checkOpen(t, v, "log", nonceN(r), "part1", "part1")
		}
	}
	if n, err := v2.Shred(ctx, "log", [][16]byte{nonceN(0)}); err != nil || n != 1 {
		t.Fatalf("Shred = %d, %v; want 1", n, err)
	}
	checkOpenErr(t, v1, "log", nonceN(0), "part0", ErrShredded)
}

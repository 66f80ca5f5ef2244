package vault

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSealRefuses(t *testing.T) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "vault.db"))
	v := New(st, newMasterKey(t))
	ok := map[string][]byte{"request": []byte("x")}
	for _, tc := range []struct {
		name    string
		logID   string
		parts   map[string][]byte
		expires time.Time
	}{
		{"empty log id", "", ok, future},
		{"log id with NUL", "log\x00", ok, future},
		{"log id not UTF-8", "log\xff", ok, future},
		{"no parts", "log", map[string][]byte{}, future},
		{"empty part name", "log", map[string][]byte{"": nil}, future},
		{"part name with a space", "log", map[string][]byte{"the request": nil}, future},
		{"part name with a quote", "log", map[string][]byte{"req'uest": nil}, future},
		{"part name not ASCII", "log", map[string][]byte{"réponse": nil}, future},
		{"part name too long", "log", map[string][]byte{strings.Repeat("p", 65): nil}, future},
		{"one bad part name of two", "log", map[string][]byte{"request": nil, "bad/name": nil}, future},
		{"no expiry", "log", ok, time.Time{}},
		{"expiry before 1970", "log", ok, time.Unix(-1, 0)},
		{"expiry after 2262", "log", ok, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if err := v.Seal(t.Context(), tc.logID, nonceN(1), tc.parts, tc.expires); err == nil {
			t.Errorf("Seal with %s succeeded, want an error", tc.name)
		}
	}
	if c := count(t, st, `SELECT count(*) FROM vault_keys`); c != 0 {
		t.Errorf("refused Seals left %d records", c)
	}
	if err := v.Seal(t.Context(), "log", nonceN(1), map[string][]byte{strings.Repeat("p", 64): nil, "A.b_c-9": nil}, future); err != nil {
		t.Errorf("Seal with the longest and the most varied part names: %v", err)
	}
	if _, err := v.Shred(t.Context(), "", [][16]byte{nonceN(1)}); err == nil {
		t.Errorf("Shred with an empty log id succeeded, want an error")
	}
}

// TestPartAAD pins the associated data documented in the package doc.
func TestPartAAD(t *testing.T) {
	var nonce [16]byte
	for i := range nonce {
		nonce[i] = byte(i)
	}
	got := partAAD(Ref{LogID: "node-1", Nonce: nonce}, "request")
	want := append([]byte("aitrail.vault.part.v1\x00\x00\x00\x00\x06node-1"), nonce[:]...)
	want = append(want, "request"...)
	if !bytes.Equal(got, want) {
		t.Errorf("partAAD = %q, want %q", got, want)
	}
}

func TestNewIgnoresNilAndDuplicateKeys(t *testing.T) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "vault.db"))
	k := newMasterKey(t)
	v := New(st, k, nil, k)
	seal(t, v, "log", nonceN(1), map[string]string{"request": "x"})
	checkOpen(t, v, "log", nonceN(1), "request", "x")
	if len(v.keys) != 1 {
		t.Errorf("New(k, nil, k) holds %d keys, want 1", len(v.keys))
	}
}

// TestOpenErrorsNameTheRecord checks that errors say which record and part
// they are about, and still match their sentinel.
func TestOpenErrorsNameTheRecord(t *testing.T) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "vault.db"))
	v := New(st, newMasterKey(t))
	n := nonceN(1)
	_, err := v.Open(t.Context(), "node-1", n, "request")
	ref := Ref{LogID: "node-1", Nonce: n}.String()
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), `"request"`) {
		t.Errorf("Open error %q: want ErrNotFound naming %s and the part", err, ref)
	}
}

func TestSealCancelled(t *testing.T) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "vault.db"))
	v := New(st, newMasterKey(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := v.Seal(ctx, "log", nonceN(1), map[string][]byte{"request": []byte("x")}, future); !errors.Is(err, context.Canceled) {
		t.Errorf("Seal with a cancelled context: %v, want context.Canceled", err)
	}
	checkOpenErr(t, v, "log", nonceN(1), "request", ErrNotFound)
}

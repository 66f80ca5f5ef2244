package identity

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aitrail/aitrail/internal/store"
)

type keyMap map[string]store.Key

func (m keyMap) Key(_ context.Context, id string) (store.Key, error) {
	k, ok := m[id]
	if !ok {
		return k, store.ErrNotFound
	}
	return k, nil
}

func TestKey(t *testing.T) {
	ctx := context.Background()
	text, k := NewKey()
	k.Actor, k.Role = "alice", RoleUser
	keys := keyMap{k.ID: k}
	a := NewAuthenticator(keys, nil)
	if id, err := a.Key(ctx, text); err != nil || id.Actor != "alice" || id.Role != RoleUser || id.KeyID != k.ID {
		t.Fatalf("Key(valid) = %+v, %v", id, err)
	}
	for name, bad := range map[string]string{
		"other secret": otherSecret(text),
		"not a key":    "sk-1234",
		"unknown id":   "ait_0000000000000000_" + strings.Repeat("A", 43),
		"empty":        "",
	} {
		if _, err := a.Key(ctx, bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Key(%s) = %v, want ErrInvalidKey", name, err)
		}
	}
	// A revocation takes effect once the cache entry expires.
	k.RevokedAt = 1
	keys[k.ID] = k
	a.ttl = 0
	if id, err := a.Key(ctx, text); !errors.Is(err, ErrRevokedKey) || id.Actor != "alice" {
		t.Fatalf("Key(revoked) = %+v, %v; want ErrRevokedKey with the owner", id, err)
	}
}

func TestKeyCacheBoundsRevocationDelay(t *testing.T) {
	ctx := context.Background()
	text, k := NewKey()
	keys := keyMap{k.ID: k}
	a := NewAuthenticator(keys, nil)
	if _, err := a.Key(ctx, text); err != nil {
		t.Fatal(err)
	}
	k.RevokedAt = 1
	keys[k.ID] = k
	// Within the TTL the cached row answers; backdating the entry past
	// the TTL makes the revocation visible, with no waiting.
	a.mu.Lock()
	c := a.cache[k.ID]
	c.at = c.at.Add(-KeyCacheTTL - time.Millisecond)
	a.cache[k.ID] = c
	a.mu.Unlock()
	if _, err := a.Key(ctx, text); !errors.Is(err, ErrRevokedKey) {
		t.Fatalf("Key after the TTL = %v, want ErrRevokedKey", err)
	}
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		role string
		a    Action
		want bool
	}{
		{RoleUser, CallModel, true}, {RoleUser, ManageModel, false}, {RoleUser, ReadLog, false},
		{RoleAuditor, CallModel, false}, {RoleAuditor, ReadLog, true}, {RoleAuditor, ManageModel, false},
		{RoleAdmin, CallModel, true}, {RoleAdmin, ManageModel, true}, {RoleAdmin, ReadLog, false},
		{"root", CallModel, false}, {"", OpenSession, false},
	} {
		if got := Allowed(tc.role, tc.a); got != tc.want {
			t.Errorf("Allowed(%q, %d) = %v, want %v", tc.role, tc.a, got, tc.want)
		}
	}
}

func TestHeaders(t *testing.T) {
	if _, ok, err := Headers("", "admin"); ok || err != nil {
		t.Errorf("Headers without actor = %v, %v", ok, err)
	}
	if id, ok, err := Headers("bob", ""); !ok || err != nil || id.Role != RoleUser {
		t.Errorf("Headers(bob, \"\") = %+v, %v, %v; want role user", id, ok, err)
	}
	if _, _, err := Headers("bob", "root"); err == nil {
		t.Error("Headers accepted role root")
	}
}

// otherSecret returns text with its last character changed.
func otherSecret(text string) string {
	last := byte('A')
	if text[len(text)-1] == 'A' {
		last = 'B'
	}
	return text[:len(text)-1] + string(last)
}

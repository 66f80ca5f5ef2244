// Package identity decides who is calling: API keys and their roles, and,
// behind a trusted reverse proxy, identity headers.
//
// An API key reads "ait_" + a 16-hex-digit id + "_" + 43 characters of
// base64url secret (256 bits). Only the id and the SHA-256 of the whole key
// are stored; a presented key is found by its id and its hash compared in
// constant time, so the database never holds a usable key and timing says
// nothing about it.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Roles. Least privilege: a user may call models and nothing else; an
// auditor may read the log and call no model; an admin manages keys and
// models and may call models.
const (
	RoleUser    = "user"
	RoleAuditor = "auditor"
	RoleAdmin   = "admin"
)

// Roles lists the valid roles.
var Roles = []string{RoleUser, RoleAuditor, RoleAdmin}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Actions a role may be allowed.
type Action int

const (
	CallModel   Action = iota + 1 // generate, chat, embed
	ManageModel                   // pull, push, create, copy, delete
	ReadLog                       // search and read the audit log
	OpenSession                   // declare a session's reason for access
	ReadRaw                       // read a body before redaction from the vault
	ReadHolds                     // list the legal holds
	ManageHolds                   // set and release legal holds
	ReadMetrics                   // read /metrics when metrics_auth is on
)

// Allowed reports whether role may perform a.
func Allowed(role string, a Action) bool {
	switch a {
	case CallModel:
		return role == RoleUser || role == RoleAdmin
	case ManageModel:
		return role == RoleAdmin
	case ReadLog:
		return role == RoleAuditor
	case OpenSession:
		return ValidRole(role)
	case ReadRaw, ReadHolds, ReadMetrics:
		return role == RoleAuditor || role == RoleAdmin
	case ManageHolds:
		return role == RoleAdmin
	}
	return false
}

// An Identity is an authenticated caller.
type Identity struct {
	Actor string
	Role  string
	KeyID string // "" when identity came from trusted headers
	// Source says how the caller was identified (a Source constant), and
	// Certificate, for a client certificate, its subject and SHA-256.
	Source      string
	Certificate string
}

// Errors of authentication; their text is shown to callers.
var (
	ErrNoCredentials = errors.New("missing API key: send it as 'Authorization: Bearer KEY'")
	ErrInvalidKey    = errors.New("invalid API key")
	ErrRevokedKey    = errors.New("API key revoked")
	ErrBadRole       = errors.New("not a role (want user, auditor or admin)")
)

// IsRefusal reports whether err refuses the caller (no, invalid or
// revoked credentials; a bad asserted role), as opposed to a failure to
// check them.
func IsRefusal(err error) bool {
	for _, e := range []error{ErrNoCredentials, ErrInvalidKey, ErrRevokedKey, ErrBadRole, ErrUnmappedCertificate} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// KeyStore is what key lookup needs.
type KeyStore interface {
	Key(ctx context.Context, id string) (store.Key, error)
}

const keyPrefix = "ait_"

// NewKey returns a new key's text and its stored form (without actor and
// role filled in).
func NewKey() (text string, k store.Key) {
	var id [8]byte
	var secret [32]byte
	rand.Read(id[:])
	rand.Read(secret[:])
	k.ID = hex.EncodeToString(id[:])
	text = keyPrefix + k.ID + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	k.Hash = sha256.Sum256([]byte(text))
	return text, k
}

// ParseKeyID returns the id part of a key's text.
func ParseKeyID(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, keyPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return id, true
}

// Authenticator checks API keys and trusted headers.
type Authenticator struct {
	keys    KeyStore
	trusted []netip.Prefix
	ttl     time.Duration

	mu    sync.Mutex
	cache map[string]cachedKey // key id -> stored key, as read at
}

type cachedKey struct {
	key store.Key
	at  time.Time
}

// KeyCacheTTL is how long a stored key (its hash, role and revocation) is
// reused before it is read again: a revocation takes effect within it.
const KeyCacheTTL = 2 * time.Second

// maxCachedKeys bounds the cache; past it the cache restarts.
const maxCachedKeys = 10000

// NewAuthenticator returns an Authenticator that looks keys up in keys and
// accepts identity headers from clients in the trusted networks.
func NewAuthenticator(keys KeyStore, trusted []netip.Prefix) *Authenticator {
	return &Authenticator{keys: keys, trusted: trusted, ttl: KeyCacheTTL, cache: map[string]cachedKey{}}
}

// lookup returns the stored key id, from the cache when it is fresh.
// Unknown ids are not cached, so a new key works at once.
func (a *Authenticator) lookup(ctx context.Context, id string) (store.Key, error) {
	a.mu.Lock()
	c, ok := a.cache[id]
	a.mu.Unlock()
	if ok && time.Since(c.at) < a.ttl {
		return c.key, nil
	}
	k, err := a.keys.Key(ctx, id)
	if err != nil {
		return k, err
	}
	a.mu.Lock()
	if len(a.cache) >= maxCachedKeys {
		clear(a.cache)
	}
	a.cache[id] = cachedKey{key: k, at: time.Now()}
	a.mu.Unlock()
	return k, nil
}

// Flush forgets every cached key, so that the next use of each is read
// from the store again (a configuration reload does this).
func (a *Authenticator) Flush() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}

// Trusted reports whether a client address is in a trusted network.
func (a *Authenticator) Trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Key authenticates the text of a bearer token. For a revoked key it
// returns ErrRevokedKey together with the key's identity.
func (a *Authenticator) Key(ctx context.Context, text string) (Identity, error) {
	id, ok := ParseKeyID(text)
	if !ok {
		return Identity{}, ErrInvalidKey
	}
	k, err := a.lookup(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, ErrInvalidKey
	}
	if err != nil {
		return Identity{}, fmt.Errorf("look up key: %w", err)
	}
	sum := sha256.Sum256([]byte(text))
	if subtle.ConstantTimeCompare(sum[:], k.Hash[:]) != 1 {
		return Identity{}, ErrInvalidKey
	}
	if k.RevokedAt != 0 {
		// The owner is returned with the error, so that the refusal is
		// attributed to them.
		return Identity{Actor: k.Actor, Role: k.Role, KeyID: k.ID, Source: SourceKey}, ErrRevokedKey
	}
	return Identity{Actor: k.Actor, Role: k.Role, KeyID: k.ID, Source: SourceKey}, nil
}

// Headers returns the identity asserted by a trusted proxy in X-Actor-Id and
// X-Actor-Role. ok is false when no identity header is present; an invalid
// role is an error.
func Headers(actor, role string) (id Identity, ok bool, err error) {
	if actor == "" {
		return Identity{}, false, nil
	}
	if role == "" {
		role = RoleUser
	}
	if !ValidRole(role) {
		return Identity{}, true, fmt.Errorf("X-Actor-Role %q is %w", role, ErrBadRole)
	}
	return Identity{Actor: actor, Role: role, Source: SourceHeaders}, true, nil
}

// NewSessionID returns a random session id.
func NewSessionID() string {
	var b [12]byte
	rand.Read(b[:])
	return "ses_" + hex.EncodeToString(b[:])
}

// KeyEvent returns the record of a key.created or key.revoked event done by
// the actor by.
func KeyEvent(kind string, by Identity, k store.Key) *record.Record {
	r := record.NewEvent(kind, map[string]string{"key_id": k.ID, "actor": k.Actor, "role": k.Role})
	r.Actor, r.Role = by.Actor, by.Role
	return r
}

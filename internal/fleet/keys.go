package fleet

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// RecordKey records vkey as the verifier key of the log logID, unless one
// is recorded already: then it must be vkey, or RecordKey returns a
// *KeyMismatchError (the data directory holds another log's keys).
func RecordKey(ctx context.Context, db *sql.DB, logID, vkey string) error {
	if _, err := db.ExecContext(ctx, `INSERT INTO log_keys (log_id, verifier_key, recorded_ns) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		logID, vkey, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("record the verifier key of log %q: %w", logID, err)
	}
	var got string
	if err := db.QueryRowContext(ctx, `SELECT verifier_key FROM log_keys WHERE log_id = $1`, logID).Scan(&got); err != nil {
		return fmt.Errorf("read the verifier key of log %q: %w", logID, err)
	}
	if got != vkey {
		return &KeyMismatchError{LogID: logID, Recorded: got, Local: vkey}
	}
	return nil
}

// A KeyMismatchError is a log whose verifier key in the database is not the
// one of the data directory that would write it.
type KeyMismatchError struct {
	LogID, Recorded, Local string
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("log %q was started with the verifier key %s, but this data directory's key is %s", e.LogID, e.Recorded, e.Local)
}

// Keys returns the verifier keys recorded in the database, by log id.
func Keys(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT log_id, verifier_key FROM log_keys`)
	if err != nil {
		return nil, fmt.Errorf("read the logs' verifier keys: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, k string
		if err := rows.Scan(&id, &k); err != nil {
			return nil, fmt.Errorf("read the logs' verifier keys: %w", err)
		}
		out[id] = k
	}
	return out, rows.Err()
}

// Fingerprint identifies a fleet-wide secret key without revealing it: the
// first 16 bytes of HMAC-SHA-256 under the key of "aitrail fleet key
// fingerprint", hex-encoded.
func Fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("aitrail fleet key fingerprint"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// A SecretMismatchError is a node whose fleet-wide key is not the fleet's.
type SecretMismatchError struct{ Name string }

func (e *SecretMismatchError) Error() string {
	return fmt.Sprintf("this data directory's %s is not the fleet's (its fingerprint differs from the one in the database)", e.Name)
}

// ErrNotJoined is returned by CheckSecrets for a node that has no keys yet
// in a fleet that has.
var ErrNotJoined = errors.New("this data directory has not joined the fleet")

// CheckSecrets compares the node's fleet-wide keys (by name: "commitment
// key", "PII index key") with the fingerprints in the database, recording
// those the database has not yet (the first node's). A key that is nil is
// one the node does not have yet: ErrNotJoined if the fleet has one.
func CheckSecrets(ctx context.Context, db *sql.DB, keys map[string][]byte) error {
	for name, key := range keys {
		if key != nil {
			if _, err := db.ExecContext(ctx, `INSERT INTO fleet_keys (name, fingerprint) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, Fingerprint(key)); err != nil {
				return fmt.Errorf("record the fleet's %s: %w", name, err)
			}
		}
		var fp string
		err := db.QueryRowContext(ctx, `SELECT fingerprint FROM fleet_keys WHERE name = $1`, name).Scan(&fp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue // the fleet has none, nor has this node
		case err != nil:
			return fmt.Errorf("read the fleet's %s: %w", name, err)
		case key == nil:
			return fmt.Errorf("%w: the fleet has a %s", ErrNotJoined, name)
		case fp != Fingerprint(key):
			return &SecretMismatchError{Name: name}
		}
	}
	return nil
}

package fleet

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
)

// checkpointFormat is the first line of a fleet checkpoint.
const checkpointFormat = "aitrail-fleet-checkpoint/1"

// AnchorID is the log id under which fleet checkpoints are kept in anchor
// files. No node is named so: a node name has no slash.
const AnchorID = "fleet/"

// A Head is the latest signed checkpoint of one node's log: its size and
// Merkle root.
type Head struct {
	LogID string
	Size  int64
	Root  tlog.Hash
}

// A Checkpoint commits to the heads of every node's log at one time. Its
// text, the body of a signed note (golang.org/x/mod/sumdb/note) signed by
// the log key of the node that made it, is
//
//	aitrail-fleet-checkpoint/1\n
//	<time signed, Unix nanoseconds, decimal>\n
//	<log id> <size, decimal> <root hash, base64 (standard, padded)>\n
//	...
//
// with one line per log, at least one, sorted by log id (byte order), and
// no two for one log.
type Checkpoint struct {
	Time  time.Time
	Heads []Head
}

// String returns the checkpoint's text.
func (c Checkpoint) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n", checkpointFormat, c.Time.UnixNano())
	for _, h := range c.Heads {
		fmt.Fprintf(&b, "%s %d %s\n", h.LogID, h.Size, base64.StdEncoding.EncodeToString(h.Root[:]))
	}
	return b.String()
}

// ParseCheckpoint parses a fleet checkpoint's text, strictly: exactly the
// lines above, decimal numbers without sign or leading zeros, roots of 32
// bytes in canonical base64.
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return c, errors.New("malformed fleet checkpoint: want a format line, a time and at least one log")
	}
	lines = lines[:len(lines)-1]
	if lines[0] != checkpointFormat+"\n" {
		return c, fmt.Errorf("malformed fleet checkpoint: first line %q, want %q", strings.TrimSuffix(lines[0], "\n"), checkpointFormat)
	}
	ns, err := decimal(strings.TrimSuffix(lines[1], "\n"))
	if err != nil {
		return c, fmt.Errorf("malformed fleet checkpoint: time: %w", err)
	}
	c.Time = time.Unix(0, ns)
	for _, line := range lines[2:] {
		f := strings.Split(strings.TrimSuffix(line, "\n"), " ")
		if len(f) != 3 || f[0] == "" || strings.ContainsAny(f[0], "\t/") {
			return c, fmt.Errorf("malformed fleet checkpoint: log line %q", strings.TrimSuffix(line, "\n"))
		}
		h := Head{LogID: f[0]}
		if h.Size, err = decimal(f[1]); err != nil {
			return c, fmt.Errorf("malformed fleet checkpoint: log %q: size: %w", f[0], err)
		}
		root, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil || len(root) != len(h.Root) || base64.StdEncoding.EncodeToString(root) != f[2] {
			return c, fmt.Errorf("malformed fleet checkpoint: log %q: bad root hash %q", f[0], f[2])
		}
		copy(h.Root[:], root)
		if n := len(c.Heads); n > 0 && c.Heads[n-1].LogID >= h.LogID {
			return c, fmt.Errorf("malformed fleet checkpoint: log %q out of order", h.LogID)
		}
		c.Heads = append(c.Heads, h)
	}
	return c, nil
}

func decimal(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return n, nil
}

// Heads returns the latest signed checkpoint of every log in the database,
// by log id.
func Heads(ctx context.Context, db *sql.DB) ([]Head, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.log_id, c.note FROM checkpoints c
JOIN (SELECT log_id, MAX(size) AS size FROM checkpoints GROUP BY log_id) m ON c.log_id = m.log_id AND c.size = m.size
ORDER BY c.log_id`)
	if err != nil {
		return nil, fmt.Errorf("read the logs' heads: %w", err)
	}
	defer rows.Close()
	var out []Head
	for rows.Next() {
		var id string
		var msg []byte
		if err := rows.Scan(&id, &msg); err != nil {
			return nil, fmt.Errorf("read the logs' heads: %w", err)
		}
		cp, err := ledger.ParseSignedCheckpoint(msg)
		if err != nil {
			return nil, fmt.Errorf("log %q: latest checkpoint: %w", id, err)
		}
		out = append(out, Head{LogID: id, Size: cp.Size, Root: cp.Root})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the logs' heads: %w", err)
	}
	// ORDER BY follows the database's collation; the format wants bytes.
	slices.SortFunc(out, func(a, b Head) int { return strings.Compare(a.LogID, b.LogID) })
	return out, nil
}

// A Signer signs fleet checkpoints with a node's log key, stores them in
// the database and hands them to the node's file anchors.
type Signer struct {
	db      *sql.DB
	signer  note.Signer
	anchors []ledger.Anchor
	every   time.Duration
	last    []Head
	now     func() time.Time
}

// NewSigner returns a signer with the node's signing key skey, which signs
// at most one fleet checkpoint per every in the whole fleet (0: no limit).
// The anchors take fleet checkpoints under the log id AnchorID; witnesses,
// which check tlog checkpoints, are not for them.
func NewSigner(db *sql.DB, skey string, anchors []ledger.Anchor, every time.Duration) (*Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("fleet checkpoint signer: %w", err)
	}
	return &Signer{db: db, signer: s, anchors: anchors, every: every, now: time.Now}, nil
}

// Sign signs a fleet checkpoint of the current heads, unless they are
// those of this signer's previous one, or there are none, or any node
// signed one less than half of every ago (the nodes share the work, and
// the fleet keeps about one per every). It returns the checkpoint, or nil
// when it signed none, and the anchors' errors; the checkpoint is stored
// before it is anchored.
func (s *Signer) Sign(ctx context.Context) (*Checkpoint, []error, error) {
	if s.every > 0 {
		var latest sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MAX(time_ns) FROM fleet_checkpoints`).Scan(&latest); err != nil {
			return nil, nil, fmt.Errorf("read the latest fleet checkpoint: %w", err)
		}
		if latest.Valid && s.now().Sub(time.Unix(0, latest.Int64)) < s.every/2 {
			return nil, nil, nil
		}
	}
	heads, err := Heads(ctx, s.db)
	if err != nil || len(heads) == 0 || slices.Equal(heads, s.last) {
		return nil, nil, err
	}
	c := &Checkpoint{Time: s.now(), Heads: heads}
	msg, err := note.Sign(&note.Note{Text: c.String()}, s.signer)
	if err != nil {
		return nil, nil, fmt.Errorf("sign a fleet checkpoint: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO fleet_checkpoints (time_ns, signer, note) VALUES ($1, $2, $3)`,
		c.Time.UnixNano(), s.signer.Name(), msg); err != nil {
		return nil, nil, fmt.Errorf("store a fleet checkpoint: %w", err)
	}
	s.last = heads
	var size int64
	for _, h := range heads {
		size += h.Size
	}
	var errs []error
	for _, a := range s.anchors {
		if _, err := a.Add(ctx, AnchorID, msg, ledger.Checkpoint{Origin: checkpointFormat, Size: size}, nil); err != nil {
			errs = append(errs, fmt.Errorf("%s: fleet checkpoint: %w", a.Name(), err))
		}
	}
	return c, errs, nil
}

// Stored returns the fleet checkpoints in the database, oldest first.
func Stored(ctx context.Context, db *sql.DB) ([][]byte, error) {
	rows, err := db.QueryContext(ctx, `SELECT note FROM fleet_checkpoints ORDER BY time_ns, signer`)
	if err != nil {
		return nil, fmt.Errorf("read the fleet checkpoints: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read the fleet checkpoints: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// A LogState is what verification knows of one log: its size now, and
// the roots of its signed checkpoints, by size, as verified with the log.
type LogState struct {
	Size  int64
	Base  int64 // records before Base were pruned (with their checkpoints)
	Roots map[int64]tlog.Hash
}

// A Report is the outcome of Verify.
type Report struct {
	Checked  int         // fleet checkpoints checked
	Anchored int         // of which held by anchors
	Latest   *Checkpoint // the latest valid one
	Signer   string      // the name of the key that signed Latest
	Problems []string
}

// Verify checks the fleet checkpoints stored in the database and those the
// anchors hold: each must be signed by one of the trusted keys (the nodes'
// log keys), and each head it commits to must be a checkpoint of that log
// with the same root, at a size the log still has. An anchored one missing
// from the database was deleted.
func Verify(stored, anchored [][]byte, trusted note.Verifiers, logs map[string]LogState) *Report {
	rep := &Report{}
	inDB := map[string]bool{}
	for _, m := range stored {
		inDB[string(m)] = true
	}
	seen := map[string]bool{}
	check := func(msg []byte, fromAnchor bool) {
		if seen[string(msg)] {
			if fromAnchor {
				rep.Anchored++
			}
			return
		}
		seen[string(msg)] = true
		rep.Checked++
		if fromAnchor {
			rep.Anchored++
		}
		where := "fleet checkpoint"
		if fromAnchor {
			where = "anchored fleet checkpoint"
		}
		n, err := note.Open(msg, trusted)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s %q: %v", where, firstLines(msg), err))
			return
		}
		c, err := ParseCheckpoint(n.Text)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", where, err))
			return
		}
		at := c.Time.UTC().Format(time.RFC3339Nano)
		where = fmt.Sprintf("%s of %s signed by %s", where, at, n.Sigs[0].Name)
		if fromAnchor && !inDB[string(msg)] {
			rep.Problems = append(rep.Problems, where+": missing from the database (deleted)")
		}
		ok := true
		for _, h := range c.Heads {
			l, known := logs[h.LogID]
			switch {
			case !known || h.Size > l.Size:
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: log %s had %d records then, but has %d now: records deleted or the log rolled back", where, h.LogID, h.Size, l.Size))
				ok = false
			case h.Size < l.Base:
				// pruned with its checkpoints under the retention policy
			default:
				root, found := l.Roots[h.Size]
				if !found {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: log %s has no checkpoint at size %d: deleted", where, h.LogID, h.Size))
					ok = false
				} else if root != h.Root {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: log %s at size %d has another root than it committed to: the log was rewritten", where, h.LogID, h.Size))
					ok = false
				}
			}
		}
		if ok && (rep.Latest == nil || !c.Time.Before(rep.Latest.Time)) {
			rep.Latest, rep.Signer = &c, n.Sigs[0].Name
		}
	}
	for _, m := range stored {
		check(m, false)
	}
	for _, m := range anchored {
		check(m, true)
	}
	return rep
}

func firstLines(msg []byte) string {
	text, _, _ := bytes.Cut(msg, []byte("\n\n"))
	if len(text) > 120 {
		text = text[:120]
	}
	return string(text)
}

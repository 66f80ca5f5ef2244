package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// A Continuation is a log that Continue started after a restore.
type Continuation struct {
	LogID      string // the new log
	SKey, VKey string // its keys (now in log.key and log.pub)
	Restore    *record.Restore
}

// switchFile holds a key switch in progress: written before the new log's
// first record, removed once the key files are in place, so that a crash at
// any point is finished by the next start.
type switchFile struct {
	OldLog  string          `json:"old_log"`
	OldVKey string          `json:"old_vkey"`
	NewLog  string          `json:"new_log"`
	NewSKey string          `json:"new_skey"`
	NewVKey string          `json:"new_vkey"`
	Restore *record.Restore `json:"restore"`
}

func switchPath(c config.Config) string { return filepath.Join(c.Data, "log.switch") }

// RetiredKeyPath is where the verifier key of a log this node no longer
// writes (logID) is kept.
func RetiredKeyPath(c config.Config, logID string) string {
	return filepath.Join(c.Data, "log-"+logID+".pub")
}

// Continue is run by serve at start, before it signs anything, on the log
// logID with keys skey and vkey. When the log is behind its anchors (it was
// restored from a backup, or rolled back) and is a consistent prefix of
// what they hold, Continue never signs over it: it starts a new log NODE.rK
// under a new key, whose first record is a log.restored event naming the
// gap, retires the old key to log-LOG.pub and puts the new one in log.key
// and log.pub. It returns nil when the log is not behind. A log that
// contradicts its anchors (a fork) gives a *ledger.ForkError and is left
// as it is. A continuation interrupted by a crash is finished.
func Continue(ctx context.Context, st store.Store, c config.Config, logID, skey, vkey string) (*Continuation, error) {
	if b, err := os.ReadFile(switchPath(c)); err == nil {
		var sw switchFile
		if err := json.Unmarshal(b, &sw); err != nil || sw.Restore == nil {
			return nil, fmt.Errorf("%s is damaged; it holds a key switch after a restore: %v", switchPath(c), err)
		}
		return finish(ctx, st, c, &sw)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if vkey == "" {
		return nil, nil
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("log verifier key: %w", err)
	}
	var notes [][]byte
	for _, f := range c.AnchorFiles() {
		ns, err := anchor.NewFile(f).Checkpoints(ctx, logID)
		var me *anchor.MalformedError
		if err != nil && !errors.As(err, &me) {
			return nil, fmt.Errorf("read anchor %s: %w", f, err)
		}
		notes = append(notes, ns...)
	}
	gap, err := ledger.FindGap(ctx, st, logID, note.VerifierList(v), notes)
	if err != nil || gap == nil {
		return nil, err
	}
	if skey == "" {
		return nil, fmt.Errorf("log %q is behind its anchors (restored from a backup?), and there is no signing key in %s to continue it", logID, c.Data)
	}
	newLog, err := nextLogID(ctx, st, c, logID)
	if err != nil {
		return nil, err
	}
	newSKey, newVKey, err := ledger.GenerateSigningKey("aitrail/" + newLog + "/" + randomHex(6))
	if err != nil {
		return nil, err
	}
	r, err := ledger.RestoreEvent(gap, skey, newLog, newVKey)
	if err != nil {
		return nil, fmt.Errorf("the log.restored event: %w", err)
	}
	sw := &switchFile{OldLog: logID, OldVKey: vkey, NewLog: newLog, NewSKey: newSKey, NewVKey: newVKey, Restore: r}
	b, _ := json.MarshalIndent(sw, "", "  ")
	if err := writeAtomic(switchPath(c), b, 0o600); err != nil {
		return nil, fmt.Errorf("record the key switch: %w", err)
	}
	return finish(ctx, st, c, sw)
}

// finish appends the log.restored event if the new log has none yet, then
// puts the key files in place (each step can be repeated).
func finish(ctx context.Context, st store.Store, c config.Config, sw *switchFile) (*Continuation, error) {
	h, err := st.Head(ctx, sw.NewLog)
	if err != nil {
		return nil, err
	}
	if h.Seq < 0 {
		led := ledger.New(st, sw.NewLog, ledger.Options{})
		ev := record.NewEvent(record.KindRestored, sw.Restore)
		ev.Actor, ev.Role = "aitrail", "admin"
		ev.Status = record.StatusOK
		err := led.Append(ctx, &ledger.Entry{Record: ev})
		led.Close()
		if err != nil {
			return nil, fmt.Errorf("start the log %s: %w", sw.NewLog, err)
		}
	}
	if err := writeAtomic(RetiredKeyPath(c, sw.OldLog), []byte(sw.OldVKey+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := writeAtomic(c.SigningKeyPath(), []byte(sw.NewSKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := writeAtomic(c.VerifierKeyPath(), []byte(sw.NewVKey+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.Remove(switchPath(c)); err != nil {
		return nil, err
	}
	if err := syncDir(c.Data); err != nil {
		return nil, err
	}
	return &Continuation{LogID: sw.NewLog, SKey: sw.NewSKey, VKey: sw.NewVKey, Restore: sw.Restore}, nil
}

// nextLogID returns NODE.rK for the smallest K above that of logID that no
// log in the database or the anchors has.
func nextLogID(ctx context.Context, st store.Store, c config.Config, logID string) (string, error) {
	logs, err := st.Logs(ctx)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, l := range logs {
		taken[l] = true
	}
	for _, f := range c.AnchorFiles() {
		ids, _ := anchor.NewFile(f).Logs(ctx)
		for _, l := range ids {
			taken[l] = true
		}
	}
	k := 1
	if rest, ok := strings.CutPrefix(logID, c.Node+".r"); ok {
		if n, err := strconv.Atoi(rest); err == nil {
			k = n + 1
		}
	}
	for ; ; k++ {
		id := fmt.Sprintf("%s.r%d", c.Node, k)
		if !taken[id] {
			return id, nil
		}
	}
}

// Describe says what a log.restored event means, for serve's and verify's
// messages.
func Describe(r *record.Restore) string {
	return fmt.Sprintf("log %s was restored from a backup taken at record %d; records %d..%d recorded after it are missing (its anchors hold a signed checkpoint of %d records); the log continues in %s",
		r.Log, r.Size-1, r.MissingFrom, r.MissingTo, r.AnchoredSize, r.LogID)
}

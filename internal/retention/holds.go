package retention

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Open reports whether a hold is in force at now: not released, not
// expired.
func Open(h store.Hold, now time.Time) bool {
	return h.ReleasedAt == 0 && (h.Expires == 0 || now.UnixNano() < h.Expires)
}

// Criteria describes what a hold matches, for people.
func Criteria(h store.Hold) string {
	var parts []string
	if h.Actor != "" {
		parts = append(parts, "actor "+h.Actor)
	}
	if h.Session != "" {
		parts = append(parts, "session "+h.Session)
	}
	if h.Model != "" {
		parts = append(parts, "model "+h.Model)
	}
	if h.Since != 0 {
		parts = append(parts, "since "+time.Unix(0, h.Since).UTC().Format(time.RFC3339))
	}
	if h.Until != 0 {
		parts = append(parts, "until "+time.Unix(0, h.Until).UTC().Format(time.RFC3339))
	}
	if h.Text != "" {
		parts = append(parts, fmt.Sprintf("text %q", h.Text))
	}
	if len(parts) == 0 {
		return "every record"
	}
	return strings.Join(parts, ", ")
}

// matchesMeta reports whether a record meets a hold's criteria other than
// text.
func matchesMeta(h store.Hold, r *record.Record) bool {
	return (h.Actor == "" || h.Actor == r.Actor) &&
		(h.Session == "" || h.Session == r.Session) &&
		(h.Model == "" || h.Model == r.Model) &&
		(h.Since == 0 || r.Time >= h.Since) &&
		(h.Until == 0 || r.Time < h.Until)
}

// A HoldDetail is a hold as the log records it: the Detail of hold.added
// (whole) and hold.released (ID, the release's reason, Criteria) events.
// The holds API shows holds in the same words.
type HoldDetail struct {
	ID       string `json:"id"`
	Reason   string `json:"reason"`
	Criteria string `json:"criteria,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Session  string `json:"session,omitempty"`
	Model    string `json:"model,omitempty"`
	Since    string `json:"since,omitempty"`
	Until    string `json:"until,omitempty"`
	Text     string `json:"text,omitempty"`
	Expires  string `json:"expires,omitempty"`
}

// Detail returns h as a hold.added event records it.
func Detail(h store.Hold) HoldDetail {
	return HoldDetail{ID: h.ID, Reason: h.Reason, Criteria: Criteria(h), Actor: h.Actor, Session: h.Session, Model: h.Model,
		Since: Stamp(h.Since), Until: Stamp(h.Until), Text: h.Text, Expires: Stamp(h.Expires)}
}

// Stamp writes a time in Unix nanoseconds as RFC 3339, "" for 0 (unset).
func Stamp(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// ErrNoReason is returned when a hold is set or released without a reason.
var ErrNoReason = errors.New("a reason is required")

// ErrBadHold is returned for a hold that makes no sense (it ends before it
// starts).
var ErrBadHold = errors.New("not a valid hold")

// A Keeper sets, lists and releases the legal holds of a log's store,
// recording every change in the log: what serve's holds API uses.
type Keeper struct {
	Store  store.Store
	Ledger *ledger.Ledger
	Now    func() time.Time // default time.Now

	// mu makes a release's check and its event one step, so that two
	// releases of one hold at once do not both record one.
	mu sync.Mutex
}

func (k *Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// AddHold sets a hold (see AddHold).
func (k *Keeper) AddHold(ctx context.Context, h store.Hold, by, role string) (store.Hold, error) {
	return AddHold(ctx, k.Store, k.Ledger, h, by, role, k.now())
}

// Holds lists every hold, released and expired ones included.
func (k *Keeper) Holds(ctx context.Context) ([]store.Hold, error) { return k.Store.Holds(ctx) }

// ReleaseHold releases a hold (see ReleaseHold).
func (k *Keeper) ReleaseHold(ctx context.Context, id, reason, by, role string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return ReleaseHold(ctx, k.Store, k.Ledger, id, reason, by, role, k.now())
}

// AddHold sets a legal hold: it records a hold.added event in the log,
// then stores the hold, and returns it with its new ID. by and role are
// who sets it (the caller has checked that they may).
func AddHold(ctx context.Context, st store.Store, led *ledger.Ledger, h store.Hold, by, role string, now time.Time) (store.Hold, error) {
	h.Reason = strings.TrimSpace(h.Reason)
	if h.Reason == "" {
		return h, fmt.Errorf("set a hold: %w", ErrNoReason)
	}
	if h.Since != 0 && h.Until != 0 && h.Until <= h.Since {
		return h, fmt.Errorf("set a hold: %w: its until is not after its since", ErrBadHold)
	}
	if h.Expires != 0 && h.Expires <= now.UnixNano() {
		return h, fmt.Errorf("set a hold: %w: it would expire before it starts", ErrBadHold)
	}
	var id [6]byte
	rand.Read(id[:])
	h.ID = "hold-" + hex.EncodeToString(id[:])
	h.CreatedAt, h.CreatedBy = now.UnixNano(), by
	ev := record.NewEvent(record.KindHoldAdded, Detail(h))
	ev.Actor, ev.Role, ev.Reason = by, role, h.Reason
	// The event first: a hold that is not in the log was never set.
	if err := led.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		return h, fmt.Errorf("record the hold: %w", err)
	}
	if err := st.AddHold(ctx, h); err != nil {
		// The log says the hold was set, but no purge would honour it:
		// say in the log that it ended at once, and why.
		reason := "not in force: the hold could not be stored (" + err.Error() + ")"
		rel := record.NewEvent(record.KindHoldReleased, HoldDetail{ID: h.ID, Reason: reason, Criteria: Criteria(h)})
		rel.Actor, rel.Role, rel.Reason = by, role, reason
		if rerr := led.Append(context.WithoutCancel(ctx), &ledger.Entry{Record: rel}); rerr != nil {
			return h, fmt.Errorf("store the hold: %w (and recording that it is not in force failed too: %v; the log shows hold %s as set, but no purge honours it)", err, rerr, h.ID)
		}
		return h, fmt.Errorf("store the hold: %w (the log records that hold %s is not in force)", err, h.ID)
	}
	return h, nil
}

// ReleaseHold releases a hold: it records a hold.released event, then marks
// the hold released. The next purge may delete what it kept.
func ReleaseHold(ctx context.Context, st store.Store, led *ledger.Ledger, id, reason, by, role string, now time.Time) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("release a hold: %w", ErrNoReason)
	}
	holds, err := st.Holds(ctx)
	if err != nil {
		return err
	}
	var h *store.Hold
	for i := range holds {
		if holds[i].ID == id {
			h = &holds[i]
		}
	}
	switch {
	case h == nil:
		return fmt.Errorf("release hold %s: %w", id, store.ErrNotFound)
	case h.ReleasedAt != 0:
		return fmt.Errorf("release hold %s: %w", id, store.ErrReleased)
	}
	ev := record.NewEvent(record.KindHoldReleased, HoldDetail{ID: id, Reason: reason, Criteria: Criteria(*h)})
	ev.Actor, ev.Role, ev.Reason = by, role, reason
	if err := led.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		return fmt.Errorf("record the release: %w", err)
	}
	return st.ReleaseHold(ctx, id, now.UnixNano(), by, reason)
}

// holdSet decides which records the holds open at a purge keep.
type holdSet struct {
	st    store.Store
	logID string
	holds []store.Hold
	texts map[int64]string // bodies read, as lower-case text
}

func newHoldSet(ctx context.Context, st store.Store, logID string, now time.Time) (*holdSet, error) {
	hs := &holdSet{st: st, logID: logID, texts: map[int64]string{}}
	return hs, hs.reload(ctx, now)
}

// reload reads the holds open at now again.
func (hs *holdSet) reload(ctx context.Context, now time.Time) error {
	all, err := hs.st.Holds(ctx)
	if err != nil {
		return fmt.Errorf("read the legal holds: %w", err)
	}
	hs.holds = hs.holds[:0]
	for _, h := range all {
		if Open(h, now) {
			h.Text = strings.ToLower(h.Text)
			hs.holds = append(hs.holds, h)
		}
	}
	return nil
}

// holding returns the first open hold that keeps r, or nil. A text hold
// keeps both records of an interaction when either body holds the text.
func (hs *holdSet) holding(ctx context.Context, r *record.Record) (*store.Hold, error) {
	for i := range hs.holds {
		h := &hs.holds[i]
		if !matchesMeta(*h, r) {
			continue
		}
		if h.Text == "" {
			return h, nil
		}
		ok, err := hs.interactionContains(ctx, r, h.Text)
		if err != nil {
			return nil, err
		}
		if ok {
			return h, nil
		}
	}
	return nil, nil
}

func (hs *holdSet) interactionContains(ctx context.Context, r *record.Record, text string) (bool, error) {
	seqs := []int64{r.Seq}
	switch r.Kind {
	case record.KindResponse:
		seqs = append(seqs, r.RequestSeq)
	case record.KindRequest, record.KindAdmin:
		rs, err := hs.st.Search(ctx, store.Filter{LogID: hs.logID, RequestSeqs: []int64{r.Seq}, Kinds: []string{record.KindResponse}})
		if err != nil {
			return false, err
		}
		for _, x := range rs {
			seqs = append(seqs, x.Seq)
		}
	}
	for _, seq := range seqs {
		t, ok := hs.texts[seq]
		if !ok {
			b, err := hs.st.Body(ctx, hs.logID, seq)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
			t = strings.ToLower(bodyText(b))
			if len(hs.texts) > 10000 {
				clear(hs.texts)
			}
			hs.texts[seq] = t
		}
		if strings.Contains(t, text) {
			return true, nil
		}
	}
	return false, nil
}

// bodyText returns the strings of a stored JSON body, one per line.
func bodyText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	var sb strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			sb.WriteString(v)
			sb.WriteByte('\n')
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return sb.String()
}

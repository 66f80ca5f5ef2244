package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/fleet"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// A trust is the key verify trusts to have signed one log's checkpoints,
// and where it came from.
type trust struct {
	verifiers note.Verifiers
	keys      []string
	anchor    string           // the trust anchor, for the report
	warning   string           // when the key came only from the database or the data directory
	problems  []ledger.Problem // keys that disagree: a key replaced
}

// trustKeys gathers the keys verify may trust: given with --key (strict:
// then only those), in log_keys, this data directory's log.pub, and the
// verifier key each node recorded in the database.
type trustKeys struct {
	flag   []string
	config []string
	local  string // this node's log.pub
	// retired are this node's keys of the logs it continued from after a
	// restore (DATA/log-LOG.pub).
	retired []string
	logID   string // this node's log
	db      map[string]string
}

func loadTrustKeys(ctx context.Context, al *auditLog, flagKeys []string) (*trustKeys, error) {
	t := &trustKeys{flag: flagKeys, config: al.cfg.LogKeys, local: al.vkey, retired: al.retired, logID: al.logID, db: map[string]string{}}
	for _, k := range append(append([]string{}, flagKeys...), al.cfg.LogKeys...) {
		if _, err := note.NewVerifier(k); err != nil {
			return nil, withHint(fmt.Errorf("verifier key %q: %w", k, err), "a verifier key looks like NAME+HASH+BASE64; aitrail keys log-key prints the log's")
		}
	}
	if db, ok := al.store.(dbHandle); ok && al.cfg.Database != "sqlite" {
		keys, err := fleet.Keys(ctx, db.DB())
		if err != nil {
			return nil, err
		}
		t.db = keys
	}
	return t, nil
}

// keyName is the name of a verifier key (its log's origin).
func keyName(vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	return name
}

// forLog returns the trust for the log id. A given key is for a log when
// its name is the log's origin ("aitrail/ID/..."). With --key, only the
// keys given are trusted; a log none of them is for is checked against all
// of them (and fails if another key signed it).
func (t *trustKeys) forLog(id string) (trust, error) {
	recorded := t.db[id]
	if id == t.logID && t.local != "" && recorded == "" {
		recorded = t.local
	}
	pick := func(keys []string) []string {
		var out []string
		for _, k := range keys {
			n := keyName(k)
			if (recorded != "" && n == keyName(recorded)) || strings.HasPrefix(n, "aitrail/"+id+"/") {
				out = append(out, k)
			}
		}
		return out
	}
	var tr trust
	switch {
	case len(t.flag) > 0:
		tr.keys, tr.anchor = pick(t.flag), "the key given with --key"
		if len(tr.keys) == 0 {
			tr.keys, tr.anchor = t.flag, "the keys given with --key (none is named for this log)"
		}
	case len(pick(t.config)) > 0:
		tr.keys, tr.anchor = pick(t.config), "the key in log_keys of the configuration"
	case id == t.logID && t.local != "":
		tr.keys, tr.anchor = []string{t.local}, "this data directory's log.pub"
		tr.warning = "the key comes from the data directory beside the database: give it with --key or log_keys, kept elsewhere, to rule out a replaced key"
	case len(pick(t.retired)) > 0:
		tr.keys, tr.anchor = pick(t.retired), "this data directory's key of the log it was restored from (log-"+id+".pub)"
		tr.warning = "the key comes from the data directory beside the database: give it with --key or log_keys, kept elsewhere, to rule out a replaced key"
	case t.db[id] != "":
		tr.keys, tr.anchor = []string{t.db[id]}, "the key the node recorded in the database"
		tr.warning = "the key comes from the database itself: give it with --key or log_keys, kept elsewhere, to rule out a replaced key"
	default:
		tr.anchor = "none: no key is known for this log"
		return tr, nil
	}
	if t.db[id] != "" && !contains(tr.keys, t.db[id]) && len(tr.keys) == 1 {
		tr.problems = append(tr.problems, ledger.Problem{Seq: 0, Cause: fmt.Sprintf(
			"the verifier key recorded in the database (%s) is not the one trusted (%s): the key was replaced", t.db[id], tr.keys[0])})
	}
	var err error
	tr.verifiers, err = noteVerifiers(tr.keys)
	return tr, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkOriginKey compares the key sealed in the log's log.created event
// with the trusted ones. A log whose first record was pruned has none to
// compare.
func checkOriginKey(ctx context.Context, st store.Store, id string, tr trust) ([]ledger.Problem, error) {
	if len(tr.keys) == 0 {
		return nil, nil
	}
	recs, err := st.Search(ctx, store.Filter{LogID: id, Seqs: []int64{0}})
	if err != nil || len(recs) == 0 || recs[0].Kind != record.KindLogCreated {
		return nil, err
	}
	var d struct {
		OriginKey string `json:"origin_key"`
	}
	if json.Unmarshal(recs[0].Detail, &d) != nil || d.OriginKey == "" {
		return nil, nil // a log started before its key was sealed in it
	}
	if !contains(tr.keys, d.OriginKey) {
		return []ledger.Problem{{Seq: 0, Cause: fmt.Sprintf("log.created sealed the verifier key %s, which is not the trusted one", d.OriginKey)}}, nil
	}
	return nil, nil
}

// fleetReport is verify's report on the fleet checkpoints.
type fleetReport struct {
	OK       bool     `json:"ok"`
	Checked  int      `json:"checked"`
	Anchored int      `json:"anchored"`
	Latest   string   `json:"latest,omitempty"` // RFC 3339
	Signer   string   `json:"signer,omitempty"`
	Logs     int      `json:"logs"`
	Problems []string `json:"problems"`
}

// verifyFleet checks the fleet checkpoints against the logs, with every
// log's trusted key; nil on SQLite.
func verifyFleet(ctx context.Context, al *auditLog, logs []string, trusted []string) (*fleetReport, error) {
	db, ok := al.store.(dbHandle)
	if !ok || al.cfg.Database == "sqlite" {
		return nil, nil
	}
	stored, err := fleet.Stored(ctx, db.DB())
	if err != nil {
		return nil, err
	}
	var anchored [][]byte
	for _, f := range al.cfg.AnchorFiles() {
		notes, err := anchor.NewFile(f).Checkpoints(ctx, fleet.AnchorID)
		if err != nil {
			return nil, fmt.Errorf("read anchor: %w", err)
		}
		anchored = append(anchored, notes...)
	}
	if len(stored) == 0 && len(anchored) == 0 {
		return nil, nil
	}
	states := map[string]fleet.LogState{}
	for _, id := range logs {
		h, err := al.store.Head(ctx, id)
		if err != nil {
			return nil, err
		}
		b, err := al.store.Base(ctx, id)
		if err != nil {
			return nil, err
		}
		cps, err := al.store.Checkpoints(ctx, id, 0)
		if err != nil {
			return nil, err
		}
		s := fleet.LogState{Size: h.Seq + 1, Base: b.Size, Roots: map[int64]tlog.Hash{}}
		for _, c := range cps {
			if cp, err := ledger.ParseSignedCheckpoint(c.Note); err == nil {
				s.Roots[c.Size] = cp.Root
			}
		}
		states[id] = s
	}
	vs, err := noteVerifiers(trusted)
	if err != nil {
		return nil, err
	}
	if vs == nil {
		vs = note.VerifierList() // no key trusted: every signature fails
	}
	rep := fleet.Verify(stored, anchored, vs, states)
	out := &fleetReport{OK: len(rep.Problems) == 0, Checked: rep.Checked, Anchored: rep.Anchored, Signer: rep.Signer, Problems: append([]string{}, rep.Problems...)}
	if rep.Latest != nil {
		out.Latest = rep.Latest.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		out.Logs = len(rep.Latest.Heads)
	}
	return out, nil
}

func printFleet(out io.Writer, fr *fleetReport) {
	if fr == nil {
		return
	}
	if !fr.OK {
		fmt.Fprintf(out, "fleet: TAMPERED: %s\n", fr.Problems[0])
		for _, p := range fr.Problems[1:] {
			fmt.Fprintf(out, "  %s\n", p)
		}
		return
	}
	fmt.Fprintf(out, "fleet: %d fleet checkpoints checked (%d from anchors); the latest, signed by %s at %s, commits to the heads of %d logs\n",
		fr.Checked, fr.Anchored, fr.Signer, fr.Latest, fr.Logs)
}

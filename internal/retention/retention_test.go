package retention_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/pii"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/retention"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/vault"
)

// clock is the test's controllable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(y, m, d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.AddDate(y, m, d)
}

// world is a log with everything retention touches: the store, a ledger on
// the test's clock, the vault, checkpoints and the PII index.
type world struct {
	t      *testing.T
	ctx    context.Context
	clock  *clock
	st     *sqlite.Store
	led    *ledger.Ledger
	vault  *vault.Vault
	commit *record.Committer
	pii    *pii.Index
	cp     *ledger.Checkpointer
	vkey   string
	policy config.Retention
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vs, err := vault.OpenSQLite(ctx, filepath.Join(dir, "vault.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vs.Close() })
	mk := make([]byte, 32)
	rand.Read(mk)
	master, err := vault.LocalKey(mk)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, record.KeySize)
	rand.Read(key)
	commit, _ := record.NewCommitter(key)
	index, err := pii.New(key, "US")
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := ledger.GenerateSigningKey("aitrail/main/test")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.NewCheckpointer(st, "main", skey, vkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)}
	led := ledger.New(st, "main", ledger.Options{Now: clk.Now})
	t.Cleanup(led.Close)
	w := &world{t: t, ctx: ctx, clock: clk, st: st, led: led, vault: vault.New(vs, master), commit: commit,
		pii: index, cp: cp, vkey: vkey, policy: config.Default().Retention}
	w.append(record.NewEvent(record.KindLogCreated, nil))
	return w
}

func (w *world) append(rs ...*record.Record) {
	w.t.Helper()
	for _, r := range rs {
		if r.Actor == "" {
			r.Actor, r.Role = "aitrail", "admin"
		}
		if err := w.led.Append(w.ctx, &ledger.Entry{Record: r}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// call records one interaction of actor (role user) with model, whose
// prompt mentions email, as the gateway would: redacted bodies in the log,
// clear bodies in the vault, the e-mail address in the PII index. It
// returns the request's and the response's Seq.
func (w *world) call(actor, role, model, prompt, email string) (int64, int64) {
	w.t.Helper()
	var seqs [2]int64
	for i, kind := range []string{record.KindRequest, record.KindResponse} {
		r := &record.Record{Kind: kind, Actor: actor, Role: role, Model: model, Status: record.StatusOK,
			RequestSeq: -1, TokensIn: -1, TokensOut: -1, Nonce: record.NewNonce(), Endpoint: "POST /api/chat"}
		text := prompt + " [EMAIL_1]"
		clear := prompt + " " + email
		if kind == record.KindResponse {
			r.RequestSeq = seqs[0]
			text, clear = "the answer", "the answer"
		}
		body := []byte(fmt.Sprintf(`{"text":%q}`, text))
		clearBody := []byte(fmt.Sprintf(`{"text":%q}`, clear))
		r.BodyHash = w.commit.Commit(r.Nonce, record.LabelBody, body)
		r.ClearHash = w.commit.Commit(r.Nonce, record.LabelClear, clearBody)
		if err := w.vault.Seal(w.ctx, "main", r.Nonce, map[string][]byte{"clear": clearBody}, w.clock.Now().AddDate(1, 0, 0)); err != nil {
			w.t.Fatal(err)
		}
		e := &ledger.Entry{Record: r, Body: body}
		if kind == record.KindRequest {
			e.PII = []store.PIIEntry{{Type: "EMAIL", MAC: w.pii.MAC("EMAIL", email)}}
		}
		if err := w.led.Append(w.ctx, e); err != nil {
			w.t.Fatal(err)
		}
		seqs[i] = r.Seq
	}
	return seqs[0], seqs[1]
}

func (w *world) purger() *retention.Purger {
	pol := w.policy
	// Several batches per layer, each cut into pieces of a row or two.
	pol.Batch, pol.WriteTime = 7, time.Nanosecond
	return &retention.Purger{Store: w.st, Ledger: w.led, Vault: w.vault, Policy: retention.Policy{Retention: pol},
		Actor: "aitrail", Role: "admin", Now: w.clock.Now}
}

func (w *world) purge(dry bool) *retention.Report {
	w.t.Helper()
	rep, err := w.purger().Run(w.ctx, dry)
	if err != nil {
		w.t.Fatalf("purge: %v", err)
	}
	return rep
}

func (w *world) sign() {
	w.t.Helper()
	if _, err := w.cp.Sign(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

// verify checks the whole log, its bodies, its stored tree and its
// checkpoints, and fails the test on any problem.
func (w *world) verify() *ledger.Report {
	w.t.Helper()
	v, err := note.NewVerifier(w.vkey)
	if err != nil {
		w.t.Fatal(err)
	}
	rep, err := ledger.Verify(w.ctx, w.st, "main", ledger.VerifyOptions{Committer: w.commit, Verifiers: note.VerifierList(v), StoredTree: true})
	if err != nil {
		w.t.Fatal(err)
	}
	if !rep.OK() {
		w.t.Fatalf("verification failed: %v", rep.Problems)
	}
	if len(rep.Warnings) > 0 {
		w.t.Errorf("verification warnings: %v", rep.Warnings)
	}
	return rep
}

// has reports which layers record seq still has.
func (w *world) has(seq int64) (raw, body, index, sealed bool) {
	w.t.Helper()
	recs, err := w.st.Search(w.ctx, store.Filter{LogID: "main", Seqs: []int64{seq}})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(recs) == 0 {
		return false, false, false, false
	}
	r := recs[0]
	_, err = w.vault.Open(w.ctx, "main", r.Nonce, "clear")
	raw = err == nil
	if err != nil && !errors.Is(err, vault.ErrShredded) {
		w.t.Fatalf("vault: %v", err)
	}
	_, err = w.st.Body(w.ctx, "main", seq)
	body = err == nil
	refs, err := w.st.FindPII(w.ctx, "", w.pii.MAC("EMAIL", "alice@example.com"))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, ref := range refs {
		index = index || ref.Seq == seq
	}
	return raw, body, index, true
}

func (w *world) wantLayers(seq int64, raw, body, sealed bool) {
	w.t.Helper()
	r, b, _, s := w.has(seq)
	if r != raw || b != body || s != sealed {
		w.t.Errorf("record %d: raw %v, redacted body %v, sealed %v; want %v, %v, %v", seq, r, b, s, raw, body, sealed)
	}
}

func TestRecordsAgeThroughEveryLayer(t *testing.T) {
	w := newWorld(t)
	q0, a0 := w.call("alice", "user", "llama3", "hello", "alice@example.com")
	w.call("bob", "user", "llama3", "hi", "bob@example.com")
	w.sign()

	// Within every period: nothing goes.
	w.clock.Advance(0, 0, 89)
	rep := w.purge(false)
	if rep.Deleted() {
		t.Fatalf("day 89: deleted %+v", rep)
	}
	w.wantLayers(q0, true, true, true)

	// Past 90 days: the raw bodies go (their keys destroyed), nothing else.
	w.clock.Advance(0, 0, 2)
	q1, _ := w.call("alice", "user", "llama3", "later", "alice@example.com") // young: stays
	rep = w.purge(false)
	if got := rep.Layers[0]; got.Layer != record.LayerRaw || got.Erased != 4 {
		t.Fatalf("day 91, raw layer: %+v", got)
	}
	w.wantLayers(q0, false, true, true)
	w.wantLayers(a0, false, true, true)
	w.wantLayers(q1, true, true, true)
	w.sign()
	w.verify()

	// Past a year: the redacted bodies and the index entries go.
	w.clock.Advance(1, 0, 1)
	rep = w.purge(false)
	if rep.Layers[1].Erased != 6 || rep.Layers[2].Erased != 3 {
		t.Fatalf("a year on: %+v", rep.Layers)
	}
	w.wantLayers(q0, false, false, true)
	w.wantLayers(q1, false, false, true)
	if _, _, index, _ := w.has(q0); index {
		t.Error("the PII index still finds a record past its period")
	}
	w.sign()
	if rep := w.verify(); rep.Erased != 6 {
		t.Errorf("verify: %d bodies erased per policy, want 6", rep.Erased)
	}

	// Past seven years: the sealed records are pruned, up to a signed
	// checkpoint, and the rest still verifies from there.
	w.clock.Advance(7, 0, 0)
	fresh, _ := w.call("carol", "user", "llama3", "new", "carol@example.com")
	rep = w.purge(false)
	p := rep.Prune
	if p.From != 0 || p.Size <= q1 || p.Size > fresh || p.Event < fresh {
		t.Fatalf("prune: %+v (fresh call at %d)", p, fresh)
	}
	if _, _, _, sealed := w.has(q0); sealed {
		t.Errorf("record %d survived the prune", q0)
	}
	w.wantLayers(fresh, true, true, true)
	w.sign()
	vr := w.verify()
	if vr.Pruned != p.Size {
		t.Errorf("verify: pruned %d, want %d", vr.Pruned, p.Size)
	}
	// Proofs still work for what remains.
	cps, _ := w.st.Checkpoints(w.ctx, "main", 0)
	recs, _ := w.st.Search(w.ctx, store.Filter{LogID: "main", Seqs: []int64{fresh}})
	if _, err := ledger.MakeProof(w.ctx, w.st, recs[0], cps[len(cps)-1].Note, w.vkey); err != nil {
		t.Errorf("proof of a record after the prune: %v", err)
	}

	// Another round prunes the purge's own events, and verification
	// follows the new base.
	w.clock.Advance(7, 0, 1)
	w.sign()
	rep = w.purge(false)
	if rep.Prune.Size <= p.Size {
		t.Fatalf("second prune: %+v", rep.Prune)
	}
	w.sign()
	w.verify()
}

func TestHoldKeepsRecordsUntilReleased(t *testing.T) {
	w := newWorld(t)
	q0, a0 := w.call("alice", "user", "llama3", "hello", "alice@example.com")
	qb, _ := w.call("bob", "user", "llama3", "hi", "bob@example.com")
	w.sign()
	h, err := retention.AddHold(w.ctx, w.st, w.led, store.Hold{Actor: "alice", Reason: "case 2026-17"}, "admin", "admin", w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(0, 0, 30)
	later, _ := w.call("alice", "user", "llama3", "after the hold was set", "alice@example.com")

	w.clock.Advance(8, 0, 0)
	w.sign()
	rep := w.purge(false)
	if rep.Layers[0].Held != 4 {
		t.Errorf("held in the raw layer: %d, want 4", rep.Layers[0].Held)
	}
	for _, seq := range []int64{q0, a0, later} {
		w.wantLayers(seq, true, true, true)
	}
	w.wantLayers(qb, false, false, true) // bob's went, but the prune stops at alice's first record
	if rep.Prune.Size > q0 {
		t.Errorf("the prune passed a held record: %+v", rep.Prune)
	}
	w.sign()
	w.verify()
	// Purges while the hold lasts keep them, and keep track of them.
	w.clock.Advance(0, 0, 1)
	w.purge(false)
	w.clock.Advance(0, 0, 1)
	w.purge(false)
	w.wantLayers(q0, true, true, true)

	// Released: the next purge takes them.
	held, err := w.st.Search(w.ctx, store.Filter{LogID: "main", Seqs: []int64{q0, a0, later}})
	if err != nil || len(held) != 3 {
		t.Fatal(err)
	}
	if err := retention.ReleaseHold(w.ctx, w.st, w.led, h.ID, "case closed", "admin", "admin", w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := retention.ReleaseHold(w.ctx, w.st, w.led, h.ID, "again", "admin", "admin", w.clock.Now()); !errors.Is(err, store.ErrReleased) {
		t.Errorf("second release: %v", err)
	}
	w.purge(false)
	for _, r := range held {
		if raw, body, _, _ := w.has(r.Seq); raw || body {
			t.Errorf("record %d after the release: raw %v body %v", r.Seq, raw, body)
		}
		// Its raw body is destroyed, whether the record was pruned too or not.
		if _, err := w.vault.Open(w.ctx, "main", r.Nonce, "clear"); !errors.Is(err, vault.ErrShredded) {
			t.Errorf("record %d's raw body after the release: %v, want it shredded", r.Seq, err)
		}
	}
	w.sign()
	w.verify()
}

func TestTextHoldKeepsTheWholeInteraction(t *testing.T) {
	w := newWorld(t)
	q, a := w.call("alice", "user", "llama3", "About Project Nightingale budget", "alice@example.com")
	other, _ := w.call("alice", "user", "llama3", "lunch", "alice@example.com")
	if _, err := retention.AddHold(w.ctx, w.st, w.led, store.Hold{Text: "project NIGHTINGALE", Reason: "litigation"}, "admin", "admin", w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2, 0, 0)
	w.purge(false)
	w.wantLayers(q, true, true, true)
	w.wantLayers(a, true, true, true) // the answer, held through its prompt
	w.wantLayers(other, false, false, true)
	w.sign()
	w.verify()
}

func TestDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	for i := range 5 {
		w.call("alice", "user", "llama3", fmt.Sprint("q", i), "alice@example.com")
	}
	w.sign()
	w.clock.Advance(8, 0, 0)
	w.sign()
	before, _ := w.st.Head(w.ctx, "main")
	dry := w.purge(true)
	after, _ := w.st.Head(w.ctx, "main")
	if before != after {
		t.Fatalf("a dry run appended to the log: head %d -> %d", before.Seq, after.Seq)
	}
	for seq := int64(1); seq <= 10; seq++ {
		w.wantLayers(seq, true, true, true)
	}
	for _, l := range retention.Layers {
		if m, _ := w.st.RetentionMark(w.ctx, "main", l); m != (store.RetentionMark{}) {
			t.Errorf("a dry run moved the %s mark: %+v", l, m)
		}
	}
	if b, _ := w.st.Base(w.ctx, "main"); b.Size != 0 {
		t.Errorf("a dry run pruned: %+v", b)
	}
	// It said what the real run then does.
	real := w.purge(false)
	for i := range dry.Layers {
		if dry.Layers[i].Records != real.Layers[i].Records || dry.Layers[i].First != real.Layers[i].First || dry.Layers[i].Last != real.Layers[i].Last {
			t.Errorf("layer %s: dry run said %+v, the purge did %+v", dry.Layers[i].Layer, dry.Layers[i], real.Layers[i])
		}
	}
	if dry.Prune.Size != real.Prune.Size {
		t.Errorf("prune: dry run said %d, the purge did %d", dry.Prune.Size, real.Prune.Size)
	}
}

func TestBodyDeletedOutsideThePurgeIsTampering(t *testing.T) {
	w := newWorld(t)
	q, _ := w.call("alice", "user", "llama3", "hello", "alice@example.com")
	w.clock.Advance(2, 0, 0)
	w.call("bob", "user", "llama3", "hi", "bob@example.com")
	w.purge(false)
	// A body deleted by hand: no event names it.
	_, bob := w.call("bob", "user", "llama3", "again", "bob@example.com")
	if _, err := w.st.DeleteBodies(w.ctx, "main", []int64{bob}); err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.Verify(w.ctx, w.st, "main", ledger.VerifyOptions{Committer: w.commit})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Seq != bob || !strings.Contains(rep.Problems[0].Cause, "deleted with no erasure event") {
		t.Errorf("problems %v, want record %d's body reported deleted without an event", rep.Problems, bob)
	}
	if rep.Erased != 2 {
		t.Errorf("erased per policy: %d, want 2 (record %d's interaction)", rep.Erased, q)
	}
}

func TestOverrideAndPolicyChange(t *testing.T) {
	w := newWorld(t)
	w.policy.Overrides = []config.RetentionOverride{{Role: "admin", Layers: config.Layers{Redacted: config.MustPeriod("3y")}}}
	adminQ, _ := w.call("root", "admin", "llama3", "admin work", "alice@example.com")
	userQ, _ := w.call("alice", "user", "llama3", "user work", "alice@example.com")
	w.clock.Advance(1, 0, 1)
	w.purge(false)
	w.wantLayers(userQ, false, false, true)
	w.wantLayers(adminQ, false, true, true) // raw 90d for everyone; redacted 3y for admins

	// Still deferred a year later...
	w.clock.Advance(1, 0, 0)
	w.purge(false)
	w.wantLayers(adminQ, false, true, true)
	// ...until the policy shortens: deferred records are judged again.
	w.policy.Overrides[0].Redacted = config.MustPeriod("18mo")
	rep := w.purge(false)
	w.wantLayers(adminQ, false, false, true)
	if rep.Layers[1].Erased != 2 {
		t.Errorf("after the policy change: %+v", rep.Layers[1])
	}
	w.sign()
	w.verify()
}

func TestEraseRequest(t *testing.T) {
	w := newWorld(t)
	q, a := w.call("alice", "user", "llama3", "my address", "alice@example.com")
	bobQ, _ := w.call("bob", "user", "llama3", "mine", "bob@example.com")
	refs := func(email string) []store.PIIRef {
		r, err := w.st.FindPII(w.ctx, "", w.pii.MAC("EMAIL", email))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Under a hold: nothing is erased, and the request is recorded.
	h, err := retention.AddHold(w.ctx, w.st, w.led, store.Hold{Session: "", Actor: "alice", Reason: "audit"}, "admin", "admin", w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.purger().Erase(w.ctx, retention.ErasureRequest{Type: "EMAIL", Refs: refs("alice@example.com"), Reason: "DSR-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Held) != 2 || res.Held[0].Hold.ID != h.ID || res.Event < 0 {
		t.Fatalf("erase under hold: %+v", res)
	}
	w.wantLayers(q, true, true, true)
	w.wantLayers(a, true, true, true)
	ev, _ := w.st.Search(w.ctx, store.Filter{LogID: "main", Seqs: []int64{res.Event}})
	if len(ev) != 1 || ev[0].Kind != record.KindErasureRequest || !strings.Contains(string(ev[0].Detail), "refused") || ev[0].Reason != "DSR-1" {
		t.Fatalf("the refused request's event: %+v", ev)
	}

	// Released: both halves of the interaction are erased, nothing else.
	if err := retention.ReleaseHold(w.ctx, w.st, w.led, h.ID, "done", "admin", "admin", w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	res, err = w.purger().Erase(w.ctx, retention.ErasureRequest{Type: "EMAIL", Refs: refs("alice@example.com"), Reason: "DSR-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || res.Erased[record.LayerRaw] != 2 || res.Erased[record.LayerRedacted] != 2 {
		t.Fatalf("erase: %+v", res)
	}
	w.wantLayers(q, false, false, true)
	w.wantLayers(a, false, false, true)
	w.wantLayers(bobQ, true, true, true)
	if got := refs("alice@example.com"); len(got) != 0 {
		t.Errorf("the index still finds %v", got)
	}
	w.sign()
	w.verify()
}

func TestPrunedLogTampering(t *testing.T) {
	w := newWorld(t)
	for i := range 6 {
		w.call("alice", "user", "llama3", fmt.Sprint("q", i), "alice@example.com")
		w.sign()
	}
	w.clock.Advance(8, 0, 0)
	w.call("bob", "user", "llama3", "fresh", "bob@example.com")
	w.sign()
	rep := w.purge(false)
	if rep.Prune.Size == 0 {
		t.Fatalf("nothing pruned: %+v", rep.Prune)
	}
	w.sign()
	w.verify()

	// Records deleted from the start beyond the base, with the base moved
	// to a real signed checkpoint: no prune event records it.
	cps, _ := w.st.Checkpoints(w.ctx, "main", rep.Prune.Size+1)
	if len(cps) == 0 {
		t.Fatal("no later checkpoint")
	}
	c := cps[0]
	recs, _ := w.st.Search(w.ctx, store.Filter{LogID: "main", Seqs: []int64{c.Size - 1}})
	if err := w.st.SetBase(w.ctx, "main", store.Base{Size: c.Size, Head: record.EntryHash(recs[0]), Time: recs[0].Time, Checkpoint: c.Note}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := w.st.PruneBefore(w.ctx, "main", 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	v, _ := note.NewVerifier(w.vkey)
	vr, err := ledger.Verify(w.ctx, w.st, "main", ledger.VerifyOptions{Committer: w.commit, Verifiers: note.VerifierList(v)})
	if err != nil {
		t.Fatal(err)
	}
	if vr.OK() || !strings.Contains(vr.Problems[0].Cause, "no log.pruned event") {
		t.Errorf("an unrecorded prune: problems %v", vr.Problems)
	}
}

// failingHolds is a store whose AddHold fails.
type failingHolds struct{ store.Store }

func (failingHolds) AddHold(context.Context, store.Hold) error { return errors.New("disk full") }

// TestHoldThatCannotBeStored: when the hold's row cannot be written after
// its event, the log says at once that the hold is not in force, so that
// no reader of the log believes records are held that no purge keeps.
func TestHoldThatCannotBeStored(t *testing.T) {
	w := newWorld(t)
	h, err := retention.AddHold(w.ctx, failingHolds{w.st}, w.led, store.Hold{Reason: "matter 7", Actor: "alice"},
		"cli:root", "admin", w.clock.Now())
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "not in force") {
		t.Fatalf("AddHold = %v, want the store's error and that the hold is not in force", err)
	}
	var kinds []string
	var released string
	if err := w.st.Scan(w.ctx, "main", 0, func(r *record.Record, _ record.Hash) error {
		kinds = append(kinds, r.Kind)
		if r.Kind == record.KindHoldReleased {
			released = string(r.Detail)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(kinds[1:], " "); got != record.KindHoldAdded+" "+record.KindHoldReleased {
		t.Errorf("events after the log's creation: %s, want %s then %s", got, record.KindHoldAdded, record.KindHoldReleased)
	}
	if !strings.Contains(released, h.ID) || !strings.Contains(released, "could not be stored") {
		t.Errorf("release event %s does not name hold %s and why", released, h.ID)
	}
	if holds, _ := w.st.Holds(w.ctx); len(holds) != 0 {
		t.Errorf("holds stored: %v, want none", holds)
	}
}

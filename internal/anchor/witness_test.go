package anchor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/witness"
)

// auditLog is a real log over SQLite, with its checkpoint keys.
type auditLog struct {
	t          *testing.T
	st         *sqlite.Store
	led        *ledger.Ledger
	skey, vkey string
	origin     string
}

func newAuditLog(t *testing.T) *auditLog {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(st, "main", ledger.Options{})
	t.Cleanup(func() { led.Close(); st.Close() })
	skey, vkey, err := ledger.GenerateSigningKey("aitrail/test/0001")
	if err != nil {
		t.Fatal(err)
	}
	return &auditLog{t: t, st: st, led: led, skey: skey, vkey: vkey, origin: "aitrail/test/0001"}
}

// grow appends heartbeats until the log has n records.
func (l *auditLog) grow(n int64) {
	l.t.Helper()
	h, err := l.st.Head(context.Background(), "main")
	if err != nil {
		l.t.Fatal(err)
	}
	for size := h.Seq + 1; size < n; size++ {
		r := record.NewEvent(record.KindHeartbeat, map[string]string{"n": fmt.Sprint(size)})
		r.Actor, r.Role = "aitrail", "admin"
		if err := l.led.Append(context.Background(), &ledger.Entry{Record: r}); err != nil {
			l.t.Fatal(err)
		}
	}
}

func (l *auditLog) checkpointer(anchors ...ledger.Anchor) *ledger.Checkpointer {
	l.t.Helper()
	cp, err := ledger.NewCheckpointer(l.st, "main", l.skey, l.vkey, anchors)
	if err != nil {
		l.t.Fatal(err)
	}
	return cp
}

// sign signs a checkpoint of the log grown to n, and checks that every
// anchor took it.
func (l *auditLog) sign(cp *ledger.Checkpointer, n int64) *ledger.SignResult {
	l.t.Helper()
	l.grow(n)
	res, err := cp.Sign(context.Background())
	if err != nil {
		l.t.Fatal(err)
	}
	if !res.New || res.Checkpoint.Size != n {
		l.t.Fatalf("Sign at size %d = %+v", n, res)
	}
	for _, err := range res.AnchorErrs {
		l.t.Errorf("size %d: %v", n, err)
	}
	return res
}

// witnessServer is a real witness behind an httptest server, which can be
// restarted on the same state file at the same URL, and counts requests.
type witnessServer struct {
	t     *testing.T
	path  string
	key   *witness.Signer
	vkey  string
	logs  []string
	h     atomic.Pointer[witness.Server]
	st    *witness.FileState
	http  *httptest.Server
	posts atomic.Int64
}

func newWitnessServer(t *testing.T, logVKeys ...string) *witnessServer {
	t.Helper()
	skey, vkey, err := witness.GenerateKey("witness.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	ws := &witnessServer{t: t, path: filepath.Join(t.TempDir(), "state.json"), key: key, vkey: vkey, logs: logVKeys}
	st, err := witness.CreateFileState(ws.path)
	if err != nil {
		t.Fatal(err)
	}
	ws.start(st)
	ws.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.posts.Add(1)
		ws.h.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { ws.http.Close(); ws.st.Close() })
	return ws
}

func (ws *witnessServer) start(st *witness.FileState) {
	ws.t.Helper()
	srv, err := witness.New(ws.key, ws.logs, st, nil)
	if err != nil {
		ws.t.Fatal(err)
	}
	ws.st = st
	ws.h.Store(srv)
}

// restart stops the witness and starts a new one on the same state file.
func (ws *witnessServer) restart() {
	ws.t.Helper()
	if err := ws.st.Close(); err != nil {
		ws.t.Fatal(err)
	}
	st, err := witness.OpenFileState(ws.path)
	if err != nil {
		ws.t.Fatal(err)
	}
	ws.start(st)
}

func newWitness(t *testing.T, url, vkey string) *anchor.Witness {
	t.Helper()
	w, err := anchor.NewWitness(url, vkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkAnchored checks the witness anchor's latest cosigned note: the log's
// checkpoint of size n, cosigned by the witness since before.
func checkAnchored(t *testing.T, w *anchor.Witness, l *auditLog, ws *witnessServer, res *ledger.SignResult, before time.Time) {
	t.Helper()
	notes, err := w.Checkpoints(context.Background(), "main")
	if err != nil || len(notes) != 1 {
		t.Fatalf("Checkpoints = %d notes, %v; want 1", len(notes), err)
	}
	cosigned := notes[0]
	if !bytes.HasPrefix(cosigned, res.Note) || bytes.Count(cosigned, []byte("\n— ")) != 2 {
		t.Fatalf("cosigned note\n%s\nis not the log's note\n%s\nand one more signature line", cosigned, res.Note)
	}
	at, err := anchor.VerifyCosignature(cosigned, ws.vkey)
	if err != nil {
		t.Fatalf("VerifyCosignature = %v", err)
	}
	if at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
		t.Errorf("cosignature time %v, want between %v and now", at, before)
	}
	logV, _ := note.NewVerifier(l.vkey)
	c, _, err := ledger.OpenCheckpoint(cosigned, note.VerifierList(logV))
	if err != nil || c != res.Checkpoint {
		t.Errorf("OpenCheckpoint(cosigned) = %v, %v; want %v", c, err, res.Checkpoint)
	}
}

func TestWitnessAnchor(t *testing.T) {
	l := newAuditLog(t)
	ws := newWitnessServer(t, l.vkey)
	w := newWitness(t, ws.http.URL, ws.vkey)
	cp := l.checkpointer(w)

	for _, n := range []int64{1, 5, 9} {
		before, posts := time.Now(), ws.posts.Load()
		res := l.sign(cp, n)
		checkAnchored(t, w, l, ws, res, before)
		if got := ws.posts.Load() - posts; got != 1 {
			t.Errorf("size %d: %d requests, want 1", n, got)
		}
	}

	// The witness restarts; the anchor goes on from the size it holds.
	ws.restart()
	before, posts := time.Now(), ws.posts.Load()
	checkAnchored(t, w, l, ws, l.sign(cp, 13), before)
	if got := ws.posts.Load() - posts; got != 1 {
		t.Errorf("after the witness restarted: %d requests, want 1", got)
	}

	// The gateway restarts: a new anchor knows no size, is told 13 (409),
	// and retries with a proof from 13.
	w2 := newWitness(t, ws.http.URL+"/", ws.vkey)
	cp2 := l.checkpointer(w2)
	before, posts = time.Now(), ws.posts.Load()
	checkAnchored(t, w2, l, ws, l.sign(cp2, 17), before)
	if got := ws.posts.Load() - posts; got != 2 {
		t.Errorf("new anchor: %d requests, want 2 (409, then 200)", got)
	}

	// The cosigned note is an anchored checkpoint for verification.
	notes, _ := w2.Checkpoints(context.Background(), "main")
	logV, _ := note.NewVerifier(l.vkey)
	rep, err := ledger.Verify(context.Background(), l.st, "main", ledger.VerifyOptions{Verifiers: note.VerifierList(logV), Anchored: notes})
	if err != nil || !rep.OK() || rep.Anchored != 1 || rep.Covered != 17 {
		t.Errorf("Verify with the cosigned note anchored = %+v, %v; want OK, 1 anchored, 17 covered", rep, err)
	}
}

// TestWitnessAnchorRefusedFork: a witness that holds a checkpoint the log
// does not (a fork signed with the log's key) refuses the log's own.
func TestWitnessAnchorRefusedFork(t *testing.T) {
	l := newAuditLog(t)
	ws := newWitnessServer(t, l.vkey)
	signer, _ := note.NewSigner(l.skey)
	forged, err := note.Sign(&note.Note{Text: ledger.Checkpoint{Origin: l.origin, Size: 5, Root: tlog.Hash{1}}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(ws.http.URL+"/add-checkpoint", "", bytes.NewReader((&witness.AddCheckpoint{Checkpoint: forged}).Bytes()))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("forged checkpoint: %v %v", resp.Status, err)
	}
	resp.Body.Close()

	w := newWitness(t, ws.http.URL, ws.vkey)
	cp := l.checkpointer(w)
	for _, n := range []int64{5, 9} { // the same size (409 twice), then a bad proof (422)
		l.grow(n)
		res, err := cp.Sign(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.AnchorErrs) != 1 {
			t.Fatalf("size %d: anchor errors %v, want the witness's refusal", n, res.AnchorErrs)
		}
		t.Logf("size %d: %v", n, res.AnchorErrs[0])
	}
	if notes, _ := w.Checkpoints(context.Background(), "main"); len(notes) != 0 {
		t.Errorf("Checkpoints after refusals = %d notes, want none", len(notes))
	}
}

// fakeWitness answers each request with the next of answers.
type fakeWitness struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, body []byte)
	bodies  [][]byte
}

func (f *fakeWitness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	if r.Method != http.MethodPost || r.URL.Path != "/add-checkpoint" || len(f.answers) == 0 {
		http.Error(w, "unexpected request", http.StatusTeapot)
		return
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	a(w, body)
}

func size409(n int64, ctype string) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, _ []byte) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", n)
	}
}

// cosign answers with the cosignature line of key over the request's
// checkpoint, edited by edit.
func cosign(key *witness.Signer, edit func(line string) string) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, body []byte) {
		r, err := witness.ParseAddCheckpoint(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		text, _, _ := bytes.Cut(r.Checkpoint, []byte("\n\n"))
		msg, _ := note.Sign(&note.Note{Text: string(text) + "\n"}, key)
		_, line, _ := bytes.Cut(msg, []byte("\n\n"))
		io.WriteString(w, edit(string(line)))
	}
}

func TestWitnessAnchorAnswers(t *testing.T) {
	l := newAuditLog(t)
	l.grow(9)
	ctx := context.Background()
	signer, _ := note.NewSigner(l.skey)
	hr := ledger.StoreHashReader(ctx, l.st, "main")
	root, err := tlog.TreeHash(9, hr)
	if err != nil {
		t.Fatal(err)
	}
	c := ledger.Checkpoint{Origin: l.origin, Size: 9, Root: root}
	signed, _ := note.Sign(&note.Note{Text: c.String()}, signer)
	var proved []int64
	prove := func(from int64) (tlog.TreeProof, error) {
		proved = append(proved, from)
		return tlog.ProveTree(9, from, hr)
	}

	skey, vkey, _ := witness.GenerateKey("witness.test/w1")
	key, _ := witness.NewSigner(skey)
	otherSKey, _, _ := witness.GenerateKey("witness.test/w1")
	other, _ := witness.NewSigner(otherSKey)
	same := func(s string) string { return s }

	tests := []struct {
		name    string
		answers []func(http.ResponseWriter, []byte)
		olds    []int64 // old sizes sent
		err     string  // in Add's error; "" for success
	}{
		{"cosigned", []func(http.ResponseWriter, []byte){cosign(key, same)}, []int64{0}, ""},
		{"409 then cosigned", []func(http.ResponseWriter, []byte){size409(4, witness.SizeContentType), cosign(key, same)}, []int64{0, 4}, ""},
		{"409 with parameters", []func(http.ResponseWriter, []byte){size409(4, witness.SizeContentType+"; charset=utf-8"), cosign(key, same)}, []int64{0, 4}, ""},
		{"409 at its size: a fork", []func(http.ResponseWriter, []byte){size409(0, witness.SizeContentType)}, []int64{0}, "conflicting"},
		{"409 twice", []func(http.ResponseWriter, []byte){size409(4, witness.SizeContentType), size409(6, witness.SizeContentType)}, []int64{0, 4}, "moved again"},
		{"witness ahead of the log", []func(http.ResponseWriter, []byte){size409(12, witness.SizeContentType)}, []int64{0}, "larger than this checkpoint"},
		{"409 without its content type", []func(http.ResponseWriter, []byte){size409(4, "text/plain")}, []int64{0}, "without a tree size"},
		{"409 without a size", []func(http.ResponseWriter, []byte){size409(-1, witness.SizeContentType)}, []int64{0}, "without a tree size"},
		{"another key", []func(http.ResponseWriter, []byte){cosign(other, same)}, []int64{0}, "does not verify"},
		{"tampered cosignature", []func(http.ResponseWriter, []byte){cosign(key, func(s string) string {
			name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(s, "— "), "\n"), " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			raw[len(raw)-1] ^= 1
			return "— " + name + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
		})}, []int64{0}, "does not verify"},
		{"cosignature and a stranger's", []func(http.ResponseWriter, []byte){cosign(key, func(s string) string {
			return s + "— stranger.test AAAAAAAA\n"
		})}, []int64{0}, ""},
		{"no newline", []func(http.ResponseWriter, []byte){cosign(key, func(s string) string { return strings.TrimSuffix(s, "\n") })}, []int64{0}, "without signature lines"},
		{"empty 200", []func(http.ResponseWriter, []byte){func(http.ResponseWriter, []byte) {}}, []int64{0}, "without signature lines"},
		{"not a signature line", []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) { io.WriteString(w, "OK\n") }}, []int64{0}, "does not verify"},
		{"422", []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) {
			http.Error(w, "consistency proof does not verify", http.StatusUnprocessableEntity)
		}}, []int64{0}, "422 Unprocessable Entity: consistency proof does not verify"},
		{"404", []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) { http.Error(w, "unknown log", http.StatusNotFound) }}, []int64{0}, "404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeWitness{answers: tt.answers}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			w := newWitness(t, srv.URL, vkey)
			proved = nil
			got, err := w.Add(ctx, "main", signed, c, prove)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Add = %v, want error containing %q", err, tt.err)
			}
			if len(fake.bodies) != len(tt.olds) {
				t.Fatalf("%d requests, want %d", len(fake.bodies), len(tt.olds))
			}
			for i, b := range fake.bodies {
				r, err := witness.ParseAddCheckpoint(b)
				if err != nil || r.OldSize != tt.olds[i] || !bytes.Equal(r.Checkpoint, signed) {
					t.Fatalf("request %d: %q (%v), want old %d and the signed checkpoint", i, b, err, tt.olds[i])
				}
				if r.OldSize > 0 {
					p, _ := tlog.ProveTree(9, r.OldSize, hr)
					if fmt.Sprint(r.Proof) != fmt.Sprint(p) {
						t.Errorf("request %d: proof %v, want %v", i, r.Proof, p)
					}
				} else if len(r.Proof) != 0 {
					t.Errorf("request %d: proof from 0 is not empty", i)
				}
			}
			if err != nil {
				return
			}
			if _, err := anchor.VerifyCosignature(got, vkey); err != nil || !bytes.HasPrefix(got, signed) || bytes.Count(got, []byte("\n— ")) != 2 {
				t.Errorf("Add = %q (%v), want the log's note and one cosignature", got, err)
			}
		})
	}
}

func TestVerifyCosignature(t *testing.T) {
	skey, vkey, _ := witness.GenerateKey("witness.test/w1")
	key, _ := witness.NewSigner(skey)
	_, otherVKey, _ := witness.GenerateKey("witness.test/w2")
	logSKey, logVKey, _ := ledger.GenerateSigningKey("aitrail/test/0001")
	logSigner, _ := note.NewSigner(logSKey)
	text := ledger.Checkpoint{Origin: "aitrail/test/0001", Size: 3, Root: tlog.Hash{7}}.String()
	sign := func(text string, signers ...note.Signer) []byte {
		msg, err := note.Sign(&note.Note{Text: text}, signers...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	cosigned := sign(text, logSigner, key)

	tests := []struct {
		name  string
		note  []byte
		vkey  string
		valid bool
	}{
		{"cosigned", cosigned, vkey, true},
		{"only the log's signature", sign(text, logSigner), vkey, false},
		{"another witness", cosigned, otherVKey, false},
		{"edited", bytes.Replace(cosigned, []byte("\n3\n"), []byte("\n4\n"), 1), vkey, false},
		{"not a checkpoint", sign("hello\n", key), vkey, false},
		{"a log key", cosigned, logVKey, false},
		{"malformed key", cosigned, "witness.test/w1", false},
		{"garbage", []byte("garbage"), vkey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Truncate(time.Second)
			at, err := anchor.VerifyCosignature(tt.note, tt.vkey)
			if (err == nil) != tt.valid {
				t.Fatalf("VerifyCosignature = %v, want valid %v", err, tt.valid)
			}
			if tt.valid && (at.Before(before) || at.After(time.Now())) {
				t.Errorf("time %v, want about now", at)
			}
		})
	}
}

func TestNewWitness(t *testing.T) {
	_, vkey, _ := witness.GenerateKey("witness.test/w1")
	_, logVKey, _ := ledger.GenerateSigningKey("aitrail/test/0001")
	tests := []struct {
		url, vkey string
		ok        bool
	}{
		{"https://witness.example/prefix", vkey, true},
		{"http://127.0.0.1:7380", vkey, true},
		{"witness.example", vkey, false},
		{"ftp://witness.example", vkey, false},
		{"https://witness.example/?a=b", vkey, false},
		{"https://witness.example", logVKey, false},
		{"https://witness.example", "", false},
	}
	for _, tt := range tests {
		_, err := anchor.NewWitness(tt.url, tt.vkey, nil)
		if (err == nil) != tt.ok {
			t.Errorf("NewWitness(%q, %q) = %v, want ok %v", tt.url, tt.vkey, err, tt.ok)
		}
	}
}

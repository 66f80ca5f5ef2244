package witness_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/witness"
)

// testLog is a log in memory: a tree of leaves and a signing key.
type testLog struct {
	t      testing.TB
	signer note.Signer
	vkey   string
	salt   string
	hashes []tlog.Hash
	size   int64
}

func newTestLog(t testing.TB, origin string) *testLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{t: t, signer: signer, vkey: vkey, salt: "main"}
}

// fork returns a log with the same key whose leaves differ from l's.
func (l *testLog) fork() *testLog {
	return &testLog{t: l.t, signer: l.signer, vkey: l.vkey, salt: "fork"}
}

func (l *testLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.hashes[x]
	}
	return out, nil
}

// grow appends leaves until the log has n.
func (l *testLog) grow(n int64) {
	l.t.Helper()
	for ; l.size < n; l.size++ {
		hs, err := tlog.StoredHashes(l.size, fmt.Appendf(nil, "%s leaf %d", l.salt, l.size), l)
		if err != nil {
			l.t.Fatal(err)
		}
		l.hashes = append(l.hashes, hs...)
	}
}

func (l *testLog) root(n int64) tlog.Hash {
	l.t.Helper()
	l.grow(n)
	h, err := tlog.TreeHash(n, l)
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

func (l *testLog) proof(from, to int64) tlog.TreeProof {
	l.t.Helper()
	if from == 0 || from == to {
		return nil
	}
	l.grow(to)
	p, err := tlog.ProveTree(to, from, l)
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

// checkpoint returns the log's signed checkpoint of size n.
func (l *testLog) checkpoint(n int64) []byte {
	l.t.Helper()
	return signText(l.t, ledger.Checkpoint{Origin: l.signer.Name(), Size: n, Root: l.root(n)}.String(), l.signer)
}

// body returns an add-checkpoint body from old to n.
func (l *testLog) body(old, n int64) []byte {
	return (&witness.AddCheckpoint{OldSize: old, Proof: l.proof(old, n), Checkpoint: l.checkpoint(n)}).Bytes()
}

func signText(t testing.TB, text string, signers ...note.Signer) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func newKey(t testing.TB, name string) *witness.Signer {
	t.Helper()
	skey, _, err := witness.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newServer(t *testing.T, key *witness.Signer, st witness.Store, logs ...*testLog) *witness.Server {
	t.Helper()
	var vkeys []string
	for _, l := range logs {
		vkeys = append(vkeys, l.vkey)
	}
	srv, err := witness.New(key, vkeys, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func createState(t *testing.T, path string) *witness.FileState {
	t.Helper()
	st, err := witness.CreateFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func post(h http.Handler, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/add-checkpoint", bytes.NewReader(body)))
	return rec
}

// checkCosigned checks a 200 answer to a request for checkpoint: one
// cosignature line by key, made between before and now, over exactly the
// cosignature/v1 message.
func checkCosigned(t *testing.T, rec *httptest.ResponseRecorder, checkpoint []byte, key *witness.Signer, before time.Time) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", rec.Code, rec.Body)
	}
	v, err := witness.NewVerifier(key.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(append(bytes.Clone(checkpoint), rec.Body.Bytes()...), note.VerifierList(v))
	if err != nil {
		t.Fatalf("cosigned note does not verify: %v\n%s", err, rec.Body)
	}
	if len(n.Sigs) != 1 || strings.Count(rec.Body.String(), "\n") != 1 {
		t.Fatalf("answer %q: want one cosignature line", rec.Body)
	}
	at, err := witness.CosignatureTime(n.Sigs[0])
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
		t.Errorf("cosignature time %v, want between %v and now", at, before)
	}
	// The signature, checked by hand against the spec's message.
	raw, _ := base64.StdEncoding.DecodeString(n.Sigs[0].Base64)
	pub, _ := base64.StdEncoding.DecodeString(strings.SplitN(key.VerifierKey(), "+", 3)[2])
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", binary.BigEndian.Uint64(raw[4:12]), n.Text)
	if len(raw) != 4+8+64 || !ed25519.Verify(pub[1:], []byte(msg), raw[12:]) {
		t.Errorf("cosignature is not an Ed25519 signature of %q", msg)
	}
}

func TestWitnessGrowsAndRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	key := newKey(t, "witness.test/w1")
	lg := newTestLog(t, "aitrail/test/1")
	st := createState(t, path)
	srv := newServer(t, key, st, lg)

	var old int64
	for _, n := range []int64{1, 5, 9, 9} { // 9 twice: the same checkpoint is cosigned again
		before := time.Now()
		rec := post(srv, lg.body(old, n))
		checkCosigned(t, rec, lg.checkpoint(n), key, before)
		old = n
	}
	var state struct {
		Logs map[string]struct {
			Size int64
			Root string
			Note string
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatal(err)
	}
	held := state.Logs[lg.signer.Name()]
	if root := lg.root(9); held.Size != 9 || held.Root != base64.StdEncoding.EncodeToString(root[:]) || held.Note != string(lg.checkpoint(9)) {
		t.Fatalf("state file holds %+v, want size 9 and the log's note", held)
	}

	// A restarted witness continues from what it stored.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := witness.OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	srv = newServer(t, key, st2, lg)
	if rec := post(srv, lg.body(0, 13)); rec.Code != http.StatusConflict || rec.Body.String() != "9\n" || rec.Header().Get("Content-Type") != witness.SizeContentType {
		t.Fatalf("restarted witness, old 0: %d %q %q, want 409 \"9\\n\" %s", rec.Code, rec.Body, rec.Header().Get("Content-Type"), witness.SizeContentType)
	}
	checkCosigned(t, post(srv, lg.body(9, 13)), lg.checkpoint(13), key, time.Now())
}

func TestWitnessRefuses(t *testing.T) {
	lg := newTestLog(t, "aitrail/test/1")
	forked := lg.fork()
	stranger := newTestLog(t, "aitrail/test/stranger")
	impostor := newTestLog(t, "aitrail/test/1") // same origin, another key

	flipBit := func(p tlog.TreeProof, i int) tlog.TreeProof {
		p = append(tlog.TreeProof(nil), p...)
		p[i][7] ^= 0x10
		return p
	}
	body := func(old int64, p tlog.TreeProof, cp []byte) []byte {
		return (&witness.AddCheckpoint{OldSize: old, Proof: p, Checkpoint: cp}).Bytes()
	}
	badSig := func(cp []byte) []byte {
		text, sigs, _ := bytes.Cut(cp, []byte("\n\n"))
		name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(string(sigs), "— "), "\n"), " ")
		raw, _ := base64.StdEncoding.DecodeString(b64)
		raw[len(raw)-1] ^= 1
		return fmt.Appendf(nil, "%s\n\n— %s %s\n", text, name, base64.StdEncoding.EncodeToString(raw))
	}
	p9to13 := lg.proof(9, 13)
	var proof64 tlog.TreeProof
	for range 64 {
		proof64 = append(proof64, tlog.Hash{})
	}

	tests := []struct {
		name   string
		method string
		body   []byte
		code   int
		answer string // the body, for 409
	}{
		{"unknown log", "", stranger.body(0, 3), http.StatusNotFound, ""},
		{"other key, same origin", "", impostor.body(9, 13), http.StatusForbidden, ""},
		{"bad log signature", "", body(9, p9to13, badSig(lg.checkpoint(13))), http.StatusForbidden, ""},
		{"fork at the held size", "", forked.body(9, 9), http.StatusConflict, "9\n"},
		{"fork at a larger size", "", body(9, forked.proof(9, 13), forked.checkpoint(13)), http.StatusUnprocessableEntity, ""},
		{"rollback", "", body(9, nil, lg.checkpoint(5)), http.StatusBadRequest, ""},
		{"rollback from its own size", "", lg.body(5, 5), http.StatusConflict, "9\n"},
		{"rollback from zero", "", lg.body(0, 5), http.StatusConflict, "9\n"},
		{"old size does not match", "", lg.body(5, 13), http.StatusConflict, "9\n"},
		{"bit flipped in the proof", "", body(9, flipBit(p9to13, 0), lg.checkpoint(13)), http.StatusUnprocessableEntity, ""},
		{"bit flipped in the last proof hash", "", body(9, flipBit(p9to13, len(p9to13)-1), lg.checkpoint(13)), http.StatusUnprocessableEntity, ""},
		{"proof cut short", "", body(9, p9to13[:len(p9to13)-1], lg.checkpoint(13)), http.StatusUnprocessableEntity, ""},
		{"no proof", "", body(9, nil, lg.checkpoint(13)), http.StatusUnprocessableEntity, ""},
		{"proof where none is due", "", body(9, p9to13[:1], lg.checkpoint(9)), http.StatusUnprocessableEntity, ""},
		{"root changed, signed", "", body(9, p9to13, signText(t, ledger.Checkpoint{Origin: lg.signer.Name(), Size: 13, Root: lg.root(12)}.String(), lg.signer)), http.StatusUnprocessableEntity, ""},
		{"empty body", "", nil, http.StatusBadRequest, ""},
		{"no old line", "", []byte("9\n\n" + string(lg.checkpoint(13))), http.StatusBadRequest, ""},
		{"leading zero", "", []byte("old 09\n\n" + string(lg.checkpoint(9))), http.StatusBadRequest, ""},
		{"negative old", "", []byte("old -1\n\n" + string(lg.checkpoint(9))), http.StatusBadRequest, ""},
		{"CRLF", "", []byte("old 9\r\n\r\n" + string(lg.checkpoint(9))), http.StatusBadRequest, ""},
		{"proof not base64", "", []byte("old 9\nnot a hash\n\n" + string(lg.checkpoint(13))), http.StatusBadRequest, ""},
		{"non-canonical proof hash", "", []byte("old 9\n" + strings.Repeat("A", 42) + "B=\n\n" + string(lg.checkpoint(13))), http.StatusBadRequest, ""},
		{"proof hash too short", "", []byte("old 9\nAAAA\n\n" + string(lg.checkpoint(13))), http.StatusBadRequest, ""},
		{"64 proof lines", "", body(9, proof64, lg.checkpoint(13)), http.StatusBadRequest, ""},
		{"no empty line", "", []byte("old 9\n" + string(lg.checkpoint(13))), http.StatusBadRequest, ""},
		{"no checkpoint", "", []byte("old 9\n\n"), http.StatusBadRequest, ""},
		{"unsigned checkpoint", "", body(9, nil, []byte(lg.signer.Name()+"\n9\nAAAA\n")), http.StatusBadRequest, ""},
		{"extension line", "", body(9, nil, signText(t, ledger.Checkpoint{Origin: lg.signer.Name(), Size: 9, Root: lg.root(9)}.String()+"ext\n", lg.signer)), http.StatusBadRequest, ""},
		{"too large", "", append(lg.body(9, 13), bytes.Repeat([]byte("x"), witness.MaxBodyBytes)...), http.StatusRequestEntityTooLarge, ""},
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed, ""},
	}
	st := createState(t, filepath.Join(t.TempDir(), "state.json"))
	srv := newServer(t, newKey(t, "witness.test/w1"), st, lg)
	if rec := post(srv, lg.body(0, 9)); rec.Code != http.StatusOK {
		t.Fatalf("first checkpoint: %d %s", rec.Code, rec.Body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := cmp.Or(tt.method, http.MethodPost)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(method, "/add-checkpoint", bytes.NewReader(tt.body)))
			if rec.Code != tt.code {
				t.Fatalf("%s /add-checkpoint = %d (%s), want %d", method, rec.Code, strings.TrimSpace(rec.Body.String()), tt.code)
			}
			if tt.answer != "" && (rec.Body.String() != tt.answer || rec.Header().Get("Content-Type") != witness.SizeContentType) {
				t.Errorf("409 answer %q (%s), want %q (%s)", rec.Body, rec.Header().Get("Content-Type"), tt.answer, witness.SizeContentType)
			}
			c, ok, err := st.Latest(context.Background(), lg.signer.Name())
			if err != nil || !ok || c.Size != 9 || c.Root != lg.root(9) {
				t.Errorf("after refusal the witness holds %v %v %v, want the checkpoint of size 9", c, ok, err)
			}
		})
	}
}

// TestWitnessConcurrentAdds races checkpoints of several sizes from the same
// old size: exactly one is cosigned, the others are told the new size, and
// the witness holds the winner (never rolled back by a loser).
func TestWitnessConcurrentAdds(t *testing.T) {
	lg := newTestLog(t, "aitrail/test/1")
	lg.grow(20)
	st := createState(t, filepath.Join(t.TempDir(), "state.json"))
	srv := newServer(t, newKey(t, "witness.test/w1"), st, lg)
	if rec := post(srv, lg.body(0, 9)); rec.Code != http.StatusOK {
		t.Fatalf("first checkpoint: %d %s", rec.Code, rec.Body)
	}
	bodies := map[int64][]byte{}
	for n := int64(10); n <= 17; n++ {
		bodies[n] = lg.body(9, n)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []int64
	conflicts := 0
	for n, b := range bodies {
		wg.Go(func() {
			rec := post(srv, b)
			mu.Lock()
			defer mu.Unlock()
			switch rec.Code {
			case http.StatusOK:
				won = append(won, n)
			case http.StatusConflict:
				conflicts++
			default:
				t.Errorf("size %d: status %d (%s)", n, rec.Code, rec.Body)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 || conflicts != len(bodies)-1 {
		t.Fatalf("cosigned sizes %v and %d conflicts, want one cosigned and %d conflicts", won, conflicts, len(bodies)-1)
	}
	c, _, err := st.Latest(context.Background(), lg.signer.Name())
	if err != nil || c.Size != won[0] {
		t.Fatalf("witness holds %v (%v), want size %d", c, err, won[0])
	}
}

func TestKeys(t *testing.T) {
	const name = "witness.example.com/w1"
	skey, vkey, err := witness.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.VerifierKey() != vkey || s.Name() != name {
		t.Fatalf("NewSigner(skey).VerifierKey() = %q, want %q", s.VerifierKey(), vkey)
	}
	// The key ID per c2sp.org/tlog-cosignature.
	parts := strings.SplitN(vkey, "+", 3)
	pub, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(pub) != 33 || pub[0] != 0x04 {
		t.Fatalf("vkey %q: want base64(0x04 || 32-byte key)", vkey)
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), pub...))
	if want := fmt.Sprintf("%08x", binary.BigEndian.Uint32(sum[:])); parts[1] != want || s.KeyHash() != binary.BigEndian.Uint32(sum[:]) {
		t.Errorf("key id %s, want %s", parts[1], want)
	}

	// A Signer is a note.Signer of cosignatures.
	v, err := witness.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	text := "aitrail/test/1\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	msg := signText(t, text, s)
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("note.Open(cosigned) = %v", err)
	}
	if _, err := note.Open(bytes.Replace(msg, []byte("\n3\n"), []byte("\n4\n"), 1), note.VerifierList(v)); err == nil {
		t.Error("note.Open(cosigned, edited) succeeded")
	}

	sig, _ := s.Sign([]byte(text))
	if !v.Verify([]byte(text), sig) {
		t.Errorf("Verify(Sign(text)) = false")
	}
	for _, bad := range [][]byte{nil, sig[:len(sig)-1], append(sig, 0), append([]byte{0x80}, sig[1:]...)} {
		if v.Verify([]byte(text), bad) {
			t.Errorf("Verify(%x) = true", bad)
		}
	}

	_, logVKey, _ := note.GenerateKey(nil, "aitrail/test/1")
	_, otherVKey, _ := witness.GenerateKey(name)
	badHash := parts[0] + "+00000000+" + parts[2]
	for _, bad := range []string{"", "name", logVKey, badHash, name + "+" + parts[1] + "+" + parts[2][:20], "a b+" + parts[1] + "+" + parts[2]} {
		if _, err := witness.NewVerifier(bad); err == nil {
			t.Errorf("NewVerifier(%q) succeeded", bad)
		}
	}
	if _, err := witness.NewVerifier(otherVKey); err != nil {
		t.Errorf("NewVerifier(%q) = %v", otherVKey, err)
	}
	logSKey, _, _ := note.GenerateKey(nil, "aitrail/test/1")
	for _, bad := range []string{"", vkey, logSKey, strings.Replace(skey, "+"+parts[1]+"+", "+00000000+", 1)} {
		if _, err := witness.NewSigner(bad); err == nil {
			t.Errorf("NewSigner(%q) succeeded", bad)
		}
	}
	for _, bad := range []string{"", "a b", "a+b"} {
		if _, _, err := witness.GenerateKey(bad); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", bad)
		}
	}
}

func TestFileState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	if _, err := witness.OpenFileState(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenFileState(missing) = %v, want ErrNotExist", err)
	}
	st, err := witness.CreateFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := witness.OpenFileState(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("OpenFileState while open = %v, want in use", err)
	}
	c := ledger.Checkpoint{Origin: "aitrail/test/1", Size: 7, Root: tlog.Hash{1, 2, 3}}
	if err := st.Put(ctx, c, []byte("note")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := witness.CreateFileState(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateFileState(existing) = %v, want ErrExist", err)
	}
	st, err = witness.OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.Latest(ctx, c.Origin)
	if err != nil || !ok || got != c {
		t.Errorf("Latest after reopening = %v %v %v, want %v", got, ok, err, c)
	}
	if _, ok, err := st.Latest(ctx, "other"); ok || err != nil {
		t.Errorf("Latest(other) = %v %v, want none", ok, err)
	}
	st.Close()
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	for _, corrupt := range []string{"", "{", `{"logs":{"x":{"size":1,"root":"AAAA"}}}`, `{"logs":{"x":{"size":-1,"root":"` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"}}}`} {
		if err := os.WriteFile(path, []byte(corrupt), 0o600); err != nil {
			t.Fatal(err)
		}
		if st, err := witness.OpenFileState(path); err == nil {
			st.Close()
			t.Errorf("OpenFileState(%q) succeeded", corrupt)
		}
	}
}

// memStore is a Store in memory, for fuzzing.
type memStore struct {
	mu   sync.Mutex
	logs map[string]ledger.Checkpoint
}

func (m *memStore) Latest(_ context.Context, origin string) (ledger.Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.logs[origin]
	return c, ok, nil
}

func (m *memStore) Put(_ context.Context, c ledger.Checkpoint, _ []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logs[c.Origin] = c
	return nil
}

func FuzzAddCheckpointBody(f *testing.F) {
	lg := newTestLog(f, "aitrail/test/1")
	for _, seed := range [][]byte{
		lg.body(0, 1), lg.body(0, 9), lg.body(5, 9), lg.body(9, 13), lg.body(1, 13),
		[]byte("old 0\n\n"), []byte("old 1\nAAAA\n\nx"), []byte("old 18446744073709551616\n\nx\n"),
		[]byte("old 5\n" + strings.Repeat("A", 42) + "B=\n\nx"),
		[]byte("old 5\n" + strings.Repeat(strings.Repeat("A", 43)+"=\n", witness.MaxProofLines) + "\nx"),
	} {
		f.Add(seed)
	}
	key := newKey(f, "witness.test/w1")
	root5 := lg.root(5)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := witness.ParseAddCheckpoint(body)
		if err == nil {
			if r.OldSize < 0 || len(r.Proof) > witness.MaxProofLines || len(r.Checkpoint) == 0 {
				t.Fatalf("ParseAddCheckpoint(%q) = %+v", body, r)
			}
			if again := r.Bytes(); !bytes.Equal(again, body) {
				t.Fatalf("ParseAddCheckpoint(%q).Bytes() = %q", body, again)
			}
		}
		// The whole request, against a witness holding size 5.
		st := &memStore{logs: map[string]ledger.Checkpoint{lg.signer.Name(): {Origin: lg.signer.Name(), Size: 5, Root: root5}}}
		srv, _ := witness.New(key, []string{lg.vkey}, st, nil)
		rec := post(srv, body)
		switch rec.Code {
		case http.StatusOK:
			if c, _, _ := st.Latest(context.Background(), lg.signer.Name()); c.Size < 5 || err != nil {
				t.Fatalf("accepted %q: now holds %v", body, c)
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
			http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
			if err != nil && rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("malformed %q answered %d, want 400", body, rec.Code)
			}
		default:
			t.Fatalf("%q answered %d", body, rec.Code)
		}
	})
}

package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// testKeys is a fixed signing key for tests.
var testSKey, testVKey = func() (string, string) {
	s, v, err := ledger.GenerateSigningKey("aitrail/test/0001")
	if err != nil {
		panic(err)
	}
	return s, v
}()

func signAt(t *testing.T, root tlog.Hash, size int64) []byte {
	t.Helper()
	signer, err := note.NewSigner(testSKey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: ledger.Checkpoint{Origin: signer.Name(), Size: size, Root: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func buildN(t *testing.T, n int) (*sqlite.Store, []*record.Record) {
	t.Helper()
	st := openStore(t)
	c := committer(t)
	l := ledger.New(st, "main", ledger.Options{})
	for i := 0; i < n; i++ {
		if err := l.Append(context.Background(), entry(c, "alice", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	recs, err := st.Search(context.Background(), store.Filter{LogID: "main"})
	if err != nil {
		t.Fatal(err)
	}
	return st, recs
}

// TestProofsSmallTrees proves every record of every tree size from 1 to 100,
// and every consistency between two sizes, from the stored hashes.
func TestProofsSmallTrees(t *testing.T) {
	const max = 100
	st, recs := buildN(t, max)
	ctx := context.Background()
	hr := ledger.StoreHashReader(ctx, st, "main")
	roots := make([]tlog.Hash, max+1)
	for n := int64(1); n <= max; n++ {
		root, err := tlog.TreeHash(n, hr)
		if err != nil {
			t.Fatal(err)
		}
		roots[n] = root
		msg := signAt(t, root, n)
		for seq := int64(0); seq < n; seq++ {
			p, err := ledger.MakeProof(ctx, st, recs[seq], msg, testVKey)
			if err != nil {
				t.Fatalf("MakeProof(size %d, seq %d): %v", n, seq, err)
			}
			if _, err := p.Check(testVKey); err != nil {
				t.Fatalf("Check(size %d, seq %d): %v", n, seq, err)
			}
		}
	}
	for n := int64(1); n <= max; n++ {
		for m := int64(1); m <= n; m++ {
			proof, err := tlog.ProveTree(n, m, hr)
			if err != nil {
				t.Fatalf("ProveTree(%d, %d): %v", n, m, err)
			}
			if err := tlog.CheckTree(proof, n, roots[n], m, roots[m]); err != nil {
				t.Fatalf("CheckTree(%d, %d): %v", n, m, err)
			}
			if m < n {
				if err := tlog.CheckTree(proof, n, roots[n], m, roots[m-1]); err == nil && roots[m] != roots[m-1] {
					t.Fatalf("CheckTree(%d, %d) accepted the wrong old root", n, m)
				}
			}
		}
	}
}

func TestProofBundleTampering(t *testing.T) {
	st, recs := buildN(t, 13)
	ctx := context.Background()
	root, err := tlog.TreeHash(13, ledger.StoreHashReader(ctx, st, "main"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := ledger.MakeProof(ctx, st, recs[5], signAt(t, root, 13), testVKey)
	if err != nil {
		t.Fatal(err)
	}
	goodJSON, _ := json.Marshal(good)
	if p, err := ledger.ParseProof(goodJSON); err != nil {
		t.Fatal(err)
	} else if r, err := p.Check(testVKey); err != nil || r.Seq != 5 {
		t.Fatalf("Check(good) = %v, %v", r, err)
	}
	_, otherV, _ := ledger.GenerateSigningKey("aitrail/test/0001")
	mutate := map[string]func(p *ledger.Proof){
		"wrong index":          func(p *ledger.Proof) { p.Seq = 6 },
		"wrong tree size":      func(p *ledger.Proof) { p.TreeSize = 12 },
		"truncated proof":      func(p *ledger.Proof) { p.Inclusion = p.Inclusion[:len(p.Inclusion)-1] },
		"extra proof element":  func(p *ledger.Proof) { p.Inclusion = append(p.Inclusion, make([]byte, 32)) },
		"short proof hash":     func(p *ledger.Proof) { p.Inclusion[0] = p.Inclusion[0][:31] },
		"altered record":       func(p *ledger.Proof) { p.Record[len(p.Record)-40] ^= 1 },
		"another record":       func(p *ledger.Proof) { p.Record = record.Encode(recs[6]) },
		"altered checkpoint":   func(p *ledger.Proof) { p.Checkpoint = strings.Replace(p.Checkpoint, "\n13\n", "\n14\n", 1) },
		"unknown key":          func(p *ledger.Proof) { p.VerifierKey = otherV },
		"bad signature base64": func(p *ledger.Proof) { p.Checkpoint = strings.Replace(p.Checkpoint, "— ", "— !", 1) },
		"no signature":         func(p *ledger.Proof) { p.Checkpoint = p.Checkpoint[:strings.Index(p.Checkpoint, "\n\n")+2] },
		"other log":            func(p *ledger.Proof) { p.LogID = "other" },
	}
	for i := range good.Inclusion {
		for bit := 0; bit < 8; bit += 7 {
			mutate[fmt.Sprintf("bit %d of proof hash %d", bit, i)] = func(p *ledger.Proof) { p.Inclusion[i][3] ^= 1 << bit }
		}
	}
	for name, m := range mutate {
		t.Run(name, func(t *testing.T) {
			p, err := ledger.ParseProof(goodJSON)
			if err != nil {
				t.Fatal(err)
			}
			m(p)
			vkey := testVKey
			if name == "unknown key" {
				vkey = ""
			}
			if _, err := p.Check(vkey); err == nil {
				t.Errorf("Check accepted a proof with %s", name)
			}
		})
	}
	// A checker's own key must match the bundle's.
	if _, err := good.Check(otherV); err == nil {
		t.Error("Check accepted a bundle signed by another key than the checker's")
	}
	for name, b := range map[string][]byte{
		"truncated JSON": goodJSON[:len(goodJSON)/2],
		"unknown field":  bytes.Replace(goodJSON, []byte(`"seq"`), []byte(`"extra":1,"seq"`), 1),
		"trailing data":  append(append([]byte(nil), goodJSON...), []byte(` {}`)...),
		"wrong format":   bytes.Replace(goodJSON, []byte(ledger.ProofFormat), []byte("other"), 1),
	} {
		if _, err := ledger.ParseProof(b); err == nil {
			t.Errorf("ParseProof(%s) succeeded", name)
		}
	}
}

func TestParseCheckpoint(t *testing.T) {
	good := ledger.Checkpoint{Origin: "aitrail/main/x", Size: 7, Root: tlog.Hash{1, 2, 3}}
	got, err := ledger.ParseCheckpoint(good.String())
	if err != nil || got != good {
		t.Fatalf("ParseCheckpoint(%q) = %v, %v", good.String(), got, err)
	}
	for _, bad := range []string{"", "o\n7\n", "o\n07\n" + good.String()[len("aitrail/main/x\n7\n"):],
		"o\n-1\nAQID\n", "o\n7\nAQID\n", "\n7\n" + good.String()[len("aitrail/main/x\n7\n"):],
		good.String() + "extension\n", strings.TrimSuffix(good.String(), "\n")} {
		if _, err := ledger.ParseCheckpoint(bad); err == nil {
			t.Errorf("ParseCheckpoint(%q) succeeded", bad)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add(ledger.Checkpoint{Origin: "aitrail/main/x", Size: 7, Root: tlog.Hash{1}}.String())
	f.Add("o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ledger.ParseCheckpoint(s)
		if err == nil && c.String() != s {
			t.Fatalf("ParseCheckpoint(%q) = %v, which prints as %q", s, c, c.String())
		}
	})
}

func FuzzParseProof(f *testing.F) {
	f.Add([]byte(`{"format":"aitrail-proof-v1","log_id":"main","seq":0,"record":"","tree_size":1,"inclusion":[],"checkpoint":"","verifier_key":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ledger.ParseProof(b)
		if err != nil {
			return
		}
		p.Check("") // must not panic, whatever it holds
		p.Check(testVKey)
	})
}

package ledger_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the code")

const vectorDir = "../../testdata/vectors"

// The test vectors' key pair. It signs nothing else.
const (
	vectorSKey = "PRIVATE+KEY+aitrail/vectors/000000000000+2223c7d0+AfLoEWn2WbkZSG0MsziCZMpVDfe5FMiQIHPLQVLLlq93"
	vectorVKey = "aitrail/vectors/000000000000+2223c7d0+ATFkkFzHp5MChNrTfhSJFsJr2FU6RroIwieKLd9UZbYk"
)

// vectorLog returns a small deterministic log.
func vectorLog() []*record.Record {
	var recs []*record.Record
	var prev record.Hash
	kinds := []string{record.KindLogCreated, record.KindRequest, record.KindResponse, record.KindRequest, record.KindResponse}
	for i, kind := range kinds {
		r := &record.Record{Version: 1, LogID: "main", Seq: int64(i), Time: 1_773_480_000_000_000_000 + int64(i)*1_000_000,
			Kind: kind, Status: record.StatusOK, RequestSeq: -1, TokensIn: -1, TokensOut: -1, PrevHash: prev}
		r.Nonce[0] = byte(i + 1)
		switch kind {
		case record.KindRequest:
			r.Actor, r.Role, r.Session, r.ClientIP, r.CorrelationID = "alice", "user", "s1", "10.0.0.7", fmt.Sprintf("req-%d", i)
			r.Endpoint, r.Model, r.ModelDigest, r.Params, r.Stream, r.Status = "POST /api/chat", "tiny", "849ccfe8f3440d369343c258da03ce1c0b55039c0dda4d217cb7dcedbcc29cc1", []byte(`{"seed":7}`), true, record.StatusPending
			r.RawHash, r.RawLen, r.BodyHash = record.Hash{byte(i), 1}, 60, record.Hash{byte(i), 2}
		case record.KindResponse:
			r.Actor, r.Role, r.Session, r.ClientIP, r.CorrelationID = "alice", "user", "s1", "10.0.0.7", fmt.Sprintf("req-%d", i-1)
			r.Endpoint, r.Model, r.Stream, r.UpstreamStatus, r.DoneReason = "POST /api/chat", "tiny", true, 200, "stop"
			r.RequestSeq, r.TokensIn, r.TokensOut, r.LatencyUS, r.TTFTUS = int64(i-1), 31, 40, 189_526, 2_310
			r.RawHash, r.RawLen, r.BodyHash = record.Hash{byte(i), 3}, 5_120, record.Hash{byte(i), 4}
		case record.KindLogCreated:
			r.Actor, r.Role, r.Detail = "aitrail", "admin", []byte(`{"format_version":1,"log_id":"main"}`)
		}
		recs = append(recs, r)
		prev = record.EntryHash(r)
	}
	return recs
}

type vectorRecord struct {
	Seq       int64  `json:"seq"`
	Encoding  string `json:"encoding"`
	EntryHash string `json:"entry_hash"`
	LeafHash  string `json:"leaf_hash"`
}

// vectorFiles computes every file of testdata/vectors.
func vectorFiles(t *testing.T) map[string][]byte {
	recs := vectorLog()
	files := map[string][]byte{}
	var logLines, roots bytes.Buffer
	var leaves []tlog.Hash
	for _, r := range recs {
		enc := record.Encode(r)
		leaf := tlog.RecordHash(enc)
		leaves = append(leaves, leaf)
		eh := record.EntryHash(r)
		b, _ := json.Marshal(vectorRecord{Seq: r.Seq, Encoding: hex.EncodeToString(enc), EntryHash: hex.EncodeToString(eh[:]), LeafHash: hex.EncodeToString(leaf[:])})
		logLines.Write(append(b, '\n'))
		root := merkleRoot(leaves)
		fmt.Fprintf(&roots, "%d %s\n", len(leaves), hex.EncodeToString(root[:]))
	}
	files["log.jsonl"] = logLines.Bytes()
	files["roots.txt"] = roots.Bytes()

	signer, err := note.NewSigner(vectorSKey)
	if err != nil {
		t.Fatal(err)
	}
	root := merkleRoot(leaves)
	msg, err := note.Sign(&note.Note{Text: ledger.Checkpoint{Origin: signer.Name(), Size: int64(len(leaves)), Root: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	files["checkpoint.note"] = msg
	vkey := vectorVKey
	files["verifier.key"] = []byte(vkey + "\n")

	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		// Stored hashes for the small tree, computed as the ledger does.
		all := map[int64]tlog.Hash{}
		for i, r := range recs {
			hs, err := tlog.StoredHashes(int64(i), record.Encode(r), tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
				out := make([]tlog.Hash, len(ix))
				for k, x := range ix {
					out[k] = all[x]
				}
				return out, nil
			}))
			if err != nil {
				return nil, err
			}
			for k, h := range hs {
				all[tlog.StoredHashIndex(0, int64(i))+int64(k)] = h
			}
		}
		out := make([]tlog.Hash, len(idx))
		for k, x := range idx {
			out[k] = all[x]
		}
		return out, nil
	})
	proof, err := tlog.ProveRecord(int64(len(recs)), 3, hr)
	if err != nil {
		t.Fatal(err)
	}
	p := &ledger.Proof{Format: ledger.ProofFormat, LogID: "main", Seq: 3, Record: record.Encode(recs[3]),
		TreeSize: int64(len(recs)), Checkpoint: string(msg), VerifierKey: vkey}
	for _, h := range proof {
		p.Inclusion = append(p.Inclusion, append([]byte(nil), h[:]...))
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	files["proof.json"] = append(b, '\n')

	key := bytes.Repeat([]byte{0x01}, record.KeySize)
	c, _ := record.NewCommitter(key)
	var nonce [16]byte
	nonce[15] = 7
	data := []byte("yes")
	salt := c.Salt(nonce)
	com := c.Commit(nonce, record.LabelBody, data)
	files["commitment.txt"] = []byte(fmt.Sprintf("key %s\nnonce %s\nlabel %s\ndata %s\nsalt %s\ncommitment %s\n",
		hex.EncodeToString(key), hex.EncodeToString(nonce[:]), record.LabelBody, hex.EncodeToString(data), hex.EncodeToString(salt), com))
	return files
}

// TestVectors checks testdata/vectors against the code: the format can
// never drift from what independent verifiers were told.
func TestVectors(t *testing.T) {
	files := vectorFiles(t)
	for name, want := range files {
		path := filepath.Join(vectorDir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code produces (run go test -run TestVectors -update after a deliberate format change)", path)
		}
	}
	// The proof bundle checks with the published key.
	p, err := ledger.ParseProof(files["proof.json"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Check(strings.TrimSpace(string(files["verifier.key"]))); err != nil {
		t.Errorf("the vector proof does not check: %v", err)
	}
}

// TestVectorsIndependentVerifier runs testdata/vectors/check.py, a verifier
// written in Python from docs/FORMAT.md alone, when python3 is installed.
func TestVectorsIndependentVerifier(t *testing.T) {
	py, err := osexec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	out, err := osexec.Command(py, filepath.Join(vectorDir, "check.py")).CombinedOutput()
	if err != nil {
		t.Fatalf("check.py: %v\n%s", err, out)
	}
}

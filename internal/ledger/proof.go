package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/record"
)

// ProofFormat names the proof bundle format.
const ProofFormat = "aitrail-proof-v1"

// A Proof bundles everything needed to check, offline and without the
// database, that one record is in a log: the record's canonical encoding,
// its inclusion proof in the tree of a signed checkpoint, that checkpoint,
// and the log's verifier key. Its JSON form is what 'aitrail prove' writes:
//
//	{"format":"aitrail-proof-v1","log_id":"main","seq":12,
//	 "record":"<base64 of the canonical encoding>",
//	 "tree_size":18,"inclusion":["<base64 hash>",...],
//	 "checkpoint":"<signed note>","verifier_key":"<note verifier key>"}
type Proof struct {
	Format      string   `json:"format"`
	LogID       string   `json:"log_id"`
	Seq         int64    `json:"seq"`
	Record      []byte   `json:"record"`
	TreeSize    int64    `json:"tree_size"`
	Inclusion   [][]byte `json:"inclusion"`
	Checkpoint  string   `json:"checkpoint"`
	VerifierKey string   `json:"verifier_key"`
}

// MakeProof returns the proof of record seq of a log in the tree of the
// signed checkpoint msg (which must cover it).
func MakeProof(ctx context.Context, st interface {
	ReadHashes(ctx context.Context, logID string, indexes []int64) ([]record.Hash, error)
}, r *record.Record, msg []byte, vkey string) (*Proof, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	c, _, err := OpenCheckpoint(msg, note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	if c.Size <= r.Seq {
		return nil, fmt.Errorf("the checkpoint of size %d does not cover record %d", c.Size, r.Seq)
	}
	proof, err := tlog.ProveRecord(c.Size, r.Seq, StoreHashReader(ctx, st, r.LogID))
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of record %d: %w", r.Seq, err)
	}
	p := &Proof{Format: ProofFormat, LogID: r.LogID, Seq: r.Seq, Record: record.Encode(r), TreeSize: c.Size,
		Checkpoint: string(msg), VerifierKey: vkey}
	for _, h := range proof {
		p.Inclusion = append(p.Inclusion, append([]byte(nil), h[:]...))
	}
	if _, err := p.Check(""); err != nil {
		return nil, fmt.Errorf("the proof does not check (is the stored tree intact? run aitrail verify): %w", err)
	}
	return p, nil
}

// ParseProof decodes a proof bundle strictly: unknown fields, trailing data
// and a wrong format name are errors.
func ParseProof(b []byte) (*Proof, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Proof
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("malformed proof: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed proof: data after the JSON object")
	}
	if p.Format != ProofFormat {
		return nil, fmt.Errorf("malformed proof: format %q, want %q", p.Format, ProofFormat)
	}
	return &p, nil
}

// Check verifies the proof and returns the proven record. vkey is the
// log's verifier key as the checker knows it; "" trusts the key in the
// bundle (then only the bundle's consistency is proven, not that it comes
// from the log the checker has in mind). Every claim is checked: the key,
// the signature, the checkpoint's size, the record's seq and log, and the
// inclusion of the record's leaf under the checkpoint's root.
func (p *Proof) Check(vkey string) (*record.Record, error) {
	if vkey == "" {
		vkey = p.VerifierKey
	} else if vkey != p.VerifierKey {
		return nil, errors.New("the proof is signed for another key than the one given")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	c, _, err := OpenCheckpoint([]byte(p.Checkpoint), note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	if c.Size != p.TreeSize {
		return nil, fmt.Errorf("the proof claims tree size %d, its checkpoint says %d", p.TreeSize, c.Size)
	}
	r, err := record.Decode(p.Record)
	if err != nil {
		return nil, err
	}
	if r.Seq != p.Seq || r.LogID != p.LogID {
		return nil, fmt.Errorf("the proof claims record %d of log %q, the record is %d of log %q", p.Seq, p.LogID, r.Seq, r.LogID)
	}
	if p.Seq < 0 || p.Seq >= p.TreeSize {
		return nil, fmt.Errorf("record %d is outside a tree of size %d", p.Seq, p.TreeSize)
	}
	proof := make(tlog.RecordProof, len(p.Inclusion))
	for i, h := range p.Inclusion {
		if len(h) != len(proof[i]) {
			return nil, fmt.Errorf("inclusion proof hash %d has %d bytes", i, len(h))
		}
		copy(proof[i][:], h)
	}
	if err := tlog.CheckRecord(proof, p.TreeSize, c.Root, p.Seq, tlog.RecordHash(p.Record)); err != nil {
		return nil, fmt.Errorf("the record is not in the signed tree: %w", err)
	}
	return r, nil
}

package anchor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/witness"
)

// Witness sends each checkpoint to a c2sp.org/tlog-witness witness, which
// checks that it is consistent with the last one it saw of the log and
// cosigns it:
//
//	POST <url>/add-checkpoint
//
//	old <size the witness holds>
//	<consistency proof from that size, one base64 hash a line>
//
//	<the signed checkpoint>
//
// It remembers, per log, the size the witness last acknowledged (zero
// when it knows none, as after a restart). When the witness holds another
// size it answers 409 with that size, and Add retries once with a proof
// from it. The cosignature in a 200 answer is verified with the witness's
// key before Add returns the cosigned note: the log's note followed by the
// witness's signature line.
//
// tlog-witness defines no way to read a witness's checkpoints back, so
// Checkpoints returns the latest cosigned note of each log that Add
// received in this process, held in memory. Keep the cosigned notes that
// Add returns where they are needed (a file anchor, a proof) for more.
type Witness struct {
	url      string
	vkey     string
	verifier note.Verifier
	client   *http.Client

	mu       sync.Mutex       // serializes Add: the old size must be current
	acked    map[string]int64 // by origin: the size the witness holds
	cosigned map[string][]byte
}

var _ ledger.Anchor = (*Witness)(nil)

// NewWitness returns an anchor that posts checkpoints to the witness at
// rawURL (its submission prefix, http or https) and checks its
// cosignatures with witnessVKey (name+keyid+base64(0x04||Ed25519 key), as
// printed by "aitrail witness"). A nil client means one with a 30-second
// timeout.
func NewWitness(rawURL, witnessVKey string, client *http.Client) (*Witness, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("witness URL %q: want http(s)://host[/prefix]", rawURL)
	}
	v, err := witness.NewVerifier(witnessVKey)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Witness{
		url:      strings.TrimSuffix(u.String(), "/"),
		vkey:     strings.TrimSpace(witnessVKey),
		verifier: v,
		client:   client,
		acked:    map[string]int64{},
		cosigned: map[string][]byte{},
	}, nil
}

// Name implements ledger.Anchor.
func (w *Witness) Name() string { return "witness " + w.verifier.Name() + " at " + w.url }

// maxAnswer bounds a witness's answer: a few signature lines.
const maxAnswer = 64 << 10

// Add implements ledger.Anchor: it returns the checkpoint cosigned by the
// witness, or an error when the witness refused it or its answer does not
// verify. It is safe for concurrent use; calls are serialized.
func (w *Witness) Add(ctx context.Context, logID string, signed []byte, c ledger.Checkpoint, prove func(from int64) (tlog.TreeProof, error)) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old := w.acked[c.Origin]
	for retried := false; ; retried = true {
		if old > c.Size {
			return nil, fmt.Errorf("the witness holds size %d of %s, larger than this checkpoint's %d: "+
				"the log lost records, or another log uses its key", old, c.Origin, c.Size)
		}
		var proof tlog.TreeProof
		if old > 0 && old < c.Size {
			p, err := prove(old)
			if err != nil {
				return nil, fmt.Errorf("consistency proof from size %d: %w", old, err)
			}
			proof = p
		}
		held, cosig, err := w.post(ctx, &witness.AddCheckpoint{OldSize: old, Proof: proof, Checkpoint: signed})
		if err != nil {
			return nil, err
		}
		if cosig == nil { // 409
			w.acked[c.Origin] = held
			if held == old {
				return nil, fmt.Errorf("the witness refused checkpoint %d as conflicting with the one of size %d it holds (a different tree: a fork?)", c.Size, held)
			}
			if retried {
				return nil, fmt.Errorf("the witness holds size %d, and moved again from %d while asked: another client is adding checkpoints of %s", held, old, c.Origin)
			}
			old = held
			continue
		}
		cosigned, err := w.cosignedNote(signed, cosig)
		if err != nil {
			return nil, err
		}
		w.acked[c.Origin] = c.Size
		w.cosigned[logID] = cosigned
		return cosigned, nil
	}
}

// post sends one add-checkpoint request. It returns the witness's
// cosignature lines on 200, or the size it holds (and nil lines) on 409.
func (w *Witness) post(ctx context.Context, r *witness.AddCheckpoint) (held int64, cosig []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url+"/add-checkpoint", bytes.NewReader(r.Bytes()))
	if err != nil {
		return 0, nil, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("read the witness's answer: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return 0, body, nil
	case http.StatusConflict:
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		s, ok := strings.CutSuffix(string(body), "\n")
		n, err := strconv.ParseInt(s, 10, 64)
		if mt != witness.SizeContentType || !ok || err != nil || n < 0 {
			return 0, nil, fmt.Errorf("the witness answered 409 without a tree size (Content-Type %q, body %q)", resp.Header.Get("Content-Type"), clip(body))
		}
		return n, nil, nil
	}
	return 0, nil, fmt.Errorf("the witness answered %s: %s", resp.Status, clip(body))
}

// cosignedNote verifies the witness's signature lines over signed, and
// returns signed followed by those lines. Lines of other keys are dropped.
func (w *Witness) cosignedNote(signed, lines []byte) ([]byte, error) {
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		return nil, fmt.Errorf("the witness answered 200 without signature lines: %q", clip(lines))
	}
	n, err := note.Open(append(bytes.Clone(signed), lines...), note.VerifierList(w.verifier))
	if err != nil {
		return nil, fmt.Errorf("the witness's cosignature does not verify with %s: %w", w.vkey, err)
	}
	out := bytes.Clone(signed)
	for _, s := range n.Sigs {
		line := fmt.Appendf(nil, "— %s %s\n", s.Name, s.Base64)
		if !bytes.Contains(signed, line) {
			out = append(out, line...)
		}
	}
	return out, nil
}

// Checkpoints implements ledger.Anchor: it returns the latest note of the
// log cosigned by the witness in this process, if any (see Witness).
func (w *Witness) Checkpoints(_ context.Context, logID string) ([][]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n, ok := w.cosigned[logID]; ok {
		return [][]byte{bytes.Clone(n)}, nil
	}
	return nil, nil
}

// VerifyCosignature checks that note is a checkpoint cosigned by the witness
// whose vkey is witnessVKey, and returns when the witness signed it. It does
// not check the log's own signature (ledger.OpenCheckpoint does).
func VerifyCosignature(cosigned []byte, witnessVKey string) (time.Time, error) {
	v, err := witness.NewVerifier(witnessVKey)
	if err != nil {
		return time.Time{}, err
	}
	n, err := note.Open(cosigned, note.VerifierList(v))
	if err != nil {
		var une *note.UnverifiedNoteError
		if errors.As(err, &une) {
			return time.Time{}, fmt.Errorf("not cosigned by witness %s", v.Name())
		}
		return time.Time{}, fmt.Errorf("cosignature of witness %s: %w", v.Name(), err)
	}
	if _, err := ledger.ParseCheckpoint(n.Text); err != nil {
		return time.Time{}, err
	}
	return witness.CosignatureTime(n.Sigs[0])
}

// clip shortens a witness's answer for an error message.
func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

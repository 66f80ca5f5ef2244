// Package witness is a transparency log witness: a small HTTP service that
// keeps the latest checkpoint of each log it is configured with, and
// cosigns a new checkpoint only if it is consistent with that one. A log
// that shows one history to its witness cannot then show another to
// anyone who checks the witness's cosignature: it would have to fork the
// witness too, which refuses.
//
// The protocol is c2sp.org/tlog-witness, and cosignatures are
// c2sp.org/tlog-cosignature "cosignature/v1" (Ed25519). A log (the
// anchor.Witness client in aitrail) posts
//
//	POST <prefix>/add-checkpoint
//
//	old 5
//	<consistency proof from 5 to 9, one base64 hash a line>
//
//	<the log's signed checkpoint of size 9>
//
// and the witness answers one of
//
//	200  — <witness name> base64(key ID || timestamp || signature)\n
//	400  malformed body, or old size larger than the checkpoint's
//	403  no signature of a key the witness trusts for the origin
//	404  a log (origin) the witness does not know
//	409  old is not the size the witness holds: the body is that size,
//	     "9\n", Content-Type text/x.tlog.size; also a different root at
//	     the size it holds (a fork: refused and logged)
//	413  body too large
//	422  the consistency proof does not verify (refused and logged)
//
// The new checkpoint is stored durably before the answer, and the check of
// the old size and the store are done under one lock, so two racing
// requests can never roll the witness back. The first checkpoint of a log
// is taken on trust (old 0, empty proof): start the witness before the
// log has anything to hide.
//
// Keys: GenerateKey makes the witness's Ed25519 key; the log operator
// configures the witness's vkey (name+keyid+base64(0x04||key)) in the
// anchor, and the witness is configured with each log's note vkey.
package witness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
)

// MaxBodyBytes bounds an add-checkpoint request body: a checkpoint with a
// hundred signatures and a full proof fit many times over.
const MaxBodyBytes = 64 << 10

// SizeContentType is the Content-Type of a 409 answer's body.
const SizeContentType = "text/x.tlog.size"

// A Server is a witness, an http.Handler serving POST /add-checkpoint.
type Server struct {
	key  *Signer
	logs map[string]note.Verifiers // by origin
	st   Store
	log  *slog.Logger
	mux  *http.ServeMux

	mu sync.Mutex // held from reading a log's checkpoint to storing the next
}

// New returns a witness that cosigns with key the checkpoints of the logs
// whose note verifier keys are logVKeys (Ed25519, as made by
// ledger.GenerateSigningKey). A log's origin is its key's name; several keys
// of one name are all trusted for that origin. The witness keeps its state
// in st, and logs refusals that may show a misbehaving log (forks, bad
// proofs) to logger (nil for none).
func New(key *Signer, logVKeys []string, st Store, logger *slog.Logger) (*Server, error) {
	if len(logVKeys) == 0 {
		return nil, errors.New("a witness needs at least one log verifier key")
	}
	byOrigin := map[string][]note.Verifier{}
	for _, vk := range logVKeys {
		v, err := note.NewVerifier(strings.TrimSpace(vk))
		if err != nil {
			return nil, fmt.Errorf("log verifier key %q: %w", vk, err)
		}
		byOrigin[v.Name()] = append(byOrigin[v.Name()], v)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{key: key, logs: map[string]note.Verifiers{}, st: st, log: logger, mux: http.NewServeMux()}
	for origin, vs := range byOrigin {
		s.logs[origin] = note.VerifierList(vs...)
	}
	s.mux.HandleFunc("POST /add-checkpoint", s.serveAddCheckpoint)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Errors of an add-checkpoint request, mapped to HTTP statuses by status.
var (
	errBadRequest   = errors.New("bad request")
	errUnknownLog   = errors.New("unknown log")
	errBadSignature = errors.New("no valid signature by a key trusted for the log")
	errTooLarge     = errors.New("request body too large")
	errBadProof     = errors.New("consistency proof does not verify")
)

// conflictError is a 409: the witness holds size, not the request's old
// size, or holds another root at that size.
type conflictError struct {
	size int64
	fork bool
}

func (e *conflictError) Error() string {
	if e.fork {
		return fmt.Sprintf("the witness holds a different checkpoint of size %d", e.size)
	}
	return fmt.Sprintf("the witness holds size %d", e.size)
}

func status(err error) int {
	var ce *conflictError
	switch {
	case errors.As(err, &ce):
		return http.StatusConflict
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, errBadSignature):
		return http.StatusForbidden
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadProof):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

func (s *Server) serveAddCheckpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var line string
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = errTooLarge
		} else {
			err = fmt.Errorf("%w: reading the body: %v", errBadRequest, err)
		}
	} else {
		line, err = s.addCheckpoint(r.Context(), body)
	}
	var ce *conflictError
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, line)
	case errors.As(err, &ce):
		w.Header().Set("Content-Type", SizeContentType)
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", ce.size)
	default:
		code := status(err)
		if code == http.StatusInternalServerError {
			s.log.Error("add-checkpoint failed", "err", err)
		}
		http.Error(w, err.Error(), code)
	}
}

// addCheckpoint checks an add-checkpoint request body, stores its
// checkpoint and returns the witness's cosignature line.
func (s *Server) addCheckpoint(ctx context.Context, body []byte) (string, error) {
	req, err := ParseAddCheckpoint(body)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadRequest, err)
	}
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	known, ok := s.logs[origin]
	if !ok {
		return "", fmt.Errorf("%w %q", errUnknownLog, origin)
	}
	n, err := note.Open(req.Checkpoint, known)
	if err != nil {
		var une *note.UnverifiedNoteError
		var ise *note.InvalidSignatureError
		if errors.As(err, &une) || errors.As(err, &ise) {
			return "", errBadSignature
		}
		return "", fmt.Errorf("%w: checkpoint note: %v", errBadRequest, err)
	}
	c, err := ledger.ParseCheckpoint(n.Text)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if req.OldSize > c.Size {
		return "", fmt.Errorf("%w: old size %d is larger than the checkpoint's %d", errBadRequest, req.OldSize, c.Size)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	held, ok, err := s.st.Latest(ctx, origin)
	if err != nil {
		return "", fmt.Errorf("read the state of %q: %w", origin, err)
	}
	if req.OldSize != held.Size {
		return "", &conflictError{size: held.Size}
	}
	switch {
	case ok && c.Size == held.Size && c.Root != held.Root:
		s.log.Error("refused a fork: the log signed two different trees of one size",
			"origin", origin, "size", c.Size, "held", held.String(), "request", string(body))
		return "", &conflictError{size: held.Size, fork: true}
	case req.OldSize == 0 || req.OldSize == c.Size:
		if len(req.Proof) != 0 {
			return "", fmt.Errorf("%w: the proof must be empty from size %d to %d", errBadProof, req.OldSize, c.Size)
		}
	default:
		if err := tlog.CheckTree(req.Proof, c.Size, c.Root, held.Size, held.Root); err != nil {
			s.log.Warn("refused a checkpoint not proven consistent with the one held (a fork, or a bad proof)",
				"origin", origin, "size", c.Size, "held", held.String(), "request", string(body))
			return "", errBadProof
		}
	}
	if !ok || c.Size != held.Size {
		if err := s.st.Put(ctx, c, req.Checkpoint); err != nil {
			return "", fmt.Errorf("store the checkpoint of %q: %w", origin, err)
		}
	}
	return s.key.line([]byte(n.Text), time.Now()), nil
}

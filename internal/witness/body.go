package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// MaxProofLines is the most consistency proof lines an add-checkpoint
// request may carry (c2sp.org/tlog-witness): a proof between two trees of
// at most 2^63 leaves needs no more.
const MaxProofLines = 63

// An AddCheckpoint is the body of an add-checkpoint request:
//
//	old <size the witness holds, decimal, no leading zeros>\n
//	<consistency proof hash, base64>\n      (zero to 63 lines)
//	\n
//	<signed checkpoint note>
//
// The proof is from the old size to the checkpoint's size, and is empty
// when the old size is zero.
type AddCheckpoint struct {
	OldSize    int64
	Proof      tlog.TreeProof
	Checkpoint []byte // the signed note, signature lines included
}

// Bytes returns the request body.
func (r *AddCheckpoint) Bytes() []byte {
	b := make([]byte, 0, 32+45*len(r.Proof)+len(r.Checkpoint))
	b = append(b, "old "...)
	b = strconv.AppendInt(b, r.OldSize, 10)
	b = append(b, '\n')
	for _, h := range r.Proof {
		b = base64.StdEncoding.AppendEncode(b, h[:])
		b = append(b, '\n')
	}
	b = append(b, '\n')
	return append(b, r.Checkpoint...)
}

// ParseAddCheckpoint parses an add-checkpoint request body. It is strict:
// every line ends in a newline, the old size has no sign or leading zeros,
// each proof hash is 32 bytes in canonical base64, and there are at most
// MaxProofLines of them. The checkpoint note is returned as is (non-empty,
// not yet verified); Bytes of the result is body again.
func ParseAddCheckpoint(body []byte) (*AddCheckpoint, error) {
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return nil, errors.New("malformed request: no old size line")
	}
	size, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return nil, errors.New("malformed request: the first line is not \"old <size>\"")
	}
	n, err := strconv.ParseInt(string(size), 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != string(size) {
		return nil, fmt.Errorf("malformed request: bad old size %q", size)
	}
	r := &AddCheckpoint{OldSize: n}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, errors.New("malformed request: no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == MaxProofLines {
			return nil, fmt.Errorf("malformed request: more than %d proof lines", MaxProofLines)
		}
		var h tlog.Hash
		var buf [33]byte // DecodedLen of a padded 32-byte hash
		if len(line) != base64.StdEncoding.EncodedLen(len(h)) {
			return nil, fmt.Errorf("malformed request: proof line %d is not a hash", len(r.Proof)+1)
		}
		if m, err := base64.StdEncoding.Strict().Decode(buf[:], line); err != nil || m != len(h) {
			return nil, fmt.Errorf("malformed request: proof line %d is not a hash", len(r.Proof)+1)
		}
		copy(h[:], buf[:])
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return nil, errors.New("malformed request: no checkpoint")
	}
	r.Checkpoint = rest
	return r, nil
}

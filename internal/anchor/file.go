// Package anchor keeps copies of a log's signed checkpoints outside its
// database, so that whoever can rewrite the database still cannot rewrite,
// roll back or fork the log unnoticed.
//
// File is an append-only file, best on another volume or machine (an NFS
// export, a WORM mount). Witness posts checkpoints to an HTTP witness that
// checks consistency and cosigns. Object storage with object lock fits the
// same ledger.Anchor interface as one more implementation.
package anchor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
)

// File appends each checkpoint as one JSON line
//
//	{"log":"main","size":1234,"note":"<signed note text>"}
//
// to a file opened with O_APPEND, and fsyncs it before Add returns.
type File struct {
	path string
	mu   sync.Mutex
}

var _ ledger.Anchor = (*File)(nil)

// NewFile returns a file anchor at path (created on first use, mode 0600).
func NewFile(path string) *File { return &File{path: path} }

// Name implements ledger.Anchor.
func (f *File) Name() string { return "file " + f.path }

type fileEntry struct {
	Log  string `json:"log"`
	Size int64  `json:"size"`
	Note string `json:"note"`
}

// Add implements ledger.Anchor.
func (f *File) Add(_ context.Context, logID string, signed []byte, c ledger.Checkpoint, _ func(int64) (tlog.TreeProof, error)) ([]byte, error) {
	line, err := json.Marshal(fileEntry{Log: logID, Size: c.Size, Note: string(signed)})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		fh.Close()
		return nil, err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return nil, err
	}
	return nil, fh.Close()
}

// Checkpoints implements ledger.Anchor. A missing file holds none; a line
// that is not an entry gives a *MalformedError along with the entries that
// are well formed.
func (f *File) Checkpoints(_ context.Context, logID string) ([][]byte, error) {
	entries, err := f.read()
	var out [][]byte
	for _, e := range entries {
		if e.Log == logID {
			out = append(out, []byte(e.Note))
		}
	}
	return out, err
}

// Logs returns the ids of the logs the file holds checkpoints of.
func (f *File) Logs(context.Context) ([]string, error) {
	entries, err := f.read()
	seen := map[string]bool{}
	var out []string
	for _, e := range entries {
		if !seen[e.Log] {
			seen[e.Log] = true
			out = append(out, e.Log)
		}
	}
	return out, err
}

func (f *File) read() ([]fileEntry, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []fileEntry
	var bad *MalformedError
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e fileEntry
		if err := json.Unmarshal(line, &e); err != nil {
			if bad == nil {
				bad = &MalformedError{Path: f.path, Line: n, Err: err}
			}
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, err
	}
	if bad != nil {
		return out, bad
	}
	return out, nil
}

// A MalformedError is a line of an anchor file that is not an entry: the
// file was damaged or tampered with. The entries that are well formed are
// still returned with it.
type MalformedError struct {
	Path string
	Line int
	Err  error
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%s line %d is not a checkpoint entry: %v", e.Path, e.Line, e.Err)
}

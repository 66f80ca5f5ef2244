package witness

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/aitrail/aitrail/internal/ledger"
)

// A Store keeps, for each log, the latest checkpoint the witness cosigned.
// A Server holds its own lock from reading a log's checkpoint to storing
// the next, so a Store serves one Server and sees one call at a time per
// Server; it must not be shared by two processes.
type Store interface {
	// Latest returns the latest checkpoint cosigned of the log origin, or
	// ok false if the witness never cosigned one.
	Latest(ctx context.Context, origin string) (c ledger.Checkpoint, ok bool, err error)
	// Put makes c the latest checkpoint of its log, keeping beside it the
	// log's signed note (evidence of what the log said). It returns only
	// once c is durable: the witness answers after Put.
	Put(ctx context.Context, c ledger.Checkpoint, note []byte) error
}

// FileState is a Store in one JSON file:
//
//	{"logs": {"<origin>": {"size": 9, "root": "<base64>", "note": "<signed note>"}}}
//
// Put rewrites the whole file (to a temporary file in the same directory,
// fsynced, renamed over the old one, and the directory fsynced), so the
// file always holds either the old state or the new one. While open, a
// FileState holds an exclusive lock on <path>.lock, so that two witnesses
// never share a state. It is safe for concurrent use.
type FileState struct {
	path string
	lock *os.File

	mu   sync.Mutex
	logs map[string]fileLog
}

var _ Store = (*FileState)(nil)

type fileLog struct {
	Size int64  `json:"size"`
	Root string `json:"root"`
	Note string `json:"note"`
}

type fileState struct {
	Logs map[string]fileLog `json:"logs"`
}

// CreateFileState creates a new, empty state file at path, which must not
// exist, and opens it.
func CreateFileState(path string) (*FileState, error) {
	s, err := lockState(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		s.Close()
		return nil, fmt.Errorf("create witness state %s: %w", path, os.ErrExist)
	}
	if err := s.write(map[string]fileLog{}); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenFileState opens the state file at path, which must exist: a missing
// state is not taken for an empty one, since a witness that forgot what it
// cosigned could cosign a fork.
func OpenFileState(path string) (*FileState, error) {
	s, err := lockState(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open witness state: %w", err)
	}
	var st fileState
	if err := json.Unmarshal(b, &st); err != nil {
		s.Close()
		return nil, fmt.Errorf("witness state %s is corrupt: %w", path, err)
	}
	for origin, l := range st.Logs {
		if _, err := l.checkpoint(origin); err != nil {
			s.Close()
			return nil, fmt.Errorf("witness state %s is corrupt: log %q: %w", path, origin, err)
		}
	}
	if st.Logs != nil {
		s.logs = st.Logs
	}
	return s, nil
}

func lockState(path string) (*FileState, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock witness state: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("witness state %s is in use by another witness", path)
		}
		return nil, fmt.Errorf("lock witness state %s: %w", path, err)
	}
	return &FileState{path: path, lock: f, logs: map[string]fileLog{}}, nil
}

// Close releases the state's lock.
func (s *FileState) Close() error { return s.lock.Close() }

// Latest implements Store.
func (s *FileState) Latest(_ context.Context, origin string) (ledger.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logs[origin]
	if !ok {
		return ledger.Checkpoint{}, false, nil
	}
	c, err := l.checkpoint(origin)
	return c, true, err
}

// Put implements Store.
func (s *FileState) Put(_ context.Context, c ledger.Checkpoint, note []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	logs := make(map[string]fileLog, len(s.logs)+1)
	for k, v := range s.logs {
		logs[k] = v
	}
	logs[c.Origin] = fileLog{Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root[:]), Note: string(note)}
	if err := s.write(logs); err != nil {
		return err
	}
	s.logs = logs
	return nil
}

// write replaces the file with logs, atomically and durably.
func (s *FileState) write(logs map[string]fileLog) error {
	b, err := json.MarshalIndent(fileState{Logs: logs}, "", "\t")
	if err != nil {
		return err
	}
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write witness state: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("write witness state %s: %w", s.path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (l fileLog) checkpoint(origin string) (ledger.Checkpoint, error) {
	c := ledger.Checkpoint{Origin: origin, Size: l.Size}
	b, err := base64.StdEncoding.DecodeString(l.Root)
	if err != nil || len(b) != len(c.Root) || l.Size < 0 {
		return c, errors.New("bad size or root")
	}
	copy(c.Root[:], b)
	return c, nil
}

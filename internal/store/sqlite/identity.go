package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/aitrail/aitrail/internal/store"
)

// ErrReplaced is the error of every append once the database file the
// store opened is no longer at its path: removed, or replaced by another
// file. Appends would go on into a file that no longer survives the
// process (or that nobody reads), so the log refuses them.
var ErrReplaced = errors.New("the audit log's database file was removed or replaced while serving")

// fileID identifies a file: its device and inode.
type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, nil
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// checkFile compares the file at the store's path with the one it opened,
// and from the first mismatch on makes Replaced and Append fail. It runs
// on each checkpoint tick (every second), not per call.
func (s *Store) checkFile() {
	if s.replaced.Load() != nil {
		return
	}
	id, err := statID(s.path)
	var cause error
	switch {
	case errors.Is(err, os.ErrNotExist):
		cause = fmt.Errorf("%w: %s is gone", ErrReplaced, s.path)
	case err != nil:
		return // cannot tell: the next tick tries again
	case id != s.id:
		cause = fmt.Errorf("%w: %s is another file now", ErrReplaced, s.path)
	}
	if cause != nil {
		s.replaced.CompareAndSwap(nil, &cause)
	}
}

// Replaced returns an error wrapping ErrReplaced once the database file
// was found removed or replaced, else nil.
func (s *Store) Replaced() error {
	if p := s.replaced.Load(); p != nil {
		return *p
	}
	return nil
}

// Append implements store.Store: it refuses once the file was replaced.
func (s *Store) Append(ctx context.Context, logID string, build func(context.Context, store.AppendTx) (*store.Batch, error)) error {
	if err := s.Replaced(); err != nil {
		return err
	}
	return s.Store.Append(ctx, logID, build)
}

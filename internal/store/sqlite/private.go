package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// CreatePrivate creates the database file at path with mode 0600 if it
// does not exist yet, before SQLite opens it: SQLite would create it with
// 0666 less the umask, and it gives the -wal and -shm files it creates
// beside it the database file's mode, so all three hold audit content
// readable by the owner only, whatever the umask.
func CreatePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return fmt.Errorf("create %s: %w", path, err)
}

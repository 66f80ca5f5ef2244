package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "audit.db")
		return func() (store.Store, error) { return sqlite.Open(t.Context(), path) }
	})
}

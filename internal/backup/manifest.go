// Package backup makes and restores backups of an aitrail data directory,
// and continues a log that was restored from one.
//
// A backup (Create) is a directory, or a tar file, holding a consistent
// snapshot of the audit database and the raw vault (SQLite's VACUUM INTO,
// taken while serve runs), the commitment and PII index keys, the log's
// verifier keys, copies of the anchor files, and manifest.json, which lists
// every file with its size and SHA-256 and states each log's head and last
// checkpoint at the time of the backup. The log's signing key and the
// vault's master key are never in it: they go to files of their own, to be
// kept apart from the data they protect.
//
// Restore checks a backup completely (every listed file present and
// unchanged, the database verifying up to its head and matching the
// manifest) in a temporary directory beside the target, then renames it
// into place; the target must be empty or absent.
//
// A restored log is older than its anchors. Continue, run by serve at
// start, sees that (ledger.FindGap) and continues in a new log, NODE.rK,
// under a new key, whose first record, log.restored, commits to the
// restored head and to the newest anchored checkpoint of the old log, and
// names the records lost between them. docs/FORMAT.md specifies it.
package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Format is the manifest's format name.
const Format = "aitrail-backup/1"

// ManifestName is the manifest's file name in a backup.
const ManifestName = "manifest.json"

// A Manifest describes a backup.
type Manifest struct {
	Format   string `json:"format"`
	Created  string `json:"created"` // RFC 3339, UTC
	Version  string `json:"aitrail_version"`
	Node     string `json:"node"`
	LogID    string `json:"log_id"`   // the log this node writes
	Database string `json:"database"` // sqlite or postgres
	// DatabaseIncluded is false for PostgreSQL: its data is backed up with
	// pg_dump or point-in-time recovery, not by aitrail.
	DatabaseIncluded bool       `json:"database_included"`
	Logs             []LogState `json:"logs"`
	Files            []File     `json:"files"`
	Apart            []Apart    `json:"kept_apart"`
}

// LogState is a log as the backup holds it.
type LogState struct {
	Log  string `json:"log"`
	Size int64  `json:"size"` // records 0 to size-1
	Head string `json:"head"` // hex entry hash of record size-1, "" if empty
	// CheckpointSize is the size of the last signed checkpoint in the
	// backup (0: none), Checkpoint its signed note.
	CheckpointSize int64  `json:"checkpoint_size"`
	Checkpoint     string `json:"checkpoint"`
}

// A File is one file of the backup.
type File struct {
	Name   string `json:"name"` // slash-separated, relative to the backup
	What   string `json:"what"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
	// Restore is where restore puts it, relative to the data directory;
	// "" for a copy kept only as evidence (an anchor file outside it).
	Restore string `json:"restore"`
}

// Apart is a secret the backup does not hold.
type Apart struct {
	What   string `json:"what"`
	From   string `json:"from"`   // where it is on the gateway's machine
	Output string `json:"output"` // where this backup wrote it, "" if not asked
}

// maxManifest bounds a manifest's size.
const maxManifest = 1 << 20

// ParseManifest parses and checks a manifest: known format, no unknown
// fields, file names that stay inside the backup and are listed once.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) > maxManifest {
		return nil, errors.New("manifest too large")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var m Manifest
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if d.More() {
		return nil, errors.New("manifest: trailing data")
	}
	if m.Format != Format {
		return nil, fmt.Errorf("manifest: format %q, want %q", m.Format, Format)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if !safeName(f.Name) || (f.Restore != "" && !safeName(f.Restore)) {
			return nil, fmt.Errorf("manifest: file name %q (restored as %q) is not a plain relative path", f.Name, f.Restore)
		}
		if seen[f.Name] || f.Name == ManifestName {
			return nil, fmt.Errorf("manifest: file %q listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Size < 0 || len(f.SHA256) != 64 {
			return nil, fmt.Errorf("manifest: file %q has no valid size and SHA-256", f.Name)
		}
	}
	return &m, nil
}

// safeName reports whether name is a clean relative slash path that stays
// inside its directory.
func safeName(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && !strings.Contains(name, "\\") &&
		path.Clean(name) == name && name != "." && !strings.HasPrefix(name, "../") && name != ".."
}

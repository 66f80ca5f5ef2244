package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// vaultKeyWhat names the vault's master key in a manifest.
const vaultKeyWhat = "vault master key"

// Options say what Create backs up and where.
type Options struct {
	Config config.Config
	// Out is the backup: a directory, or a file ending in .tar. It must
	// not exist.
	Out string
	// LogKeyOut and VaultKeyOut, if set, are new files that get the log's
	// signing key and the vault's master key. Keep them apart from Out.
	LogKeyOut, VaultKeyOut string
	// VaultKey is the vault's master key when it comes from the
	// environment (AITRAIL_VAULT_KEY) rather than a file; "" otherwise.
	VaultKey string
	Version  string    // aitrail's version, for the manifest
	Now      time.Time // the backup's time (default now)
}

// Create makes a backup of the data directory of o.Config while serve may
// be running: the anchor files are copied first, then the databases are
// snapshotted, so every anchored checkpoint in the backup is one the
// database snapshot holds. The snapshot is verified before the backup is
// put in place (renamed from a temporary name); a backup that does not
// verify is not made.
func Create(ctx context.Context, o Options) (*Manifest, error) {
	c := o.Config
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if exists(o.Out) {
		return nil, fmt.Errorf("%s already exists: a backup never overwrites anything", o.Out)
	}
	for _, p := range []string{o.LogKeyOut, o.VaultKeyOut} {
		if p != "" && exists(p) {
			return nil, fmt.Errorf("%s already exists: a backup never overwrites anything", p)
		}
	}
	if !exists(c.CommitmentKeyPath()) {
		return nil, fmt.Errorf("no audit log in %s (no commitment.key)", c.Data)
	}
	asTar := strings.HasSuffix(o.Out, ".tar")
	parent := filepath.Dir(o.Out)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(o.Out)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("make the backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m := &Manifest{Format: Format, Created: o.Now.UTC().Format(time.RFC3339Nano), Version: o.Version, Node: c.Node,
		Database: "sqlite", DatabaseIncluded: true}
	if c.Database != "sqlite" {
		m.Database, m.DatabaseIncluded = "postgres", false
	}
	add := func(name, what, restore, src string) error {
		dst := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if src != "" {
			if err := copyFile(src, dst); err != nil {
				return fmt.Errorf("back up %s: %w", what, err)
			}
		}
		m.Files = append(m.Files, File{Name: name, What: what, Restore: restore})
		return nil
	}
	// Secrets that the data needs, and the verifier keys.
	if err := add("commitment.key", "commitment key (body commitments)", "commitment.key", c.CommitmentKeyPath()); err != nil {
		return nil, err
	}
	if exists(c.PIIKeyPath()) {
		if err := add("pii.key", "PII index key", "pii.key", c.PIIKeyPath()); err != nil {
			return nil, err
		}
	}
	vkeys, err := VerifierKeys(c)
	if err != nil {
		return nil, err
	}
	for _, k := range vkeys {
		name := filepath.Base(k.Path)
		if err := add(name, "verifier key of log "+k.LogID, name, k.Path); err != nil {
			return nil, err
		}
	}
	// The anchors, before the databases: whatever they hold, the snapshot
	// holds too.
	anchored := map[string][][]byte{}
	for i, f := range c.AnchorFiles() {
		if !exists(f) {
			continue
		}
		name, restore := fmt.Sprintf("anchors/%d-%s", i+1, filepath.Base(f)), ""
		if inDir(f, c.Data) {
			restore = filepath.Base(f)
		}
		if err := add(name, "anchor file "+f, restore, f); err != nil {
			return nil, err
		}
		if err := readAnchors(ctx, filepath.Join(tmp, filepath.FromSlash(name)), anchored); err != nil {
			return nil, err
		}
	}
	var st store.Store
	closeSnapshot := func() error { return nil }
	if c.Database == "sqlite" {
		dbCopy := filepath.Join(tmp, "audit.db")
		if err := sqlite.Snapshot(ctx, c.DBPath(), dbCopy); err != nil {
			return nil, fmt.Errorf("snapshot the audit database: %w", err)
		}
		if exists(c.VaultPath()) {
			if err := sqlite.Snapshot(ctx, c.VaultPath(), filepath.Join(tmp, "vault.db")); err != nil {
				return nil, fmt.Errorf("snapshot the raw vault: %w", err)
			}
			add("vault.db", "raw vault (encrypted bodies; its master key is kept apart)", "vault.db", "")
		}
		add("audit.db", "audit database (SQLite)", "audit.db", "")
		s, err := sqlite.Open(ctx, dbCopy)
		if err != nil {
			return nil, fmt.Errorf("open the snapshot: %w", err)
		}
		var once sync.Once
		closeSnapshot = func() (err error) { once.Do(func() { err = s.Close() }); return err }
		defer closeSnapshot()
		st = s
	} else {
		s, err := postgres.Open(ctx, c.Database)
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL audit database: %w", err)
		}
		defer s.Close()
		st = s
	}
	if err := describeLogs(ctx, st, m); err != nil {
		return nil, err
	}
	if m.DatabaseIncluded {
		committer, err := readCommitter(filepath.Join(tmp, "commitment.key"))
		if err != nil {
			return nil, err
		}
		_, bad, err := verifyLogs(ctx, st, committer, verifierList(vkeys), anchored)
		if err != nil {
			return nil, fmt.Errorf("verify the snapshot: %w", err)
		}
		if len(bad) > 0 {
			return nil, fmt.Errorf("the snapshot of the audit log does not verify, so no backup was made:\n  %s", strings.Join(bad, "\n  "))
		}
		if err := closeSnapshot(); err != nil {
			return nil, fmt.Errorf("close the snapshot: %w", err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			os.Remove(filepath.Join(tmp, "audit.db"+suffix))
		}
	}
	m.LogID = LogID(c.Node, currentKey(vkeys))
	// The keys kept apart.
	apart := func(what, from, out, content string) error {
		a := Apart{What: what, From: from, Output: out}
		if out != "" {
			var err error
			if content != "" {
				err = writeNew(out, []byte(content))
			} else {
				err = copyFile(from, out)
			}
			if err != nil {
				return fmt.Errorf("write the %s to %s: %w", what, out, err)
			}
		}
		m.Apart = append(m.Apart, a)
		return nil
	}
	if exists(c.SigningKeyPath()) {
		if err := apart("log signing key", c.SigningKeyPath(), o.LogKeyOut, ""); err != nil {
			return nil, err
		}
	} else if o.LogKeyOut != "" {
		return nil, fmt.Errorf("no log signing key in %s to write to %s", c.Data, o.LogKeyOut)
	}
	switch {
	case o.VaultKey != "":
		if err := apart(vaultKeyWhat, "AITRAIL_VAULT_KEY", o.VaultKeyOut, o.VaultKey+"\n"); err != nil {
			return nil, err
		}
	case exists(c.VaultKeyPath()):
		if err := apart(vaultKeyWhat, c.VaultKeyPath(), o.VaultKeyOut, ""); err != nil {
			return nil, err
		}
	case o.VaultKeyOut != "":
		return nil, fmt.Errorf("no vault master key at %s to write to %s", c.VaultKeyPath(), o.VaultKeyOut)
	}
	for i := range m.Files {
		f := &m.Files[i]
		if f.Size, f.SHA256, err = hashFile(filepath.Join(tmp, filepath.FromSlash(f.Name))); err != nil {
			return nil, err
		}
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := writeNew(filepath.Join(tmp, ManifestName), append(b, '\n')); err != nil {
		return nil, err
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	if asTar {
		if err := writeTar(tmp, m, o.Out); err != nil {
			return nil, err
		}
		return m, nil
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		return nil, fmt.Errorf("put the backup in place: %w", err)
	}
	done = true
	return m, syncDir(parent)
}

// describeLogs fills the manifest's logs: head and last checkpoint.
func describeLogs(ctx context.Context, st interface {
	Logs(ctx context.Context) ([]string, error)
	Head(ctx context.Context, logID string) (store.Head, error)
	Checkpoints(ctx context.Context, logID string, from int64) ([]store.Checkpoint, error)
}, m *Manifest) error {
	logs, err := st.Logs(ctx)
	if err != nil {
		return err
	}
	slices.Sort(logs)
	for _, id := range logs {
		h, err := st.Head(ctx, id)
		if err != nil {
			return err
		}
		ls := LogState{Log: id, Size: h.Seq + 1}
		if h.Seq >= 0 {
			ls.Head = hex.EncodeToString(h.EntryHash[:])
		}
		cps, err := st.Checkpoints(ctx, id, 0)
		if err != nil {
			return err
		}
		if len(cps) > 0 {
			last := cps[len(cps)-1]
			ls.CheckpointSize, ls.Checkpoint = last.Size, string(last.Note)
		}
		m.Logs = append(m.Logs, ls)
	}
	return nil
}

// readAnchors adds the checkpoints of the anchor file path to by.
func readAnchors(ctx context.Context, path string, by map[string][][]byte) error {
	f := anchor.NewFile(path)
	logs, err := f.Logs(ctx)
	if err != nil {
		return fmt.Errorf("anchor file %s: %w", path, err)
	}
	for _, id := range logs {
		notes, err := f.Checkpoints(ctx, id)
		if err != nil {
			return fmt.Errorf("anchor file %s: %w", path, err)
		}
		by[id] = append(by[id], notes...)
	}
	return nil
}

// writeNew writes a new file (mode 0600), synced.
func writeNew(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readCommitter reads a commitment key file.
func readCommitter(path string) (*record.Committer, error) {
	key, err := readHexKey(path)
	if err != nil {
		return nil, err
	}
	return record.NewCommitter(key)
}

// readHexKey reads a 32-byte key kept hex-encoded in a file.
func readHexKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s is malformed: want 32 hex-encoded bytes", path)
	}
	return key, nil
}

// A VerifierKey is a log's verifier key as kept in the data directory.
type VerifierKey struct {
	LogID   string
	Key     string
	Path    string
	Current bool // log.pub, the key of the log this node writes
}

// VerifierKeys returns the verifier keys in the data directory: log.pub,
// and log-LOG.pub for each log this node wrote before a restore.
func VerifierKeys(c config.Config) ([]VerifierKey, error) {
	var out []VerifierKey
	paths, _ := filepath.Glob(filepath.Join(c.Data, "log-*.pub"))
	slices.Sort(paths)
	if exists(c.VerifierKeyPath()) {
		paths = append([]string{c.VerifierKeyPath()}, paths...)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read the verifier key %s: %w", p, err)
		}
		k := strings.TrimSpace(string(b))
		if _, err := note.NewVerifier(k); err != nil {
			return nil, fmt.Errorf("verifier key %s: %w", p, err)
		}
		out = append(out, VerifierKey{LogID: LogID(c.Node, k), Key: k, Path: p, Current: p == c.VerifierKeyPath()})
	}
	return out, nil
}

func currentKey(ks []VerifierKey) string {
	for _, k := range ks {
		if k.Current {
			return k.Key
		}
	}
	return ""
}

func verifierList(ks []VerifierKey) note.Verifiers {
	var vs []note.Verifier
	for _, k := range ks {
		if v, err := note.NewVerifier(k.Key); err == nil {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return note.VerifierList(vs...)
}

// LogID returns the id of the log whose verifier key is vkey, on the node
// node: a key named aitrail/NODE.rK/... is the key of the log NODE.rK,
// which continues NODE after a restore; any other key is NODE's.
func LogID(node, vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	parts := strings.Split(name, "/")
	if len(parts) == 3 && parts[0] == "aitrail" {
		if rest, ok := strings.CutPrefix(parts[1], node+".r"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return parts[1]
		}
	}
	return node
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// inDir reports whether the file path is directly in the directory dir.
func inDir(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	return err1 == nil && err2 == nil && filepath.Dir(p) == d
}

package backup

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/aitrail/aitrail/internal/anchor"
	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// RestoreOptions say what Restore restores, and where.
type RestoreOptions struct {
	// From is the backup: a directory, or a .tar file, as Create made it.
	From string
	// Config is the configuration the restored gateway will run with; its
	// data directory must be empty or absent.
	Config config.Config
	// LogKey is the file with the log's signing key (backup
	// --log-key-out); VaultKey that with the vault's master key (backup
	// --vault-key-out), needed when the backup holds a raw vault and the
	// key is neither configured outside the data directory nor in the
	// environment (VaultKeyInEnv).
	LogKey, VaultKey string
	VaultKeyInEnv    bool
}

// A RestoreResult says what Restore put in place.
type RestoreResult struct {
	Manifest *Manifest
	Reports  map[string]*ledger.Report // the restored logs, verified
	// Gap is set when the anchors outside the data directory hold later
	// checkpoints of the node's log than the backup: serve will continue
	// in a new log that records it.
	Gap *ledger.Gap
	// Notes are things the operator must know (keys left where they are).
	Notes []string
}

// maxBackupBytes bounds what is unpacked from a backup archive.
const maxBackupBytes = 1 << 42

// Restore checks the backup o.From and puts it in o.Config's data
// directory. Everything is checked before anything is in place: the
// manifest, every file it lists (present, of its size and SHA-256), the
// signing key (it must be the one of the log's verifier key), and the
// audit database, which must verify completely (chain, bodies, tree,
// checkpoints, the backup's anchor copies) and end at the heads the
// manifest states. The files are assembled in a temporary directory beside
// the target and renamed into place in one step. Anchor files outside the
// data directory are never written: they hold what happened after the
// backup.
func Restore(ctx context.Context, o RestoreOptions) (*RestoreResult, error) {
	c := o.Config
	if entries, err := os.ReadDir(c.Data); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("the data directory %s is not empty: restore only into an empty or new directory", c.Data)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(c.Data))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, err
	}
	src := o.From
	if fi, err := os.Stat(o.From); err != nil {
		return nil, fmt.Errorf("backup %s: %w", o.From, err)
	} else if !fi.IsDir() {
		unpacked, err := os.MkdirTemp(parent, ".aitrail-backup-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(unpacked)
		f, err := os.Open(o.From)
		if err != nil {
			return nil, err
		}
		err = extractTar(f, unpacked, maxBackupBytes)
		f.Close()
		if err != nil {
			return nil, err
		}
		src = unpacked
	}
	b, err := os.ReadFile(filepath.Join(src, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("the backup has no readable %s: %w", ManifestName, err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, err
	}
	if m.Database == "sqlite" && c.Database != "sqlite" || m.Database == "postgres" && c.Database == "sqlite" {
		return nil, fmt.Errorf("the backup is of a %s gateway, but the configuration uses %s", m.Database, c.Redacted().Database)
	}
	for _, f := range m.Files {
		size, sum, err := hashFile(filepath.Join(src, filepath.FromSlash(f.Name)))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the backup is missing %s (%s), which its manifest lists: refusing an incomplete backup", f.Name, f.What)
		}
		if err != nil {
			return nil, err
		}
		if size != f.Size || sum != f.SHA256 {
			return nil, fmt.Errorf("%s (%s) in the backup does not match its manifest (size %d, SHA-256 %s; the manifest says %d, %s): damaged or altered", f.Name, f.What, size, sum, f.Size, f.SHA256)
		}
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(c.Data)+".restore-")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	res := &RestoreResult{Manifest: m}
	anchored := map[string][][]byte{}
	hasVault := false
	for _, f := range m.Files {
		from := filepath.Join(src, filepath.FromSlash(f.Name))
		if strings.HasPrefix(f.Name, "anchors/") {
			if err := readAnchors(ctx, from, anchored); err != nil {
				return nil, err
			}
		}
		hasVault = hasVault || f.Restore == "vault.db"
		if f.Restore == "" {
			continue
		}
		if err := copyFile(from, filepath.Join(tmp, filepath.FromSlash(f.Restore))); err != nil {
			return nil, fmt.Errorf("restore %s: %w", f.Name, err)
		}
	}
	tc := c
	tc.Data = tmp
	vkeys, err := VerifierKeys(tc)
	if err != nil {
		return nil, err
	}
	if cur := currentKey(vkeys); cur != "" {
		if o.LogKey == "" {
			return nil, errors.New("the log's signing key is not in the backup (it is kept apart): give it with --log-key FILE, the file 'aitrail backup --log-key-out' wrote")
		}
		if err := checkSigningKey(o.LogKey, cur); err != nil {
			return nil, err
		}
		if err := copyFile(o.LogKey, filepath.Join(tmp, "log.key")); err != nil {
			return nil, err
		}
	}
	for _, a := range m.Apart {
		hasVault = hasVault || a.What == vaultKeyWhat
	}
	if hasVault {
		inData := inDir(c.VaultKeyPath(), c.Data)
		switch {
		case o.VaultKey != "" && inData:
			if _, err := readHexKey(o.VaultKey); err != nil {
				return nil, fmt.Errorf("vault key: %w", err)
			}
			if err := copyFile(o.VaultKey, filepath.Join(tmp, filepath.Base(c.VaultKeyPath()))); err != nil {
				return nil, err
			}
		case o.VaultKey != "":
			res.Notes = append(res.Notes, fmt.Sprintf("the vault master key is configured at %s (vault.key_file): --vault-key was not copied; put the key there", c.VaultKeyPath()))
		case o.VaultKeyInEnv:
		case inData:
			return nil, errors.New("the backup's raw vault has a master key that is kept apart: give it with --vault-key FILE (the file 'aitrail backup --vault-key-out' wrote), or set AITRAIL_VAULT_KEY")
		case !exists(c.VaultKeyPath()):
			res.Notes = append(res.Notes, fmt.Sprintf("put the vault master key at %s (vault.key_file) before serve starts", c.VaultKeyPath()))
		}
	}
	if m.DatabaseIncluded {
		if err := checkDatabase(ctx, tc, c.Data, m, vkeys, anchored, res); err != nil {
			return nil, err
		}
	} else {
		res.Notes = append(res.Notes, "the backup holds no database (PostgreSQL): restore it with pg_restore or point-in-time recovery, then run 'aitrail verify'")
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, c.Data); err != nil {
		if rerr := os.Remove(c.Data); rerr != nil {
			return nil, fmt.Errorf("put the restored data directory in place: %w", err)
		}
		if err := os.Rename(tmp, c.Data); err != nil {
			return nil, fmt.Errorf("put the restored data directory in place: %w", err)
		}
	}
	done = true
	return res, syncDir(parent)
}

// checkDatabase verifies the restored SQLite database in tc.Data against
// the manifest, and finds whether the anchors outside the data directory
// are ahead of it.
func checkDatabase(ctx context.Context, tc config.Config, target string, m *Manifest, vkeys []VerifierKey, anchored map[string][][]byte, res *RestoreResult) error {
	committer, err := readCommitter(tc.CommitmentKeyPath())
	if err != nil {
		return fmt.Errorf("the backup's commitment key: %w", err)
	}
	st, err := sqlite.Open(ctx, tc.DBPath())
	if err != nil {
		return fmt.Errorf("open the backup's database: %w", err)
	}
	defer func() {
		st.Close()
		for _, suffix := range []string{"-wal", "-shm"} {
			os.Remove(tc.DBPath() + suffix)
		}
	}()
	verifiers := verifierList(vkeys)
	reps, bad, err := verifyLogs(ctx, st, committer, verifiers, anchored)
	if err != nil {
		return err
	}
	for _, l := range m.Logs {
		rep := reps[l.Log]
		switch {
		case rep == nil && l.Size > 0:
			bad = append(bad, fmt.Sprintf("log %s: the manifest lists it with %d records, the database has none", l.Log, l.Size))
		case rep != nil && rep.Pruned+rep.Records != l.Size:
			bad = append(bad, fmt.Sprintf("log %s: the manifest says %d records, the database holds %d", l.Log, l.Size, rep.Pruned+rep.Records))
		case rep != nil && l.Size > 0 && hex.EncodeToString(rep.Head[:]) != l.Head:
			bad = append(bad, fmt.Sprintf("log %s: the manifest's head %s is not the database's %x", l.Log, l.Head, rep.Head))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the backup's audit database does not verify, so nothing was restored:\n  %s", strings.Join(bad, "\n  "))
	}
	res.Reports = reps
	// Anchors that outlived the backup (outside the data directory).
	logID := LogID(tc.Node, currentKey(vkeys))
	var notes [][]byte
	for _, f := range tc.AnchorFiles() {
		if inDir(f, target) {
			continue
		}
		ns, _ := anchor.NewFile(f).Checkpoints(ctx, logID)
		notes = append(notes, ns...)
	}
	if verifiers != nil && len(notes) > 0 {
		gap, err := ledger.FindGap(ctx, st, logID, verifiers, notes)
		if err != nil {
			return fmt.Errorf("the anchors outside the data directory contradict the backup: %w", err)
		}
		res.Gap = gap
	}
	return nil
}

// checkSigningKey checks that the signing key in path is the one of the
// verifier key vkey.
func checkSigningKey(path, vkey string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the log signing key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("log signing key %s: %w", path, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		return fmt.Errorf("the signing key in %s is of %q, not of the backup's log %q: give the key backed up with this data", path, s.Name(), v.Name())
	}
	return nil
}

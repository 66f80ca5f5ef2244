package backup

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// writeTar writes the backup directory dir (manifest and the files m
// lists) as the tar file out, through a temporary file renamed into place,
// and removes dir.
func writeTar(dir string, m *Manifest, out string) error {
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(f)
	names := []string{ManifestName}
	for _, file := range m.Files {
		names = append(names, file.Name)
	}
	for _, name := range names {
		if err := addTar(tw, filepath.Join(dir, filepath.FromSlash(name)), name); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", out, err)
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	os.RemoveAll(dir)
	return syncDir(filepath.Dir(out))
}

func addTar(tw *tar.Writer, path, name string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: fi.Size(), Mode: 0o600, ModTime: fi.ModTime().UTC().Truncate(time.Second), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, in)
	return err
}

// maxTarFiles bounds the entries read from a backup archive.
const maxTarFiles = 10000

// extractTar unpacks the tar stream r into the empty directory dir:
// regular files with plain relative names only (no links, no absolute or
// parent paths, each name once), at most limit bytes in all.
func extractTar(r io.Reader, dir string, limit int64) error {
	tr := tar.NewReader(r)
	seen := map[string]bool{}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the backup archive: %w", err)
		}
		if n >= maxTarFiles {
			return errors.New("the backup archive has too many entries")
		}
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		if hdr.Typeflag != tar.TypeReg || !safeName(hdr.Name) || seen[hdr.Name] {
			return fmt.Errorf("the backup archive holds %q, which is not a plain file of a backup", hdr.Name)
		}
		seen[hdr.Name] = true
		if hdr.Size < 0 || hdr.Size > limit {
			return fmt.Errorf("the backup archive's %s is larger than the space allowed", hdr.Name)
		}
		limit -= hdr.Size
		dst := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, io.LimitReader(tr, hdr.Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
	}
}

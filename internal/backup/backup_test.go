package backup

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogID(t *testing.T) {
	for _, tc := range []struct{ node, vkey, want string }{
		{"main", "aitrail/main/0123456789ab+1234abcd+AQID", "main"},
		{"main", "aitrail/main.r1/0123456789ab+1234abcd+AQID", "main.r1"},
		{"main", "aitrail/main.r12/0123456789ab+1234abcd+AQID", "main.r12"},
		{"main", "aitrail/main.r/0123456789ab+1234abcd+AQID", "main"},
		{"main", "aitrail/main.rx/0123456789ab+1234abcd+AQID", "main"},
		{"main", "aitrail/other.r1/0123456789ab+1234abcd+AQID", "main"},
		{"main", "other/main.r1/0123456789ab+1234abcd+AQID", "main"},
		{"main", "", "main"},
	} {
		if got := LogID(tc.node, tc.vkey); got != tc.want {
			t.Errorf("LogID(%q, %q) = %q, want %q", tc.node, tc.vkey, got, tc.want)
		}
	}
}

const validManifest = `{"format":"aitrail-backup/1","created":"2026-12-08T01:00:00Z","aitrail_version":"dev","node":"main",
"log_id":"main","database":"sqlite","database_included":true,
"logs":[{"log":"main","size":9,"head":"00","checkpoint_size":9,"checkpoint":""}],
"files":[{"name":"audit.db","what":"audit database","size":1,"sha256":"` + "0000000000000000000000000000000000000000000000000000000000000000" + `","restore":"audit.db"}],
"kept_apart":[{"what":"log signing key","from":"d/log.key","output":""}]}`

func TestParseManifest(t *testing.T) {
	if _, err := ParseManifest([]byte(validManifest)); err != nil {
		t.Fatalf("ParseManifest(valid) = %v", err)
	}
	for name, edit := range map[string][2]string{
		"format":        {`"aitrail-backup/1"`, `"aitrail-backup/2"`},
		"unknown field": {`"node":"main"`, `"node":"main","extra":1`},
		"parent path":   {`"name":"audit.db"`, `"name":"../audit.db"`},
		"absolute":      {`"restore":"audit.db"`, `"restore":"/etc/passwd"`},
		"unclean":       {`"name":"audit.db"`, `"name":"a/./b"`},
		"no hash":       {`"sha256":"00000000`, `"sha256":"0000`},
		"manifest":      {`"name":"audit.db"`, `"name":"manifest.json"`},
	} {
		b := strings.Replace(validManifest, edit[0], edit[1], 1)
		if b == validManifest {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if _, err := ParseManifest([]byte(b)); err == nil {
			t.Errorf("ParseManifest with a bad %s succeeded", name)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte(`{"format":"aitrail-backup/1","files":[{"name":"a","size":0,"sha256":"` + strings.Repeat("a", 64) + `"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		for _, file := range m.Files {
			if !safeName(file.Name) || strings.HasPrefix(filepath.Clean(file.Name), "..") || filepath.IsAbs(file.Name) {
				t.Fatalf("ParseManifest accepted the file name %q", file.Name)
			}
		}
	})
}

func FuzzExtractTar(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Size: 2, Mode: 0o600})
	tw.Write([]byte("{}"))
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "anchors/1-anchor.jsonl", Size: 1, Mode: 0o600})
	tw.Write([]byte("x"))
	tw.Close()
	f.Add(buf.Bytes())
	buf.Reset()
	tw = tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "audit.db", Linkname: "/etc/passwd"})
	tw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		err := extractTar(bytes.NewReader(b), dir, 1<<16)
		// Whatever happened, nothing is written outside dir, and only
		// regular files are written.
		filepath.Walk(dir, func(p string, fi os.FileInfo, werr error) error {
			if werr != nil {
				return werr
			}
			if !fi.IsDir() && !fi.Mode().IsRegular() {
				t.Fatalf("extractTar wrote %s, not a regular file (err %v)", p, err)
			}
			if !fi.IsDir() && fi.Mode().Perm() != 0o600 {
				t.Fatalf("extractTar wrote %s with mode %v", p, fi.Mode().Perm())
			}
			return nil
		})
	})
}

func TestExtractTarRefuses(t *testing.T) {
	for name, hdr := range map[string]*tar.Header{
		"parent":  {Typeflag: tar.TypeReg, Name: "../x", Size: 1},
		"abs":     {Typeflag: tar.TypeReg, Name: "/tmp/x", Size: 1},
		"symlink": {Typeflag: tar.TypeSymlink, Name: "x", Linkname: "/etc/passwd"},
		"large":   {Typeflag: tar.TypeReg, Name: "x", Size: 1 << 20},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(hdr)
		if hdr.Size > 0 {
			tw.Write(bytes.Repeat([]byte{1}, int(hdr.Size)))
		}
		tw.Close()
		if err := extractTar(&buf, t.TempDir(), 1<<10); err == nil {
			t.Errorf("extractTar of a %s entry succeeded", name)
		}
	}
}

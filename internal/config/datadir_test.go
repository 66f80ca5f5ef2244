package config

import (
	"os"
	"strings"
	"testing"
)

func TestWithoutPassword(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sqlite", "sqlite"},
		{"postgres://aitrail:s3cret@db:5432/aitrail?sslmode=require", "postgres://aitrail@db:5432/aitrail?sslmode=require"},
		{"postgres://aitrail@db/aitrail?password=s3cret&sslmode=require", "postgres://aitrail@db/aitrail?sslmode=require"},
		{"postgresql://db/aitrail", "postgresql://db/aitrail"},
		{"host=db user=aitrail password=s3cret dbname=aitrail", "host=db user=aitrail dbname=aitrail"},
	} {
		if got := WithoutPassword(tc.in); got != tc.want {
			t.Errorf("WithoutPassword(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !SameDatabase("postgres://a:x@db/d", "postgres://a@db/d") || SameDatabase("postgres://a@db/d", "postgres://a@db/e") {
		t.Error("SameDatabase does not compare databases passwords aside")
	}
}

func TestServeRecord(t *testing.T) {
	c := Default()
	c.Data = t.TempDir()
	if r, err := ReadServeRecord(c.Data); r != nil || err != nil {
		t.Fatalf("ReadServeRecord of a new directory = %v, %v; want none", r, err)
	}
	c.Database, c.Node, c.File = "postgres://aitrail:s3cret@db/aitrail", "gw2", "/etc/aitrail.yaml"
	if err := WriteServeRecord(c); err != nil {
		t.Fatal(err)
	}
	r, err := ReadServeRecord(c.Data)
	want := ServeRecord{ConfigFile: "/etc/aitrail.yaml", Database: "postgres://aitrail@db/aitrail", Node: "gw2"}
	if err != nil || r == nil || *r != want {
		t.Fatalf("ReadServeRecord = %+v, %v; want %+v", r, err, want)
	}
	b, _ := os.ReadFile(c.ServeRecordPath())
	fi, _ := os.Stat(c.ServeRecordPath())
	if fi.Mode().Perm() != 0o600 || string(b) == "" || strings.Contains(string(b), "s3cret") {
		t.Errorf("serve.json: mode %v, content %q; want 0600 without the password", fi.Mode(), b)
	}
	if err := os.WriteFile(c.ServeRecordPath(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadServeRecord(c.Data); err == nil {
		t.Error("ReadServeRecord of a damaged file: no error")
	}
}

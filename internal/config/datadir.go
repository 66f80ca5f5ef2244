package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ServeRecordName is the file that 'aitrail serve' keeps in its data
// directory, so that every command pointed at the directory (--data DIR)
// finds the gateway's configuration as serve did: the configuration file
// it was started with, its database and its node. It is JSON, mode 0600:
//
//	{"config_file":"/etc/aitrail/aitrail.yaml","database":"postgres://aitrail@db/aitrail","node":"gw1"}
//
// The database URL is kept without its password: a command that needs one
// reads it as serve did (the configuration file, AITRAIL_DATABASE), or
// from PGPASSWORD or ~/.pgpass, which the PostgreSQL driver reads.
const ServeRecordName = "serve.json"

// A ServeRecord is what serve.json holds.
type ServeRecord struct {
	ConfigFile string `json:"config_file,omitempty"` // absolute path, "" if none
	Database   string `json:"database"`              // without password
	Node       string `json:"node"`
}

// ServeRecordPath is where serve records its configuration.
func (c *Config) ServeRecordPath() string { return filepath.Join(c.Data, ServeRecordName) }

// ReadServeRecord reads the serve.json of the data directory dir; it
// returns nil and no error when there is none.
func ReadServeRecord(dir string) (*ServeRecord, error) {
	path := filepath.Join(dir, ServeRecordName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var r ServeRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Database == "" || r.Node == "" {
		return nil, fmt.Errorf("%s is damaged: want a JSON object with database and node", path)
	}
	return &r, nil
}

// WriteServeRecord records c's configuration file, database and node in
// its data directory, replacing the previous record atomically if it
// differs.
func WriteServeRecord(c Config) error {
	r := ServeRecord{Database: WithoutPassword(c.Database), Node: c.Node}
	if c.File != "" {
		abs, err := filepath.Abs(c.File)
		if err != nil {
			return fmt.Errorf("record the configuration: %w", err)
		}
		r.ConfigFile = abs
	}
	b, _ := json.Marshal(r)
	b = append(b, '\n')
	path := c.ServeRecordPath()
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		return nil
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("record the configuration: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record the configuration in %s: %w", path, err)
	}
	return nil
}

// WithoutPassword returns a database setting without the password it may
// hold, in URL (postgres://user:pw@host/db?password=pw) or keyword/value
// (host=db password=pw) form.
func WithoutPassword(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	var kept []string
	for _, f := range strings.Fields(dsn) {
		if !strings.HasPrefix(f, "password=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}

// SameDatabase reports whether two database settings name the same
// database, passwords aside.
func SameDatabase(a, b string) bool { return WithoutPassword(a) == WithoutPassword(b) }

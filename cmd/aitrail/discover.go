package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/aitrail/aitrail/internal/config"
)

// servedConfig reads the record 'aitrail serve' keeps in the data
// directory (given with --data, AITRAIL_DATA, or the default) and returns
// it with the configuration file to load: the one given (--config,
// AITRAIL_CONFIG), else the one serve was started with.
func servedConfig(e *env, dataFlag, path string) (*config.ServeRecord, string, error) {
	dir := dataFlag
	if dir == "" {
		if v, ok := e.lookupEnv("AITRAIL_DATA"); ok {
			dir = v
		} else {
			dir = config.Default().Data
		}
	}
	rec, err := config.ReadServeRecord(dir)
	if err != nil {
		return nil, "", withHint(err, "serve rewrites the file on its next start; or give --config FILE")
	}
	if path == "" && rec != nil && rec.ConfigFile != "" {
		path = rec.ConfigFile
	}
	return rec, path, nil
}

// followServe makes c use the database and node of the gateway whose data
// directory it names, as serve recorded them, unless they were given
// (--database, --node, AITRAIL_DATABASE, AITRAIL_NODE, a configuration
// file other than serve's, or a value other than the default in serve's):
// then they must be the same, so that no command ever opens or starts
// another log in a gateway's directory.
func followServe(e *env, fs *flag.FlagSet, c *config.Config, rec *config.ServeRecord, path string) error {
	if rec == nil {
		return nil
	}
	// rec was read from the data directory named before the configuration
	// file was loaded; a file that moves it elsewhere is the file's.
	if r, err := config.ReadServeRecord(c.Data); err != nil || r == nil || *r != *rec {
		if err != nil {
			return err
		}
		if rec = r; rec == nil {
			return nil
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	explicitFile := path != "" && path != rec.ConfigFile
	_, envDB := e.lookupEnv("AITRAIL_DATABASE")
	_, envNode := e.lookupEnv("AITRAIL_NODE")
	refuse := func(what, got, want string) error {
		return withHint(fmt.Errorf("the data directory %s belongs to the gateway on %s %s, not %s", c.Data, what, want, got),
			"leave out --database and --node (the command then uses the gateway's), or give this log its own --data directory; "+
				"if the gateway's database or node was changed on purpose, remove "+c.ServeRecordPath()+" and start serve again")
	}
	def := config.Default()
	recorded := config.Source{Kind: "recorded by serve", Name: c.ServeRecordPath()}
	if !config.SameDatabase(c.Database, rec.Database) {
		if given["database"] || envDB || explicitFile || c.Database != def.Database {
			return refuse("database", config.WithoutPassword(c.Database), rec.Database)
		}
		if err := c.SetFrom("database", rec.Database, recorded); err != nil {
			return err
		}
	}
	if c.Node != rec.Node {
		if given["node"] || envNode || explicitFile || c.Node != def.Node {
			return refuse("node", c.Node, rec.Node)
		}
		if err := c.SetFrom("node", rec.Node, recorded); err != nil {
			return err
		}
	}
	return nil
}

// strayLog refuses to start a new SQLite log in a data directory that
// holds another log's keys but no SQLite database: the directory of a
// gateway on PostgreSQL, reached without its database.
func strayLog(c config.Config, create bool) error {
	if !create || c.Database != "sqlite" {
		return nil
	}
	if _, err := os.Stat(c.DBPath()); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(c.CommitmentKeyPath()); err != nil {
		return nil
	}
	return withHint(fmt.Errorf("%s holds the keys of a log but no SQLite database %s: that log's database was removed (or the directory belongs to a gateway on another database), and no new log is started in it", c.Data, c.DBPath()),
		"restore the log from a backup (aitrail restore BACKUP --data "+c.Data+"), or give the gateway's --config or --database URL, or choose another --data directory")
}

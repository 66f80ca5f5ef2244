package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/store/postgres"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/store/sqlstore"
)

// runMigrate shows the database's schema version and brings it to the
// newest this binary knows (every command that opens the log does so too;
// this one does it alone, and can say first what it would do).
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	load := configFlags(fs, e)
	dry := fs.Bool("dry-run", false, "show the current and target schema versions and the migrations to run, change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	st, where, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	status, err := st.SchemaStatus(ctx)
	if err != nil {
		return withHint(fmt.Errorf("%s: %w", where, err), schemaHint(err, "check the database and this user's rights"))
	}
	fmt.Fprintf(e.stdout, "database:        %s\nschema version:  %d\nthis aitrail's:  %d\n", where, status.Version, status.Target)
	if len(status.Pending) == 0 {
		fmt.Fprintln(e.stdout, "the schema is current: nothing to migrate")
		return nil
	}
	verb := "to run"
	if *dry {
		verb = "that would run (--dry-run: nothing changed)"
	}
	fmt.Fprintf(e.stdout, "migrations %s:\n", verb)
	for i, name := range status.Pending {
		fmt.Fprintf(e.stdout, "  %d  %s\n", status.Version+i+1, name)
	}
	if *dry {
		return nil
	}
	if err := st.Migrate(ctx); err != nil {
		return withHint(fmt.Errorf("migrate %s: %w", where, err), schemaHint(err,
			"nothing was changed (a migration runs in one transaction); check the database's disk and this user's rights"))
	}
	fmt.Fprintf(e.stdout, "migrated to schema version %d\n", status.Target)
	return nil
}

// schemaStore is what migrate needs of a store.
type schemaStore interface {
	SchemaStatus(ctx context.Context) (sqlstore.SchemaStatus, error)
	Migrate(ctx context.Context) error
	Close() error
}

// openSchema opens the log's database without migrating it, and names it
// for messages. An SQLite database that does not exist is an error: there
// is nothing to migrate.
func openSchema(ctx context.Context, c config.Config) (schemaStore, string, error) {
	if c.Database == "sqlite" {
		path := c.DBPath()
		if _, err := os.Stat(path); err != nil {
			return nil, path, withHint(fmt.Errorf("cannot open the audit database %s: %w", path, err),
				"point --data (or --config) at the directory 'aitrail serve' uses")
		}
		st, err := sqlite.OpenWith(ctx, path, sqlstore.Options{NoMigrate: true})
		if err != nil {
			return nil, path, withHint(fmt.Errorf("cannot open the audit database: %w", err),
				"check that the file is readable and writable by this user, and is an aitrail database")
		}
		return st, path, nil
	}
	st, err := postgres.OpenWith(ctx, c.Database, sqlstore.Options{NoMigrate: true})
	if err != nil {
		return nil, "", withHint(fmt.Errorf("cannot open the PostgreSQL audit database: %w", err),
			"check the database URL, that the server is reachable, and the user's rights")
	}
	return st, c.Redacted().Database, nil
}

// schemaHint is the hint for err: for a database newer than this binary,
// how to get out of it; otherwise hint.
func schemaHint(err error, hint string) string {
	if errors.Is(err, sqlstore.ErrSchemaTooNew) {
		return "a newer aitrail upgraded this database, and older ones cannot read it safely: run that aitrail (or a newer one); 'aitrail migrate --dry-run' shows the versions"
	}
	return hint
}

package e2e

import (
	"context"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The released schemas: each distinct schema of the log's database that was
// on main, by backend, with the commit that introduced it ("" where the
// backend's schema did not change). Their fixtures
// in testdata/migrations hold a populated database of that version, as SQL.
var releasedSchemas = []struct {
	version int
	sqlite  string // commit whose internal/store/sqlite schema it is
	pg      string // the same for internal/store/postgres
}{
	{1, "94d15a0", "3b89250"},
	{2, "1d633ac", "1d633ac"},
	{3, "144a1ec", "144a1ec"},
	{4, "41b1217", "41b1217"},
	{5, "e39f910", "e39f910"},
	{6, "", "42002c7"}, // the fleet's tables, in PostgreSQL only
}

// newestSchema is the schema version of this binary.
const newestSchema = 7

var updateMigrations = flag.Bool("update-migrations", false,
	"rebuild testdata/migrations: record a log with this binary and write it in every released schema (needs git)")

const fixtureDir = "../testdata/migrations"

// TestMigrateFromReleasedSchemas opens a log of every released schema
// version, on SQLite (and on PostgreSQL when AITRAIL_TEST_POSTGRES is
// set): 'aitrail migrate --dry-run' shows the version and changes nothing,
// verify migrates it and finds it intact, serve marks the call the old
// gateway left in flight as interrupted and serves a new one, and the log
// still verifies.
func TestMigrateFromReleasedSchemas(t *testing.T) {
	if *updateMigrations {
		writeMigrationFixtures(t)
	}
	pgDSN := os.Getenv("AITRAIL_TEST_POSTGRES")
	for _, rs := range releasedSchemas {
		for _, backend := range []string{"sqlite", "postgres"} {
			if backend == "sqlite" && rs.sqlite == "" {
				continue
			}
			t.Run(fmt.Sprintf("%s/v%d", backend, rs.version), func(t *testing.T) {
				if backend == "postgres" && pgDSN == "" {
					t.Skip("AITRAIL_TEST_POSTGRES is not set; start a server with: eval \"$(scripts/postgres.sh start)\"")
				}
				t.Parallel()
				fixture, err := os.ReadFile(filepath.Join(fixtureDir, backend, fmt.Sprintf("v%d.sql", rs.version)))
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				copyFixtureKeys(t, dir)
				g := &gateway{Dir: dir, log: &syncBuffer{}}
				if backend == "sqlite" {
					loadSQL(t, "sqlite", "file:"+filepath.Join(dir, "audit.db"), string(fixture))
				} else {
					g.Database = pgDatabase(t, pgDSN)
					loadSQL(t, "pgx", g.Database, string(fixture))
				}
				migrateAndServe(t, g, rs.version)
			})
		}
	}
}

func migrateAndServe(t *testing.T, g *gateway, from int) {
	for range 2 {
		r := g.run(t, "migrate", "--dry-run")
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("schema version:  %d\n", from)) ||
			!strings.Contains(r.stdout, fmt.Sprintf("this aitrail's:  %d\n", newestSchema)) || !strings.Contains(r.stdout, "nothing changed") {
			t.Fatalf("aitrail migrate --dry-run on version %d: exit %d, want 0 and both versions\n%s%s", from, r.code, r.stdout, r.stderr)
		}
	}
	r := g.run(t, "verify")
	if r.code != 0 {
		t.Fatalf("aitrail verify of a log of schema version %d: exit %d, want 0\n%s%s", from, r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "database schema migrated") {
		t.Errorf("aitrail verify on an old schema did not say it migrated it:\n%s", r.stderr)
	}
	if r := g.run(t, "migrate"); r.code != 0 || !strings.Contains(r.stdout, "nothing to migrate") {
		t.Errorf("aitrail migrate after the migration: exit %d, want 0 and nothing to do\n%s%s", r.code, r.stdout, r.stderr)
	}

	up := startUpstream(t)
	g.args = []string{"serve", "--data", g.Dir, "--listen", "127.0.0.1:0", "--upstream", up.URL}
	if g.Database != "" {
		g.args = append(g.args, "--database", g.Database)
	}
	t.Cleanup(func() {
		if err := g.close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.log)
		}
	})
	g.start(t, false)
	if it := g.interaction(t, "fixture-in-flight"); it.Status != "interrupted" {
		t.Errorf("the call in flight when the old gateway died: status %q, want interrupted", it.Status)
	}
	key := g.createKey(t, "after-migration", "user")
	id := newID("migrated-")
	if got := call(t, http.MethodPost, g.URL+"/api/chat", key, `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"after the migration"}]}`,
		"X-Request-Id", id); got.status != http.StatusOK {
		t.Fatalf("a call after the migration: status %d: %s", got.status, got.body)
	}
	if it := g.interaction(t, id); it.Status != "ok" {
		t.Errorf("the call after the migration: status %q, want ok", it.Status)
	}
	if code := g.stop(t); code != 0 {
		t.Errorf("aitrail serve exited %d, want 0", code)
	}
	if r := g.run(t, "verify"); r.code != 0 {
		t.Errorf("aitrail verify after serving on the migrated log: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// fixtureKeys are the key files of the fixtures' log (test keys, made for
// the fixtures and used nowhere else).
var fixtureKeys = []string{"commitment.key", "pii.key", "log.key", "log.pub"}

func copyFixtureKeys(t *testing.T, dir string) {
	t.Helper()
	for _, name := range fixtureKeys {
		b, err := os.ReadFile(filepath.Join(fixtureDir, "keys", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// loadSQL runs a fixture's statements in a new database.
func loadSQL(t *testing.T, driver, dsn, script string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), script); err != nil {
		t.Fatalf("load the fixture: %v", err)
	}
}

// pgDatabase creates a database for the test on the server of dsn, dropped
// at its end, and returns its URL.
func pgDatabase(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := newID("aitrail_e2e_")
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("AITRAIL_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// writeMigrationFixtures records a log with this binary the way a gateway
// of every release wrote one (bodies redacted, the only mode of the first
// releases; calls, keys, checkpoints, and a call in flight when the gateway
// is killed), then writes it, table by table and with the columns each
// had, in the schema of every released version, taken from git history.
func writeMigrationFixtures(t *testing.T) {
	up := startUpstream(t)
	dir := t.TempDir()
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Dir: dir, Config: "bodies: redacted\n"})
	key := g.createKey(t, "fixture-user", "user")
	for i, path := range []string{"/api/chat", "/v1/chat/completions"} {
		body := fmt.Sprintf(`{"model":"tiny","stream":false,"messages":[{"role":"user","content":"fixture call %d from ann@example.com"}]}`, i)
		if got := call(t, http.MethodPost, g.URL+path, key, body, "X-Request-Id", newID("fixture-")); got.status != http.StatusOK {
			t.Fatalf("fixture call: status %d: %s", got.status, got.body)
		}
	}
	g.createKey(t, "fixture-auditor", "auditor")
	held := make(chan error, 1)
	go func() {
		_, err := post(g.URL+"/api/chat", key, `{"model":"tiny-stall","stream":false,"messages":[{"role":"user","content":"in flight"}]}`, "fixture-in-flight")
		held <- err
	}()
	up.arrived(t, "fixture-in-flight")
	g.kill(t)
	<-held

	src, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "audit.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, rs := range releasedSchemas {
		for _, b := range []struct{ name, commit, file string }{
			{"sqlite", rs.sqlite, "internal/store/sqlite/sqlite.go"},
			{"postgres", rs.pg, "internal/store/postgres/postgres.go"},
		} {
			if b.commit == "" {
				continue
			}
			out, err := exec.Command("git", "show", b.commit+":"+b.file).Output()
			if err != nil {
				t.Fatalf("git show %s:%s: %v", b.commit, b.file, err)
			}
			ddl := schemaOf(t, string(out))
			var w strings.Builder
			fmt.Fprintf(&w, "-- An aitrail log in %s schema version %d, as of commit %s (%s).\n", b.name, rs.version, b.commit, b.file)
			fmt.Fprintf(&w, "-- Written by: go test ./e2e -run TestMigrateFromReleasedSchemas -update-migrations\n\n")
			for _, stmt := range ddl {
				fmt.Fprintf(&w, "%s;\n", stmt)
			}
			for _, stmt := range ddl {
				m := regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS (\w+) \(`).FindStringSubmatch(stmt)
				if m != nil {
					dumpTable(t, &w, src, m[1], columnsOf(stmt), b.name == "postgres")
				}
			}
			path := filepath.Join(fixtureDir, b.name, fmt.Sprintf("v%d.sql", rs.version))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(fixtureDir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range fixtureKeys {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fixtureDir, "keys", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// schemaOf returns the statements of `var schema = []string{...}` in a Go
// file of the store.
func schemaOf(t *testing.T, src string) []string {
	t.Helper()
	start := strings.Index(src, "var schema = []string{")
	if start < 0 {
		t.Fatal("no schema in the file")
	}
	end := strings.Index(src[start:], "\n}\n")
	var out []string
	for _, m := range regexp.MustCompile("(?s)`([^`]*)`").FindAllStringSubmatch(src[start:start+end], -1) {
		out = append(out, m[1])
	}
	return out
}

// columnsOf returns the column names of a CREATE TABLE statement.
func columnsOf(stmt string) []string {
	body := stmt[strings.Index(stmt, "(")+1:]
	var cols []string
	for _, part := range strings.Split(body, ",") {
		f := strings.Fields(part)
		if len(f) >= 2 && f[0] != "PRIMARY" && !strings.HasPrefix(f[0], "(") && !strings.HasSuffix(f[0], ")") {
			cols = append(cols, f[0])
		}
	}
	return cols
}

// dumpTable writes the rows of table in src as INSERT statements with the
// columns cols (those the table had in that version).
func dumpTable(t *testing.T, w *strings.Builder, src *sql.DB, table string, cols []string, pg bool) {
	t.Helper()
	var n int
	if err := src.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n == 0 {
		return // a table of PostgreSQL only (the fleet's): no rows
	}
	rows, err := src.Query(`SELECT ` + strings.Join(cols, ", ") + ` FROM ` + table)
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lits := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case int64:
				lits[i] = strconv.FormatInt(v, 10)
			case string:
				lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			case []byte:
				if pg {
					lits[i] = `'\x` + hex.EncodeToString(v) + `'`
				} else {
					lits[i] = "X'" + hex.EncodeToString(v) + "'"
				}
			default:
				t.Fatalf("dump %s: column %s holds a %T", table, cols[i], v)
			}
		}
		fmt.Fprintf(w, "INSERT INTO %s (%s) VALUES (%s);\n", table, strings.Join(cols, ", "), strings.Join(lits, ", "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

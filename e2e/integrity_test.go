package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store/sqlite"
	"github.com/aitrail/aitrail/internal/witness"
)

// The integrity tests (issue #4) produce a real log with the real binary,
// with checkpoints signed often and copied to the anchor file, then tamper
// with fresh copies of it in every way the issue lists and check that
// 'aitrail verify --json' exits 1 naming the record at fault and the cause;
// that records appended after the last checkpoint are reported as not yet
// covered, not as tampering; that a rollback and a fork are caught by the
// anchored checkpoints, and a fork by a witness, which refuses to cosign
// it; and that proof bundles check offline and fail when corrupted.

// Configurations of the gateways: checkpoints signed often (every second,
// and after every 3 new records), or never before the process is killed.
const (
	integConfig      = "checkpoint: {interval: 1s, records: 3}\nheartbeat: 0s\n"
	integQuietConfig = "checkpoint: {interval: 1h, records: 1000000}\nheartbeat: 0s\n"
)

// integFiles are the files of a data directory that make up a log.
var integFiles = []string{"audit.db", "commitment.key", "log.key", "log.pub", "anchor.jsonl"}

// integColumns are the columns of the table records, every one sealed
// (entry_hash is the seal itself).
var integColumns = []string{"log_id", "seq", "version", "time_ns", "kind", "actor", "role", "session", "reason",
	"client_ip", "correlation_id", "endpoint", "model", "model_digest", "params", "stream", "status",
	"upstream_status", "done_reason", "request_seq", "tokens_in", "tokens_out", "latency_us", "ttft_us",
	"nonce", "raw_hash", "raw_len", "body_hash", "clear_hash", "detail", "prev_hash", "entry_hash"}

var witnessServing = regexp.MustCompile(`msg="aitrail witness serving" listen=(http://\S+)`)

// integSource is a real log, built once and copied for every case.
type integSource struct {
	up     *upstream
	dir    string // the data directory after both runs of the gateway, which is stopped
	backup string // a copy of it taken between the runs
	key    string // the user key the calls were made with
	vkey   string // the log's verifier key, from 'aitrail keys log-key'
	origin string // its name: the origin of the log's checkpoints
	n      int64  // records in the log
	b      int64  // records in the backup
	target int64  // a streamed model.response in the middle of the log
	run2   int    // calls made in the second run
}

// TestIntegrity tampers with a real log, each case on a fresh copy.
func TestIntegrity(t *testing.T) {
	t.Parallel()
	src := buildIntegSource(t)

	t.Run("untouched", func(t *testing.T) {
		t.Parallel()
		dir := integCopy(t, src.dir)
		rep, r := integVerify(t, dir)
		if r.code != 0 || !rep.OK || len(rep.Logs) != 1 {
			t.Fatalf("aitrail verify --json on an untouched copy: exit %d, ok %v; want 0, true\n%s%s", r.code, rep.OK, r.stdout, r.stderr)
		}
		l := rep.Logs[0]
		if l.Records != src.n || l.Covered != src.n || l.Uncovered != 0 || l.Checkpoints < 4 || l.Anchored < 2 {
			t.Errorf("untouched log: records %d, covered %d, uncovered %d, checkpoints %d (%d anchored); want %d, %d, 0, several, several",
				l.Records, l.Covered, l.Uncovered, l.Checkpoints, l.Anchored, src.n, src.n)
		}
		r = runAitrail(t, "verify", "--data", dir)
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("all %d records covered by signed checkpoints", src.n)) {
			t.Errorf("aitrail verify: exit %d, %q; want 0 and every record covered\n%s", r.code, r.stdout, r.stderr)
		}
	})

	for _, group := range []struct {
		name string
		f    func(*testing.T, *integSource)
	}{
		{"column", testIntegColumns},
		{"body", testIntegBodies},
		{"records", testIntegRecords},
		{"uncovered", testIntegUncovered},
		{"forgery", testIntegForgery},
		{"rollback", testIntegRollback},
		{"erasure", testIntegErasure},
		{"checkpoint", testIntegCheckpointNotes},
		{"proof", testIntegProofs},
	} {
		t.Run(group.name, func(t *testing.T) {
			t.Parallel()
			group.f(t, src)
		})
	}
}

// buildIntegSource runs a gateway twice on one data directory, with calls
// by a user key, stopping it with SIGTERM each time, and keeps a copy of
// the directory between the runs.
func buildIntegSource(t *testing.T) *integSource {
	t.Helper()
	s := &integSource{up: startUpstream(t), dir: t.TempDir(), run2: 4}
	// The user key first, from the CLI, so that the CLI and the gateway
	// never sign a checkpoint at the same time.
	s.key = integCreateKey(t, s.dir, "integrity")
	g := integGateway(t, s.dir, s.up.URL, integConfig)
	integCalls(t, g, s.key, "run1", 5)
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	integNoWAL(t, s.dir)
	s.backup = integCopy(t, s.dir)
	g.restart(t)
	integCalls(t, g, s.key, "run2", s.run2)
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	integNoWAL(t, s.dir)

	s.vkey = integLogKey(t, s.dir)
	v, err := note.NewVerifier(s.vkey)
	if err != nil {
		t.Fatalf("aitrail keys log-key printed %q: %v", s.vkey, err)
	}
	s.origin = v.Name()
	s.n = integCount(t, s.dir)
	s.b = integCount(t, s.backup)
	if s.b < 10 || s.n < s.b+2*int64(s.run2)+2 {
		t.Fatalf("the log has %d records, its backup %d: too few", s.n, s.b)
	}
	// The target of most cases: a streamed response near the middle, which
	// has a body, a request before it and records after it.
	db := openDB(t, s.dir)
	if err := db.QueryRow(`SELECT seq FROM records WHERE kind = 'model.response' AND stream = 1 AND ttft_us > 0
ORDER BY abs(seq - ?), seq LIMIT 1`, s.n/2).Scan(&s.target); err != nil {
		t.Fatalf("find a streamed response: %v", err)
	}
	db.Close()

	// The premise: checkpoints were signed often, and the last one, signed
	// at shutdown, covers everything, in the database and in the anchor.
	// (That every stored checkpoint is anchored is TestIntegrityShutdown's.)
	stored := integStoredSizes(t, s.dir)
	anchored := integSizes(integReadAnchor(t, s.dir))
	if len(stored) < 4 || stored[len(stored)-1] != s.n {
		t.Fatalf("stored checkpoints of sizes %v; want several, the last of size %d", stored, s.n)
	}
	if len(anchored) < 4 || anchored[len(anchored)-1] != s.n {
		t.Fatalf("anchored checkpoints of sizes %v; want several, the last of size %d", anchored, s.n)
	}
	t.Logf("source log: %d records (backup %d), target %d, checkpoints at %v", s.n, s.b, s.target, stored)
	return s
}

// testIntegColumns flips a bit in each column of one record.
func testIntegColumns(t *testing.T, src *integSource) {
	db := openDB(t, integCopy(t, src.dir))
	var cols []string
	rows, err := db.Query(`SELECT name FROM pragma_table_info('records') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	db.Close()
	if !slices.Equal(cols, integColumns) {
		t.Fatalf("the table records has the columns %v; these tests know %v: add a case for each new column", cols, integColumns)
	}
	for _, col := range cols {
		t.Run(col, func(t *testing.T) {
			t.Parallel()
			dir := integCopy(t, src.dir)
			db := openDB(t, dir)
			seq := src.target
			var typ string
			var size int64
			if err := db.QueryRow(`SELECT typeof(`+col+`), length(`+col+`) FROM records WHERE seq = ?`, seq).Scan(&typ, &size); err != nil {
				t.Fatal(err)
			}
			if typ != "integer" && size == 0 {
				// Empty in the target: the nearest record where it is not.
				if err := db.QueryRow(`SELECT seq, typeof(`+col+`) FROM records WHERE length(`+col+`) > 0
ORDER BY abs(seq - ?), seq LIMIT 1`, seq).Scan(&seq, &typ); err != nil {
					t.Fatalf("no record with a non-empty %s: %v", col, err)
				}
			}
			cause := "sealed fields altered"
			switch typ {
			case "integer":
				var v int64
				if err := db.QueryRow(`SELECT `+col+` FROM records WHERE seq = ?`, seq).Scan(&v); err != nil {
					t.Fatal(err)
				}
				bit := int64(1)
				if col == "seq" {
					bit = 1 << 32 // the low bits would make it another record's number
				}
				integExec(t, db, `UPDATE records SET `+col+` = ? WHERE seq = ?`, v^bit, seq)
			case "text", "blob":
				var b []byte
				if err := db.QueryRow(`SELECT `+col+` FROM records WHERE seq = ?`, seq).Scan(&b); err != nil {
					t.Fatal(err)
				}
				b[0] ^= 1
				var v any = b
				if typ == "text" {
					v = string(b)
				}
				integExec(t, db, `UPDATE records SET `+col+` = ? WHERE seq = ?`, v, seq)
			default:
				t.Fatalf("column %s of record %d is of type %s", col, seq, typ)
			}
			switch col {
			case "seq", "log_id":
				// The record is no longer where it was in this log.
				cause = "missing"
			case "entry_hash":
				cause = "stored entry hash altered"
			}
			db.Close()
			rep := integWantTampered(t, dir, seq, cause)
			if col == "entry_hash" && len(rep.Logs) == 1 && len(rep.Logs[0].Problems) != 1 {
				t.Errorf("a stored entry hash altered: problems %v, want that one only", rep.Logs[0].Problems)
			}
		})
	}
}

// testIntegBodies alters, swaps and deletes retained bodies, and swaps the
// nonces that salt their commitments.
func testIntegBodies(t *testing.T, src *integSource) {
	req, resp := src.target-1, src.target // a request and its response, both with bodies
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB)
		seq    int64
		causes []string
		also   int64 // another record that must be named, or -1
	}{
		{"altered", func(t *testing.T, db *sql.DB) {
			var b []byte
			if err := db.QueryRow(`SELECT content FROM bodies WHERE seq = ?`, resp).Scan(&b); err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			integExec(t, db, `UPDATE bodies SET content = ? WHERE seq = ?`, b, resp)
		}, resp, []string{"body altered"}, -1},
		{"swapped", func(t *testing.T, db *sql.DB) {
			integSwap(t, db, "bodies", "content", req, resp)
		}, req, []string{"body altered"}, resp},
		{"nonces swapped", func(t *testing.T, db *sql.DB) {
			integSwap(t, db, "records", "nonce", req, resp)
		}, req, []string{"sealed fields altered"}, resp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := integTamper(t, src.dir, tc.tamper)
			rep := integWantTampered(t, dir, tc.seq, tc.causes...)
			if tc.also >= 0 && !rep.names(tc.also, tc.causes[0]) {
				t.Errorf("no problem names record %d as %q: %v", tc.also, tc.causes[0], rep.problems())
			}
		})
	}
}

// testIntegRecords deletes, truncates, inserts, reorders, duplicates and
// replays records.
func testIntegRecords(t *testing.T, src *integSource) {
	mid := src.target
	last := src.n - 1
	cut := src.n - 3 // below the last checkpoint, of size n
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB)
		seq    int64
		causes []string
	}{
		{"deleted", func(t *testing.T, db *sql.DB) {
			integExec(t, db, `DELETE FROM records WHERE seq = ?`, mid)
			integExec(t, db, `DELETE FROM bodies WHERE seq = ?`, mid)
		}, mid, []string{"missing: deleted"}},
		{"truncated", func(t *testing.T, db *sql.DB) {
			integExec(t, db, `DELETE FROM records WHERE seq >= ?`, cut)
			integExec(t, db, `DELETE FROM bodies WHERE seq >= ?`, cut)
		}, cut, []string{"truncated or rolled back"}},
		{"truncated with its checkpoints", func(t *testing.T, db *sql.DB) {
			// The stored checkpoints too: the anchored ones remain.
			integExec(t, db, `DELETE FROM records WHERE seq >= ?`, cut)
			integExec(t, db, `DELETE FROM bodies WHERE seq >= ?`, cut)
			integExec(t, db, `DELETE FROM checkpoints WHERE size > ?`, cut)
		}, cut, []string{"anchored checkpoint", "truncated or rolled back"}},
		{"inserted", func(t *testing.T, db *sql.DB) {
			// A copy of the record at mid by another actor, with a correct
			// entry hash, linked to the record before it.
			integShift(t, db, mid)
			integExec(t, db, `CREATE TEMP TABLE forged AS SELECT * FROM records WHERE seq = ?`, mid+1)
			integExec(t, db, `UPDATE forged SET seq = ?, actor = 'mallory'`, mid)
			integExec(t, db, `INSERT INTO records SELECT * FROM forged`)
			integExec(t, db, `INSERT INTO bodies SELECT log_id, ?, content FROM bodies WHERE seq = ?`, mid, mid+1)
			integRehashOne(t, db, mid)
		}, mid, []string{"inserted"}},
		{"reordered", func(t *testing.T, db *sql.DB) {
			for _, table := range []string{"records", "bodies"} {
				integExec(t, db, `UPDATE `+table+` SET seq = -1 WHERE seq = ?`, mid-1)
				integExec(t, db, `UPDATE `+table+` SET seq = ? WHERE seq = ?`, mid-1, mid)
				integExec(t, db, `UPDATE `+table+` SET seq = ? WHERE seq = -1`, mid)
			}
		}, mid - 1, []string{"reordered"}},
		{"duplicated", func(t *testing.T, db *sql.DB) {
			// A copy of the record at mid, as the next record of the log.
			integExec(t, db, `CREATE TEMP TABLE dup AS SELECT * FROM records WHERE seq = ?`, mid)
			integExec(t, db, `UPDATE dup SET seq = ?`, last+1)
			integExec(t, db, `INSERT INTO records SELECT * FROM dup`)
			integExec(t, db, `INSERT INTO bodies SELECT log_id, ?, content FROM bodies WHERE seq = ?`, last+1, mid)
		}, last + 1, []string{"duplicated"}},
		{"replayed", func(t *testing.T, db *sql.DB) {
			// An old record (the request of the target) replayed in place
			// of a later one, with its body and an entry hash recomputed
			// for its new place.
			victim := mid + 3
			var set []string
			for _, c := range integColumns {
				if c != "seq" && c != "log_id" {
					set = append(set, c+" = (SELECT "+c+" FROM records WHERE seq = ?)")
				}
			}
			args := slices.Repeat([]any{mid - 1}, len(set))
			integExec(t, db, `UPDATE records SET `+strings.Join(set, ", ")+` WHERE seq = ?`, append(args, victim)...)
			integExec(t, db, `DELETE FROM bodies WHERE seq = ?`, victim)
			integExec(t, db, `INSERT INTO bodies SELECT log_id, ?, content FROM bodies WHERE seq = ?`, victim, mid-1)
			integRehashOne(t, db, victim)
		}, mid + 3, []string{"replayed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			integWantTampered(t, integTamper(t, src.dir, tc.tamper), tc.seq, tc.causes...)
		})
	}
}

// testIntegUncovered appends records with no tampering, after the last
// checkpoint: the gateway runs again and is killed before it signs one.
func testIntegUncovered(t *testing.T, src *integSource) {
	dir := integCopy(t, src.dir)
	g := integGateway(t, dir, src.up.URL, integQuietConfig)
	integCalls(t, g, src.key, "uncovered", 3)
	g.kill(t)
	rep, r := integVerify(t, dir)
	if r.code != 0 || !rep.OK || len(rep.Logs) != 1 {
		t.Fatalf("aitrail verify --json: exit %d, ok %v; want 0, true\n%s%s", r.code, rep.OK, r.stdout, r.stderr)
	}
	l := rep.Logs[0]
	if l.Uncovered <= 0 || l.Covered != src.n || l.Records != src.n+l.Uncovered {
		t.Errorf("records %d, covered %d, uncovered %d; want %d covered and the records after uncovered", l.Records, l.Covered, l.Uncovered, src.n)
	}
	r = runAitrail(t, "verify", "--data", dir)
	want := fmt.Sprintf("the %d records after are not yet covered", l.Uncovered)
	if r.code != 0 || !strings.Contains(r.stdout, "intact") || !strings.Contains(r.stdout, want) {
		t.Errorf("aitrail verify: exit %d, %q; want 0, intact, and %q\n%s", r.code, r.stdout, want, r.stderr)
	}
}

// testIntegForgery rewrites one record and re-hashes everything after it
// consistently, as a forger with the database and the format (but not the
// log's signing key) would: the chain and the stored tree verify, and only
// the signed checkpoints and the anchors can tell.
func testIntegForgery(t *testing.T, src *integSource) {
	forged := src.target - 1
	cases := []struct {
		name string
		// then changes more after the forgery: the checkpoints, the anchor
		// file, the key files.
		then   func(t *testing.T, dir string, db *sql.DB, tree tlog.HashReader)
		key    string   // verify with --key
		causes []string // in every problem
		some   string   // in some problem
		noSeq  bool     // no checkpoint verifies: no record can be named
	}{
		{name: "rehashed", causes: []string{"rewritten or forked"}},
		{name: "rehashed, checkpoints deleted", then: func(t *testing.T, dir string, db *sql.DB, _ tlog.HashReader) {
			integExec(t, db, `DELETE FROM checkpoints`)
		}, causes: []string{"anchored checkpoint", "rewritten or forked"}},
		{name: "rehashed, checkpoints signed by another key", then: func(t *testing.T, dir string, db *sql.DB, tree tlog.HashReader) {
			signer, _ := integForger(t, src.origin)
			integResignStored(t, db, tree, signer)
		}, causes: []string{"checkpoint"}, some: "does not verify", noSeq: true},
		{name: "rehashed, checkpoints and anchors signed by another key", then: func(t *testing.T, dir string, db *sql.DB, tree tlog.HashReader) {
			signer, _ := integForger(t, src.origin)
			integResignStored(t, db, tree, signer)
			integResignAnchor(t, dir, tree, signer)
		}, causes: []string{"does not verify"}, noSeq: true},
		{name: "rehashed, checkpoints, anchors and key files replaced", then: func(t *testing.T, dir string, db *sql.DB, tree tlog.HashReader) {
			// With the key files replaced, only the key the auditor holds
			// (--key) can tell.
			skey, vkey, err := ledger.GenerateSigningKey(src.origin)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := note.NewSigner(skey)
			if err != nil {
				t.Fatal(err)
			}
			integResignStored(t, db, tree, signer)
			integResignAnchor(t, dir, tree, signer)
			for f, content := range map[string]string{"log.key": skey, "log.pub": vkey} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(content+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}, key: src.vkey, causes: []string{"does not verify"}, noSeq: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := integCopy(t, src.dir)
			db := openDB(t, dir)
			integExec(t, db, `UPDATE records SET actor = 'mallory' WHERE seq = ?`, forged)
			tree := integRehash(t, db, forged)
			if tc.then != nil {
				tc.then(t, dir, db, tree)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			var args []string
			if tc.key != "" {
				args = append(args, "--key", tc.key)
			}
			rep, r := integVerify(t, dir, args...)
			if r.code != 1 || rep.OK || rep.FirstBadSeq == nil || len(rep.Logs) != 1 || len(rep.Logs[0].Problems) == 0 {
				t.Fatalf("aitrail verify --json %s: exit %d, ok %v; want 1, false, with problems\n%s%s",
					strings.Join(args, " "), r.code, rep.OK, r.stdout, r.stderr)
			}
			// The chain was re-hashed consistently: only checkpoints tell.
			for _, p := range rep.Logs[0].Problems {
				for _, c := range tc.causes {
					if !strings.Contains(p.Cause, c) {
						t.Errorf("problem at record %d: %q; want every problem to mention %q", p.Seq, p.Cause, c)
					}
				}
			}
			if tc.some != "" && !rep.mentions(tc.some) {
				t.Errorf("no problem mentions %q: %v", tc.some, rep.problems())
			}
			integCheckRanges(t, rep)
			if tc.noSeq {
				return
			}
			// Records up to the last checkpoint before the forged one are
			// vouched for; the forgery is in the range after it.
			sizes := append(integStoredSizes(t, dir), integSizes(integReadAnchor(t, dir))...)
			slices.Sort(sizes)
			sizes = slices.Compact(sizes)
			var want int64
			for _, s := range sizes {
				if s <= forged {
					want = s
				}
			}
			if *rep.FirstBadSeq != want {
				t.Errorf("first_bad_seq %d; want %d, the size of the last checkpoint before the forged record %d (checkpoints at %v)\n%v",
					*rep.FirstBadSeq, want, forged, sizes, rep.problems())
			}
		})
	}
	// Without the forgery's re-hashing, the chain alone names the record.
	t.Run("not rehashed", func(t *testing.T) {
		t.Parallel()
		dir := integTamper(t, src.dir, func(t *testing.T, db *sql.DB) {
			integExec(t, db, `UPDATE records SET actor = 'mallory' WHERE seq = ?`, forged)
		})
		integWantTampered(t, dir, forged, "sealed fields altered")
	})
}

// testIntegRollback puts back an older database, keeping the newer anchor
// file, and forks the log from it.
func testIntegRollback(t *testing.T, src *integSource) {
	// The first checkpoint of the second run, which the fork must contradict.
	var first int64
	for _, s := range integSizes(integReadAnchor(t, src.dir)) {
		if s > src.b {
			first = s
			break
		}
	}
	rolledBack := func(t *testing.T) string {
		dir := integCopy(t, src.dir)
		integReplace(t, filepath.Join(src.backup, "audit.db"), filepath.Join(dir, "audit.db"))
		return dir
	}
	t.Run("backup restored", func(t *testing.T) {
		t.Parallel()
		integWantTampered(t, rolledBack(t), src.b, "truncated or rolled back")
	})
	t.Run("restored in place, continued by the gateway", func(t *testing.T) {
		// The newer anchor file is kept: the gateway finds its log behind
		// it, never signs over it, and continues in a new log that
		// records the gap (TestBackupRestore follows the whole procedure).
		t.Parallel()
		dir := rolledBack(t)
		g := integGateway(t, dir, src.up.URL, integConfig)
		integCalls(t, g, src.key, "fork", src.run2+2) // longer than the second run
		if code := g.stop(t); code != 0 {
			t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
		}
		for _, e := range integReadAnchor(t, dir) {
			if e.Log == "main" && e.Size > src.n {
				t.Errorf("the gateway anchored a checkpoint of the old log of size %d, beyond its %d records", e.Size, src.n)
			}
		}
		r := runAitrail(t, "verify", "--json", "--data", dir)
		var rep restoreReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("aitrail verify --json: %q: %v", r.stdout, err)
		}
		if r.code != 3 || !rep.OK || len(rep.Logs) != 2 || len(rep.Gaps) != 1 || rep.Gaps[0].MissingFrom != src.b || rep.Gaps[0].MissingTo != src.n-1 {
			t.Fatalf("aitrail verify --json on a log continued after a restore: exit %d, ok %v, gaps %+v; want 3, true, records %d..%d missing\n%s%s",
				r.code, rep.OK, rep.Gaps, src.b, src.n-1, r.stdout, r.stderr)
		}
	})
	t.Run("fork signed at the sizes of the other branch", func(t *testing.T) {
		// The CLI appends one record at every size from the backup's on.
		// It must refuse to sign any of them: the anchor holds larger
		// checkpoints of the other branch, and signing would fork the log.
		t.Parallel()
		dir := rolledBack(t)
		for i := src.b; i < first; i++ {
			r := runAitrail(t, "keys", "create", "--actor", fmt.Sprintf("fork%d", i), "--role", "user", "--data", dir)
			if r.code != 0 || !strings.Contains(r.stderr, "refusing to sign") {
				t.Fatalf("aitrail keys create on a rolled-back log: exit %d, stderr %q; want the key made and the checkpoint refused", r.code, r.stderr)
			}
		}
		rep, r := integVerify(t, dir)
		if r.code != 1 || rep.OK || rep.FirstBadSeq == nil {
			t.Fatalf("aitrail verify --json on a fork: exit %d, ok %v; want 1, false\n%s%s", r.code, rep.OK, r.stdout, r.stderr)
		}
		if !rep.mentions("rewritten or forked") {
			t.Errorf("no problem says the log was rewritten or forked: %v", rep.problems())
		}
		// The anchored checkpoint of size first contradicts records below
		// it: the record named must be one of those.
		if s := *rep.FirstBadSeq; s < src.b || s >= first {
			t.Errorf("first_bad_seq %d; want a record the contradicted checkpoint covers, from %d to %d\n%v", s, src.b, first-1, rep.problems())
		}
		integCheckRanges(t, rep)
	})
}

// testIntegErasure deletes bodies with and without erasure events.
func testIntegErasure(t *testing.T, src *integSource) {
	a, b := src.target-1, src.target // two records with bodies
	t.Run("body missing", func(t *testing.T) {
		t.Parallel()
		dir := integTamper(t, src.dir, func(t *testing.T, db *sql.DB) {
			integExec(t, db, `DELETE FROM bodies WHERE seq = ?`, b)
		})
		integWantTampered(t, dir, b, "body missing")
	})
	t.Run("erased per policy", func(t *testing.T) {
		t.Parallel()
		dir := integCopy(t, src.dir)
		integErase(t, dir, a)
		rep, r := integVerify(t, dir)
		if r.code != 0 || !rep.OK || len(rep.Logs) != 1 || rep.Logs[0].Erased != 1 {
			t.Errorf("aitrail verify --json after an erasure: exit %d, ok %v; want 0, true, 1 erased\n%s%s", r.code, rep.OK, r.stdout, r.stderr)
		}
	})
	t.Run("event for another record", func(t *testing.T) {
		t.Parallel()
		dir := integCopy(t, src.dir)
		integErase(t, dir, a)
		db := openDB(t, dir)
		integExec(t, db, `DELETE FROM bodies WHERE seq = ?`, b)
		db.Close()
		integWantTampered(t, dir, b, "body missing")
	})
	t.Run("event for a record without body", func(t *testing.T) {
		t.Parallel()
		dir := integCopy(t, src.dir)
		integErase(t, dir, 0) // log.created
		integWantTampered(t, dir, src.n, "never had a body")
	})
}

// testIntegCheckpointNotes tampers with the signed notes of the last
// checkpoint, in the anchor file and in the table checkpoints.
func testIntegCheckpointNotes(t *testing.T, src *integSource) {
	signer, _ := integForger(t, src.origin)
	tampers := []struct {
		name string
		f    func(t *testing.T, msg string) string
	}{
		{"altered text", func(t *testing.T, msg string) string {
			// The size line: one more record than signed.
			lines := strings.SplitN(msg, "\n", 3)
			n, err := strconv.ParseInt(lines[1], 10, 64)
			if err != nil {
				t.Fatalf("checkpoint %q: %v", msg, err)
			}
			lines[1] = strconv.FormatInt(n+1, 10)
			return strings.Join(lines, "\n")
		}},
		{"unknown key", func(t *testing.T, msg string) string {
			text, _, _ := strings.Cut(msg, "\n\n")
			return string(integSign(t, signer, text+"\n"))
		}},
		{"bad base64", func(t *testing.T, msg string) string {
			i := strings.LastIndex(strings.TrimSuffix(msg, "\n"), " ")
			return msg[:i+1] + "%%not*base64%%\n"
		}},
	}
	for _, tm := range tampers {
		t.Run("anchor/"+tm.name, func(t *testing.T) {
			t.Parallel()
			dir := integCopy(t, src.dir)
			es := integReadAnchor(t, dir)
			es[len(es)-1].Note = tm.f(t, es[len(es)-1].Note)
			integWriteAnchor(t, dir, es)
			integWantTampered(t, dir, 0, fmt.Sprintf("anchored checkpoint #%d does not verify", len(es)))
		})
		t.Run("table/"+tm.name, func(t *testing.T) {
			t.Parallel()
			dir := integTamper(t, src.dir, func(t *testing.T, db *sql.DB) {
				var msg string
				if err := db.QueryRow(`SELECT note FROM checkpoints WHERE size = ?`, src.n).Scan(&msg); err != nil {
					t.Fatal(err)
				}
				integExec(t, db, `UPDATE checkpoints SET note = ? WHERE size = ?`, []byte(tm.f(t, msg)), src.n)
			})
			integWantTampered(t, dir, src.n-1, fmt.Sprintf("stored checkpoint of size %d does not verify", src.n))
		})
	}
}

// testIntegProofs checks a proof bundle offline, and corrupted copies of it.
func testIntegProofs(t *testing.T, src *integSource) {
	seq := src.target
	work := t.TempDir()
	path := filepath.Join(work, "p.json")
	r := runAitrail(t, "prove", strconv.FormatInt(seq, 10), "-o", path, "--data", integCopy(t, src.dir))
	if r.code != 0 {
		t.Fatalf("aitrail prove %d: exit %d\n%s%s", seq, r.code, r.stdout, r.stderr)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r = runAitrail(t, "verify-proof", path, "--key", src.vkey)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("proof holds: record %d", seq)) {
		t.Fatalf("aitrail verify-proof --key: exit %d, %q; want 0, proof holds\n%s", r.code, r.stdout, r.stderr)
	}
	var p struct {
		TreeSize  int64    `json:"tree_size"`
		Inclusion []string `json:"inclusion"`
	}
	if err := json.Unmarshal(orig, &p); err != nil {
		t.Fatal(err)
	}
	if p.TreeSize != src.n || len(p.Inclusion) < 2 {
		t.Fatalf("the proof is in a tree of size %d with %d hashes; want %d and several", p.TreeSize, len(p.Inclusion), src.n)
	}
	signer, forgerVKey := integForger(t, src.origin)
	_, otherVKey := integForger(t, "aitrail/other/0123456789ab")

	type corruption struct {
		name string
		f    func(t *testing.T, m map[string]any) // nil: the bundle as made
		raw  func(b []byte) []byte
		key  string
	}
	cases := []corruption{
		{name: "wrong seq", f: func(t *testing.T, m map[string]any) { m["seq"] = seq - 1 }},
		{name: "wrong tree_size", f: func(t *testing.T, m map[string]any) { m["tree_size"] = src.n - 1 }},
		{name: "truncated file", raw: func(b []byte) []byte { return b[:len(b)/2] }},
		{name: "extra inclusion hash", f: func(t *testing.T, m map[string]any) {
			m["inclusion"] = append(m["inclusion"].([]any), m["inclusion"].([]any)[0])
		}},
		{name: "unknown field", f: func(t *testing.T, m map[string]any) { m["trust_me"] = true }},
		{name: "record altered", f: func(t *testing.T, m map[string]any) {
			m["record"] = integFlipB64(t, m["record"].(string), -1)
		}},
		{name: "checkpoint signed by another key", f: func(t *testing.T, m map[string]any) {
			text, _, _ := strings.Cut(m["checkpoint"].(string), "\n\n")
			m["checkpoint"] = string(integSign(t, signer, text+"\n"))
		}},
		{name: "checkpoint and key of another signer", f: func(t *testing.T, m map[string]any) {
			text, _, _ := strings.Cut(m["checkpoint"].(string), "\n\n")
			m["checkpoint"] = string(integSign(t, signer, text+"\n"))
			m["verifier_key"] = forgerVKey
		}},
		{name: "key of another log", key: otherVKey},
	}
	for i := range p.Inclusion {
		cases = append(cases, corruption{name: fmt.Sprintf("inclusion hash %d flipped", i), f: func(t *testing.T, m map[string]any) {
			m["inclusion"].([]any)[i] = integFlipB64(t, m["inclusion"].([]any)[i].(string), i)
		}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := orig
			if tc.f != nil {
				var m map[string]any
				dec := json.NewDecoder(bytes.NewReader(orig))
				dec.UseNumber()
				if err := dec.Decode(&m); err != nil {
					t.Fatal(err)
				}
				tc.f(t, m)
				var err error
				if b, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			if tc.raw != nil {
				b = tc.raw(b)
			}
			path := filepath.Join(t.TempDir(), "p.json")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			key := tc.key
			if key == "" {
				key = src.vkey
			}
			r := runAitrail(t, "verify-proof", path, "--key", key)
			if r.code != 1 || strings.Contains(r.stdout, "proof holds") {
				t.Errorf("aitrail verify-proof on a corrupted bundle: exit %d, %q; want 1\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		r := runAitrail(t, "verify-proof", filepath.Join(t.TempDir(), "none.json"), "--key", src.vkey)
		if r.code != 2 {
			t.Errorf("aitrail verify-proof on a missing file: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestIntegrityWitness runs a witness process beside a gateway: it cosigns
// the log's checkpoints, then refuses those of a fork made by rolling the
// database back and appending other records.
func TestIntegrityWitness(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "witnessed") // makes the log and its keys
	vkey := integLogKey(t, dir)

	state := filepath.Join(t.TempDir(), "witness.json")
	w := startIntegWitness(t, state, vkey)
	r := runAitrail(t, "witness", "vkey", "--state", state)
	wvkey := strings.TrimSpace(r.stdout)
	if r.code != 0 || wvkey == "" {
		t.Fatalf("aitrail witness vkey: exit %d, %q\n%s", r.code, r.stdout, r.stderr)
	}
	wv, err := witness.NewVerifier(wvkey)
	if err != nil {
		t.Fatalf("aitrail witness vkey printed %q: %v", wvkey, err)
	}
	lv, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	// cosigned returns the sizes of the anchored checkpoints that carry a
	// valid cosignature of the witness.
	cosigned := func() []int64 {
		var out []int64
		for _, e := range integReadAnchor(t, dir) {
			n, err := note.Open([]byte(e.Note), note.VerifierList(lv, wv))
			if err != nil {
				continue
			}
			for _, s := range n.Sigs {
				if s.Name == wv.Name() && s.Hash == wv.KeyHash() {
					out = append(out, e.Size)
				}
			}
		}
		return out
	}

	config := integConfig + fmt.Sprintf("anchors:\n  witnesses:\n    - url: %s\n      key: %s\n", w.url, wvkey)
	g := integGateway(t, dir, up.URL, config)
	integCalls(t, g, key, "witnessed1", 3)
	eventually(t, "the witness cosigned a checkpoint into the anchor file", func() (bool, string) {
		return len(cosigned()) > 0, fmt.Sprintf("cosigned sizes %v", cosigned())
	})
	if n := integAnchorFailures(t, g); n != 0 {
		t.Errorf("aitrail_anchor_failures_total is %v before any fork, want 0\n%s", n, g.log)
	}
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	integNoWAL(t, dir)
	backup := integCopy(t, dir)
	b := integCount(t, backup)

	g.restart(t)
	integCalls(t, g, key, "witnessed2", 2)
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	integNoWAL(t, dir)
	n := integCount(t, dir)
	before := cosigned()
	if !slices.Contains(before, n) || !slices.Contains(before, b) {
		t.Fatalf("the witness cosigned the sizes %v; want the final checkpoints of both runs, %d and %d", before, b, n)
	}

	// An attacker who rolls the database back and deletes the anchor file
	// beside it: the gateway has nothing left to tell it, signs the fork,
	// and the witness, which holds the other branch, refuses it.
	anchorPath := filepath.Join(dir, "anchor.jsonl")
	saved, err := os.ReadFile(anchorPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(anchorPath); err != nil {
		t.Fatal(err)
	}
	integReplace(t, filepath.Join(backup, "audit.db"), filepath.Join(dir, "audit.db"))
	offset := len(g.log.String())
	g.restart(t)
	integCalls(t, g, key, "fork2", 6)
	eventually(t, "the gateway logged that the witness did not take a checkpoint of the fork", func() (bool, string) {
		for _, line := range strings.Split(g.log.String()[offset:], "\n") {
			if strings.Contains(line, "anchor did not take the checkpoint") && strings.Contains(line, "anchor witness") &&
				!strings.Contains(line, "context canceled") {
				return true, ""
			}
		}
		return false, g.log.String()[offset:]
	})
	eventually(t, "aitrail_anchor_failures_total > 0", func() (bool, string) {
		n := integAnchorFailures(t, g)
		return n > 0, fmt.Sprintf("aitrail_anchor_failures_total %v", n)
	})
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	eventually(t, "the witness logged a refusal", func() (bool, string) {
		out := w.log.String()
		return strings.Contains(out, "refused a checkpoint not proven consistent") || strings.Contains(out, "refused a fork"), out
	})

	// The same backup restored with the newer anchor file in place: the
	// gateway sees that its database is behind what it anchored, never
	// signs over it, and continues in a new log (main.r1) that records the
	// gap. The witness, which does not know the new log's key yet, cosigns
	// nothing of it, and nothing more of the old log.
	if err := os.WriteFile(anchorPath, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	integReplace(t, filepath.Join(backup, "audit.db"), filepath.Join(dir, "audit.db"))
	offset = len(g.log.String())
	g.restart(t)
	integCalls(t, g, key, "restored", 6)
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0\n%s", code, g.log)
	}
	if want := fmt.Sprintf("restored from a backup taken at record %d; records %d..%d recorded after it are missing", b-1, b, n-1); !strings.Contains(g.log.String()[offset:], want) {
		t.Errorf("serve did not report %q:\n%s", want, g.log.String()[offset:])
	}
	if after := cosigned(); !slices.Equal(after, before) {
		t.Errorf("the witness cosigned the sizes %v of the old log after the restore, %v before; want no more", after, before)
	}
	r = runAitrail(t, "verify", "--json", "--data", dir)
	var rep restoreReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("aitrail verify --json: %q: %v", r.stdout, err)
	}
	if r.code != 3 || !rep.OK || len(rep.Gaps) != 1 || rep.Gaps[0].MissingFrom != b || rep.Gaps[0].MissingTo != n-1 {
		t.Errorf("aitrail verify --json after the restore: exit %d, ok %v, gaps %+v; want 3, true, records %d..%d missing\n%s", r.code, rep.OK, rep.Gaps, b, n-1, r.stdout)
	}
	w.stop(t)
}

// TestIntegrityVerifyWhileWriting verifies the log of a running gateway,
// with the CLI and with the gateway's own background verification, while
// calls are made through it: records appended meanwhile may be not yet
// covered, but are never reported as tampering.
func TestIntegrityVerifyWhileWriting(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "writer")
	g := integGateway(t, dir, up.URL, integConfig+"verify: {interval: 100ms}\n")
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- integCallUntil(g.URL, key, stop) }()
	finish := func() {
		if stop != nil {
			close(stop)
			stop = nil
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	defer finish()
	for i := range 8 {
		rep, r := integVerify(t, dir)
		if r.code != 0 || !rep.OK {
			t.Errorf("aitrail verify --json #%d while the log grows: exit %d, ok %v; want 0, true: %v\n%s", i, r.code, rep.OK, rep.problems(), r.stderr)
			break
		}
	}
	finish()
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0", code)
	}
	if strings.Contains(g.log.String(), "AUDIT LOG INTEGRITY FAILURE") {
		t.Errorf("the gateway's background verification reported an untouched log as tampered:\n%s", g.log)
	}
	if _, r := integVerify(t, dir); r.code != 0 {
		t.Errorf("aitrail verify --json once the gateway stopped: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// integCallUntil makes calls through the gateway at url until stop is
// closed (in its own goroutine: it returns its error rather than failing
// the test).
func integCallUntil(url, key string, stop chan struct{}) error {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		body := fmt.Sprintf(`{"model":"tiny","stream":false,"prompt":"while verifying %d"}`, i)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/generate", strings.NewReader(body))
		if err != nil {
			cancel()
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST /api/generate: status %d", resp.StatusCode)
		}
	}
}

// TestIntegrityShutdown stops a gateway that signs a checkpoint after
// every record, with a witness, right after calls: whatever checkpoint is
// being signed at that moment, every checkpoint stored must reach the
// anchor file, and a clean stop is no anchor failure.
func TestIntegrityShutdown(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	dir := t.TempDir()
	key := integCreateKey(t, dir, "stopper")
	w := startIntegWitness(t, filepath.Join(t.TempDir(), "witness.json"), integLogKey(t, dir))
	r := runAitrail(t, "witness", "vkey", "--state", w.state)
	if r.code != 0 {
		t.Fatalf("aitrail witness vkey: exit %d\n%s", r.code, r.stderr)
	}
	config := fmt.Sprintf("checkpoint: {interval: 1s, records: 1}\nheartbeat: 0s\nanchors:\n  witnesses:\n    - url: %s\n      key: %s\n",
		w.url, strings.TrimSpace(r.stdout))
	g := integGateway(t, dir, up.URL, config)
	for cycle := range 4 {
		if cycle > 0 {
			g.restart(t)
		}
		offset := len(g.log.String())
		integCalls(t, g, key, fmt.Sprintf("cycle%d", cycle), 2)
		if code := g.stop(t); code != 0 {
			t.Fatalf("aitrail serve exited %d on SIGTERM, want 0", code)
		}
		for _, line := range strings.Split(g.log.String()[offset:], "\n") {
			if strings.Contains(line, "anchor did not take the checkpoint") || strings.Contains(line, "cannot sign a checkpoint") {
				t.Errorf("stop #%d: %s", cycle, line)
			}
		}
		anchored := integSizes(integReadAnchor(t, dir))
		for _, s := range integStoredSizes(t, dir) {
			if !slices.Contains(anchored, s) {
				t.Errorf("stop #%d: the checkpoint of size %d is stored, but the anchor file never got it (it holds %v)", cycle, s, anchored)
			}
		}
		if t.Failed() {
			break
		}
	}
}

// TestIntegrityLogCreated checks that the first record of a log is
// log.created, as docs/FORMAT.md says of every log, also when the log is
// made by 'aitrail keys create' before the gateway first starts.
func TestIntegrityLogCreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	integCreateKey(t, dir, "first")
	db := openDB(t, dir)
	var kind string
	if err := db.QueryRow(`SELECT kind FROM records WHERE seq = 0`).Scan(&kind); err != nil {
		t.Fatal(err)
	}
	if kind != record.KindLogCreated {
		t.Errorf("record 0 of a log made by 'aitrail keys create' is %s, want %s", kind, record.KindLogCreated)
	}
}

// ---------------------------------------------------------------------------
// Processes.

// integGateway starts 'aitrail serve' on dir with a configuration file
// (kept outside dir, which holds only the log) and returns once it serves.
func integGateway(t *testing.T, dir, upstreamURL, config string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "aitrail.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{Dir: dir, log: &syncBuffer{}}
	g.args = []string{"serve", "--data", dir, "--listen", "127.0.0.1:0", "--upstream", upstreamURL, "--config", cfg}
	t.Cleanup(func() {
		if err := g.close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.log)
		}
	})
	g.start(t, false)
	return g
}

// integCalls makes n calls of several kinds through the gateway, with a
// session and a reason, and correlation ids tag-0, tag-1...
func integCalls(t *testing.T, g *gateway, key, tag string, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("%s-%d", tag, i)
		var path, body string
		switch i % 4 {
		case 0: // streamed, with parameters
			path, body = "/api/chat", `{"model":"tiny","options":{"temperature":0.5},"messages":[{"role":"user","content":"integrity `+id+`"}]}`
		case 1:
			path, body = "/v1/chat/completions", `{"model":"tiny","stream":true,"temperature":0.5,"messages":[{"role":"user","content":"integrity `+id+`"}]}`
		case 2:
			path, body = "/api/generate", `{"model":"tiny","stream":false,"prompt":"integrity `+id+`"}`
		case 3:
			path, body = "/api/embed", `{"model":"tiny","input":["integrity `+id+`"]}`
		}
		got := call(t, http.MethodPost, g.URL+path, key, body, "X-Request-Id", id, "X-Session-Id", "integrity-"+tag, "X-Access-Reason", "integrity test")
		if got.status != http.StatusOK {
			t.Fatalf("POST %s (%s): status %d: %s", path, id, got.status, got.body)
		}
	}
}

// integCreateKey makes a user key with the CLI (creating the log if there
// is none), and returns it.
func integCreateKey(t *testing.T, dir, actor string) string {
	t.Helper()
	r := runAitrail(t, "keys", "create", "--actor", actor, "--role", "user", "--data", dir)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	key := strings.TrimSpace(lines[len(lines)-1])
	if r.code != 0 || keyPattern.FindString(key) != key {
		t.Fatalf("aitrail keys create --actor %s: exit %d, %q\n%s", actor, r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "warning") {
		t.Fatalf("aitrail keys create --actor %s: %s", actor, r.stderr)
	}
	return key
}

// integLogKey returns the log's verifier key, as 'aitrail keys log-key' prints it.
func integLogKey(t *testing.T, dir string) string {
	t.Helper()
	r := runAitrail(t, "keys", "log-key", "--data", dir)
	if r.code != 0 {
		t.Fatalf("aitrail keys log-key: exit %d\n%s", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// integAnchorFailures reads aitrail_anchor_failures_total from the
// gateway's /metrics.
func integAnchorFailures(t *testing.T, g *gateway) float64 {
	t.Helper()
	return integMetric(t, g, "aitrail_anchor_failures_total")
}

// integMetric returns the value of an unlabelled metric of the gateway.
func integMetric(t *testing.T, g *gateway, name string) float64 {
	t.Helper()
	got := call(t, http.MethodGet, g.URL+"/metrics", "", "")
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(got.body)
	if got.status != http.StatusOK || m == nil {
		t.Fatalf("GET /metrics: status %d, no %s:\n%s", got.status, name, got.body)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// integWitness is an 'aitrail witness' process.
type integWitness struct {
	url    string
	state  string
	log    *syncBuffer
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// startIntegWitness starts a witness of the log vkey, keeping its state
// (and the key it makes) in state's directory, and returns once it serves.
func startIntegWitness(t *testing.T, state, vkey string) *integWitness {
	t.Helper()
	return startWitnessAt(t, state, "127.0.0.1:0", vkey)
}

// startWitnessAt starts a witness listening on addr, of the logs vkeys.
func startWitnessAt(t *testing.T, state, addr string, vkeys ...string) *integWitness {
	t.Helper()
	w := &integWitness{state: state, log: &syncBuffer{}, exited: make(chan struct{})}
	ready := make(chan string, 1)
	args := []string{"witness", "--state", state, "--listen", addr, "--name", "e2e.aitrail.test/witness"}
	for _, k := range vkeys {
		args = append(args, "--log", k)
	}
	w.cmd = exec.Command(aitrailBin, args...)
	w.cmd.Env = childEnv()
	w.cmd.Stdout = &lineWriter{log: w.log, name: "stdout", onLine: func(string) {}}
	w.cmd.Stderr = &lineWriter{log: w.log, name: "stderr", onLine: func(line string) {
		if m := witnessServing.FindStringSubmatch(line); m != nil {
			offer(ready, m[1])
		}
	}}
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start aitrail witness: %v", err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			w.cmd.Process.Kill()
			<-w.exited
		}
		if strings.Contains(w.log.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector reported a data race in aitrail witness:\n%s", w.log)
		}
		if t.Failed() {
			t.Logf("witness output:\n%s", w.log)
		}
	})
	bound := time.NewTimer(startTimeout)
	defer bound.Stop()
	select {
	case w.url = <-ready:
	case <-w.exited:
		t.Fatalf("aitrail witness exited before serving: %v\n%s", w.err, w.log)
	case <-bound.C:
		t.Fatalf("aitrail witness printed no address within %v\n%s", startTimeout, w.log)
	}
	return w
}

// stop sends SIGTERM; the witness must exit 0.
func (w *integWitness) stop(t *testing.T) {
	t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	bound := time.NewTimer(exitTimeout)
	defer bound.Stop()
	select {
	case <-w.exited:
	case <-bound.C:
		t.Fatalf("aitrail witness did not exit within %v of SIGTERM", exitTimeout)
	}
	if code := exitCode(w.err); code != 0 {
		t.Errorf("aitrail witness exited %d on SIGTERM, want 0\n%s", code, w.log)
	}
}

// ---------------------------------------------------------------------------
// Verification.

type integProblem struct {
	Seq   int64  `json:"seq"`
	Cause string `json:"cause"`
}

// integReport is the output of 'aitrail verify --json', declared here so
// that the format itself is under test.
type integReport struct {
	OK          bool   `json:"ok"`
	FirstBadSeq *int64 `json:"first_bad_seq"`
	Records     int64  `json:"records"`
	Logs        []struct {
		Log         string         `json:"log"`
		OK          bool           `json:"ok"`
		Records     int64          `json:"records"`
		Checkpoints int64          `json:"checkpoints"`
		Anchored    int64          `json:"anchored"`
		Covered     int64          `json:"covered"`
		Uncovered   int64          `json:"uncovered"`
		Erased      int64          `json:"erased"`
		Problems    []integProblem `json:"problems"`
		Warnings    []integProblem `json:"warnings"`
	} `json:"logs"`
}

func (r *integReport) problems() []integProblem {
	var out []integProblem
	for _, l := range r.Logs {
		out = append(out, l.Problems...)
	}
	return out
}

// names reports whether a problem at seq mentions cause.
func (r *integReport) names(seq int64, cause string) bool {
	for _, p := range r.problems() {
		if p.Seq == seq && strings.Contains(p.Cause, cause) {
			return true
		}
	}
	return false
}

// mentions reports whether some problem mentions cause.
func (r *integReport) mentions(cause string) bool {
	for _, p := range r.problems() {
		if strings.Contains(p.Cause, cause) {
			return true
		}
	}
	return false
}

// integVerify runs 'aitrail verify --json' on dir.
func integVerify(t *testing.T, dir string, args ...string) (integReport, result) {
	t.Helper()
	r := runAitrail(t, append([]string{"verify", "--json", "--data", dir}, args...)...)
	var rep integReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("aitrail verify --json: exit %d, printed %q: %v\n%s", r.code, r.stdout, err, r.stderr)
	}
	return rep, r
}

// integWantTampered checks that verify exits 1 with seq as the first bad
// record, and a problem at seq mentioning each of causes.
func integWantTampered(t *testing.T, dir string, seq int64, causes ...string) integReport {
	t.Helper()
	rep, r := integVerify(t, dir)
	first := "none"
	if rep.FirstBadSeq != nil {
		first = fmt.Sprint(*rep.FirstBadSeq)
	}
	if r.code != 1 || rep.OK || first != fmt.Sprint(seq) || len(rep.Logs) != 1 || rep.Logs[0].OK {
		t.Errorf("aitrail verify --json: exit %d, ok %v, first_bad_seq %s; want 1, false, %d\n%s%s", r.code, rep.OK, first, seq, r.stdout, r.stderr)
		return rep
	}
	for _, c := range causes {
		if !rep.names(seq, c) {
			t.Errorf("no problem at record %d mentions %q: %v", seq, c, rep.problems())
		}
	}
	return rep
}

var integRange = regexp.MustCompile(`records (\d+) to (\d+) differ`)

// integCheckRanges checks that every problem naming a range of records
// that differ from a checkpoint names a record of a non-empty range.
func integCheckRanges(t *testing.T, rep integReport) {
	t.Helper()
	for _, p := range rep.problems() {
		m := integRange.FindStringSubmatch(p.Cause)
		if m == nil {
			continue
		}
		from, _ := strconv.ParseInt(m[1], 10, 64)
		to, _ := strconv.ParseInt(m[2], 10, 64)
		if from > to || p.Seq < from || p.Seq > to {
			t.Errorf("problem at record %d: %q: want a non-empty range of records that holds the record named", p.Seq, p.Cause)
		}
	}
}

// ---------------------------------------------------------------------------
// Files and the database.

// integCopy copies the files of the log in src, which no process has open,
// to a new directory.
func integCopy(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range integFiles {
		integReplace(t, filepath.Join(src, f), filepath.Join(dst, f))
	}
	return dst
}

// integReplace copies the file src to dst, replacing it; for a database,
// a write-ahead log left beside dst is removed.
func integReplace(t *testing.T, src, dst string) {
	t.Helper()
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// integNoWAL checks that the database's write-ahead log was checkpointed
// into it, so that audit.db alone holds the log.
func integNoWAL(t *testing.T, dir string) {
	t.Helper()
	if fi, err := os.Stat(filepath.Join(dir, "audit.db-wal")); err == nil && fi.Size() > 0 {
		t.Fatalf("%s/audit.db-wal holds %d bytes after the gateway stopped", dir, fi.Size())
	}
}

// integTamper copies the log in src and changes its database with tamper.
func integTamper(t *testing.T, src string, tamper func(t *testing.T, db *sql.DB)) string {
	t.Helper()
	dir := integCopy(t, src)
	db := openDB(t, dir)
	tamper(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func integExec(t *testing.T, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func integCount(t *testing.T, dir string) int64 {
	t.Helper()
	db := openDB(t, dir)
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// integSwap swaps the column col of the rows seq a and b of table.
func integSwap(t *testing.T, db *sql.DB, table, col string, a, b int64) {
	t.Helper()
	var va, vb []byte
	if err := db.QueryRow(`SELECT `+col+` FROM `+table+` WHERE seq = ?`, a).Scan(&va); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT `+col+` FROM `+table+` WHERE seq = ?`, b).Scan(&vb); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(va, vb) {
		t.Fatalf("%s.%s of %d and %d are equal: nothing to swap", table, col, a, b)
	}
	integExec(t, db, `UPDATE `+table+` SET `+col+` = ? WHERE seq = ?`, vb, a)
	integExec(t, db, `UPDATE `+table+` SET `+col+` = ? WHERE seq = ?`, va, b)
}

// integShift moves the records and bodies from seq on one place up.
func integShift(t *testing.T, db *sql.DB, seq int64) {
	t.Helper()
	const far = 1 << 40
	for _, table := range []string{"records", "bodies"} {
		integExec(t, db, `UPDATE `+table+` SET seq = seq + ? WHERE seq >= ?`, far+1, seq)
		integExec(t, db, `UPDATE `+table+` SET seq = seq - ? WHERE seq >= ?`, far, far)
	}
}

const integRecordColumns = `log_id, seq, version, time_ns, kind, actor, role, session, reason,
client_ip, correlation_id, endpoint, model, model_digest, params, stream, status,
upstream_status, done_reason, request_seq, tokens_in, tokens_out, latency_us, ttft_us,
nonce, raw_hash, raw_len, body_hash, clear_hash, detail, prev_hash, entry_hash`

// integRecords reads the records of the log main, in seq order, with their
// stored entry hashes.
func integRecords(t *testing.T, db interface {
	Query(string, ...any) (*sql.Rows, error)
}) ([]*record.Record, []record.Hash) {
	t.Helper()
	rows, err := db.Query(`SELECT ` + integRecordColumns + ` FROM records WHERE log_id = 'main' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var recs []*record.Record
	var stored []record.Hash
	for rows.Next() {
		r := new(record.Record)
		var stream int64
		var nonce, raw, body, clear, prev, entry []byte
		if err := rows.Scan(&r.LogID, &r.Seq, &r.Version, &r.Time, &r.Kind, &r.Actor, &r.Role, &r.Session, &r.Reason,
			&r.ClientIP, &r.CorrelationID, &r.Endpoint, &r.Model, &r.ModelDigest, &r.Params, &stream, &r.Status,
			&r.UpstreamStatus, &r.DoneReason, &r.RequestSeq, &r.TokensIn, &r.TokensOut, &r.LatencyUS, &r.TTFTUS,
			&nonce, &raw, &r.RawLen, &body, &clear, &r.Detail, &prev, &entry); err != nil {
			t.Fatal(err)
		}
		r.Stream = stream != 0
		copy(r.Nonce[:], nonce)
		copy(r.RawHash[:], raw)
		copy(r.BodyHash[:], body)
		copy(r.ClearHash[:], clear)
		copy(r.PrevHash[:], prev)
		var h record.Hash
		copy(h[:], entry)
		recs = append(recs, r)
		stored = append(stored, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return recs, stored
}

// integRehashOne sets the stored entry hash of the record seq to the hash
// of its fields, as FORMAT.md defines it.
func integRehashOne(t *testing.T, db *sql.DB, seq int64) {
	t.Helper()
	recs, _ := integRecords(t, db)
	for _, r := range recs {
		if r.Seq == seq {
			h := record.EntryHash(r)
			integExec(t, db, `UPDATE records SET entry_hash = ? WHERE seq = ?`, h[:], seq)
			return
		}
	}
	t.Fatalf("no record %d", seq)
}

// integRehash re-hashes the log from the record from on, as a forger
// would: every later record's prev_hash and entry_hash, and the whole
// stored Merkle tree. It returns the new tree.
func integRehash(t *testing.T, db *sql.DB, from int64) tlog.HashReader {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	recs, stored := integRecords(t, tx)
	var prev record.Hash
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("record %d at position %d", r.Seq, i)
		}
		if r.Seq < from {
			if record.EntryHash(r) != stored[i] {
				t.Fatalf("record %d as read does not hash to its stored entry hash", r.Seq)
			}
		} else {
			r.PrevHash = prev
			h := record.EntryHash(r)
			integExec(t, tx, `UPDATE records SET prev_hash = ?, entry_hash = ? WHERE seq = ?`, r.PrevHash[:], h[:], r.Seq)
		}
		prev = record.EntryHash(r)
	}
	hashes := map[int64]tlog.Hash{}
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := hashes[x]
			if !ok {
				return nil, fmt.Errorf("no tree hash %d", x)
			}
			out[i] = h
		}
		return out, nil
	})
	integExec(t, tx, `DELETE FROM tree WHERE log_id = 'main'`)
	for _, r := range recs {
		hs, err := tlog.StoredHashes(r.Seq, record.Encode(r), hr)
		if err != nil {
			t.Fatal(err)
		}
		base := tlog.StoredHashIndex(0, r.Seq)
		for i, h := range hs {
			hashes[base+int64(i)] = h
			integExec(t, tx, `INSERT INTO tree (log_id, idx, hash) VALUES ('main', ?, ?)`, base+int64(i), h[:])
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return hr
}

// integForger returns a new signing key named origin, as someone other than
// the log's owner can make, and its verifier key.
func integForger(t *testing.T, origin string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := ledger.GenerateSigningKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func integSign(t *testing.T, s note.Signer, text string) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// integCheckpoint returns a checkpoint of the tree at size, signed by s.
func integCheckpoint(t *testing.T, s note.Signer, tree tlog.HashReader, size int64) []byte {
	t.Helper()
	root, err := tlog.TreeHash(size, tree)
	if err != nil {
		t.Fatal(err)
	}
	return integSign(t, s, ledger.Checkpoint{Origin: s.Name(), Size: size, Root: root}.String())
}

// integResignStored replaces every stored checkpoint with one of the same
// size of the tree, signed by s.
func integResignStored(t *testing.T, db *sql.DB, tree tlog.HashReader, s note.Signer) {
	t.Helper()
	for _, size := range integStoredSizesDB(t, db) {
		integExec(t, db, `UPDATE checkpoints SET note = ? WHERE size = ?`, integCheckpoint(t, s, tree, size), size)
	}
}

// integResignAnchor replaces every anchored checkpoint likewise.
func integResignAnchor(t *testing.T, dir string, tree tlog.HashReader, s note.Signer) {
	t.Helper()
	es := integReadAnchor(t, dir)
	for i := range es {
		es[i].Note = string(integCheckpoint(t, s, tree, es[i].Size))
	}
	integWriteAnchor(t, dir, es)
}

func integStoredSizes(t *testing.T, dir string) []int64 {
	t.Helper()
	db := openDB(t, dir)
	defer db.Close()
	return integStoredSizesDB(t, db)
}

func integStoredSizesDB(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.Query(`SELECT size FROM checkpoints WHERE log_id = 'main' ORDER BY size`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// integAnchorEntry is one line of the anchor file.
type integAnchorEntry struct {
	Log  string `json:"log"`
	Size int64  `json:"size"`
	Note string `json:"note"`
}

func integReadAnchor(t *testing.T, dir string) []integAnchorEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "anchor.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []integAnchorEntry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e integAnchorEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("anchor line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func integWriteAnchor(t *testing.T, dir string, es []integAnchorEntry) {
	t.Helper()
	var b []byte
	for _, e := range es {
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, line...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "anchor.jsonl"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// integSizes returns the distinct sizes of anchored checkpoints, in order.
func integSizes(es []integAnchorEntry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Size)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// integErase appends a body.erased event for the record seq through the
// ledger, and deletes its body, as a retention purge does.
func integErase(t *testing.T, dir string, seq int64) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(st, "main", ledger.Options{})
	_, err = ledger.Erase(ctx, led, st, []int64{seq}, record.Erasure{Policy: "e2e retention", Reason: "integrity test"}, "cli:e2e", "admin")
	led.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// integFlipB64 flips one bit of base64-encoded bytes: of the byte at i, or
// of the last one if i < 0.
func integFlipB64(t *testing.T, s string, i int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 || i >= len(b) {
		i = len(b) - 1
	}
	b[i] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

package e2e

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTamper edits a real log behind aitrail's back, each time on a fresh
// copy, and checks that 'aitrail verify' exits 1 and names the record at
// fault; the untouched copy verifies, and a directory with no log is an
// error (exit 2).
func TestTamper(t *testing.T) {
	t.Parallel()
	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL})
	key := g.createKey(t, "tampered", "user")
	for i, path := range []string{"/api/chat", "/api/generate", "/v1/chat/completions", "/api/chat"} {
		body := fmt.Sprintf(`{"model":"tiny","stream":false,"prompt":"call %d","messages":[{"role":"user","content":"call %d"}]}`, i, i)
		if got := call(t, http.MethodPost, g.URL+path, key, body); got.status != http.StatusOK {
			t.Fatalf("call %d: status %d: %s", i, got.status, got.body)
		}
	}
	if code := g.stop(t); code != 0 {
		t.Fatalf("aitrail serve exited %d on SIGTERM, want 0", code)
	}
	its := g.query(t)
	if len(its) != 4 {
		t.Fatalf("aitrail query shows %d interactions, want 4", len(its))
	}
	// A request in the middle of the log, and the response after it.
	mid, resp := its[1].Seq, *its[1].ResponseSeq

	// FORMAT.md is enough to recompute every entry hash.
	db := openDB(t, g.Dir)
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for seq := range n {
		if got, want := entryHash(t, db, seq), storedHash(t, db, seq); !bytes.Equal(got, want) {
			t.Errorf("record %d: the entry hash computed as FORMAT.md says is %x, aitrail stored %x", seq, got, want)
		}
	}
	db.Close()

	tests := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB)
		seq    int64  // the record verify must name
		cause  string // in the first problem's cause
	}{
		{"edit a field", func(t *testing.T, db *sql.DB) {
			sqlExec(t, db, `UPDATE records SET actor = 'mallory' WHERE seq = ?`, mid)
		}, mid, "altered"},
		{"edit a field and rewrite its hash", func(t *testing.T, db *sql.DB) {
			sqlExec(t, db, `UPDATE records SET tokens_out = tokens_out + 100 WHERE seq = ?`, resp)
			sqlExec(t, db, `UPDATE records SET entry_hash = ? WHERE seq = ?`, entryHash(t, db, resp), resp)
		}, resp, "rewritten"},
		{"delete a row", func(t *testing.T, db *sql.DB) {
			sqlExec(t, db, `DELETE FROM records WHERE seq = ?`, mid)
			sqlExec(t, db, `DELETE FROM bodies WHERE seq = ?`, mid)
		}, mid, "deleted"},
		{"insert a forged row", func(t *testing.T, db *sql.DB) {
			// A copy of the record at mid, by another actor, with a
			// correct entry hash and body, linked to the record before
			// it: only its successor's link gives it away.
			shift(t, db, mid)
			sqlExec(t, db, `CREATE TEMP TABLE forged AS SELECT * FROM records WHERE seq = ?`, mid+1)
			sqlExec(t, db, `UPDATE forged SET seq = ?, actor = 'mallory'`, mid)
			sqlExec(t, db, `INSERT INTO records SELECT * FROM forged`)
			sqlExec(t, db, `INSERT INTO bodies SELECT log_id, ?, content FROM bodies WHERE seq = ?`, mid, mid+1)
			sqlExec(t, db, `UPDATE records SET entry_hash = ? WHERE seq = ?`, entryHash(t, db, mid), mid)
		}, mid, "inserted"},
		{"reorder two rows", func(t *testing.T, db *sql.DB) {
			for _, table := range []string{"records", "bodies"} {
				sqlExec(t, db, `UPDATE `+table+` SET seq = -1 WHERE seq = ?`, mid)
				sqlExec(t, db, `UPDATE `+table+` SET seq = ? WHERE seq = ?`, mid, mid+1)
				sqlExec(t, db, `UPDATE `+table+` SET seq = ? WHERE seq = -1`, mid+1)
			}
		}, mid, ""},
		{"alter a body", func(t *testing.T, db *sql.DB) {
			sqlExec(t, db, `UPDATE bodies SET content = replace(content, 'call 1', 'call X') WHERE seq = ?`, mid)
		}, mid, "body altered"},
		{"delete a body", func(t *testing.T, db *sql.DB) {
			sqlExec(t, db, `DELETE FROM bodies WHERE seq = ?`, resp)
		}, resp, "body missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyLog(t, g.Dir)
			db := openDB(t, dir)
			tc.tamper(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			r := runAitrail(t, "verify", "--data", dir)
			if r.code != 1 {
				t.Errorf("aitrail verify: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			if want := fmt.Sprintf("first bad record is %d", tc.seq); !strings.Contains(r.stdout, want) {
				t.Errorf("aitrail verify printed %q, want it to say %q", r.stdout, want)
			}
			r = runAitrail(t, "verify", "--json", "--data", dir)
			var rep struct {
				OK          bool   `json:"ok"`
				FirstBadSeq *int64 `json:"first_bad_seq"`
				Logs        []struct {
					Problems []struct {
						Seq   int64  `json:"seq"`
						Cause string `json:"cause"`
					} `json:"problems"`
				} `json:"logs"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("aitrail verify --json printed %q: %v", r.stdout, err)
			}
			firstBad := "none"
			if rep.FirstBadSeq != nil {
				firstBad = fmt.Sprint(*rep.FirstBadSeq)
			}
			if r.code != 1 || rep.OK || firstBad != fmt.Sprint(tc.seq) {
				t.Errorf("aitrail verify --json: exit %d, ok %v, first_bad_seq %s; want 1, false, %d", r.code, rep.OK, firstBad, tc.seq)
			}
			if len(rep.Logs) == 1 && len(rep.Logs[0].Problems) > 0 {
				if p := rep.Logs[0].Problems[0]; !strings.Contains(p.Cause, tc.cause) {
					t.Errorf("first problem = record %d: %q, want its cause to mention %q", p.Seq, p.Cause, tc.cause)
				}
			}
		})
	}
	t.Run("untouched", func(t *testing.T) {
		t.Parallel()
		r := runAitrail(t, "verify", "--data", copyLog(t, g.Dir))
		if r.code != 0 || !strings.Contains(r.stdout, "intact") {
			t.Errorf("aitrail verify on an untouched copy: exit %d, %q; want 0, intact\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("no log", func(t *testing.T) {
		t.Parallel()
		r := runAitrail(t, "verify", "--data", t.TempDir())
		if r.code != 2 {
			t.Errorf("aitrail verify on a directory with no log: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func sqlExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// shift moves the records and bodies from seq on one place up, making room
// for one more.
func shift(t testing.TB, db *sql.DB, seq int64) {
	t.Helper()
	const far = 1 << 40
	for _, table := range []string{"records", "bodies"} {
		sqlExec(t, db, `UPDATE `+table+` SET seq = seq + ? WHERE seq >= ?`, far+1, seq)
		sqlExec(t, db, `UPDATE `+table+` SET seq = seq - ? WHERE seq >= ?`, far, far)
	}
}

// copyLog copies a stopped gateway's data directory.
func copyLog(t testing.TB, dir string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == "serve.lock" {
			continue
		}
		copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(dst, e.Name()))
	}
	return dst
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
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

// sealedFields are the columns of the sealed fields, in the order and with
// the types of docs/FORMAT.md: i int, s string or bytes, b bool.
var sealedFields = []struct {
	column string
	kind   byte
}{
	{"version", 'i'}, {"log_id", 's'}, {"seq", 'i'}, {"time_ns", 'i'}, {"kind", 's'}, {"actor", 's'},
	{"role", 's'}, {"session", 's'}, {"reason", 's'}, {"client_ip", 's'}, {"correlation_id", 's'},
	{"endpoint", 's'}, {"model", 's'}, {"model_digest", 's'}, {"params", 's'}, {"stream", 'b'},
	{"status", 's'}, {"upstream_status", 'i'}, {"done_reason", 's'}, {"request_seq", 'i'},
	{"tokens_in", 'i'}, {"tokens_out", 'i'}, {"latency_us", 'i'}, {"ttft_us", 'i'}, {"nonce", 's'},
	{"raw_hash", 's'}, {"raw_len", 'i'}, {"body_hash", 's'}, {"clear_hash", 's'}, {"detail", 's'}, {"prev_hash", 's'},
}

// entryHash computes the entry hash of the stored record seq from its
// columns, as docs/FORMAT.md specifies, without aitrail's code: SHA-256 of
// "aitrail.record.v1\n" and each field as tag, 4-byte big-endian length
// and value.
func entryHash(t testing.TB, db *sql.DB, seq int64) []byte {
	t.Helper()
	var cols []string
	vals := make([]any, len(sealedFields))
	for i, f := range sealedFields {
		cols = append(cols, f.column)
		if f.kind == 's' {
			vals[i] = new([]byte)
		} else {
			vals[i] = new(int64)
		}
	}
	if err := db.QueryRow(`SELECT `+strings.Join(cols, ", ")+` FROM records WHERE seq = ?`, seq).Scan(vals...); err != nil {
		t.Fatalf("read record %d: %v", seq, err)
	}
	enc := []byte("aitrail.record.v1\n")
	for i, f := range sealedFields {
		var v []byte
		switch f.kind {
		case 'i':
			v = binary.BigEndian.AppendUint64(nil, uint64(*vals[i].(*int64)))
		case 'b':
			v = []byte{byte(*vals[i].(*int64))}
		default:
			v = *vals[i].(*[]byte)
		}
		enc = append(enc, byte(i+1))
		enc = binary.BigEndian.AppendUint32(enc, uint32(len(v)))
		enc = append(enc, v...)
	}
	sum := sha256.Sum256(enc)
	return sum[:]
}

func storedHash(t testing.TB, db *sql.DB, seq int64) []byte {
	t.Helper()
	var h []byte
	if err := db.QueryRow(`SELECT entry_hash FROM records WHERE seq = ?`, seq).Scan(&h); err != nil {
		t.Fatalf("read record %d: %v", seq, err)
	}
	return h
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store/sqlite"
)

// measureVerify builds a log of n records (a request and a response per
// call, bodies included) through the real ledger, signs a checkpoint over
// it, and times 'aitrail verify' on it.
func measureVerify(bin string, n int) error {
	tmp, err := os.MkdirTemp("", "aitrail-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	// Let aitrail make its keys and database, as serve would.
	if out, err := exec.Command(bin, "keys", "create", "--actor", "setup", "--role", "user", "--data", data).CombinedOutput(); err != nil {
		return fmt.Errorf("set up the log: %v: %s", err, out)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "audit.db"))
	if err != nil {
		return err
	}
	c, err := committerOf(filepath.Join(data, "commitment.key"))
	if err != nil {
		return err
	}
	led := ledger.New(st, "main", ledger.Options{MaxBatch: 4096})
	start := time.Now()
	const group = 2000
	for done := 0; done < n; {
		var es []*ledger.Entry
		for i := 0; i < group && done < n; i, done = i+1, done+1 {
			r := record.NewEvent(record.KindRequest, nil)
			r.Actor, r.Role, r.Status, r.Model, r.Endpoint = fmt.Sprintf("user%d", done%50), "user", record.StatusPending, "tiny", "POST /api/chat"
			body := []byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"question number %d about the quarterly report"}]}`, done))
			r.BodyHash = c.Commit(r.Nonce, record.LabelBody, body)
			es = append(es, &ledger.Entry{Record: r, Body: body})
		}
		if err := led.Append(ctx, es...); err != nil {
			return err
		}
	}
	led.Close()
	st.Close()
	fmt.Printf("built a log of %d records in %s\n", n, time.Since(start).Round(time.Second))
	// A checkpoint over all of it, signed by aitrail itself.
	if out, err := exec.Command(bin, "keys", "create", "--actor", "after", "--role", "user", "--data", data).CombinedOutput(); err != nil {
		return fmt.Errorf("sign: %v: %s", err, out)
	}
	start = time.Now()
	out, err := exec.Command(bin, "verify", "--data", data).CombinedOutput()
	d := time.Since(start)
	fmt.Printf("aitrail verify of %d records: %s (exit %v)\n%s", n, d.Round(10*time.Millisecond), err, out)
	return nil
}

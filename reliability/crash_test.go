package reliability

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clients is the number of concurrent clients in the crash and soak tests.
const clients = 12

// TestCrashConsistency runs concurrent clients of every call kind against
// the gateway and kills it with SIGKILL at random moments (-kills times),
// restarting it each time on the same log. After each restart:
//
//   - every call the upstream received has its request record;
//   - every call a client saw complete has its ok response record;
//   - no call is left in_progress: those a kill cut short are interrupted
//     (or ok, when the kill came after the record but before the client
//     read the end);
//   - aitrail verify passes.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the gateway under load; skipped with -short")
	}
	up := startUpstream(t, nil)
	g := startGateway(t, up.URL, "")
	key := g.createKey(t, "crash-client")
	var all []outcome
	interrupted := 0
	for round := range *kills {
		outs := loadUntilKill(t, g, key, round)
		all = append(all, outs...)
		g.restart(t)
		got := g.interactions(t)
		received := up.received()
		for id := range received {
			if _, ok := got[id]; !ok {
				t.Errorf("round %d: the upstream received call %s, which has no request record", round, id)
			}
		}
		for _, o := range all {
			it, ok := got[o.id]
			switch {
			case o.complete() && (!ok || it.Status != "ok"):
				t.Errorf("round %d: %s %s: the client got the whole answer, but the record has status %q (found: %v)", round, o.kind.name, o.id, it.Status, ok)
			case ok && it.Status == "in_progress":
				t.Errorf("round %d: %s %s is still in_progress after the restart", round, o.kind.name, o.id)
			case ok && !o.complete() && it.Status != "ok" && it.Status != "interrupted":
				t.Errorf("round %d: %s %s, cut short by a kill (%v), has status %q, want interrupted", round, o.kind.name, o.id, o.err, it.Status)
			}
		}
		for _, o := range outs {
			if it, ok := got[o.id]; ok && it.Status == "interrupted" {
				interrupted++
			}
		}
		g.verify(t, "after a kill -9 and restart")
		if t.Failed() {
			return
		}
	}
	completed := 0
	for _, o := range all {
		if o.complete() {
			completed++
		}
	}
	t.Logf("%d kills, %d calls, %d seen complete, %d interrupted, %d received by the upstream",
		*kills, len(all), completed, interrupted, len(up.received()))
	if completed == 0 || interrupted == 0 {
		t.Errorf("%d calls completed and %d were interrupted: the test did not exercise both", completed, interrupted)
	}
}

// loadUntilKill runs the clients until a random number of calls have
// completed (and a random moment after that), kills the gateway, and
// returns every call's outcome once all clients have stopped.
func loadUntilKill(t *testing.T, g *gateway, key string, round int) []outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	target := int64(1 + rand.IntN(3*clients))
	var done atomic.Int64
	reached := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var outs []outcome
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			// At most 1000 calls per client per round: a bound, never reached.
			for i := range 1000 {
				k := kinds[(c+i+round)%len(kinds)]
				o := doCall(ctx, client, g.URL, key, k)
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
				if o.complete() && done.Add(1) >= target {
					once.Do(func() { close(reached) })
				}
				if o.status == 0 && o.err != nil { // the gateway is gone
					return
				}
			}
		})
	}
	select {
	case <-reached:
	case <-ctx.Done():
		t.Fatalf("round %d: %d calls completed, never %d", round, done.Load(), target)
	}
	// A random moment in the next few hundred milliseconds: streams are
	// mid-answer, calls are at the upstream, records are being written.
	time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
	g.kill(t)
	wg.Wait()
	return outs
}

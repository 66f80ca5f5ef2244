package reliability

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// soakRate is the steady rate of the soak's traffic, in calls per second
// (a bound: the clients may be slower on a busy machine).
const soakRate = 40

// sample is the gateway's use of resources at one moment.
type sample struct {
	rss        int64 // bytes
	fds        int
	goroutines int
}

// TestSoak sends steady mixed traffic of every call kind for -soak (2
// minutes in CI) and samples the gateway's resident memory, open file
// descriptors and goroutines every few seconds: the last quarter of the
// run must not be far above the first (a leak check with generous bounds,
// not a measure of speed). At the end every call a client saw complete is
// recorded ok, everything the upstream received is recorded, and the log
// verifies.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak of -soak; skipped with -short")
	}
	up := startUpstream(t, nil)
	g := startGateway(t, up.URL, "")
	key := g.createKey(t, "soak-client")

	ctx, cancel := context.WithTimeout(context.Background(), *soakTime)
	defer cancel()
	tokens := make(chan struct{})
	go func() { // the pace: at most soakRate calls a second
		tick := time.NewTicker(time.Second / soakRate)
		defer tick.Stop()
		defer close(tokens)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	var mu sync.Mutex
	var outs []outcome
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	for c := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				if _, ok := <-tokens; !ok {
					return
				}
				callCtx, done := context.WithTimeout(context.Background(), callTimeout)
				o := doCall(callCtx, client, g.URL, key, kinds[(c+i)%len(kinds)])
				done()
				o.body = nil // keep the outcomes small over an hour
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
			}
		})
	}

	interval := max(*soakTime/40, time.Second)
	var samples []sample
	tick := time.NewTicker(interval)
sampling:
	for {
		select {
		case <-ctx.Done():
			break sampling
		case <-tick.C:
			samples = append(samples, g.sample(t))
		}
	}
	tick.Stop()
	wg.Wait()

	failed := 0
	for _, o := range outs {
		if !o.complete() {
			failed++
			if failed <= 5 {
				t.Errorf("%s %s: status %d, %v", o.kind.name, o.id, o.status, o.err)
			}
		}
	}
	got := g.interactions(t)
	for _, o := range outs {
		if it := got[o.id]; o.complete() && it.Status != "ok" {
			t.Errorf("%s %s: the client got the answer, the record says %q", o.kind.name, o.id, it.Status)
		}
	}
	checkAllRecorded(t, g, up)
	g.verify(t, "after the soak")

	if len(samples) < 8 {
		t.Fatalf("%d samples in %v: too few to compare", len(samples), *soakTime)
	}
	q := len(samples) / 4
	first, last := mean(samples[:q]), mean(samples[len(samples)-q:])
	t.Logf("soak of %v: %d calls (%d failed); first quarter: RSS %d MiB, %d fds, %d goroutines; last quarter: RSS %d MiB, %d fds, %d goroutines",
		*soakTime, len(outs), failed, first.rss>>20, first.fds, first.goroutines, last.rss>>20, last.fds, last.goroutines)
	// Generous bounds: a leak grows with the calls served, and over
	// thousands of calls it passes them; warming up and the garbage
	// collector's pace stay within them.
	if last.rss > 2*first.rss+64<<20 {
		t.Errorf("resident memory grew from %d MiB to %d MiB", first.rss>>20, last.rss>>20)
	}
	if last.fds > first.fds*3/2+16 {
		t.Errorf("open file descriptors grew from %d to %d", first.fds, last.fds)
	}
	if last.goroutines > first.goroutines*3/2+32 {
		t.Errorf("goroutines grew from %d to %d", first.goroutines, last.goroutines)
	}
}

// sample reads the gateway's resident memory and open file descriptors
// from /proc, and its goroutines from /metrics (go_goroutines).
func (g *gateway) sample(t *testing.T) sample {
	t.Helper()
	s := sample{rss: rss(t, g.pid())}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", g.pid()))
	if err != nil {
		t.Fatalf("list the gateway's file descriptors: %v", err)
	}
	s.fds = len(fds)
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+g.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
			s.goroutines = int(n)
			return s
		}
	}
	t.Fatalf("GET /metrics: status %d, no go_goroutines", resp.StatusCode)
	return s
}

func mean(ss []sample) sample {
	var m sample
	for _, s := range ss {
		m.rss += s.rss
		m.fds += s.fds
		m.goroutines += s.goroutines
	}
	n := len(ss)
	return sample{rss: m.rss / int64(n), fds: m.fds / n, goroutines: m.goroutines / n}
}

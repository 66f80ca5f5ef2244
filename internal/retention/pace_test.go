package retention

import (
	"testing"
	"time"
)

func TestPacerLearns(t *testing.T) {
	p := newPacer(2*time.Millisecond, 0, 200)
	if got := p.size("bodies"); got != firstPiece {
		t.Fatalf("first size = %d, want %d", got, firstPiece)
	}
	// Fast writes: the size doubles at most, up to the batch.
	p.learn("bodies", 32, 100*time.Microsecond)
	if got := p.size("bodies"); got != 64 {
		t.Errorf("after 32 rows in 0.1 ms, size = %d, want 64 (at most doubled)", got)
	}
	for range 5 {
		p.learn("bodies", p.size("bodies"), 100*time.Microsecond)
	}
	if got := p.size("bodies"); got != 200 {
		t.Errorf("after many fast writes, size = %d, want the batch, 200", got)
	}
	// A slow write halves it at most; kinds are learnt apart.
	p.learn("bodies", 200, 40*time.Millisecond)
	if got := p.size("bodies"); got != 100 {
		t.Errorf("after 200 rows in 40 ms, size = %d, want 100 (at most halved)", got)
	}
	p.learn("bodies", 100, 4*time.Millisecond)
	if got := p.size("bodies"); got != 50 {
		t.Errorf("after 100 rows in 4 ms, size = %d, want 50 (2 ms worth)", got)
	}
	if got := p.size("pii"); got != firstPiece {
		t.Errorf("another kind's size = %d, want %d", got, firstPiece)
	}
	for range 20 {
		p.learn("pii", p.size("pii"), time.Second)
	}
	if got := p.size("pii"); got != minPiece {
		t.Errorf("after very slow writes, size = %d, want the least, %d", got, minPiece)
	}
	// A short last piece that was quick teaches nothing, however slow per
	// row its commit made it look.
	p.learn("bodies", 3, time.Millisecond)
	if got := p.size("bodies"); got != 50 {
		t.Errorf("after a quick short piece, size = %d, want 50 still", got)
	}
	// A kind with its own limit grows past the batch.
	p.limits["pages"] = 2000
	for range 10 {
		p.learn("pages", p.size("pages"), 100*time.Microsecond)
	}
	if got := p.size("pages"); got != 2000 {
		t.Errorf("pages after fast writes: size = %d, want their limit, 2000", got)
	}
}

func TestPacerEach(t *testing.T) {
	for _, p := range []*pacer{newPacer(time.Nanosecond, 0, 7), newPacer(0, 0, 7), unpaced} {
		var got []int
		err := p.each(t.Context(), "k", 23, func(lo, hi int) error {
			if hi <= lo || hi-lo > 7 && p != unpaced {
				t.Errorf("piece [%d, %d) of a pacer with max 7", lo, hi)
			}
			for i := lo; i < hi; i++ {
				got = append(got, i)
			}
			return nil
		})
		if err != nil || len(got) != 23 {
			t.Fatalf("each wrote %d rows, %v; want 23", len(got), err)
		}
		for i, r := range got {
			if r != i {
				t.Fatalf("each wrote rows %v, want 0 to 22 once each, in order", got)
			}
		}
	}
}

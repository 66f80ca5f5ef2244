package dialect

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// captures is where the copies of the real Ollama 0.24.0 captures live.
const captures = "testdata/ollama-0.24.0"

// sharedCaptures is the original location of those captures.
const sharedCaptures = "/work/shared/wire-samples/ollama-0.24.0"

func readCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captures, name))
	if err != nil {
		t.Skipf("capture %s missing: %v", name, err)
	}
	return b
}

func mustLookup(t testing.TB, path string) Endpoint {
	t.Helper()
	ep, ok := Lookup(path)
	if !ok {
		t.Fatalf("Lookup(%q) = false", path)
	}
	return ep
}

// feedRun is one way of feeding a stream: the results of each Observe call
// and the final Result.
type feedRun struct {
	frames [][]byte // the frames, as copies
	finals []bool   // Observe's answer for each frame
	result Result
}

// finalAt returns the index of the frame Observe called final, or -1.
func (r feedRun) finalAt() int {
	for i, f := range r.finals {
		if f {
			return i
		}
	}
	return -1
}

// feed runs data through a Stream for ep the way the gateway does: it reads
// pieces of the given sizes (cycling through sizes; nil means all at once)
// into a reused buffer, hands every complete frame to Observe, compacts the
// buffer in place (so a frame Observe kept would be overwritten), and at the
// end hands over whatever FrameLen never delimited.
func feed(t testing.TB, ep Endpoint, data []byte, sizes []int) feedRun {
	t.Helper()
	s := NewStream(ep)
	var run feedRun
	buf := make([]byte, 0, 16)
	observe := func(frame []byte) {
		run.frames = append(run.frames, bytes.Clone(frame))
		run.finals = append(run.finals, s.Observe(frame))
	}
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(sizes) > 0 {
			n = min(sizes[i%len(sizes)], len(data))
		}
		buf = append(buf, data[:n]...)
		data = data[n:]
		for {
			n := s.FrameLen(buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("FrameLen(%q) = %d, want 0..%d", buf, n, len(buf))
			}
			if n == 0 {
				break
			}
			observe(buf[:n])
			m := copy(buf, buf[n:])
			clear(buf[m:])
			buf = buf[:m]
		}
	}
	if len(buf) > 0 {
		observe(buf)
	}
	run.result = s.Result()
	return run
}

// checkSplits feeds data whole, in 1-byte pieces, split in two at every
// offset, and in a few odd piece sizes, and fails unless every way gives the
// same frames, the same final frame and the same Result.
func checkSplits(t *testing.T, ep Endpoint, data []byte) feedRun {
	t.Helper()
	whole := feed(t, ep, data, nil)
	compare := func(how string, got feedRun) {
		t.Helper()
		if !reflect.DeepEqual(got.result, whole.result) {
			t.Fatalf("%s: Result = %+v, want %+v", how, got.result, whole.result)
		}
		if !reflect.DeepEqual(got.frames, whole.frames) {
			t.Fatalf("%s: %d frames, want %d (%q vs %q)", how, len(got.frames), len(whole.frames), got.frames, whole.frames)
		}
		if !reflect.DeepEqual(got.finals, whole.finals) {
			t.Fatalf("%s: finals = %v, want %v", how, got.finals, whole.finals)
		}
	}
	compare("1-byte pieces", feed(t, ep, data, []int{1}))
	compare("pieces 3,7,1,64", feed(t, ep, data, []int{3, 7, 1, 64}))
	for k := 1; k < len(data); k++ {
		compare("split at "+strconv.Itoa(k), feed(t, ep, data, []int{k, len(data)}))
	}
	return whole
}

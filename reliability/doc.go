// Package reliability holds aitrail's reliability suite: tests that drive
// the built binary through faults a deployment meets (kill -9 under
// concurrent load, upstreams that refuse, reset, stall or send garbage,
// clients that read slowly, disconnect or send too much, and long steady
// traffic) and check what aitrail promises under each: nothing a client was
// told is done is lost, nothing reaches the model unrecorded, every call's
// record says what happened, the log verifies, and the gateway stays up with
// flat memory, goroutines and file descriptors.
//
// It runs with the rest of the tests ('go test ./...', CI sizes) and on
// demand with larger sizes:
//
//	go test -count=1 ./reliability -kills 200 -soak 1h -timeout 2h
//
// docs/RELIABILITY.md lists each fault, the promise and the figures of the
// last run. Everything listens on loopback only, and every loop is bounded
// in count and time.
package reliability

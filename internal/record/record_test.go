package record

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
	"time"
)

func fullRecord() *Record {
	r := &Record{
		Version: Version, LogID: "main", Seq: 42, Time: 1_773_480_000_123_456_789, Kind: KindResponse,
		Actor: "alice", Role: "user", Session: "s1", Reason: "ticket 7", ClientIP: "10.0.0.7",
		CorrelationID: "req-1", Endpoint: "POST /api/chat", Model: "tiny", ModelDigest: "849ccfe8",
		Params: []byte(`{"seed":7}`), Stream: true, Status: StatusOK, UpstreamStatus: 200, DoneReason: "stop",
		RequestSeq: 41, TokensIn: 31, TokensOut: -1, LatencyUS: 1890, TTFTUS: 120,
		RawLen: 503, Detail: []byte(`{"x":1}`),
	}
	r.Nonce[0], r.Nonce[15] = 1, 2
	r.RawHash[0], r.BodyHash[31], r.PrevHash[5] = 3, 4, 5
	return r
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, r := range []*Record{fullRecord(), {Version: Version, RequestSeq: -1}} {
		enc := Encode(r)
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", r, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("Decode(Encode(r)) = %+v, want %+v", got, r)
		}
		if !bytes.Equal(Encode(got), enc) {
			t.Errorf("re-encoding differs")
		}
	}
}

// TestEncodeVector pins the encoding: a change here breaks every log and
// every independent verifier (docs/FORMAT.md).
func TestEncodeVector(t *testing.T) {
	r := &Record{Version: 1, LogID: "main", Seq: 0, Time: 1, Kind: KindLogCreated, Status: StatusOK, RequestSeq: -1, TokensIn: -1, TokensOut: -1}
	const (
		wantEnc = "6169747261696c2e7265636f72642e76310a0100000008000000000000000102000000046d61696e03000000080000000000" +
			"00000004000000080000000000000001050000000b6c6f672e63726561746564060000000007000000000800000000090000" +
			"00000a000000000b000000000c000000000d000000000e000000000f0000000010000000010011000000026f6b1200000008" +
			"000000000000000013000000001400000008ffffffffffffffff1500000008ffffffffffffffff1600000008ffffffffffff" +
			"ffff17000000080000000000000000180000000800000000000000001900000010000000000000000000000000000000001a" +
			"000000001b0000000800000000000000001c000000001d000000001e000000001f0000002000000000000000000000000000" +
			"00000000000000000000000000000000000000"
		wantHash = "df21a80dd6cc5c8c92d45cc6d0d0beb95fd124e5732ad752658ccc3e883b3a7f"
	)
	if got := hex.EncodeToString(Encode(r)); got != wantEnc {
		t.Errorf("Encode = %s\nwant     %s", got, wantEnc)
	}
	if got := EntryHash(r).String(); got != wantHash {
		t.Errorf("EntryHash = %s, want %s", got, wantHash)
	}
}

func TestEncodeDistinguishesEveryField(t *testing.T) {
	base := Encode(fullRecord())
	mutations := map[string]func(*Record){
		"Version": func(r *Record) { r.Version++ }, "LogID": func(r *Record) { r.LogID += "x" },
		"Seq": func(r *Record) { r.Seq++ }, "Time": func(r *Record) { r.Time++ },
		"Kind": func(r *Record) { r.Kind = KindRequest }, "Actor": func(r *Record) { r.Actor = "mallory" },
		"Role": func(r *Record) { r.Role = "admin" }, "Session": func(r *Record) { r.Session = "" },
		"Reason": func(r *Record) { r.Reason += "." }, "ClientIP": func(r *Record) { r.ClientIP = "10.0.0.8" },
		"CorrelationID": func(r *Record) { r.CorrelationID = "req-2" }, "Endpoint": func(r *Record) { r.Endpoint = "POST /api/generate" },
		"Model": func(r *Record) { r.Model = "big" }, "ModelDigest": func(r *Record) { r.ModelDigest = "" },
		"Params": func(r *Record) { r.Params = []byte(`{"seed":8}`) }, "Stream": func(r *Record) { r.Stream = false },
		"Status": func(r *Record) { r.Status = StatusError }, "UpstreamStatus": func(r *Record) { r.UpstreamStatus = 500 },
		"DoneReason": func(r *Record) { r.DoneReason = "length" }, "RequestSeq": func(r *Record) { r.RequestSeq = 40 },
		"TokensIn": func(r *Record) { r.TokensIn = 30 }, "TokensOut": func(r *Record) { r.TokensOut = 0 },
		"LatencyUS": func(r *Record) { r.LatencyUS = 1 }, "TTFTUS": func(r *Record) { r.TTFTUS = 0 },
		"Nonce": func(r *Record) { r.Nonce[3] = 9 }, "RawHash": func(r *Record) { r.RawHash[1] = 9 },
		"RawLen": func(r *Record) { r.RawLen = 0 }, "BodyHash": func(r *Record) { r.BodyHash = Hash{} },
		"ClearHash": func(r *Record) { r.ClearHash[2] = 7 },
		"Detail":    func(r *Record) { r.Detail = nil }, "PrevHash": func(r *Record) { r.PrevHash[0] = 1 },
	}
	if n := reflect.TypeOf(Record{}).NumField(); len(mutations) != n {
		t.Fatalf("test mutates %d fields, Record has %d: cover the new field", len(mutations), n)
	}
	for name, mut := range mutations {
		r := fullRecord()
		mut(r)
		if bytes.Equal(Encode(r), base) {
			t.Errorf("changing %s does not change the encoding", name)
		}
	}
	// Moving bytes between adjacent strings must change the encoding too.
	a, b := fullRecord(), fullRecord()
	a.Actor, a.Role = "ab", "c"
	b.Actor, b.Role = "a", "bc"
	if bytes.Equal(Encode(a), Encode(b)) {
		t.Error("field boundaries are ambiguous")
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Encode(fullRecord())
	cases := map[string][]byte{
		"empty":     nil,
		"no magic":  good[1:],
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"bad tag":   func() []byte { b := append([]byte(nil), good...); b[len(magic)] = 2; return b }(),
		"zero hash": Encode(&Record{}), // absent optional hashes are empty, present PrevHash is 32 bytes: fine
	}
	for name, b := range cases {
		_, err := Decode(b)
		if name == "zero hash" {
			if err != nil {
				t.Errorf("Decode(%s) = %v, want success", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Decode(%s) succeeded, want error", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(fullRecord()))
	f.Add(Encode(&Record{}))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to the same bytes: the encoding
		// is canonical.
		if got := Encode(r); !bytes.Equal(got, b) {
			t.Fatalf("Encode(Decode(%x)) = %x", b, got)
		}
	})
}

// TestNonce checks what NewNonce promises: unique nonces, ordered by
// the millisecond they were made in.
func TestNonce(t *testing.T) {
	at := time.UnixMilli(1_773_480_000_123)
	seen := map[[16]byte]bool{}
	for range 100_000 {
		n := nonceAt(at)
		if seen[n] {
			t.Fatalf("nonce %x made twice in one millisecond", n)
		}
		seen[n] = true
	}
	n := nonceAt(at)
	if got := hex.EncodeToString(n[:6]); got != "019ceba53a7b" {
		t.Errorf("nonce of %s starts %s, want the milliseconds 019ceba53a7b", at, got)
	}
	for range 1000 {
		a, b := nonceAt(at), nonceAt(at.Add(time.Millisecond))
		if bytes.Compare(a[:], b[:]) >= 0 {
			t.Fatalf("nonce %x of a later millisecond does not sort after %x", b, a)
		}
	}
	if a, b := NewNonce(), NewNonce(); a == b {
		t.Errorf("NewNonce returned %x twice", a)
	}
}

func TestCommitment(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	c, err := NewCommitter(key)
	if err != nil {
		t.Fatal(err)
	}
	var n1, n2 [16]byte
	n2[0] = 1
	h := c.Commit(n1, LabelBody, []byte("yes"))
	if h == c.Commit(n2, LabelBody, []byte("yes")) {
		t.Error("same body under two nonces gives the same commitment: guesses could be matched across records")
	}
	if h == c.Commit(n1, LabelRaw, []byte("yes")) {
		t.Error("labels do not separate commitments")
	}
	if got := CommitWithSalt(c.Salt(n1), LabelBody, []byte("yes")); got != h {
		t.Errorf("CommitWithSalt = %s, want %s", got, h)
	}
	other, _ := NewCommitter(bytes.Repeat([]byte{8}, KeySize))
	if other.Commit(n1, LabelBody, []byte("yes")) == h {
		t.Error("another key gives the same commitment")
	}
	if _, err := NewCommitter(key[:31]); err == nil {
		t.Error("NewCommitter accepted a short key")
	}
}

func TestCleanString(t *testing.T) {
	for in, want := range map[string]string{
		"tiny": "tiny", "": "", "a\x00b": "a\uFFFDb", "caf\xe9": "caf\uFFFD", "ünï": "ünï",
	} {
		if got := CleanString(in); got != want {
			t.Errorf("CleanString(%q) = %q, want %q", in, got, want)
		}
	}
}

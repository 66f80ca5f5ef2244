package pii

import (
	"bytes"
	"testing"
)

func TestSameValueSameMAC(t *testing.T) {
	x, err := New(bytes.Repeat([]byte{9}, KeySize), "US")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ  string
		a, b string
	}{
		{"EMAIL", "Alice@Example.com", " alice@example.com"},
		{"PHONE", "+1 (415) 555-2671", "415.555.2671"},
		{"PHONE", "+44 20 7946 0958", "+442079460958"},
		{"CREDIT_CARD", "4111 1111 1111 1111", "4111-1111-1111-1111"},
		{"US_SSN", "123-45-6789", "123456789"},
		{"IBAN", "DE89 3704 0044 0532 0130 00", "de89370400440532013000"},
		{"IP_ADDRESS", "::ffff:10.0.0.1", "10.0.0.1"},
		{"PROJECT", "Project  Phoenix", "Project Phoenix"},
	} {
		if x.MAC(tc.typ, tc.a) != x.MAC(tc.typ, tc.b) {
			t.Errorf("MAC(%s, %q) != MAC(%s, %q): %q vs %q", tc.typ, tc.a, tc.typ, tc.b, x.Normalize(tc.typ, tc.a), x.Normalize(tc.typ, tc.b))
		}
	}
	if x.MAC("EMAIL", "alice@example.com") == x.MAC("EMAIL", "bob@example.com") {
		t.Error("two addresses share a MAC")
	}
	y, _ := New(bytes.Repeat([]byte{8}, KeySize), "US")
	if x.MAC("EMAIL", "alice@example.com") == y.MAC("EMAIL", "alice@example.com") {
		t.Error("the MAC does not depend on the key")
	}
	if _, err := New([]byte("short"), ""); err == nil {
		t.Error("New accepted a short key")
	}
}

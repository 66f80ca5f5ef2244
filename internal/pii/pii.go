// Package pii indexes sensitive values without storing them: each value
// found by the redactor is normalised and hashed with a keyed HMAC, and only
// the HMAC is kept, beside the record that held it. Whoever holds the key
// (the operator, answering a data-subject request) can find every record
// that contained a given e-mail address; whoever holds only the database
// cannot test guesses.
//
// The key is 32 random bytes in its own file (DATA/pii.key), apart from the
// commitment key, so that either can be rotated or withheld alone.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/netip"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/aitrail/aitrail/internal/record"
)

// KeySize is the size of an index key.
const KeySize = 32

// An Index computes the MACs of values. It is safe for concurrent use.
type Index struct {
	key    []byte
	region string
}

// New returns an Index with key; region is the default country of phone
// numbers written without a country code (e.g. "US").
func New(key []byte, region string) (*Index, error) {
	if len(key) != KeySize {
		return nil, errors.New("the PII index key must be 32 bytes")
	}
	if region == "" {
		region = "US"
	}
	return &Index{key: append([]byte(nil), key...), region: region}, nil
}

// MAC returns the index entry of a value of type typ:
//
//	HMAC-SHA256(key, "aitrail.pii.v1" || 0x00 || Normalize(typ, value))
//
// The type is not part of the MAC, so a value can be found whatever type it
// was recognised as.
func (x *Index) MAC(typ, value string) record.Hash {
	m := hmac.New(sha256.New, x.key)
	m.Write([]byte("aitrail.pii.v1"))
	m.Write([]byte{0})
	m.Write([]byte(x.Normalize(typ, value)))
	var h record.Hash
	m.Sum(h[:0])
	return h
}

// Normalize returns the canonical form of a value, so that the ways one
// value can be written index alike: e-mail addresses in lower case, phone
// numbers in E.164, card and SSN numbers as digits, IBANs upper case without
// spaces, IP addresses in their canonical form, anything else trimmed with
// its inner white space collapsed.
func (x *Index) Normalize(typ, value string) string {
	v := strings.TrimSpace(value)
	switch typ {
	case "EMAIL":
		return strings.ToLower(v)
	case "PHONE":
		if n, err := phonenumbers.Parse(v, x.region); err == nil {
			return phonenumbers.Format(n, phonenumbers.E164)
		}
		return digits(v)
	case "US_SSN", "CREDIT_CARD":
		return digits(v)
	case "IBAN":
		return strings.ToUpper(strings.Join(strings.Fields(v), ""))
	case "IP_ADDRESS":
		if a, err := netip.ParseAddr(v); err == nil {
			return a.Unmap().String()
		}
	}
	return strings.Join(strings.Fields(v), " ")
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

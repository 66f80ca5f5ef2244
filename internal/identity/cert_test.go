package identity

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"testing"
)

func TestCertMap(t *testing.T) {
	m := NewCertMap([]CertRule{
		{SubjectCN: "alice", Actor: "alice@example.com", Role: RoleUser},
		{OU: "auditors", Role: RoleAuditor},
		{SAN: "spiffe://corp/ci", Actor: "ci", Role: RoleAdmin},
		{OU: "nameless", Role: RoleUser}, // a certificate without a CN gives no actor
	})
	spiffe, _ := url.Parse("spiffe://corp/ci")
	for _, tc := range []struct {
		name        string
		cert        *x509.Certificate
		actor, role string
		err         error
	}{
		{"by CN", &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}}, "alice@example.com", RoleUser, nil},
		{"by OU, actor from CN", &x509.Certificate{Subject: pkix.Name{CommonName: "carol", OrganizationalUnit: []string{"x", "auditors"}}}, "carol", RoleAuditor, nil},
		{"by URI SAN", &x509.Certificate{URIs: []*url.URL{spiffe}}, "ci", RoleAdmin, nil},
		{"unmapped", &x509.Certificate{Subject: pkix.Name{CommonName: "bob"}}, "", "", ErrUnmappedCertificate},
		{"no actor", &x509.Certificate{Subject: pkix.Name{OrganizationalUnit: []string{"nameless"}}}, "", "", ErrUnmappedCertificate},
	} {
		id, err := m.Identity(tc.cert)
		if !errors.Is(err, tc.err) || id.Actor != tc.actor || id.Role != tc.role {
			t.Errorf("%s: Identity = %+v, %v; want %s %s, %v", tc.name, id, err, tc.actor, tc.role, tc.err)
		}
		if err == nil && id.Source != SourceCertificate {
			t.Errorf("%s: Source = %q, want %q", tc.name, id.Source, SourceCertificate)
		}
	}
	if !IsRefusal(ErrUnmappedCertificate) {
		t.Error("an unmapped certificate is not a refusal")
	}
}

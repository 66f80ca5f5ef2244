package identity

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"slices"
)

// Identity sources: how a caller was identified.
const (
	SourceKey         = "key"
	SourceHeaders     = "trusted_headers"
	SourceCertificate = "client_certificate"
)

// ErrUnmappedCertificate refuses a verified client certificate that no
// rule maps to an identity.
var ErrUnmappedCertificate = errors.New("client certificate matches no tls.identities rule; send an API key or ask an admin to map it")

// A CertRule maps client certificates to an identity: it matches a
// certificate when every matcher it sets matches (SubjectCN the subject's
// common name; SAN one of its DNS names, e-mail addresses or URIs; OU one
// of the subject's organizational units). Actor is the actor; empty means
// the certificate's common name.
type CertRule struct {
	SubjectCN, SAN, OU string
	Actor, Role        string
}

// CertMap maps verified client certificates to identities, by the first
// rule that matches. It is safe for concurrent use (it never changes).
type CertMap struct{ rules []CertRule }

// NewCertMap returns a CertMap of rules, in order of precedence.
func NewCertMap(rules []CertRule) *CertMap { return &CertMap{rules: slices.Clone(rules)} }

// Identity returns the identity of cert, which the TLS handshake has
// verified against the client CAs, or ErrUnmappedCertificate. Its
// Certificate field is the subject and the SHA-256 of the certificate.
func (m *CertMap) Identity(cert *x509.Certificate) (Identity, error) {
	for _, r := range m.rules {
		if !r.matches(cert) {
			continue
		}
		actor := r.Actor
		if actor == "" {
			actor = cert.Subject.CommonName
		}
		if actor == "" || !ValidRole(r.Role) {
			continue
		}
		sum := sha256.Sum256(cert.Raw)
		return Identity{Actor: actor, Role: r.Role, Source: SourceCertificate,
			Certificate: cert.Subject.String() + " sha256:" + hex.EncodeToString(sum[:])}, nil
	}
	return Identity{}, ErrUnmappedCertificate
}

func (r CertRule) matches(c *x509.Certificate) bool {
	if r.SubjectCN != "" && c.Subject.CommonName != r.SubjectCN {
		return false
	}
	if r.OU != "" && !slices.Contains(c.Subject.OrganizationalUnit, r.OU) {
		return false
	}
	if r.SAN != "" {
		found := slices.Contains(c.DNSNames, r.SAN) || slices.Contains(c.EmailAddresses, r.SAN)
		for _, u := range c.URIs {
			found = found || u.String() == r.SAN
		}
		if !found {
			return false
		}
	}
	return true
}

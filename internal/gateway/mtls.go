package gateway

import (
	"net/http"

	"github.com/aitrail/aitrail/internal/identity"
)

// certIdentity returns the identity of the client certificate the TLS
// handshake verified, if there is one (found), mapped by
// Options.Certificates.
func (s *Server) certIdentity(r *http.Request) (id identity.Identity, found bool, err error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return identity.Identity{}, false, nil
	}
	if s.opts.Certificates == nil {
		return identity.Identity{}, true, identity.ErrUnmappedCertificate
	}
	id, err = s.opts.Certificates.Identity(r.TLS.VerifiedChains[0][0])
	return id, true, err
}

// addCertDetail notes in a model call's request record detail that a
// client certificate identified the caller, and which (its subject and
// fingerprint), since the sealed fields name only the actor it maps to.
func addCertDetail(detail map[string]any, id identity.Identity) {
	if id.Source == identity.SourceCertificate {
		detail["auth"], detail["certificate"] = id.Source, id.Certificate
	}
}

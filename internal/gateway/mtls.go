package gateway

import (
	"encoding/json"
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

// certDetail is the Detail of a model call's request record when the
// caller was identified by a client certificate: how, and which
// certificate (nil otherwise).
func certDetail(id identity.Identity) []byte {
	if id.Source != identity.SourceCertificate {
		return nil
	}
	b, _ := json.Marshal(map[string]string{"auth": id.Source, "certificate": id.Certificate})
	return b
}

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for subject (a server's when ip is set, else
// a client's) as a tls.Certificate and as PEM files of cert and key.
func (ca *testCA) issue(t *testing.T, subject pkix.Name, ip net.IP) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsClient returns a client that trusts ca and presents certs.
func tlsClient(ca *testCA, certs ...tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
}

// tlsCall is call through client; err is the transport's error.
func tlsCall(t *testing.T, client *http.Client, method, url, key, body string) (reply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// TestTLS serves HTTPS from tls.cert_file and tls.key_file, and takes
// client certificates signed by tls.client_ca_file as identities: a
// certificate that a rule maps (by CN, or by OU with the CN as actor)
// authenticates a call without a key, and the record says so; an unmapped
// certificate without a key is refused; a certificate of another CA fails
// the handshake; with client_auth: require a client without one does too.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, stranger := newCA(t, "aitrail test CA"), newCA(t, "another CA")
	_, srvCert, srvKey := ca.issue(t, pkix.Name{CommonName: "gateway"}, net.ParseIP("127.0.0.1"))
	alice, _, _ := ca.issue(t, pkix.Name{CommonName: "alice"}, nil)
	carol, _, _ := ca.issue(t, pkix.Name{CommonName: "carol", OrganizationalUnit: []string{"auditors"}}, nil)
	bob, _, _ := ca.issue(t, pkix.Name{CommonName: "bob"}, nil)
	mallory, _, _ := stranger.issue(t, pkix.Name{CommonName: "alice"}, nil)
	certFile := writeFile(t, filepath.Join(dir, "server.pem"), srvCert)
	keyFile := writeFile(t, filepath.Join(dir, "server.key"), srvKey)
	caFile := writeFile(t, filepath.Join(dir, "clients.pem"), ca.pem)
	tlsYAML := func(auth string) string {
		return "tls:\n  cert_file: " + certFile + "\n  key_file: " + keyFile + "\n  client_ca_file: " + caFile +
			"\n  client_auth: " + auth + "\n  identities:\n    - {subject_cn: alice, actor: alice@example.com, role: user}\n    - {ou: auditors, role: auditor}\n"
	}

	up := startUpstream(t)
	g := startGateway(t, gatewayConfig{Upstream: up.URL, Config: tlsYAML("request")})
	if !strings.HasPrefix(g.URL, "https://") {
		t.Fatalf("the gateway serves %s, want https://", g.URL)
	}
	chat := `{"model":"tiny","stream":false,"messages":[{"role":"user","content":"over tls"}]}`

	// A key over HTTPS, no certificate.
	if got, err := tlsCall(t, tlsClient(ca), "POST", g.URL+"/api/chat", g.AdminKey, chat); err != nil || got.status != 200 {
		t.Fatalf("a call with a key over HTTPS: %v %d %s", err, got.status, got.body)
	}
	// Alice's certificate, no key.
	got, err := tlsCall(t, tlsClient(ca, alice), "POST", g.URL+"/api/chat", "", chat)
	if err != nil || got.status != 200 {
		t.Fatalf("a call with alice's certificate: %v %d %s", err, got.status, got.body)
	}
	recs := g.records(t, got.header.Get("X-Request-Id"))
	if len(recs) == 0 || recs[0].Actor != "alice@example.com" || recs[0].Role != "user" {
		t.Fatalf("records of alice's call: %+v, want actor alice@example.com, role user", recs)
	}
	var detail struct{ Auth, Certificate string }
	if err := json.Unmarshal([]byte(recs[0].Detail), &detail); err != nil || detail.Auth != "client_certificate" ||
		!strings.Contains(detail.Certificate, "CN=alice") || !strings.Contains(detail.Certificate, "sha256:") {
		t.Errorf("request record's detail %s, want auth client_certificate and the certificate's subject and hash", recs[0].Detail)
	}
	// Carol's OU makes her an auditor (actor: her CN), who may not call models.
	got, err = tlsCall(t, tlsClient(ca, carol), "POST", g.URL+"/api/chat", "", chat)
	if err != nil || got.status != http.StatusForbidden {
		t.Errorf("a model call with carol's (auditor) certificate: %v %d %s, want 403", err, got.status, got.body)
	} else if recs := g.records(t, got.header.Get("X-Request-Id")); len(recs) != 1 || recs[0].Actor != "carol" || recs[0].Role != "auditor" || recs[0].Kind != "model.request" {
		t.Errorf("records of carol's refused call: %+v, want one naming carol, auditor", recs)
	}
	// Bob's certificate is valid but mapped by no rule.
	got, err = tlsCall(t, tlsClient(ca, bob), "POST", g.URL+"/api/chat", "", chat)
	if err != nil || got.status != http.StatusUnauthorized || !strings.Contains(string(got.body), "tls.identities") {
		t.Errorf("a call with an unmapped certificate: %v %d %s, want 401 naming tls.identities", err, got.status, got.body)
	}
	// A certificate of another CA, claiming to be alice.
	forced := tlsClient(ca)
	forced.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &mallory, nil // sent although the server asks for another CA's
	}
	if got, err := tlsCall(t, forced, "POST", g.URL+"/api/chat", "", chat); err == nil {
		t.Errorf("a certificate of another CA was accepted: %d %s", got.status, got.body)
	}

	// A renewed certificate in the same files is served after SIGHUP.
	serial := func() string {
		t.Helper()
		pool := x509.NewCertPool()
		pool.AddCert(ca.cert)
		conn, err := tls.Dial("tcp", strings.TrimPrefix(g.URL, "https://"), &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	old := serial()
	_, renewed, renewedKey := ca.issue(t, pkix.Name{CommonName: "gateway"}, net.ParseIP("127.0.0.1"))
	writeFile(t, certFile, renewed)
	writeFile(t, keyFile, renewedKey)
	g.signal(t, syscall.SIGHUP)
	eventually(t, "the renewed certificate served", func() (bool, string) {
		s := serial()
		return s != old, "serial " + s
	})
	if evs := events(t, g, "config.reloaded"); len(evs) != 1 || evs[0]["tls_certificate_sha256"] == nil {
		t.Errorf("config.reloaded events %v, want one naming the certificate's sha256", evs)
	}

	req := startGateway(t, gatewayConfig{Upstream: up.URL, Config: tlsYAML("require")})
	if got, err := tlsCall(t, tlsClient(ca), "POST", req.URL+"/api/chat", req.AdminKey, chat); err == nil {
		t.Errorf("client_auth: require accepted a client without a certificate: %d %s", got.status, got.body)
	}
	if got, err := tlsCall(t, tlsClient(ca, alice), "POST", req.URL+"/api/chat", "", chat); err != nil || got.status != 200 {
		t.Errorf("client_auth: require, alice's certificate: %v %d %s", err, got.status, got.body)
	}
}

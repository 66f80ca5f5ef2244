package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/gateway"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/retention"
	"github.com/aitrail/aitrail/internal/vault"
)

// newLogger returns serve's operational log on w, in the configured format,
// with its level in a variable that a reload can change.
func newLogger(cfg config.Config, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}

// logHealth follows whether the log can be written: the outcome of the
// latest append (every append goes through the ledger's observer).
type logHealth struct {
	mu     sync.Mutex
	failed error     // of the latest append, nil if it succeeded
	probed time.Time // of the latest probe while failed
}

func (h *logHealth) committed(err error) {
	h.mu.Lock()
	h.failed = err
	h.mu.Unlock()
}

// healthProbeEvery bounds how often a health check appends a probe while
// the log is failing: an unauthenticated /healthz must not write at will.
const healthProbeEvery = 5 * time.Second

// check returns the failure of the latest append, if no append succeeded
// since. While it fails, it appends a probe (a heartbeat) at most every
// healthProbeEvery, so that a log that can be written again is noticed
// without traffic.
func (h *logHealth) check(ctx context.Context, led *ledger.Ledger) error {
	h.mu.Lock()
	failed, probe := h.failed, h.failed != nil && time.Since(h.probed) >= healthProbeEvery
	if probe {
		h.probed = time.Now()
	}
	h.mu.Unlock()
	if !probe {
		return failed
	}
	r := record.NewEvent(record.KindHeartbeat, map[string]string{"probe": "health check after a failed append"})
	r.Actor, r.Role = "aitrail", identity.RoleAdmin
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return led.Append(ctx, &ledger.Entry{Record: r})
}

// health is serve's check behind /healthz: the log can be written and
// read, and its latest verification found it intact.
func health(al *auditLog, led *ledger.Ledger, lh *logHealth, integ *integrity) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := logReplaced(al); err != nil {
			return err
		}
		if err := lh.check(ctx, led); err != nil {
			return &gateway.Unhealthy{Reason: gateway.ReasonLogUnwritable, Err: err}
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := al.store.Head(ctx, al.logID); err != nil {
			return &gateway.Unhealthy{Reason: gateway.ReasonLogUnavailable, Err: err}
		}
		if integ.failed() {
			return &gateway.Unhealthy{Reason: gateway.ReasonIntegrityFailed, Err: errors.New("the background verification found the log altered")}
		}
		return nil
	}
}

// serverCert is the gateway's TLS certificate, which a reload may replace
// (a renewed certificate in the same files).
type serverCert struct {
	cert atomic.Pointer[tls.Certificate]
}

// load reads the certificate and its key from the files of cfg, and puts
// it in force for the TLS handshakes from now on. It returns the SHA-256 of
// the leaf certificate.
func (c *serverCert) load(cfg config.TLS) (string, error) {
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return "", withHint(fmt.Errorf("cannot load the TLS certificate %s and key %s: %w", cfg.CertFile, cfg.KeyFile, err),
			"tls.cert_file and tls.key_file must be a PEM certificate (chain) and its private key")
	}
	c.cert.Store(&cert)
	sum := sha256.Sum256(cert.Certificate[0])
	return hex.EncodeToString(sum[:]), nil
}

// serverTLS returns the TLS configuration of cfg.TLS, nil when the gateway
// serves plain HTTP, its certificate, and the map of client certificates
// to identities.
func serverTLS(cfg config.TLS) (*tls.Config, *serverCert, *identity.CertMap, error) {
	tc, certs, err := serverTLSConfig(cfg)
	if err != nil || tc == nil {
		return nil, nil, nil, err
	}
	sc := &serverCert{}
	if _, err := sc.load(cfg); err != nil {
		return nil, nil, nil, err
	}
	tc.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return sc.cert.Load(), nil }
	return tc, sc, certs, nil
}

func serverTLSConfig(cfg config.TLS) (*tls.Config, *identity.CertMap, error) {
	if !cfg.Enabled() {
		return nil, nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var certs *identity.CertMap
	if cfg.ClientCAFile != "" {
		b, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, nil, withHint(fmt.Errorf("cannot read the client CA file %s: %w", cfg.ClientCAFile, err),
				"tls.client_ca_file holds the PEM certificates of the CAs that sign client certificates")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, nil, withHint(fmt.Errorf("no PEM certificate in the client CA file %s", cfg.ClientCAFile),
				"tls.client_ca_file holds the PEM certificates of the CAs that sign client certificates")
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		if cfg.ClientCerts() == "require" {
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
		var rules []identity.CertRule
		for _, id := range cfg.Identities {
			rules = append(rules, identity.CertRule{SubjectCN: id.SubjectCN, SAN: id.SAN, OU: id.OU, Actor: id.Actor, Role: id.Role})
		}
		certs = identity.NewCertMap(rules)
	}
	return tc, certs, nil
}

// upstreamWatchEvery is how often serve probes the upstream, to log when
// it becomes unreachable and when it is back.
const upstreamWatchEvery = 30 * time.Second

// readyChecks are /readyz's checks besides the log and the upstream: the
// vault answers a read, when there is one.
func readyChecks(v retention.Vault) map[string]func(context.Context) error {
	vt, ok := v.(*vault.Vault)
	if !ok {
		return nil
	}
	return map[string]func(context.Context) error{"vault": func(ctx context.Context) error {
		_, err := vt.Expired(ctx, time.Unix(0, 0), 1)
		return err
	}}
}

package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/gateway"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/retention"
)

// reloadable reports whether a setting (by its key) is put in force by a
// reload; any other needs a restart.
func reloadable(key string) bool {
	switch key {
	case "log_level":
		return true
	case "retention.interval":
		return false
	}
	for _, p := range []string{"redact.", "retention.", "anchors.", "alerts."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// effective returns cur with the reloadable settings of next.
func effective(cur, next config.Config) config.Config {
	eff := cur
	eff.LogLevel = next.LogLevel
	eff.Redact = next.Redact
	eff.Anchors = next.Anchors
	eff.Alerts = next.Alerts
	interval := cur.Retention.Interval
	eff.Retention = next.Retention
	eff.Retention.Interval = interval
	return eff
}

// reloader puts a reloaded configuration in force in a running serve.
type reloader struct {
	load   func() (config.Config, error) // reads the configuration as serve's start did
	cfg    atomic.Pointer[config.Config] // the configuration in force
	al     *auditLog
	led    *ledger.Ledger
	gw     *gateway.Server
	auth   *identity.Authenticator
	cp     *ledger.Checkpointer
	cert   *serverCert      // nil without TLS
	purger retention.Purger // without its policy, which is taken from cfg
	level  *slog.LevelVar
	m      *metrics.Metrics
	log    *slog.Logger
}

// current returns the configuration in force.
func (r *reloader) current() config.Config { return *r.cfg.Load() }

// purge returns the purger with the retention policy in force.
func (r *reloader) purge() *retention.Purger {
	p := r.purger
	p.Policy = retention.Policy{Retention: r.current().Retention}
	return &p
}

// webhook returns the alert webhook in force.
func (r *reloader) webhook() string { return r.current().Alerts.Webhook }

// onSIGHUP reloads on every SIGHUP until ctx ends.
func (r *reloader) onSIGHUP(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload(ctx)
		}
	}
}

// notifyHUP starts delivering SIGHUP to a channel (instead of ending the
// process), until stop is called.
func notifyHUP() (hup chan os.Signal, stop func()) {
	hup = make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup, func() { signal.Stop(hup) }
}

// reload reads the configuration again and puts what can change in force:
// the redaction rules, the retention policy (not its interval), the
// anchors, the alert webhook, the log level and the TLS certificate (read
// again from its files); and it forgets the cached keys. Settings that need a restart are reported, not applied. The
// change is recorded (config.reloaded) before it takes effect; a
// configuration that does not load or validate is refused and recorded as
// config.reload_failed, and the one in force stays.
func (r *reloader) reload(ctx context.Context) {
	cur := r.current()
	r.log.Info("SIGHUP: reloading the configuration", "config_file", cur.File)
	if r.load == nil {
		r.refuse(ctx, cur, "this command cannot reload its configuration", nil)
		return
	}
	next, err := r.load()
	if err != nil {
		r.refuse(ctx, cur, "invalid configuration", err)
		return
	}
	red, err := newRedactor(next.Redact)
	if err != nil {
		r.refuse(ctx, cur, "invalid redaction rules", err)
		return
	}
	eff := effective(cur, next)
	eff.Sources = next.Sources
	probe := *r.al
	probe.cfg = eff
	anchors, err := probe.anchors()
	if err != nil {
		r.refuse(ctx, cur, "invalid anchors", err)
		return
	}
	changed := cur.Changed(eff)
	restart := slices.DeleteFunc(eff.Changed(next), reloadable)
	detail := map[string]any{
		"sha256": eff.Hash(), "previous_sha256": cur.Hash(), "config_file": eff.File,
		"changed": nonNil(changed), "needs_restart": nonNil(restart),
	}
	var cert *serverCert
	if r.cert != nil {
		// The certificate files are read again (a renewed certificate);
		// it is put in force only once the event is recorded.
		cert = &serverCert{}
		sum, err := cert.load(eff.TLS)
		if err != nil {
			r.refuse(ctx, cur, "unreadable TLS certificate", err)
			return
		}
		detail["tls_certificate_sha256"] = sum
	}
	ev := record.NewEvent(record.KindConfigReloaded, detail)
	ev.Actor, ev.Role = "aitrail", identity.RoleAdmin
	if err := r.led.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		r.m.ConfigReload.WithLabelValues("refused").Inc()
		r.log.Error("configuration reload not applied: it cannot be recorded", "err", err)
		return
	}
	r.cfg.Store(&eff)
	r.gw.Reload(gateway.Live{Redactor: red, RawTTL: retention.Policy{Retention: eff.Retention}.LongestRaw()})
	r.cp.SetAnchors(anchors)
	if cert != nil {
		r.cert.cert.Store(cert.cert.Load())
	}
	r.auth.Flush()
	r.level.UnmarshalText([]byte(eff.LogLevel))
	r.m.ConfigReload.WithLabelValues("applied").Inc()
	r.log.Info("configuration reloaded", "sha256", eff.Hash(), "changed", strings.Join(changed, ","))
	if len(restart) > 0 {
		r.log.Warn("configuration reloaded: these settings need a restart and were not applied", "needs_restart", strings.Join(restart, ","))
	}
}

// refuse logs why a reloaded configuration was refused, and records that
// it was (without the message, which may quote a secret's value).
func (r *reloader) refuse(ctx context.Context, cur config.Config, why string, err error) {
	r.m.ConfigReload.WithLabelValues("refused").Inc()
	r.log.Error("configuration reload refused; the configuration in force stays", "reason", why, "err", err, "sha256", cur.Hash())
	ev := record.NewEvent(record.KindConfigReloadFailed, map[string]any{
		"reason": why, "config_file": cur.File, "sha256_in_force": cur.Hash()})
	ev.Actor, ev.Role = "aitrail", identity.RoleAdmin
	if err := r.led.Append(ctx, &ledger.Entry{Record: ev}); err != nil {
		r.log.Error("cannot record the refused reload", "err", err)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

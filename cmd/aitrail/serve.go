package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/gateway"
	"github.com/aitrail/aitrail/internal/identity"
	"github.com/aitrail/aitrail/internal/ledger"
	"github.com/aitrail/aitrail/internal/metrics"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/retention"
	"github.com/aitrail/aitrail/internal/store"
	"github.com/aitrail/aitrail/internal/vault"
)

// vaultLinger is how long the background vault queue gathers raw bodies
// into one commit. At low load it turns one vault fsync per body into one
// per linger; at high load batches fill before it passes.
const vaultLinger = 10 * time.Millisecond

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	load := configFlags(fs, e)
	fs.String("listen", "", "`address` to listen on (default 127.0.0.1:8080)")
	fs.String("upstream", "", "model server `URL` (default http://127.0.0.1:11434)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	e.reload = load
	err = serve(ctx, e, cfg, nil)
	if err != nil && ctx.Err() != nil {
		// serve returns nil when stopped once serving: this stop came
		// during start-up, and cut short whatever it was doing.
		return errors.New("stopped during start-up, before serving any call (a signal)")
	}
	return err
}

// serve runs the gateway until ctx ends. ready, if set, is called with the
// listening address once calls are accepted.
func serve(ctx context.Context, e *env, cfg config.Config, ready func(addr string)) error {
	logger, level := newLogger(cfg, e.stderr)
	ctx = store.WithLogger(ctx, logger) // the store reports migrations
	began := time.Now()
	// SIGHUP reloads the configuration from now on, instead of ending serve.
	hup, stopHUP := notifyHUP()
	defer stopHUP()
	tlsConf, srvCert, certs, err := serverTLS(cfg.TLS)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return withHint(fmt.Errorf("cannot create the data directory %s: %w", cfg.Data, err),
			"choose a writable directory with --data DIR or AITRAIL_DATA")
	}
	unlock, err := lockDir(cfg.Data)
	if err != nil {
		return err
	}
	defer unlock()
	if err := checkJoined(ctx, cfg); err != nil {
		return err
	}
	al, err := openLog(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer al.Close()
	if err := continueAfterRestore(ctx, al, logger); err != nil {
		return err
	}
	node, err := joinFleet(ctx, al)
	if err != nil {
		return err
	}
	// The lease is kept until everything is written, the last checkpoint
	// included; it ends before the store closes.
	leaseLost := make(chan error, 1)
	if node != nil {
		leaseCtx, endLease := context.WithCancel(context.Background())
		leaseDone := make(chan struct{})
		go func() {
			defer close(leaseDone)
			if err := node.Run(leaseCtx); err != nil {
				leaseLost <- err
			}
		}()
		defer func() { endLease(); <-leaseDone }()
	}
	if err := config.WriteServeRecord(cfg); err != nil {
		return err
	}

	m := metrics.New()
	cp, err := al.checkpointer()
	if err != nil {
		return err
	}
	lh := &logHealth{}
	observer := &ledgerObserver{Metrics: m, every: cfg.Checkpoint.Records, trigger: make(chan struct{}, 1), health: lh}
	led := ledger.New(al.store, al.logID, ledger.Options{Observer: observer})
	defer led.Close()
	system := identity.Identity{Actor: "aitrail", Role: identity.RoleAdmin}

	if err := startEvents(ctx, al, led, system, cfg, logger); err != nil {
		return withHint(fmt.Errorf("cannot write to the audit log: %w", err),
			"aitrail refuses to serve calls it cannot record; check the database and its disk")
	}

	redactor, err := newRedactor(cfg.Redact)
	if err != nil {
		return err
	}
	var raw gateway.Vault
	var rawReader gateway.RawReader
	var rawQueue *vault.Queue
	var shredder retention.Vault
	if cfg.Bodies == "full" || hasVault(cfg) {
		// The vault is open for the purge even when no longer filled.
		v, closeVault, err := openVault(ctx, e, cfg, cfg.Bodies == "full")
		if err != nil {
			return err
		}
		defer closeVault()
		shredder = v
	}
	if v, ok := shredder.(*vault.Vault); ok && cfg.Bodies == "full" {
		raw, rawReader = v, v
		if !cfg.Vault.Sync {
			rawQueue = vault.NewQueue(v, 4096, vaultLinger, func(err error) {
				m.VaultFailures.Inc()
				logger.Error("raw vault seal failed; the raw body of a call is lost (its record is not)", "err", err)
			})
			defer rawQueue.Close() // on every return; a second Close is a no-op
			raw = rawQueue
		}
	}
	integ := &integrity{}
	upstream, _ := url.Parse(cfg.Upstream)
	auth := identity.NewAuthenticator(al.store, cfg.Trusted())
	gw := gateway.New(gateway.Options{
		Upstream:         upstream,
		UpstreamAPIKey:   cfg.UpstreamAPIKey,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		MaxInflightBytes: cfg.MaxInflightBytes,
		RequireReason:    cfg.RequireReason,
		Timeouts:         cfg.Timeouts,
		ModelCacheTTL:    cfg.ModelCacheTTL,
		Health:           health(al, led, lh, integ),

		Integrity: integ.snapshot,
		Redactor:  redactor,
		PII:       al.pii,
		Vault:     raw,
		LogID:     al.logID,
		RawTTL:    retention.Policy{Retention: cfg.Retention}.LongestRaw(),
		NoBodies:  cfg.Bodies == "none",
		RawReader: rawReader,
		Records:   al.store,
		Holds:     &retention.Keeper{Store: al.store, Ledger: led},

		Checks:       readyChecks(shredder),
		MetricsAuth:  cfg.MetricsAuth,
		Certificates: certs,
	}, led, auth, al.store, al.committer, m, logger)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err),
			"another process may hold the port; choose another with --listen ADDR")
	}
	scheme := "http://"
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
		scheme = "https://"
	}
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: cfg.Timeouts.ReadHeader,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// The first admin key is made once the listener is bound (a gateway
	// that cannot listen makes none, and a later start still shows it),
	// and is durable before any call is served.
	adminKey, err := firstAdminKey(ctx, al, led)
	if err != nil {
		ln.Close()
		return err
	}
	if adminKey != "" {
		printAdminKey(e, adminKey, cfg.Data)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// Checkpoints and heartbeats run until the calls in flight are done.
	bg, stopBG := context.WithCancel(context.Background())
	var bgDone sync.WaitGroup
	bgDone.Add(6)
	rl := &reloader{load: e.reload, al: al, led: led, gw: gw, auth: auth, cp: cp, cert: srvCert, level: level, m: m, log: logger,
		purger: retention.Purger{Store: al.store, Ledger: led, Vault: shredder, Actor: system.Actor, Role: system.Role}}
	rl.cfg.Store(&cfg)
	go func() { defer bgDone.Done(); rl.onSIGHUP(bg, hup) }()
	go func() { defer bgDone.Done(); gw.WatchUpstream(bg, upstreamWatchEvery) }()
	go func() {
		defer bgDone.Done()
		purgeOnSchedule(bg, rl.purge, cfg.Retention.Interval, &integ.busy, func() { signOnce(bg, cp, m, logger) }, m, logger)
	}()
	go func() {
		defer bgDone.Done()
		watchIntegrity(bg, al, cfg.Verify.Interval, cfg.Verify.FullInterval, rl.webhook, integ, m, logger)
	}()
	go func() {
		defer bgDone.Done()
		signCheckpoints(bg, cp, observer.trigger, cfg.Checkpoint.Interval, m, logger)
	}()
	go func() { defer bgDone.Done(); heartbeats(bg, led, cfg.Heartbeat, logger) }()
	bgDone.Add(1)
	go func() { defer bgDone.Done(); watchLogFile(bg, al, rl.webhook, logger) }()
	if node != nil {
		bgDone.Add(1)
		go func() {
			defer bgDone.Done()
			fleetCheckpoints(bg, node, fleetInterval(cfg.Checkpoint.Interval), logger)
		}()
	}
	defer func() { stopBG(); bgDone.Wait() }()
	addr := ln.Addr().String()
	logger.Info("aitrail serving", "listen", scheme+addr, "upstream", cfg.Upstream,
		"database", cfg.Redacted().Database, "data", cfg.Data, "node", al.logID, "started_in", time.Since(began).Round(time.Millisecond))
	if ready != nil {
		ready(addr)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case err := <-leaseLost:
		// Another gateway may write the log now: stop at once, writing
		// nothing more (calls in flight are cut off and not recorded).
		srv.Close()
		return withHint(fmt.Errorf("stopped serving node %q: %w", al.logID, err),
			"check the database connection and that no other gateway was started with this --node; then start this one again")
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing calls in flight", "timeout", cfg.Timeouts.Shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Timeouts.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("calls still in flight at the shutdown timeout; closing them", "err", err)
		srv.Close()
	}
	// Handlers may still be recording the outcome of closed calls.
	gw.Wait()
	if rawQueue != nil {
		rawQueue.Close() // every raw body queued is sealed before the vault closes
	}
	stop := record.NewEvent(record.KindGatewayStopped, map[string]string{"reason": "signal"})
	stop.Actor, stop.Role = system.Actor, system.Role
	if err := led.Append(context.Background(), &ledger.Entry{Record: stop}); err != nil {
		logger.Error("cannot record the shutdown", "err", err)
	}
	stopBG()
	bgDone.Wait()
	led.Close()
	// The last checkpoint covers everything, the shutdown included.
	signOnce(context.Background(), cp, m, logger)
	logger.Info("aitrail stopped")
	return nil
}

// startEvents records the start, and marks calls a previous run left
// unfinished (a crash) as interrupted.
func startEvents(ctx context.Context, al *auditLog, led *ledger.Ledger, system identity.Identity, cfg config.Config, logger *slog.Logger) error {
	var entries []*ledger.Entry
	add := func(r *record.Record) {
		r.Actor, r.Role = system.Actor, system.Role
		entries = append(entries, &ledger.Entry{Record: r})
	}
	red := cfg.Redacted()
	v := currentVersion()
	add(record.NewEvent(record.KindGatewayStarted, map[string]any{
		"version": v.Version, "revision": v.Revision, "modified": v.Modified, "go_version": v.GoVersion, "listen": red.Listen, "upstream": red.Upstream, "database": red.Database,
		"node": red.Node, "config_file": red.File, "require_reason": red.RequireReason,
		"trusted_proxies": red.TrustedProxies, "max_body_bytes": red.MaxBodyBytes, "max_inflight_bytes": red.MaxInflightBytes,
		"heartbeat": red.Heartbeat.String(), "bodies": red.Bodies, "retention": retentionSummary(red.Retention),
		"config_sha256": cfg.Hash(), "tls": cfg.TLS.Enabled(), "client_certificates": cfg.TLS.ClientCerts(),
	}))
	unanswered, err := al.store.Unanswered(ctx, al.logID)
	if err != nil {
		return err
	}
	if len(unanswered) > 0 {
		logger.Info(fmt.Sprintf("aitrail: marking %d interrupted calls", len(unanswered)), "first_seq", unanswered[0])
	}
	for _, seq := range unanswered {
		r := record.NewEvent(record.KindInterrupted, map[string]any{
			"request_seq": seq, "cause": "the gateway stopped before this call finished (crash or kill)"})
		r.Status = record.StatusInterrupted
		r.RequestSeq = seq
		add(r)
	}
	return led.Append(ctx, entries...)
}

// retentionSummary states the retention policy, layer by layer.
func retentionSummary(r config.Retention) map[string]string {
	p := retention.Policy{Retention: r}
	out := map[string]string{"interval": r.Interval.String()}
	for _, layer := range []string{record.LayerSealed, record.LayerRedacted, record.LayerRaw, record.LayerPII} {
		out[layer] = p.Describe(layer)
	}
	return out
}

// firstAdminKey creates an admin key when there are no keys yet, and
// returns its text ("" when there were keys).
func firstAdminKey(ctx context.Context, al *auditLog, led *ledger.Ledger) (string, error) {
	keys, err := al.store.Keys(ctx)
	if err != nil {
		return "", fmt.Errorf("list keys: %w", err)
	}
	if len(keys) > 0 {
		return "", nil
	}
	return createKey(ctx, al, led, "admin", identity.RoleAdmin, identity.Identity{Actor: "aitrail", Role: identity.RoleAdmin})
}

// printAdminKey shows the first admin key, once.
func printAdminKey(e *env, text, data string) {
	fmt.Fprintf(e.stdout, "aitrail: created the first admin key; it is shown only this once:\n\n    %s\n\n", text)
	fmt.Fprintf(e.stdout, "Use it as a bearer token (OpenAI SDK: api_key=KEY; Ollama clients: header 'Authorization: Bearer KEY'), "+
		"and make per-application keys with: aitrail keys create --actor NAME --role user --data %s\n\n", data)
}

// lockDir takes an exclusive lock on the data directory, so that two
// gateways never write one SQLite log (each would take the other's calls in
// flight for interrupted ones).
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "serve.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, withHint(fmt.Errorf("another aitrail serve is using %s", dir),
				"stop it first, or give this one its own --data directory")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

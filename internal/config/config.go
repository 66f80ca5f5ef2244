// Package config loads aitrail's configuration: defaults that run with no
// file at all, a YAML file, then AITRAIL_* environment variables, then
// command-line flags, each overriding the one before. Validate reports every
// problem with the setting's name.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. The yaml names are the file's keys.
type Config struct {
	// Listen is the gateway's address. The default is loopback only.
	Listen string `yaml:"listen"`
	// Upstream is the model server's base URL (Ollama or any
	// OpenAI-compatible server).
	Upstream string `yaml:"upstream"`
	// UpstreamAPIKey, if set, is sent to the upstream as a bearer token in
	// place of the caller's aitrail key (which is never forwarded).
	UpstreamAPIKey string `yaml:"upstream_api_key"`
	// Data is the directory of the SQLite log and the key files.
	Data string `yaml:"data"`
	// Database is "sqlite" (the default: Data/audit.db) or a PostgreSQL URL
	// (postgres://...).
	Database string `yaml:"database"`
	// Node names this gateway's log. Gateways sharing one PostgreSQL
	// database should each have their own.
	Node string `yaml:"node"`
	// MaxBodyBytes limits a request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxInflightBytes bounds the request bodies held at once, all calls
	// together; a call whose body would take the total beyond it is
	// refused (503). At least MaxBodyBytes.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`
	// RequireReason refuses model calls that carry no reason for access.
	RequireReason bool `yaml:"require_reason"`
	// TrustedProxies are networks (CIDR) whose X-Actor-Id, X-Actor-Role and
	// X-Forwarded-For headers are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Timeouts.
	Timeouts Timeouts `yaml:"timeouts"`
	// ModelCacheTTL is how long a model's digest from the upstream is kept.
	ModelCacheTTL time.Duration `yaml:"model_cache_ttl"`
	// LogLevel of the operational log on stderr: debug, info, warn, error.
	LogLevel string `yaml:"log_level"`
	// Checkpoint says how often the log's Merkle root is signed.
	Checkpoint Checkpoint `yaml:"checkpoint"`
	// Anchors are where signed checkpoints are copied outside the database.
	Anchors Anchors `yaml:"anchors"`
	// Heartbeat is the interval of heartbeat events, which show that the
	// gateway was running and recording even without traffic (0: none).
	Heartbeat time.Duration `yaml:"heartbeat"`
	// Bodies says what is kept of prompts and answers: "full" (the redacted
	// text in the log and the raw text encrypted in the vault, the
	// default), "redacted" (the redacted text only) or "none" (only the
	// sealed hashes).
	Bodies string `yaml:"bodies"`
	// Vault configures the encrypted store of raw bodies (bodies: full).
	Vault Vault `yaml:"vault"`
	// Redact configures what is redacted from stored bodies.
	Redact Redact `yaml:"redact"`
	// Verify configures the verification serve runs in the background.
	Verify Verify `yaml:"verify"`
	// Alerts configures where alerts go.
	Alerts Alerts `yaml:"alerts"`
	// Retention says how long each layer of the log is kept.
	Retention Retention `yaml:"retention"`
	// LogKeys are verifier keys of other logs to trust when verifying (the
	// other gateways sharing a PostgreSQL database). The local log's key is
	// always trusted.
	LogKeys []string `yaml:"log_keys"`

	// Operations: the operational log's format, who may read /metrics,
	// and TLS (see ops.go).
	LogFormat   string `yaml:"log_format"`
	MetricsAuth bool   `yaml:"metrics_auth"`
	TLS         TLS    `yaml:"tls"`

	// File is the configuration file loaded, if any (not a setting).
	File string `yaml:"-"`
	// Sources says where each setting that is not a default came from,
	// by its key (see Settings); not a setting.
	Sources map[string]Source `yaml:"-"`
}

// Timeouts bound every wait on the network.
type Timeouts struct {
	// UpstreamConnect bounds connecting to the upstream.
	UpstreamConnect time.Duration `yaml:"upstream_connect"`
	// UpstreamHeaders bounds the wait for the upstream's response headers
	// (a model may take long to load).
	UpstreamHeaders time.Duration `yaml:"upstream_headers"`
	// StreamIdle bounds the silence between two streamed chunks.
	StreamIdle time.Duration `yaml:"stream_idle"`
	// ClientWrite bounds how long one write to a slow client may block.
	ClientWrite time.Duration `yaml:"client_write"`
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration `yaml:"read_header"`
	// ReadBody bounds reading a request's body.
	ReadBody time.Duration `yaml:"read_body"`
	// Shutdown bounds the wait for calls in flight at shutdown.
	Shutdown time.Duration `yaml:"shutdown"`
}

// Checkpoint configures signed checkpoints.
type Checkpoint struct {
	// Interval is the longest a new record waits to be covered by a signed
	// checkpoint.
	Interval time.Duration `yaml:"interval"`
	// Records signs a checkpoint as soon as this many records are new.
	Records int64 `yaml:"records"`
}

// Redact configures redaction: per type an action (redact, the default;
// block: the call is refused; allow: kept in clear), custom regular
// expressions and dictionaries of terms, and the default phone region.
type Redact struct {
	Actions       map[string]string  `yaml:"actions"`
	Rules         []RedactRule       `yaml:"rules"`
	Dictionaries  []RedactDictionary `yaml:"dictionaries"`
	DefaultRegion string             `yaml:"default_region"`
}

// RedactRule is a custom recognizer: a regular expression (RE2) and the
// type name its matches get (upper case, e.g. EMPLOYEE_ID).
type RedactRule struct {
	Type    string `yaml:"type"`
	Pattern string `yaml:"pattern"`
}

// RedactDictionary is a list of terms (project code names, client names)
// redacted as Type wherever they appear as whole words.
type RedactDictionary struct {
	Type          string   `yaml:"type"`
	Terms         []string `yaml:"terms"`
	CaseSensitive bool     `yaml:"case_sensitive"`
}

// Vault configures the raw vault.
type Vault struct {
	// KeyFile holds the master key (64 hex digits); AITRAIL_VAULT_KEY, if
	// set, is used instead. Default DATA/vault.key, made on first start.
	KeyFile string `yaml:"key_file"`
	// Sync makes each call wait until its raw body is durable in the vault.
	// By default raw bodies are sealed in the background (the log, which
	// commits to them by hash, is durable either way), and a crash may lose
	// the last moments of raw text.
	Sync bool `yaml:"sync"`
}

// Retention is the layered retention policy: how long each layer of a
// record is kept after the record's time, and how often serve purges what
// is past it. Overrides change some layers for some records: the first
// override that matches a record applies, layer by layer (a layer it does
// not set keeps the default).
type Retention struct {
	// Layers is the default policy.
	Layers `yaml:",inline"`
	// Overrides, in order of precedence.
	Overrides []RetentionOverride `yaml:"overrides"`
	// Interval is how often serve runs the purge (0: never; run
	// "aitrail retention run" instead).
	Interval time.Duration `yaml:"interval"`
	// Batch is how many records one erasure event names and one
	// transaction deletes at most.
	Batch int `yaml:"batch"`
	// WriteTime is about how long one of the purge's transactions may
	// hold the database: the purge cuts its batches into pieces that
	// take about this long (it learns how many rows that is as it goes).
	// On SQLite the gateway's appends wait behind any other write, so
	// this bounds what a purge adds to a call.
	WriteTime time.Duration `yaml:"write_time"`
	// WriteShare is the most of its running time (0 to 1) that a purge
	// spends writing: after each piece it rests, so that the gateway's
	// appends seldom find a purge's write in their way. 1 purges at full
	// speed.
	WriteShare float64 `yaml:"write_share"`
}

// Layers are the retention periods of the four layers of a record. A zero
// Period in an override means "as the default".
type Layers struct {
	// Sealed: the record itself (hashes, attribution, metadata, no body).
	// When it passes, records are pruned from the start of the log.
	Sealed Period `yaml:"sealed"`
	// Redacted: the redacted body stored in the log.
	Redacted Period `yaml:"redacted"`
	// Raw: the raw body in the encrypted vault (its data key is destroyed).
	Raw Period `yaml:"raw"`
	// PII: the entries of the PII index (keyed MACs of found values).
	PII Period `yaml:"pii"`
}

// RetentionOverride changes the periods of the records of a role or a
// model (or both: then both must match).
type RetentionOverride struct {
	Role   string `yaml:"role"`
	Model  string `yaml:"model"`
	Layers `yaml:",inline"`
}

// Verify configures background verification.
type Verify struct {
	// Interval between incremental verifications of the new records (0: none).
	Interval time.Duration `yaml:"interval"`
	// FullInterval is how often the whole log is verified again, which
	// catches changes to records verified before.
	FullInterval time.Duration `yaml:"full_interval"`
}

// Alerts configures alerting.
type Alerts struct {
	// Webhook is a URL that gets a JSON POST when verification fails.
	Webhook string `yaml:"webhook"`
}

// Anchors configures where checkpoints are copied.
type Anchors struct {
	// Files are append-only files, best on another volume or machine. The
	// default is DATA/anchor.jsonl, which guards against edits of the
	// database only; put one elsewhere too.
	Files []string `yaml:"files"`
	// Witnesses are HTTP witnesses (C2SP tlog-witness) that check each
	// checkpoint's consistency with the last one they saw, and cosign it.
	Witnesses []Witness `yaml:"witnesses"`
}

// Witness is one HTTP witness.
type Witness struct {
	URL string `yaml:"url"` // its base URL (POST URL/add-checkpoint)
	Key string `yaml:"key"` // its cosignature verifier key
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:           "127.0.0.1:8080",
		Upstream:         "http://127.0.0.1:11434",
		Data:             "./aitrail-data",
		Database:         "sqlite",
		Node:             "main",
		MaxBodyBytes:     32 << 20,
		MaxInflightBytes: 256 << 20,
		Timeouts: Timeouts{
			UpstreamConnect: 10 * time.Second,
			UpstreamHeaders: 10 * time.Minute,
			StreamIdle:      5 * time.Minute,
			ClientWrite:     30 * time.Second,
			ReadHeader:      10 * time.Second,
			ReadBody:        2 * time.Minute,
			Shutdown:        30 * time.Second,
		},
		ModelCacheTTL: time.Minute,
		LogLevel:      "info",
		Checkpoint:    Checkpoint{Interval: 10 * time.Second, Records: 1000},
		Heartbeat:     time.Minute,
		Verify:        Verify{Interval: 5 * time.Minute, FullInterval: time.Hour},
		Bodies:        "full",
		LogFormat:     "text",
		Retention: Retention{
			Layers: Layers{
				Sealed:   MustPeriod("7y"),
				Redacted: MustPeriod("1y"),
				Raw:      MustPeriod("90d"),
				PII:      MustPeriod("1y"),
			},
			Interval:   time.Hour,
			Batch:      200,
			WriteTime:  2 * time.Millisecond,
			WriteShare: 0.5,
		},
	}
}

// Env lists the environment variables read, each with the key it sets.
var Env = map[string]string{
	"AITRAIL_LISTEN":             "listen",
	"AITRAIL_UPSTREAM":           "upstream",
	"AITRAIL_UPSTREAM_API_KEY":   "upstream_api_key",
	"AITRAIL_DATA":               "data",
	"AITRAIL_DATABASE":           "database",
	"AITRAIL_NODE":               "node",
	"AITRAIL_REQUIRE_REASON":     "require_reason",
	"AITRAIL_LOG_LEVEL":          "log_level",
	"AITRAIL_BODIES":             "bodies",
	"AITRAIL_LOG_FORMAT":         "log_format",
	"AITRAIL_METRICS_AUTH":       "metrics_auth",
	"AITRAIL_MAX_INFLIGHT_BYTES": "max_inflight_bytes",
}

// Load returns the defaults overridden by the file (if path is not "") and
// then by the environment given as a lookup function (os.LookupEnv).
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	return LoadFrom(Source{Kind: SourceFile, Name: path}, lookup)
}

// LoadFrom is Load with the file given as a Source (Name is its path, ""
// for none), so that the settings it sets are shown as coming from it.
func LoadFrom(file Source, lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	if path := file.Name; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		c.File = path
		if err := c.noteFile(b, file); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for env, key := range Env {
		v, ok := lookup(env)
		if !ok {
			continue
		}
		if err := c.SetFrom(key, v, Source{Kind: SourceEnv, Name: env}); err != nil {
			return c, fmt.Errorf("%s: %w", env, err)
		}
	}
	return c, nil
}

// SetFrom sets one setting as Set does, and records where its value came
// from.
func (c *Config) SetFrom(key, v string, src Source) error {
	if err := c.Set(key, v); err != nil {
		return err
	}
	c.note(key, src)
	return nil
}

// Set sets one setting by its file key, as flags and the environment do.
func (c *Config) Set(key, v string) error {
	switch key {
	case "listen":
		c.Listen = v
	case "upstream":
		c.Upstream = v
	case "upstream_api_key":
		c.UpstreamAPIKey = v
	case "data":
		c.Data = v
	case "database":
		c.Database = v
	case "node":
		c.Node = v
	case "max_inflight_bytes":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("max_inflight_bytes: %q is not a number of bytes", v)
		}
		c.MaxInflightBytes = n
	case "require_reason":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("require_reason: %q is not true or false", v)
		}
		c.RequireReason = b
	case "log_level":
		c.LogLevel = v
	case "bodies":
		c.Bodies = v
	case "log_format":
		c.LogFormat = v
	case "metrics_auth":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("metrics_auth: %q is not true or false", v)
		}
		c.MetricsAuth = b
	default:
		return fmt.Errorf("unknown setting %q", key)
	}
	return nil
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := netip.ParseAddrPort(c.Listen); err != nil {
		if host, port, ok := strings.Cut(c.Listen, ":"); !ok || port == "" || strings.Contains(host, " ") {
			bad("listen: %q is not HOST:PORT", c.Listen)
		}
	}
	if u, err := url.Parse(c.Upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("upstream: %q is not an http:// or https:// URL", c.Upstream)
	}
	if c.Database != "sqlite" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		bad("database: %q is neither sqlite nor a postgres:// URL", c.Database)
	}
	if c.Data == "" {
		bad("data: empty")
	}
	if c.Node == "" || strings.ContainsAny(c.Node, " \t\n/") {
		bad("node: %q must be a non-empty name without spaces or slashes", c.Node)
	}
	if c.MaxInflightBytes < c.MaxBodyBytes {
		bad("max_inflight_bytes: must be at least max_body_bytes")
	}
	if c.MaxBodyBytes <= 0 {
		bad("max_body_bytes: must be positive")
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad("trusted_proxies: %q is not a network (CIDR) or address", p)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	for name, d := range map[string]time.Duration{
		"upstream_connect": c.Timeouts.UpstreamConnect, "upstream_headers": c.Timeouts.UpstreamHeaders,
		"stream_idle": c.Timeouts.StreamIdle, "client_write": c.Timeouts.ClientWrite,
		"read_header": c.Timeouts.ReadHeader, "read_body": c.Timeouts.ReadBody, "shutdown": c.Timeouts.Shutdown,
	} {
		if d <= 0 {
			bad("timeouts.%s: must be positive", name)
		}
	}
	if c.Checkpoint.Interval <= 0 {
		bad("checkpoint.interval: must be positive")
	}
	if c.Checkpoint.Records <= 0 {
		bad("checkpoint.records: must be positive")
	}
	for i, w := range c.Anchors.Witnesses {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("anchors.witnesses[%d].url: %q is not an http:// or https:// URL", i, w.URL)
		}
		if w.Key == "" {
			bad("anchors.witnesses[%d].key: the witness's verifier key is required", i)
		}
	}
	switch c.Bodies {
	case "full", "redacted", "none":
	default:
		bad("bodies: %q is not full, redacted or none", c.Bodies)
	}
	errs = append(errs, c.Retention.validate()...)
	if c.Verify.Interval < 0 || c.Verify.FullInterval < 0 {
		bad("verify.interval and verify.full_interval: must not be negative")
	}
	if w := c.Alerts.Webhook; w != "" {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.webhook: %q is not an http:// or https:// URL", w)
		}
	}
	if c.Heartbeat < 0 {
		bad("heartbeat: must not be negative")
	}
	errs = append(errs, c.validateOps()...)
	return errors.Join(errs...)
}

func (r *Retention) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	check := func(where string, l Layers, override bool) {
		for _, p := range []struct {
			name string
			p    Period
		}{{"sealed", l.Sealed}, {"redacted", l.Redacted}, {"raw", l.Raw}, {"pii", l.PII}} {
			if override && p.p.IsZero() {
				continue
			}
			if !p.p.Positive() {
				bad("%s.%s: must be a positive period (like 7y, 1y6mo, 90d)", where, p.name)
			}
		}
	}
	check("retention", r.Layers, false)
	for i, o := range r.Overrides {
		where := fmt.Sprintf("retention.overrides[%d]", i)
		if o.Role == "" && o.Model == "" {
			bad("%s: needs a role or a model to match", where)
		}
		check(where, o.Layers, true)
	}
	// No layer may outlive the record it belongs to.
	for _, sel := range r.Selectors() {
		l := r.For(sel.Role, sel.Model)
		for _, p := range []struct {
			name string
			p    Period
		}{{"redacted", l.Redacted}, {"raw", l.Raw}, {"pii", l.PII}} {
			if p.p.Approx() > l.Sealed.Approx() {
				bad("retention: for %s, %s (%s) outlives the sealed record (%s)", sel, p.name, p.p, l.Sealed)
			}
		}
	}
	if r.Interval < 0 {
		bad("retention.interval: must not be negative")
	}
	if r.Batch < 1 || r.Batch > 100_000 {
		bad("retention.batch: %d, want 1 to 100000 records", r.Batch)
	}
	if r.WriteTime < 100*time.Microsecond || r.WriteTime > time.Second {
		bad("retention.write_time: %v, want 100µs to 1s", r.WriteTime)
	}
	if !(r.WriteShare > 0 && r.WriteShare <= 1) {
		bad("retention.write_share: %v, want more than 0 and at most 1", r.WriteShare)
	}
	return errs
}

// A Selector names the records an override applies to ("" is any).
type Selector struct{ Role, Model string }

func (s Selector) String() string {
	switch {
	case s.Role == "" && s.Model == "":
		return "all other records"
	case s.Model == "":
		return "role " + s.Role
	case s.Role == "":
		return "model " + s.Model
	}
	return "role " + s.Role + " with model " + s.Model
}

// Selectors returns the overrides' selectors, then the default's.
func (r *Retention) Selectors() []Selector {
	out := make([]Selector, 0, len(r.Overrides)+1)
	for _, o := range r.Overrides {
		out = append(out, Selector{o.Role, o.Model})
	}
	return append(out, Selector{})
}

// For returns the periods that apply to a record of the given role and
// model.
func (r *Retention) For(role, model string) Layers {
	for _, o := range r.Overrides {
		if (o.Role == "" || o.Role == role) && (o.Model == "" || o.Model == model) {
			return r.Layers.With(o.Layers)
		}
	}
	return r.Layers
}

// With returns l with the periods o sets.
func (l Layers) With(o Layers) Layers {
	if !o.Sealed.IsZero() {
		l.Sealed = o.Sealed
	}
	if !o.Redacted.IsZero() {
		l.Redacted = o.Redacted
	}
	if !o.Raw.IsZero() {
		l.Raw = o.Raw
	}
	if !o.PII.IsZero() {
		l.PII = o.PII
	}
	return l
}

// Trusted returns the trusted networks.
func (c *Config) Trusted() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if pf, err := parsePrefix(p); err == nil {
			out = append(out, pf)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// DBPath returns the SQLite database file.
func (c *Config) DBPath() string { return filepath.Join(c.Data, "audit.db") }

// SigningKeyPath returns the file of the log's checkpoint signing key, and
// VerifierKeyPath that of its verifier key.
func (c *Config) SigningKeyPath() string  { return filepath.Join(c.Data, "log.key") }
func (c *Config) VerifierKeyPath() string { return filepath.Join(c.Data, "log.pub") }

// AnchorFiles returns the file anchors in force.
func (c *Config) AnchorFiles() []string {
	if len(c.Anchors.Files) > 0 {
		return c.Anchors.Files
	}
	return []string{filepath.Join(c.Data, "anchor.jsonl")}
}

// VaultKeyPath returns the file of the vault's master key, and VaultPath
// the vault's SQLite database (beside, not inside, the audit database).
func (c *Config) VaultKeyPath() string {
	if c.Vault.KeyFile != "" {
		return c.Vault.KeyFile
	}
	return filepath.Join(c.Data, "vault.key")
}
func (c *Config) VaultPath() string { return filepath.Join(c.Data, "vault.db") }

// PIIKeyPath returns the file of the PII index's key.
func (c *Config) PIIKeyPath() string { return filepath.Join(c.Data, "pii.key") }

// CommitmentKeyPath returns the file of the log's commitment key.
func (c *Config) CommitmentKeyPath() string { return filepath.Join(c.Data, "commitment.key") }

// Redacted returns the configuration with secrets replaced, for logs and for
// the gateway.started event.
func (c Config) Redacted() Config {
	if c.UpstreamAPIKey != "" {
		c.UpstreamAPIKey = Redacted
	}
	c.Database = redactURL(c.Database)
	c.Alerts.Webhook = redactWebhook(c.Alerts.Webhook)
	if len(c.Anchors.Witnesses) > 0 {
		ws := make([]Witness, len(c.Anchors.Witnesses))
		for i, w := range c.Anchors.Witnesses {
			w.URL = redactURL(w.URL)
			ws[i] = w
		}
		c.Anchors.Witnesses = ws
	}
	return c
}

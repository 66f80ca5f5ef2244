package config

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Redacted replaces a secret wherever a configuration is shown or logged.
const Redacted = "REDACTED"

// TLS configures HTTPS and client certificates.
//
// With CertFile and KeyFile the gateway serves HTTPS itself. With
// ClientCAFile it asks callers for a client certificate signed by one of
// those CAs (ClientAuth "request", the default once a CA is given: a
// certificate is optional; "require": the TLS handshake fails without
// one). A verified certificate identifies a caller that sends no API key:
// the first rule of Identities that matches it gives the actor and role.
type TLS struct {
	CertFile     string        `yaml:"cert_file"`
	KeyFile      string        `yaml:"key_file"`
	ClientCAFile string        `yaml:"client_ca_file"`
	ClientAuth   string        `yaml:"client_auth"`
	Identities   []TLSIdentity `yaml:"identities"`
}

// TLSIdentity maps client certificates to an identity. A rule matches a
// certificate when every matcher it sets matches: SubjectCN the subject's
// common name, SAN one of its DNS names, e-mail addresses or URIs, OU one
// of its subject's organizational units. Actor is the actor recorded; empty
// means the certificate's common name. Role is user, auditor or admin.
type TLSIdentity struct {
	SubjectCN string `yaml:"subject_cn"`
	SAN       string `yaml:"san"`
	OU        string `yaml:"ou"`
	Actor     string `yaml:"actor"`
	Role      string `yaml:"role"`
}

// Enabled reports whether the gateway serves HTTPS.
func (t *TLS) Enabled() bool { return t.CertFile != "" }

// ClientCerts returns how client certificates are asked for: "" (not at
// all), "request" or "require".
func (t *TLS) ClientCerts() string {
	if t.ClientCAFile == "" {
		return ""
	}
	if t.ClientAuth == "" {
		return "request"
	}
	return t.ClientAuth
}

func (c *Config) validateOps() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format: %q is not text or json", c.LogFormat)
	}
	t := &c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls.cert_file and tls.key_file: give both or neither")
	}
	if t.ClientCAFile != "" && t.CertFile == "" {
		bad("tls.client_ca_file: needs tls.cert_file and tls.key_file (client certificates need HTTPS)")
	}
	switch t.ClientAuth {
	case "", "request", "require":
	default:
		bad("tls.client_auth: %q is not request or require", t.ClientAuth)
	}
	if t.ClientAuth != "" && t.ClientCAFile == "" {
		bad("tls.client_auth: needs tls.client_ca_file, the CAs that sign client certificates")
	}
	if len(t.Identities) > 0 && t.ClientCAFile == "" {
		bad("tls.identities: needs tls.client_ca_file, the CAs that sign client certificates")
	}
	for i, id := range t.Identities {
		if id.SubjectCN == "" && id.SAN == "" && id.OU == "" {
			bad("tls.identities[%d]: needs subject_cn, san or ou to match", i)
		}
		switch id.Role {
		case "user", "auditor", "admin":
		default:
			bad("tls.identities[%d].role: %q is not user, auditor or admin", i, id.Role)
		}
	}
	return errs
}

// Source kinds: where a setting's value came from.
const (
	SourceDefault = "default"
	SourceFile    = "file"
	SourceEnv     = "env"
	SourceFlag    = "flag"
)

// A Source is where a setting's value came from: its Kind (one of the
// Source constants, or another a loader adds, like a file found in the data
// directory) and Name (the file's path, the variable's or the flag's name).
type Source struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
}

func (s Source) String() string {
	switch {
	case s.Kind == SourceFlag:
		return "flag --" + s.Name
	case s.Name == "":
		return s.Kind
	}
	return s.Kind + " " + s.Name
}

// note records that key was set by src.
func (c *Config) note(key string, src Source) {
	if c.Sources == nil {
		c.Sources = map[string]Source{}
	}
	c.Sources[key] = src
}

// noteFile records every setting that the YAML file b sets as set by src.
func (c *Config) noteFile(b []byte, src Source) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	leaves := map[string]bool{}
	for _, s := range Default().settings() {
		leaves[s.Key] = true
	}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := prefix + n.Content[i].Value
			if leaves[key] {
				c.note(key, src)
				continue
			}
			walk(n.Content[i+1], key+".")
		}
	}
	walk(doc.Content[0], "")
	return nil
}

// A Setting is one value of the configuration, by its file key (dotted:
// "timeouts.stream_idle"), as YAML, with where it came from.
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source Source `json:"source"`
}

// Settings returns every setting with its value (secrets redacted) and
// source, in the order of the configuration's fields.
func (c Config) Settings() []Setting {
	out := c.Redacted().settings()
	for i := range out {
		if src, ok := c.Sources[out[i].Key]; ok {
			out[i].Source = src
		} else {
			out[i].Source = Source{Kind: SourceDefault}
		}
	}
	return out
}

// Hash returns the SHA-256 (hex) of the effective configuration with its
// secrets redacted: of the lines "key: value" of Settings, in order, each
// ending in a newline. Sources do not count: the same values loaded another
// way hash the same.
func (c Config) Hash() string {
	h := sha256.New()
	for _, s := range c.Redacted().settings() {
		fmt.Fprintf(h, "%s: %s\n", s.Key, s.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Changed returns the keys of the settings whose values differ between c
// and d.
func (c Config) Changed(d Config) []string {
	a, b := c.settings(), d.settings()
	var out []string
	for i := range a {
		if a[i].Value != b[i].Value {
			out = append(out, a[i].Key)
		}
	}
	return out
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// settings flattens c into its leaf settings (no sources). A leaf is any
// field that is not a struct, or that marshals itself as text (Period).
func (c Config) settings() []Setting {
	var out []Setting
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if opts == "inline" {
				walk(fv, prefix)
				continue
			}
			key := prefix + name
			if fv.Kind() == reflect.Struct && !f.Type.Implements(textMarshaler) {
				walk(fv, key+".")
				continue
			}
			out = append(out, Setting{Key: key, Value: yamlValue(fv.Interface())})
		}
	}
	walk(reflect.ValueOf(c), "")
	return out
}

// yamlValue writes v as one line of YAML (flow style).
func yamlValue(v any) string {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	flow(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}

func flow(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		flow(c)
	}
}

// redactWebhook hides a webhook URL's path too: many webhooks (Slack's,
// Teams') carry their secret there.
func redactWebhook(s string) string {
	s = redactURL(s)
	u, err := url.Parse(s)
	if err != nil || s == "" || u.Path == "" || u.Path == "/" {
		return s
	}
	u.Path, u.RawPath = "/"+Redacted, ""
	return u.String()
}

// redactURL hides a URL's password and query (where webhooks carry
// tokens).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return s
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Redacted)
			changed = true
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = Redacted
		changed = true
	}
	if !changed {
		return s
	}
	return u.String()
}

package metrics

import (
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxUsageLabels bounds the label values of each usage dimension (actor,
// key, model): the first MaxUsageLabels values seen since the gateway
// started get their own series; later ones are counted under "other". So
// a caller who sends a new model name with every call, or a trusted proxy
// that names a new actor each time, cannot grow /metrics without bound.
// `aitrail stats` computes exact figures from the log.
const MaxUsageLabels = 100

// maxLabelBytes bounds one label value; longer ones are cut.
const maxLabelBytes = 128

// Label values with a meaning of their own.
const (
	LabelOther = "other"  // beyond MaxUsageLabels
	LabelNone  = "(none)" // no actor (anonymous), no key (trusted headers), no model
)

// Usage counts model calls, tokens and errors per actor, per API key and
// per model, each dimension in its own metric families so that the series
// grow with the sum of the dimensions, not their product. It is safe for
// concurrent use.
type Usage struct {
	dims [3]usageDim // actor, key, model
}

type usageDim struct {
	calls, errors *prometheus.CounterVec
	tokens        *prometheus.CounterVec

	mu   sync.Mutex
	seen map[string]bool
}

func newUsage() *Usage {
	u := &Usage{}
	for i, d := range []struct{ name, label, what string }{
		{"actor", "actor", "actor"}, {"key", "key_id", "API key id"}, {"model", "model", "model as requested"},
	} {
		u.dims[i] = usageDim{
			calls: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "aitrail_" + d.name + "_calls_total",
				Help: "Model calls with a recorded outcome, by " + d.what + " (at most 100 values, then \"other\").",
			}, []string{d.label}),
			errors: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "aitrail_" + d.name + "_errors_total",
				Help: "Model calls recorded with status error, by " + d.what + " (at most 100 values, then \"other\").",
			}, []string{d.label}),
			tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "aitrail_" + d.name + "_tokens_total",
				Help: "Tokens the upstream counted, by " + d.what + " and direction (in: prompt, out: completion).",
			}, []string{d.label, "direction"}),
			seen: map[string]bool{},
		}
	}
	return u
}

func (u *Usage) collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	for i := range u.dims {
		cs = append(cs, u.dims[i].calls, u.dims[i].errors, u.dims[i].tokens)
	}
	return cs
}

// Observe counts one call's outcome: its status and the upstream's token
// counts (negative: unknown, not counted).
func (u *Usage) Observe(actor, keyID, model, status string, tokensIn, tokensOut int64) {
	for i, v := range []string{actor, keyID, model} {
		d := &u.dims[i]
		l := d.label(v)
		d.calls.WithLabelValues(l).Inc()
		if status == "error" {
			d.errors.WithLabelValues(l).Inc()
		}
		if tokensIn > 0 {
			d.tokens.WithLabelValues(l, "in").Add(float64(tokensIn))
		}
		if tokensOut > 0 {
			d.tokens.WithLabelValues(l, "out").Add(float64(tokensOut))
		}
	}
}

// label returns the label value for v: v itself (cut to maxLabelBytes),
// LabelNone, or LabelOther once the dimension has MaxUsageLabels values.
func (d *usageDim) label(v string) string {
	if v == "" {
		return LabelNone
	}
	if len(v) > maxLabelBytes {
		v = v[:maxLabelBytes]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	if !utf8.ValidString(v) {
		return LabelOther
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[v] {
		return v
	}
	if len(d.seen) >= MaxUsageLabels {
		return LabelOther
	}
	d.seen[v] = true
	return v
}

package metrics

import (
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// series returns the families' series values by their label values
// joined with "," in the order of the label names.
func series(t *testing.T, m *Metrics, family string) map[string]float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, mt := range f.GetMetric() {
			var ls []string
			for _, l := range mt.GetLabel() {
				ls = append(ls, l.GetValue())
			}
			out[strings.Join(ls, ",")] = value(mt)
		}
	}
	return out
}

func value(m *dto.Metric) float64 { return m.GetCounter().GetValue() }

func TestUsageCounts(t *testing.T) {
	m := New()
	m.Usage.Observe("alice", "k1", "tiny", "ok", 10, 5)
	m.Usage.Observe("alice", "k1", "tiny", "error", -1, -1)
	m.Usage.Observe("", "", "tiny", "ok", 3, 0)
	for _, tc := range []struct {
		got  float64
		want float64
		what string
	}{
		{series(t, m, "aitrail_actor_calls_total")["alice"], 2, "calls by alice"},
		{series(t, m, "aitrail_actor_errors_total")["alice"], 1, "errors by alice"},
		{series(t, m, "aitrail_actor_tokens_total")["alice,in"], 10, "tokens in by alice"},
		{series(t, m, "aitrail_actor_calls_total")[LabelNone], 1, "anonymous calls"},
		{series(t, m, "aitrail_key_tokens_total")["out,k1"], 5, "tokens out by key k1"},
		{series(t, m, "aitrail_model_calls_total")["tiny"], 3, "calls to tiny"},
		{series(t, m, "aitrail_model_tokens_total")["in,tiny"], 13, "tokens in to tiny"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.what, tc.got, tc.want)
		}
	}
}

// TestUsageBounded: a caller naming a new model with every call grows
// /metrics by at most MaxUsageLabels series per family.
func TestUsageBounded(t *testing.T) {
	m := New()
	for i := range 3 * MaxUsageLabels {
		m.Usage.Observe("alice", "k1", fmt.Sprintf("model-%d-%s", i, strings.Repeat("x", 300)), "ok", 1, 1)
	}
	calls := series(t, m, "aitrail_model_calls_total")
	if n := len(calls); n != MaxUsageLabels+1 {
		t.Errorf("aitrail_model_calls_total has %d series, want %d (the cap and \"other\")", n, MaxUsageLabels+1)
	}
	if got, want := calls[LabelOther], float64(2*MaxUsageLabels); got != want {
		t.Errorf("calls under %q = %v, want %v", LabelOther, got, want)
	}
	// A value seen before the cap keeps its series.
	first := "model-0-" + strings.Repeat("x", 300)
	m.Usage.Observe("alice", "k1", first, "ok", 0, 0)
	if got := series(t, m, "aitrail_model_calls_total")[first[:maxLabelBytes]]; got != 2 {
		t.Errorf("calls to the first model = %v, want 2", got)
	}
}

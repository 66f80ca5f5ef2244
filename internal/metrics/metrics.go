// Package metrics holds aitrail's Prometheus collectors, served at /metrics.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the gateway's collectors, registered in their own registry.
type Metrics struct {
	reg *prometheus.Registry

	Requests       *prometheus.CounterVec   // calls by endpoint and status
	Records        prometheus.Counter       // records made durable
	AppendFailures prometheus.Counter       // groups the store refused
	AppendSeconds  prometheus.Histogram     // duration of one group commit
	BatchRecords   prometheus.Histogram     // records per group commit
	QueueDepth     prometheus.Gauge         // appends waiting for the writer
	UpstreamErrors *prometheus.CounterVec   // upstream failures by kind
	InFlight       prometheus.Gauge         // calls being served
	Latency        *prometheus.HistogramVec // whole-call latency by endpoint

	Checkpoints        prometheus.Counter // checkpoints signed
	CheckpointFailures prometheus.Counter // checkpoints that could not be signed
	AnchorFailures     prometheus.Counter // checkpoints an anchor did not take
	CheckpointSize     prometheus.Gauge   // size of the latest signed checkpoint

	VaultFailures prometheus.Counter // raw bodies the vault could not seal

	RetentionErased   *prometheus.CounterVec // records erased by the retention purge, by layer
	RetentionFailures prometheus.Counter     // purges that failed

	VerifyOK       prometheus.Gauge // 1 if the latest verification found the log intact, else 0
	VerifiedSize   prometheus.Gauge // records verified so far
	VerifyLastTime prometheus.Gauge // Unix time of the latest verification

	// Operations.
	UpstreamUp   prometheus.Gauge       // 1 if the upstream answered its latest probe, else 0
	ConfigReload *prometheus.CounterVec // SIGHUP reloads, by result (applied, refused)
	Usage        *Usage                 // calls, tokens and errors per actor, key and model (bounded)
}

// New returns registered collectors, including the Go runtime's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aitrail_requests_total", Help: "Calls handled, by endpoint and recorded status.",
		}, []string{"endpoint", "status"}),
		Records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_records_total", Help: "Records made durable in the audit log.",
		}),
		AppendFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_append_failures_total", Help: "Group commits the store refused (their calls were refused).",
		}),
		AppendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aitrail_append_seconds", Help: "Duration of one group commit (transaction and fsync).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		BatchRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aitrail_append_batch_records", Help: "Records written per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_append_queue_depth", Help: "Appends waiting for the log writer.",
		}),
		UpstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aitrail_upstream_errors_total", Help: "Upstream failures: connect, timeout, status, stream.",
		}, []string{"kind"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_in_flight_calls", Help: "Calls being served.",
		}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aitrail_call_seconds", Help: "Whole-call duration as seen by the gateway, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}, []string{"endpoint"}),
		Checkpoints: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_checkpoints_total", Help: "Signed checkpoints of the log.",
		}),
		CheckpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_checkpoint_failures_total", Help: "Checkpoints that could not be signed (an inconsistent log is refused).",
		}),
		AnchorFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_anchor_failures_total", Help: "Checkpoints an anchor did not take.",
		}),
		CheckpointSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_checkpoint_size", Help: "Records covered by the latest signed checkpoint.",
		}),
		VaultFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_vault_failures_total", Help: "Raw bodies the encrypted vault could not seal.",
		}),
		RetentionErased: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aitrail_retention_erased_total", Help: "Records whose layer the retention purge erased (PII: index entries; sealed: records pruned).",
		}, []string{"layer"}),
		RetentionFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aitrail_retention_failures_total", Help: "Retention purges that failed (they are retried at the next interval).",
		}),
		VerifyOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_verify_ok", Help: "1 if the latest background verification found the log intact, 0 if it found tampering.",
		}),
		VerifiedSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_verified_records", Help: "Records verified by the background verification.",
		}),
		VerifyLastTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_verify_last_run_timestamp_seconds", Help: "When the background verification last ran.",
		}),
		UpstreamUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aitrail_upstream_up", Help: "1 if the upstream answered the latest probe, 0 if it was unreachable.",
		}),
		ConfigReload: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aitrail_config_reloads_total", Help: "Configuration reloads (SIGHUP), by result: applied or refused.",
		}, []string{"result"}),
	}
	m.Usage = newUsage()
	m.reg.MustRegister(m.Usage.collectors()...)
	m.reg.MustRegister(m.UpstreamUp, m.ConfigReload)
	m.reg.MustRegister(m.VaultFailures, m.RetentionErased, m.RetentionFailures, m.VerifyOK, m.VerifiedSize, m.VerifyLastTime, m.Checkpoints, m.CheckpointFailures, m.AnchorFailures, m.CheckpointSize, m.Requests, m.Records, m.AppendFailures, m.AppendSeconds, m.BatchRecords,
		m.QueueDepth, m.UpstreamErrors, m.InFlight, m.Latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds further collectors.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Committed implements ledger.Observer.
func (m *Metrics) Committed(records int, d time.Duration, err error) {
	if err != nil {
		m.AppendFailures.Inc()
		return
	}
	m.Records.Add(float64(records))
	m.AppendSeconds.Observe(d.Seconds())
	m.BatchRecords.Observe(float64(records))
}

// Queue implements ledger.Observer.
func (m *Metrics) Queue(n int) { m.QueueDepth.Set(float64(n)) }

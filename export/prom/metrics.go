package prom

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tmc/langchaingo/llms"
)

// Metrics are per-call metrics, fed by Middleware, and the store write
// latency, fed by InstrumentStore:
//
//	leanllm_calls_total{model,provider}
//	leanllm_call_errors_total{model,provider,error_kind}
//	leanllm_tokens_total{model,provider,type}       type = input | output
//	leanllm_cost_usd_total{model,provider}
//	leanllm_call_latency_seconds{model,provider}    histogram
//	leanllm_time_to_first_token_seconds{model,provider}  histogram, streams
//	leanllm_store_write_seconds{result}             histogram, result = ok | error
//
// Metrics is a prometheus.Collector: register it on your registry. It is
// safe for concurrent use.
type Metrics struct {
	calls, errors, tokens, cost *prometheus.CounterVec
	latency, ttft, storeWrite   *prometheus.HistogramVec

	// series caches the resolved children of each (model, provider), so a
	// call costs a map read and a few atomic adds.
	series    sync.Map // seriesKey → *series
	nSeries   atomic.Int64
	maxSeries int64
}

type seriesKey struct{ model, provider string }

type series struct {
	calls, input, output, cost prometheus.Counter
	latency, ttft              prometheus.Observer
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns empty Metrics.
func NewMetrics(opts ...Option) *Metrics {
	cfg := newConfig(opts)
	ns, cl := cfg.namespace, cfg.constLabels
	mp := []string{"model", "provider"}
	return &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "calls_total", ConstLabels: cl,
			Help: "LLM calls made through the client (log=false calls excluded)."}, mp),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "call_errors_total", ConstLabels: cl,
			Help: "Failed LLM calls, by error_kind."}, []string{"model", "provider", "error_kind"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tokens_total", ConstLabels: cl,
			Help: "Tokens of the calls that built an event, by type (input, output)."}, []string{"model", "provider", "type"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cost_usd_total", ConstLabels: cl,
			Help: "Cost in USD of the calls that built an event."}, mp),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "call_latency_seconds", ConstLabels: cl,
			Help: "LLM call latency.", Buckets: cfg.latencyBuckets}, mp),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "time_to_first_token_seconds", ConstLabels: cl,
			Help: "Time to the first streamed chunk.", Buckets: cfg.ttftBuckets}, mp),
		storeWrite: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "store_write_seconds", ConstLabels: cl,
			Help: "Duration of store write attempts (InstrumentStore), by result (ok, error).", Buckets: cfg.storeBuckets}, []string{"result"}),
		maxSeries: int64(cfg.maxSeries),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.errors, m.tokens, m.cost, m.latency, m.ttft, m.storeWrite}
}

func (m *Metrics) seriesOf(model, provider string) *series {
	k := seriesKey{model, provider}
	if s, ok := m.series.Load(k); ok {
		return s.(*series)
	}
	s := &series{
		calls:   m.calls.WithLabelValues(model, provider),
		input:   m.tokens.WithLabelValues(model, provider, "input"),
		output:  m.tokens.WithLabelValues(model, provider, "output"),
		cost:    m.cost.WithLabelValues(model, provider),
		latency: m.latency.WithLabelValues(model, provider),
		ttft:    m.ttft.WithLabelValues(model, provider),
	}
	if m.nSeries.Load() < m.maxSeries {
		if _, loaded := m.series.LoadOrStore(k, s); !loaded {
			m.nSeries.Add(1)
		}
	}
	return s
}

// Middleware returns the middleware that feeds the per-call metrics. It
// reads the call and its event on the way out, so it must sit outside the
// enqueue stage; put it just outside the hooks stage:
//
//	leanllm.WithMiddleware(leanllm.Before(leanllm.StageHooks), m.Middleware())
//
// which is what ClientOption returns. There, sampling has decided: calls,
// errors and latency count every logged call, while tokens, cost and time
// to first token come from events, so with a sampling rate below 1 they
// cover the sampled calls only (errors are always sampled). Calls with
// log=false reach no middleware and are not counted.
func (m *Metrics) Middleware() leanllm.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			resp, err := next.Handle(ctx, c)
			m.observe(c, err)
			return resp, err
		})
	}
}

func (m *Metrics) observe(c *core.Call, err error) {
	e := c.Event
	model, provider := c.Model, c.Provider
	if e != nil {
		model, provider = e.Model, e.Provider
	} else if model == "" {
		model = c.Params.Model
	}
	s := m.seriesOf(model, provider)
	s.calls.Inc()
	lat := c.Latency()
	if lat == 0 && e != nil {
		lat = time.Duration(e.LatencyMS) * time.Millisecond
	}
	s.latency.Observe(lat.Seconds())
	kind := ""
	switch {
	case e != nil:
		kind = e.ErrorKind
		if e.InputTokens > 0 {
			s.input.Add(float64(e.InputTokens))
		}
		if e.OutputTokens > 0 {
			s.output.Add(float64(e.OutputTokens))
		}
		if e.Cost > 0 {
			s.cost.Add(e.Cost)
		}
		if e.TimeToFirstTokenMS.Valid && e.ErrorKind == "" {
			s.ttft.Observe(float64(e.TimeToFirstTokenMS.Int64) / 1000)
		}
	case err != nil:
		kind = core.ClassifyError(err).Kind
	}
	if kind != "" {
		m.errors.WithLabelValues(model, provider, kind).Inc()
	}
}

// ClientOption returns the client option that inserts Middleware at its
// place in the chain (just outside the hooks stage).
func (m *Metrics) ClientOption() leanllm.Option {
	return leanllm.WithMiddleware(leanllm.Before(leanllm.StageHooks), m.Middleware())
}

// InstrumentStore returns s timing each Write attempt into
// leanllm_store_write_seconds{result}. The result keeps s's optional
// interfaces (persist.Reader, persist.Migrator, persist.RetryAdvisor).
func (m *Metrics) InstrumentStore(s leanllm.Store) leanllm.Store {
	base := &timedStore{s: s, m: m}
	r, isReader := s.(persist.Reader)
	mg, isMigrator := s.(persist.Migrator)
	switch {
	case isReader && isMigrator:
		return &timedReaderMigrator{base, r, mg}
	case isReader:
		return &timedReader{base, r}
	case isMigrator:
		return &timedMigrator{base, mg}
	default:
		return base
	}
}

type timedStore struct {
	s leanllm.Store
	m *Metrics
}

var _ persist.RetryAdvisor = (*timedStore)(nil)

func (t *timedStore) Write(ctx context.Context, events []*core.Event) error {
	start := time.Now()
	err := t.s.Write(ctx, events)
	result := "ok"
	if err != nil {
		result = "error"
	}
	t.m.storeWrite.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return err
}

func (t *timedStore) Close() error { return t.s.Close() }

func (t *timedStore) RetryAfter(err error) (time.Duration, bool) {
	if ra, ok := t.s.(persist.RetryAdvisor); ok {
		return ra.RetryAfter(err)
	}
	return 0, false
}

type timedReader struct {
	*timedStore
	persist.Reader
}

type timedMigrator struct {
	*timedStore
	persist.Migrator
}

type timedReaderMigrator struct {
	*timedStore
	persist.Reader
	persist.Migrator
}

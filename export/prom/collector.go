package prom

import (
	"maps"
	"slices"

	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultNamespace prefixes every metric name.
const DefaultNamespace = "leanllm"

// DropReasons are the drop reasons always exposed (at 0 until a drop), so
// that rate() and alerts work from the first scrape. Other reasons found in
// Stats are exposed as they appear.
var DropReasons = []string{
	persist.DropQueueFull, persist.DropRetryExhausted, persist.DropPermanentError,
	persist.DropShutdownTimeout, persist.DropTooLarge, persist.DropClosed,
	persist.DropSpoolCorrupt, persist.DropSpoolFull,
}

// Option configures NewCollector and NewMetrics.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	namespace      string
	constLabels    prometheus.Labels
	latencyBuckets []float64
	ttftBuckets    []float64
	storeBuckets   []float64
	maxSeries      int
}

// Default bucket boundaries, in seconds.
var (
	DefaultLatencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120}
	DefaultTTFTBuckets    = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8}
	DefaultStoreBuckets   = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}
)

// DefaultMaxSeries bounds the (model, provider) pairs Metrics keeps
// pre-resolved series for; more pairs still count, a little slower.
const DefaultMaxSeries = 1024

// WithNamespace replaces the "leanllm" prefix of metric names.
func WithNamespace(ns string) Option { return optionFunc(func(c *config) { c.namespace = ns }) }

// WithConstLabels adds labels to every metric (e.g. {"client": "billing"}
// when a process runs several clients).
func WithConstLabels(l prometheus.Labels) Option {
	return optionFunc(func(c *config) { c.constLabels = maps.Clone(l) })
}

// WithLatencyBuckets sets the buckets of the call latency histogram (s).
func WithLatencyBuckets(b []float64) Option {
	return optionFunc(func(c *config) { c.latencyBuckets = slices.Clone(b) })
}

// WithTTFTBuckets sets the buckets of the time-to-first-token histogram (s).
func WithTTFTBuckets(b []float64) Option {
	return optionFunc(func(c *config) { c.ttftBuckets = slices.Clone(b) })
}

// WithStoreBuckets sets the buckets of the store write histogram (s).
func WithStoreBuckets(b []float64) Option {
	return optionFunc(func(c *config) { c.storeBuckets = slices.Clone(b) })
}

func newConfig(opts []Option) config {
	c := config{namespace: DefaultNamespace, latencyBuckets: DefaultLatencyBuckets, ttftBuckets: DefaultTTFTBuckets,
		storeBuckets: DefaultStoreBuckets, maxSeries: DefaultMaxSeries}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// StatsSource is what a Collector reads; *leanllm.Client implements it.
type StatsSource interface {
	Stats() leanllm.Stats
}

// Collector exposes a client's delivery pipeline — its Stats — on each
// scrape. It is a prometheus.Collector; Collect calls Stats once (a few
// atomic loads and one short lock of the queue) and never blocks on the
// store.
type Collector struct {
	src StatsSource

	events, enqueued, stored, dropped, recovered, spooled, replayed *prometheus.Desc
	retries, batches, costUnknown                                   *prometheus.Desc
	queueDepth, queueBytes, inFlight, spoolPending, spoolBytes      *prometheus.Desc
	persistence                                                     *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of src's Stats (a *leanllm.Client).
// Register it on your registry: prometheus.NewRegistry().MustRegister(c).
func NewCollector(src StatsSource, opts ...Option) *Collector {
	cfg := newConfig(opts)
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(cfg.namespace, "", name), help, labels, cfg.constLabels)
	}
	return &Collector{
		src:          src,
		events:       d("events_total", "Events built (after sampling)."),
		enqueued:     d("events_enqueued_total", "Events handed to the delivery queue."),
		stored:       d("events_stored_total", "Events the store accepted."),
		dropped:      d("events_dropped_total", "Events dropped, by reason.", "reason"),
		recovered:    d("events_recovered_total", "Events found in the spool at start."),
		spooled:      d("events_spooled_total", "Events written to the spool."),
		replayed:     d("events_replayed_total", "Spooled events the store accepted."),
		retries:      d("retries_total", "Store write attempts after the first of a batch."),
		batches:      d("store_batches_total", "Successful store writes (batches)."),
		costUnknown:  d("cost_unknown_total", "Events whose model had no price."),
		queueDepth:   d("queue_depth", "Events waiting in the queue."),
		queueBytes:   d("queue_bytes", "Estimated bytes of the queued events."),
		inFlight:     d("in_flight", "Events taken from the queue and not yet stored or dropped."),
		spoolPending: d("spool_pending", "Events in the spool not yet stored."),
		spoolBytes:   d("spool_bytes", "Size of the spool on disk."),
		persistence:  d("persistence_enabled", "1 when events go to a store, 0 when only to the in-memory buffer."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.events, c.enqueued, c.stored, c.dropped, c.recovered, c.spooled, c.replayed,
		c.retries, c.batches, c.costUnknown, c.queueDepth, c.queueBytes, c.inFlight, c.spoolPending, c.spoolBytes, c.persistence} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(c.events, s.Events)
	counter(c.enqueued, s.Enqueued)
	counter(c.stored, s.Stored)
	for _, r := range DropReasons {
		counter(c.dropped, s.Dropped[r], r)
	}
	for _, r := range slices.Sorted(maps.Keys(s.Dropped)) {
		if !slices.Contains(DropReasons, r) {
			counter(c.dropped, s.Dropped[r], r)
		}
	}
	counter(c.recovered, s.Recovered)
	counter(c.spooled, s.Spooled)
	counter(c.replayed, s.Replayed)
	counter(c.retries, s.Retries)
	counter(c.batches, s.Batches)
	counter(c.costUnknown, s.CostUnknown)
	gauge(c.queueDepth, int64(s.QueueLen))
	gauge(c.queueBytes, s.QueueBytes)
	gauge(c.inFlight, int64(s.InFlight))
	gauge(c.spoolPending, s.SpoolPending)
	gauge(c.spoolBytes, s.SpoolBytes)
	p := int64(0)
	if s.Persistence {
		p = 1
	}
	gauge(c.persistence, p)
}

// Register registers, on reg, a Collector of cl's Stats (configured by
// opts: give it the namespace and const labels you gave NewMetrics) and,
// when m is not nil, m's per-call metrics. Pass your own registry
// (prometheus.NewRegistry, or prometheus.DefaultRegisterer if you do want
// the global one). Registering twice returns the registry's error.
func Register(reg prometheus.Registerer, cl StatsSource, m *Metrics, opts ...Option) error {
	if err := reg.Register(NewCollector(cl, opts...)); err != nil {
		return err
	}
	if m != nil {
		return reg.Register(m)
	}
	return nil
}

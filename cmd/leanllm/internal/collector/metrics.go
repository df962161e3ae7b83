package collector

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

// Metrics are the collector's counters, written in the Prometheus text
// format by WriteTo. The zero value is ready to use.
type Metrics struct {
	mu       sync.Mutex
	requests map[int]int64 // by HTTP status

	received atomic.Int64 // events in authorised, well-formed batches
	accepted atomic.Int64 // of which handed to the writer
	rejected atomic.Int64 // events in batches refused with 400

	writes   Histogram // store write latency, seconds
	writeErr atomic.Int64
}

func (m *Metrics) request(code int) {
	m.mu.Lock()
	if m.requests == nil {
		m.requests = map[int]int64{}
	}
	m.requests[code]++
	m.mu.Unlock()
}

// Requests returns the number of collector requests by HTTP status.
func (m *Metrics) Requests() map[int]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.requests)
}

// Received returns the number of events received in authorised,
// well-formed batches.
func (m *Metrics) Received() int64 { return m.received.Load() }

// Accepted returns the number of events handed to the writer.
func (m *Metrics) Accepted() int64 { return m.accepted.Load() }

// Rejected returns the number of events in batches refused with 400.
func (m *Metrics) Rejected() int64 { return m.rejected.Load() }

// WriteLatency returns the store write latency histogram.
func (m *Metrics) WriteLatency() HistogramSnapshot { return m.writes.Snapshot() }

// WriteErrors returns the number of failed store writes (attempts).
func (m *Metrics) WriteErrors() int64 { return m.writeErr.Load() }

// latencyBuckets are the upper bounds (seconds) of the write histogram.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram is a fixed-bucket latency histogram.
type Histogram struct {
	mu     sync.Mutex
	counts [14]int64 // len(latencyBuckets)+1 (+Inf)
	sum    float64
	n      int64
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.mu.Lock()
	h.counts[i]++
	h.sum += s
	h.n++
	h.mu.Unlock()
}

// HistogramSnapshot is a copy of a Histogram: cumulative counts per bucket.
type HistogramSnapshot struct {
	Bounds     []float64
	Cumulative []int64 // per bound, then +Inf
	Sum        float64
	Count      int64
}

// Snapshot returns the histogram's current state.
func (h *Histogram) Snapshot() HistogramSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := HistogramSnapshot{Bounds: latencyBuckets, Cumulative: make([]int64, len(h.counts)), Sum: h.sum, Count: h.n}
	var c int64
	for i, n := range h.counts {
		c += n
		s.Cumulative[i] = c
	}
	return s
}

// Quantile estimates the q-quantile (0..1) in seconds by linear
// interpolation inside the bucket; NaN when empty.
func (s HistogramSnapshot) Quantile(q float64) float64 {
	if s.Count == 0 {
		return math.NaN()
	}
	rank := q * float64(s.Count)
	lower, prev := 0.0, int64(0)
	for i, c := range s.Cumulative {
		if float64(c) >= rank {
			if i >= len(s.Bounds) {
				return s.Bounds[len(s.Bounds)-1]
			}
			upper := s.Bounds[i]
			inBucket := c - prev
			if inBucket == 0 {
				return upper
			}
			return lower + (upper-lower)*(rank-float64(prev))/float64(inBucket)
		}
		if i < len(s.Bounds) {
			lower = s.Bounds[i]
		}
		prev = c
	}
	return s.Bounds[len(s.Bounds)-1]
}

// TimedStore wraps the Writer's store to measure each Write. It forwards
// Migrate when the store has it.
type TimedStore struct {
	persist.Store
	M *Metrics
}

// Write times the inner Write.
func (t *TimedStore) Write(ctx context.Context, events []*core.Event) error {
	start := time.Now()
	err := t.Store.Write(ctx, events)
	t.M.writes.Observe(time.Since(start))
	if err != nil {
		t.M.writeErr.Add(1)
	}
	return err
}

// Migrate forwards to the inner store.
func (t *TimedStore) Migrate(ctx context.Context) error {
	if m, ok := t.Store.(persist.Migrator); ok {
		return m.Migrate(ctx)
	}
	return nil
}

// MetricsHandler serves the Prometheus text format: the collector's
// counters and the writer's delivery statistics.
func MetricsHandler(m *Metrics, stats func() persist.WriterStats) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = WriteMetrics(w, m, stats())
	})
}

// WriteMetrics writes every metric in the Prometheus text exposition format.
func WriteMetrics(w io.Writer, m *Metrics, s persist.WriterStats) error {
	p := &promWriter{w: w}
	p.family("leanllm_collector_requests_total", "counter", "Collector requests (POST /v1/events) by HTTP status.")
	req := m.Requests()
	codes := slices.Sorted(maps.Keys(req))
	if len(codes) == 0 {
		p.sample("leanllm_collector_requests_total", `code="200"`, 0)
	}
	for _, c := range codes {
		p.sample("leanllm_collector_requests_total", `code="`+strconv.Itoa(c)+`"`, float64(req[c]))
	}
	p.counter("leanllm_collector_events_received_total", "Events received in authorised, well-formed batches.", float64(m.Received()))
	p.counter("leanllm_collector_events_accepted_total", "Events handed to the writer (received minus duplicates within a batch).", float64(m.Accepted()))
	p.counter("leanllm_collector_events_rejected_total", "Events in batches refused with 400.", float64(m.Rejected()))
	p.counter("leanllm_collector_events_enqueued_total", "Events enqueued on the writer.", float64(s.Enqueued))
	p.counter("leanllm_collector_events_stored_total", "Events the store accepted (duplicates of stored event ids are skipped by the store and counted here too).", float64(s.Stored))
	p.family("leanllm_collector_events_dropped_total", "counter", "Events the writer dropped, by reason.")
	reasons := []string{persist.DropQueueFull, persist.DropRetryExhausted, persist.DropPermanentError, persist.DropShutdownTimeout, persist.DropTooLarge, persist.DropClosed}
	for r := range s.Dropped {
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		p.sample("leanllm_collector_events_dropped_total", `reason="`+escapeLabel(r)+`"`, float64(s.Dropped[r]))
	}
	p.gauge("leanllm_collector_queue_depth", "Events waiting in the writer's queue.", float64(s.QueueLen))
	p.gauge("leanllm_collector_queue_bytes", "Estimated bytes of the queued events.", float64(s.QueueBytes))
	p.gauge("leanllm_collector_in_flight", "Events being written or waiting for a retry.", float64(s.InFlight))
	p.gauge("leanllm_collector_spool_pending", "Events in the spool not yet stored.", float64(s.SpoolPending))
	p.counter("leanllm_collector_store_retries_total", "Store write attempts after the first of a batch.", float64(s.Retries))
	p.counter("leanllm_collector_store_write_errors_total", "Failed store write attempts.", float64(m.WriteErrors()))
	h := m.WriteLatency()
	p.family("leanllm_collector_store_write_duration_seconds", "histogram", "Latency of store writes (one per batch attempt).")
	for i, b := range h.Bounds {
		p.sample("leanllm_collector_store_write_duration_seconds_bucket", `le="`+strconv.FormatFloat(b, 'g', -1, 64)+`"`, float64(h.Cumulative[i]))
	}
	p.sample("leanllm_collector_store_write_duration_seconds_bucket", `le="+Inf"`, float64(h.Count))
	p.sample("leanllm_collector_store_write_duration_seconds_sum", "", h.Sum)
	p.sample("leanllm_collector_store_write_duration_seconds_count", "", float64(h.Count))
	return p.err
}

type promWriter struct {
	w   io.Writer
	err error
}

func (p *promWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *promWriter) family(name, typ, help string) {
	p.printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (p *promWriter) sample(name, labels string, v float64) {
	if labels != "" {
		labels = "{" + labels + "}"
	}
	p.printf("%s%s %s\n", name, labels, strconv.FormatFloat(v, 'g', -1, 64))
}

func (p *promWriter) counter(name, help string, v float64) {
	p.family(name, "counter", help)
	p.sample(name, "", v)
}

func (p *promWriter) gauge(name, help string, v float64) {
	p.family(name, "gauge", help)
	p.sample(name, "", v)
}

func escapeLabel(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			out = append(out, '\\', '\\')
		case '"':
			out = append(out, '\\', '"')
		case '\n':
			out = append(out, '\\', 'n')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

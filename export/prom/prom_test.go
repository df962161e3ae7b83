package prom_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/export/prom"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/tmc/langchaingo/llms"
)

func human(s string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, s)}
}

// gathered returns the families of reg by name.
func gathered(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the series of family name whose labels
// include want (k=v pairs); counters, gauges, and histogram sample counts.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}

// TestScriptedRun runs calls (successes, a stream, errors) against a store
// that blocks so that the queue overflows, then checks that the scraped
// metrics match the events and the client's Stats.
func TestScriptedRun(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	ok := testprovider.Reply{Text: "ok", Usage: testprovider.UsageOf(10, 5)}
	fake.Push(
		ok,
		testprovider.Reply{Text: "streamed", Usage: testprovider.UsageOf(10, 5), FirstChunkDelay: 20 * time.Millisecond},
		ok, ok,
		testprovider.Reply{Err: errors.New("boom")},
		ok,
		testprovider.Reply{Err: context.DeadlineExceeded},
		ok,
		testprovider.Reply{Err: errors.New("API returned unexpected status code: 429: slow down")},
		ok,
	)
	mem := persist.NewMemStore()
	mem.SetBlocking(true)
	writing := make(chan struct{})
	var once sync.Once
	mem.OnWrite(func([]*core.Event) { once.Do(func() { close(writing) }) })

	m := prom.NewMetrics()
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), m.ClientOption(),
		leanllm.WithStore(m.InstrumentStore(mem)), leanllm.WithQueueMaxSize(5), leanllm.WithBatchSize(1),
		leanllm.WithRetry(1, time.Millisecond, time.Millisecond))
	is.NoErr(err)
	defer cl.Close(context.Background())
	reg := prometheus.NewRegistry()
	is.NoErr(prom.Register(reg, cl, m))

	var failures int
	for i := range 10 {
		var opts []leanllm.CallOption
		if i == 1 {
			opts = append(opts, leanllm.WithLLMOptions(llms.WithStreamingFunc(func(context.Context, []byte) error { return nil })))
		}
		if _, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"), opts...); err != nil {
			failures++
		}
		if i == 0 {
			<-writing // the worker is stuck writing the first event: the next 9 go to a queue of 5
		}
	}
	is.Equal(failures, 3)

	// While the store is stuck.
	fams := gathered(t, reg)
	is.Equal(value(t, fams, "leanllm_in_flight"), 1.0)
	is.Equal(value(t, fams, "leanllm_queue_depth"), 5.0)
	is.True(value(t, fams, "leanllm_queue_bytes") > 0)
	is.Equal(value(t, fams, "leanllm_events_dropped_total", "reason=queue_full"), 4.0) // the 4 oldest queued

	mem.SetBlocking(false)
	is.NoErr(cl.Flush(t.Context()))
	st := cl.Stats()
	fams = gathered(t, reg)

	// Pipeline: what Stats says, and it adds up.
	is.Equal(value(t, fams, "leanllm_events_total"), 10.0)
	is.Equal(value(t, fams, "leanllm_events_enqueued_total"), float64(st.Enqueued))
	is.Equal(value(t, fams, "leanllm_events_stored_total"), float64(st.Stored))
	is.Equal(value(t, fams, "leanllm_events_stored_total"), 6.0)
	is.Equal(value(t, fams, "leanllm_events_dropped_total", "reason=queue_full"), float64(st.Dropped[persist.DropQueueFull]))
	is.Equal(value(t, fams, "leanllm_events_dropped_total", "reason=retry_exhausted"), 0.0) // every reason is exposed
	is.Equal(value(t, fams, "leanllm_store_batches_total"), 6.0)
	is.Equal(value(t, fams, "leanllm_queue_depth"), 0.0)
	is.Equal(value(t, fams, "leanllm_in_flight"), 0.0)
	is.Equal(value(t, fams, "leanllm_persistence_enabled"), 1.0)
	is.Equal(value(t, fams, "leanllm_events_stored_total")+value(t, fams, "leanllm_events_dropped_total", "reason=queue_full"),
		value(t, fams, "leanllm_events_enqueued_total"))

	// Per call: every call, whether its event was stored or dropped.
	is.Equal(value(t, fams, "leanllm_calls_total", "model=gpt-4o-mini", "provider=openai"), 10.0)
	is.Equal(value(t, fams, "leanllm_call_errors_total", "error_kind=unknown"), 1.0)
	is.Equal(value(t, fams, "leanllm_call_errors_total", "error_kind=timeout"), 1.0)
	is.Equal(value(t, fams, "leanllm_call_errors_total", "error_kind=rate_limit"), 1.0)
	is.Equal(value(t, fams, "leanllm_tokens_total", "type=input"), 70.0) // 7 successes × 10
	is.Equal(value(t, fams, "leanllm_tokens_total", "type=output"), 35.0)
	is.Equal(value(t, fams, "leanllm_call_latency_seconds"), 10.0)
	is.Equal(value(t, fams, "leanllm_time_to_first_token_seconds"), 1.0) // the stream
	is.True(fams["leanllm_time_to_first_token_seconds"].GetMetric()[0].GetHistogram().GetSampleSum() >= 0.02)
	is.Equal(value(t, fams, "leanllm_store_write_seconds", "result=ok"), 6.0)

	var cost float64
	for _, e := range cl.RecentEvents(0) {
		cost += e.Cost
	}
	is.True(cost > 0)
	is.True(math.Abs(value(t, fams, "leanllm_cost_usd_total")-cost) < 1e-12)

	// The same, in the exposition format a scrape returns.
	is.NoErr(testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP leanllm_call_errors_total Failed LLM calls, by error_kind.
# TYPE leanllm_call_errors_total counter
leanllm_call_errors_total{error_kind="rate_limit",model="gpt-4o-mini",provider="openai"} 1
leanllm_call_errors_total{error_kind="timeout",model="gpt-4o-mini",provider="openai"} 1
leanllm_call_errors_total{error_kind="unknown",model="gpt-4o-mini",provider="openai"} 1
# HELP leanllm_events_dropped_total Events dropped, by reason.
# TYPE leanllm_events_dropped_total counter
leanllm_events_dropped_total{reason="closed"} 0
leanllm_events_dropped_total{reason="permanent_error"} 0
leanllm_events_dropped_total{reason="queue_full"} 4
leanllm_events_dropped_total{reason="retry_exhausted"} 0
leanllm_events_dropped_total{reason="shutdown_timeout"} 0
leanllm_events_dropped_total{reason="spool_corrupt"} 0
leanllm_events_dropped_total{reason="spool_full"} 0
leanllm_events_dropped_total{reason="too_large"} 0
`), "leanllm_call_errors_total", "leanllm_events_dropped_total"))
}

func TestSampledOutCallsCountWithoutTokens(t *testing.T) {
	is := is.New(t)
	m := prom.NewMetrics()
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()), m.ClientOption(), leanllm.WithSamplingRate(0))
	is.NoErr(err)
	defer cl.Close(context.Background())
	for range 3 {
		_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
		is.NoErr(err)
	}
	// log=false calls are not counted at all.
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithLog(false))
	is.NoErr(err)
	reg := prometheus.NewRegistry()
	is.NoErr(prom.Register(reg, cl, m))
	fams := gathered(t, reg)
	is.Equal(value(t, fams, "leanllm_calls_total"), 3.0)
	is.Equal(value(t, fams, "leanllm_call_latency_seconds"), 3.0)
	is.Equal(value(t, fams, "leanllm_tokens_total", "type=input"), 0.0) // no event, no tokens
	is.Equal(value(t, fams, "leanllm_events_total"), 0.0)
	is.Equal(value(t, fams, "leanllm_persistence_enabled"), 0.0)
}

func TestRegistersOnlyOnTheGivenRegistry(t *testing.T) {
	is := is.New(t)
	m := prom.NewMetrics(prom.WithConstLabels(prometheus.Labels{"client": "billing"}))
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()), m.ClientOption())
	is.NoErr(err)
	defer cl.Close(context.Background())
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	reg := prometheus.NewRegistry()
	is.NoErr(prom.Register(reg, cl, m, prom.WithConstLabels(prometheus.Labels{"client": "billing"})))
	is.True(prom.Register(reg, cl, m) != nil) // registering twice is an error, not a panic

	n, err := testutil.GatherAndCount(prometheus.DefaultGatherer, "leanllm_calls_total", "leanllm_events_total")
	is.NoErr(err)
	is.Equal(n, 0) // the global registry is untouched
	fams := gathered(t, reg)
	is.Equal(value(t, fams, "leanllm_calls_total", "client=billing"), 1.0)
	is.Equal(value(t, fams, "leanllm_events_total", "client=billing"), 1.0)
}

func TestMetricNamesLint(t *testing.T) {
	is := is.New(t)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()))
	is.NoErr(err)
	defer cl.Close(context.Background())
	m := prom.NewMetrics()
	_, _ = m.Middleware()(leanllm.HandlerFunc(func(context.Context, *leanllm.Call) (*llms.ContentResponse, error) {
		return nil, nil
	})).Handle(t.Context(), &leanllm.Call{Model: "m", Event: &leanllm.Event{Model: "m", InputTokens: 1, OutputTokens: 1, Cost: 1}})
	for _, c := range []prometheus.Collector{prom.NewCollector(cl), m} {
		problems, err := testutil.CollectAndLint(c)
		is.NoErr(err)
		for _, p := range problems {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestInstrumentStoreKeepsInterfaces(t *testing.T) {
	is := is.New(t)
	m := prom.NewMetrics()
	s := m.InstrumentStore(persist.NewMemStore())
	_, isMigrator := s.(persist.Migrator)
	_, isReader := s.(persist.Reader)
	is.True(isMigrator)
	is.True(!isReader)
	is.NoErr(s.(persist.Migrator).Migrate(t.Context()))

	mem := persist.NewMemStore()
	mem.FailNext(1, nil)
	s = m.InstrumentStore(mem)
	is.True(errors.Is(s.Write(t.Context(), []*core.Event{{EventID: "a"}}), persist.ErrStoreDown))
	is.NoErr(s.Write(t.Context(), []*core.Event{{EventID: "a"}}))
	is.Equal(testutil.CollectAndCount(m, "leanllm_store_write_seconds"), 2) // ok and error series
	is.NoErr(s.Close())
}

func ExampleRegister() {
	m := prom.NewMetrics()
	cl, _ := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()), m.ClientOption())
	defer cl.Close(context.Background())
	reg := prometheus.NewRegistry() // your registry, not the global one
	_ = prom.Register(reg, cl, m)

	_, _ = cl.Chat(context.Background(), "gpt-4o-mini", human("Say hi."))

	// What a scrape of promhttp.HandlerFor(reg, …) shows.
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "leanllm_calls_total") || strings.HasPrefix(line, "leanllm_tokens_total") ||
			strings.HasPrefix(line, "leanllm_events_enqueued_total") {
			fmt.Print(line)
		}
	}
	// Output:
	// leanllm_calls_total{model="gpt-4o-mini",provider="openai"} 1
	// leanllm_events_enqueued_total 0
	// leanllm_tokens_total{model="gpt-4o-mini",provider="openai",type="input"} 10
	// leanllm_tokens_total{model="gpt-4o-mini",provider="openai",type="output"} 5
}

func TestMiddlewareAllocatesNothingOnceSeriesExist(t *testing.T) {
	is := is.New(t)
	m := prom.NewMetrics()
	h := m.Middleware()(leanllm.HandlerFunc(func(context.Context, *leanllm.Call) (*llms.ContentResponse, error) {
		return nil, nil
	}))
	c := &leanllm.Call{Event: &leanllm.Event{Model: "gpt-4o-mini", Provider: "openai", InputTokens: 3, OutputTokens: 2, Cost: 0.001, LatencyMS: 5}}
	ctx := t.Context()
	_, _ = h.Handle(ctx, c) // creates the series
	allocs := testing.AllocsPerRun(100, func() { _, _ = h.Handle(ctx, c) })
	is.Equal(allocs, 0.0)
	reg := prometheus.NewRegistry()
	is.NoErr(reg.Register(m))
	is.Equal(value(t, gathered(t, reg), "leanllm_calls_total"), 102.0)
}

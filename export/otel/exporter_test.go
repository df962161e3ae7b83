package otelexport_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	otelexport "github.com/leanllm/leanllm-go/export/otel"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// harness is a client whose store is an Exporter over in-memory span and
// metric readers.
type harness struct {
	cl     *leanllm.Client
	exp    *otelexport.Exporter
	tp     *sdktrace.TracerProvider
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
}

func newHarness(t *testing.T, exporterOpts []otelexport.Option, opts ...leanllm.Option) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	var err error
	h.exp, err = otelexport.New(h.tp, mp, exporterOpts...)
	if err != nil {
		t.Fatal(err)
	}
	base := []leanllm.Option{leanllm.WithoutEnv(), leanllm.WithStore(h.exp), otelexport.Parenting()}
	h.cl, err = leanllm.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.cl.Close(context.Background()) })
	return h
}

// ended flushes the client and returns the spans exported so far.
func (h *harness) ended(t *testing.T) tracetest.SpanStubs {
	t.Helper()
	if err := h.cl.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	return h.spans.GetSpans()
}

func attrs(s tracetest.SpanStub) map[string]any {
	m := make(map[string]any, len(s.Attributes))
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func human(s string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, s)}
}

func TestPlainCallSpan(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	h := newHarness(t, nil, leanllm.WithModel(fake))

	_, err := h.cl.Chat(t.Context(), "openai/gpt-4o-mini", human("Say hi."),
		leanllm.WithLabels(map[string]string{"feature": "demo", "tenant": "acme"}),
		leanllm.WithCorrelationID("corr-1"), leanllm.WithParentRequestID("parent-0"),
		leanllm.WithLLMOptions(llms.WithTemperature(0.2), llms.WithMaxTokens(64), llms.WithTopP(0.9),
			llms.WithTopK(40), llms.WithSeed(7), llms.WithStopWords([]string{"END"}),
			llms.WithFrequencyPenalty(0.5), llms.WithPresencePenalty(0.25)))
	is.NoErr(err)
	spans := h.ended(t)
	is.Equal(len(spans), 1)
	ev := h.cl.LastEvent()
	s := spans[0]

	is.Equal(s.Name, "chat gpt-4o-mini")
	is.Equal(s.SpanKind, trace.SpanKindClient)
	is.Equal(s.InstrumentationScope.Name, otelexport.ScopeName)
	is.True(s.StartTime.Equal(ev.Timestamp))
	is.True(s.EndTime.Equal(ev.Timestamp.Add(time.Duration(ev.LatencyMS) * time.Millisecond)))
	is.Equal(s.Status.Code, codes.Unset)
	is.True(!s.Parent.IsValid()) // no caller span, no known parent event: a root
	is.Equal(attrs(s), map[string]any{
		"gen_ai.operation.name":            "chat",
		"gen_ai.provider.name":             "openai",
		"gen_ai.system":                    "openai",
		"gen_ai.request.model":             "gpt-4o-mini",
		"gen_ai.request.temperature":       0.2,
		"gen_ai.request.max_tokens":        int64(64),
		"gen_ai.request.top_p":             0.9,
		"gen_ai.request.top_k":             40.0,
		"gen_ai.request.seed":              int64(7),
		"gen_ai.request.stop_sequences":    []string{"END"},
		"gen_ai.request.frequency_penalty": 0.5,
		"gen_ai.request.presence_penalty":  0.25,
		"gen_ai.usage.input_tokens":        int64(10),
		"gen_ai.usage.output_tokens":       int64(5),
		"gen_ai.response.finish_reasons":   []string{"stop"},
		"leanllm.cost_usd":                 ev.Cost,
		"leanllm.event_id":                 ev.EventID,
		"leanllm.correlation_id":           "corr-1",
		"leanllm.parent_request_id":        "parent-0",
		"leanllm.labels.feature":           "demo",
		"leanllm.labels.tenant":            "acme",
	})
	is.True(ev.Cost > 0)
}

func TestCompletionAndErrorSpans(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	srv.Push(testprovider.DefaultReply(), testprovider.Reply{Status: 429})
	h := newHarness(t, nil, leanllm.WithModel(testprovider.OpenAIModel(t, srv)), leanllm.WithRetry(1, time.Millisecond, time.Millisecond))

	_, err := h.cl.Completion(t.Context(), "gpt-4o-mini", "Say hi.")
	is.NoErr(err)
	_, err = h.cl.Chat(t.Context(), "gpt-4o-mini", human("again"))
	is.True(err != nil) // the provider's error, returned to the caller
	spans := h.ended(t)
	is.Equal(len(spans), 2)

	is.Equal(spans[0].Name, "text_completion gpt-4o-mini")
	is.Equal(attrs(spans[0])["gen_ai.operation.name"], "text_completion")

	ev := h.cl.LastEvent()
	s := spans[1]
	a := attrs(s)
	is.Equal(s.Name, "chat gpt-4o-mini")
	is.Equal(s.Status.Code, codes.Error)
	is.Equal(s.Status.Description, ev.ErrorMessage)
	is.True(strings.Contains(s.Status.Description, "429"))
	is.Equal(a["error.type"], "rate_limit")
	is.Equal(a["leanllm.http_status"], int64(429))
	is.Equal(a["leanllm.error_detail"], ev.Metadata.ErrorDetail)
	_, hasTokens := a["gen_ai.usage.input_tokens"]
	is.True(!hasTokens) // a failed call reported no usage
	_, hasFinish := a["gen_ai.response.finish_reasons"]
	is.True(!hasFinish)
}

func TestStreamSpanTimeToFirstToken(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	srv.Push(testprovider.Reply{Text: "Hello streaming world", Usage: testprovider.UsageOf(12, 3), FirstChunkDelay: 60 * time.Millisecond})
	h := newHarness(t, nil, leanllm.WithModel(testprovider.OpenAIModel(t, srv)))

	var got strings.Builder
	_, err := h.cl.Chat(t.Context(), "gpt-4o-mini", human("stream please"),
		leanllm.WithLLMOptions(llms.WithStreamingFunc(func(_ context.Context, b []byte) error {
			got.Write(b)
			return nil
		})))
	is.NoErr(err)
	is.Equal(got.String(), "Hello streaming world")
	spans := h.ended(t)
	is.Equal(len(spans), 1)
	ev := h.cl.LastEvent()
	a := attrs(spans[0])
	ttft, ok := a["leanllm.time_to_first_token_ms"].(int64)
	is.True(ok)
	is.Equal(ttft, ev.TimeToFirstTokenMS.Int64)
	is.True(ttft >= 60) // the scripted delay before the first chunk
	is.Equal(a["leanllm.total_stream_time_ms"], ev.TotalStreamTimeMS.Int64)
	is.Equal(a["leanllm.stream_end"], "completed")
	is.Equal(a["gen_ai.usage.input_tokens"], int64(12))
	is.Equal(a["gen_ai.usage.output_tokens"], int64(3))

	// The stream's time to first token is also a metric, in seconds.
	rm := collect(t, h.reader)
	for _, name := range []string{otelexport.MetricServerTimeToFirstToken, otelexport.MetricTimeToFirstChunk} {
		dp := histogram(t, rm, name)
		is.Equal(len(dp), 1)
		is.Equal(dp[0].Count, uint64(1))
		is.Equal(dp[0].Sum, float64(ttft)/1000)
	}
}

func TestParentedToCallerSpan(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.DefaultReply(), testprovider.Reply{Err: errors.New("boom")})
	// Sampling 0: the successful call builds no event, the failed one does
	// (at the end, through the finisher): it is parented as well.
	h := newHarness(t, nil, leanllm.WithModel(fake))
	caller := h.tp.Tracer("app")
	ctx, parent := caller.Start(t.Context(), "handle request")
	_, err := h.cl.Chat(ctx, "gpt-4o-mini", human("x"))
	is.NoErr(err)
	parent.End()
	spans := h.ended(t)
	is.Equal(len(spans), 2) // the caller's and the call's
	var llm tracetest.SpanStub
	for _, s := range spans {
		if s.Name == "chat gpt-4o-mini" {
			llm = s
		}
	}
	is.Equal(llm.Parent.SpanID(), parent.SpanContext().SpanID())
	is.Equal(llm.SpanContext.TraceID(), parent.SpanContext().TraceID())
	ev := h.cl.LastEvent()
	is.Equal(ev.Metadata.Extra[otelexport.KeyTraceID], parent.SpanContext().TraceID().String()) // kept with the event
	sc, ok := otelexport.SpanContextOf(ev)
	is.True(ok)
	is.True(sc.IsSampled())

	// Sampled-out failed call.
	h2 := newHarness(t, nil, leanllm.WithModel(fake), leanllm.WithSamplingRate(0))
	ctx, parent2 := h2.tp.Tracer("app").Start(t.Context(), "handle request")
	_, err = h2.cl.Chat(ctx, "gpt-4o-mini", human("x"))
	is.True(err != nil)
	parent2.End()
	spans = h2.ended(t)
	is.Equal(len(spans), 2)
	for _, s := range spans {
		if s.Name == "chat gpt-4o-mini" {
			is.Equal(s.Parent.SpanID(), parent2.SpanContext().SpanID())
			is.Equal(s.Status.Code, codes.Error)
		}
	}
}

func TestUnsampledCallerGetsNoSpan(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, nil, leanllm.WithModel(testprovider.New()))
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	defer never.Shutdown(context.Background())
	ctx, parent := never.Tracer("app").Start(t.Context(), "not sampled")
	_, err := h.cl.Chat(ctx, "gpt-4o-mini", human("x"))
	is.NoErr(err)
	parent.End()
	is.Equal(len(h.ended(t)), 0) // parent-based sampling follows the caller
}

func TestToolStepParentedToItsCall(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, []otelexport.Option{otelexport.WithContent(true)}, leanllm.WithModel(testprovider.New()))
	_, err := h.cl.Chat(t.Context(), "gpt-4o-mini", human("weather?"))
	is.NoErr(err)
	call := h.cl.LastEvent()
	step := &leanllm.Event{
		Model: "tool:weather", Provider: "tool", ParentRequestID: call.EventID, LatencyMS: 3,
		Metadata: leanllm.Metadata{CallKind: "tool", Extra: map[string]any{"tool_name": "weather", "tool_call_id": "call_1", "tool_input": `{"city":"Paris"}`}},
	}
	h.cl.Record(t.Context(), step)
	spans := h.ended(t)
	is.Equal(len(spans), 2)
	tool := spans[1]
	is.Equal(tool.Name, "execute_tool weather")
	is.Equal(tool.SpanKind, trace.SpanKindInternal)
	is.Equal(tool.Parent.SpanID(), spans[0].SpanContext.SpanID()) // under the call that asked for it
	a := attrs(tool)
	is.Equal(a["gen_ai.operation.name"], "execute_tool")
	is.Equal(a["gen_ai.tool.name"], "weather")
	is.Equal(a["gen_ai.tool.call.id"], "call_1")
	is.Equal(a["gen_ai.tool.call.arguments"], `{"city":"Paris"}`)
	is.Equal(a["leanllm.parent_request_id"], call.EventID)
	_, hasProvider := a["gen_ai.provider.name"]
	is.True(!hasProvider)
}

func TestContentOnlyWhenCapturedAndEnabled(t *testing.T) {
	for _, tc := range []struct {
		capture, export bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		t.Run("capture="+strconv.FormatBool(tc.capture)+"/export="+strconv.FormatBool(tc.export), func(t *testing.T) {
			is := is.New(t)
			h := newHarness(t, []otelexport.Option{otelexport.WithContent(tc.export)},
				leanllm.WithModel(testprovider.New()), leanllm.WithCaptureContent(tc.capture), leanllm.WithRedactionMode("redacted"))
			_, err := h.cl.Chat(t.Context(), "gpt-4o-mini", human("mail me at jane@example.com"))
			is.NoErr(err)
			a := attrs(h.ended(t)[0])
			in, hasIn := a["gen_ai.input.messages"]
			out, hasOut := a["gen_ai.output.messages"]
			is.Equal(hasIn, tc.capture && tc.export)
			is.Equal(hasOut, tc.capture && tc.export)
			if hasIn {
				is.True(!strings.Contains(in.(string), "jane@example.com")) // redacted at capture
				is.True(strings.HasPrefix(in.(string), `[{"role":"user","parts":[{"type":"text","content":"mail me at `))
				is.Equal(out, `[{"role":"assistant","parts":[{"type":"text","content":"ok"}],"finish_reason":"stop"}]`)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(
		testprovider.Reply{Text: "a", Usage: testprovider.UsageOf(100, 20)},
		testprovider.Reply{Text: "b", Usage: testprovider.UsageOf(50, 10), Chunks: []string{"b"}},
		testprovider.Reply{Err: errors.New("boom")},
	)
	h := newHarness(t, nil, leanllm.WithModel(fake))
	_, err := h.cl.Chat(t.Context(), "gpt-4o-mini", human("1"))
	is.NoErr(err)
	_, err = h.cl.Chat(t.Context(), "gpt-4o-mini", human("2"),
		leanllm.WithLLMOptions(llms.WithStreamingFunc(func(context.Context, []byte) error { return nil })))
	is.NoErr(err)
	_, err = h.cl.Chat(t.Context(), "gpt-4o-mini", human("3"))
	is.True(err != nil)
	h.ended(t)
	rm := collect(t, h.reader)

	tokens := map[string]metricdata.HistogramDataPoint[int64]{}
	for _, dp := range histogramInt(t, rm, otelexport.MetricTokenUsage) {
		typ, _ := dp.Attributes.Value("gen_ai.token.type")
		model, _ := dp.Attributes.Value("gen_ai.request.model")
		prov, _ := dp.Attributes.Value("gen_ai.provider.name")
		sys, _ := dp.Attributes.Value("gen_ai.system")
		op, _ := dp.Attributes.Value("gen_ai.operation.name")
		is.Equal(model.AsString(), "gpt-4o-mini")
		is.Equal(prov.AsString(), "openai")
		is.Equal(sys.AsString(), "openai")
		is.Equal(op.AsString(), "chat")
		tokens[typ.AsString()] = dp
	}
	is.Equal(len(tokens), 2)
	is.Equal(tokens["input"].Count, uint64(2)) // the failed call reported no tokens
	is.Equal(tokens["input"].Sum, int64(150))
	is.Equal(tokens["output"].Sum, int64(30))

	var ok, failed uint64
	for _, dp := range histogram(t, rm, otelexport.MetricOperationDuration) {
		if et, has := dp.Attributes.Value("error.type"); has {
			is.Equal(et.AsString(), "unknown")
			failed += dp.Count
		} else {
			ok += dp.Count
		}
	}
	is.Equal(ok, uint64(2))
	is.Equal(failed, uint64(1))
	is.Equal(len(histogram(t, rm, otelexport.MetricServerTimeToFirstToken)), 1) // the stream only
}

func collect(t *testing.T, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return metricdata.Metrics{}
}

func histogram(t *testing.T, rm metricdata.ResourceMetrics, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := find(t, rm, name).Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is not a float64 histogram", name)
	}
	return h.DataPoints
}

func histogramInt(t *testing.T, rm metricdata.ResourceMetrics, name string) []metricdata.HistogramDataPoint[int64] {
	t.Helper()
	h, ok := find(t, rm, name).Data.(metricdata.Histogram[int64])
	if !ok {
		t.Fatalf("%s is not an int64 histogram", name)
	}
	return h.DataPoints
}

// slowExporter takes 200ms per export and records the goroutines it ran on.
type slowExporter struct {
	mu         sync.Mutex
	goroutines map[uint64]bool
	spans      int
}

func (s *slowExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	time.Sleep(200 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.goroutines[goroutineID()] = true
	s.spans += len(spans)
	return nil
}

func (s *slowExporter) Shutdown(context.Context) error { return nil }

func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

func TestExportIsNotOnTheCallGoroutine(t *testing.T) {
	t.Parallel()
	is := is.New(t)
	slow := &slowExporter{goroutines: map[uint64]bool{}}
	// A synchronous span processor: each span is exported, 200ms, inside
	// span.End, that is inside Exporter.Write.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(slow))
	defer tp.Shutdown(context.Background())
	exp, err := otelexport.New(tp, nil)
	is.NoErr(err)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()), leanllm.WithStore(exp),
		otelexport.Parenting(), leanllm.WithBatchSize(1))
	is.NoErr(err)

	const calls = 20
	start := time.Now()
	for range calls {
		_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
		is.NoErr(err)
	}
	elapsed := time.Since(start)
	// Exported on the call path, the calls would take 20 × 200ms = 4s.
	is.True(elapsed < 2*time.Second)
	t.Logf("%d calls took %v with a 200ms-per-span exporter", calls, elapsed)

	is.NoErr(cl.Close(context.Background())) // drains: every span is exported
	slow.mu.Lock()
	defer slow.mu.Unlock()
	is.Equal(slow.spans, calls)
	is.True(!slow.goroutines[goroutineID()])
}

func TestWriteIsIdempotentAndCloseRejects(t *testing.T) {
	is := is.New(t)
	mem := tracetest.NewInMemoryExporter()
	// A batching provider the Exporter does not own: Close flushes it.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(mem, sdktrace.WithBatchTimeout(time.Hour)))
	defer tp.Shutdown(context.Background())
	exp, err := otelexport.New(tp, nil)
	is.NoErr(err)
	batch := []*leanllm.Event{
		{EventID: "e1", Model: "gpt-4o-mini", Provider: "openai", Timestamp: time.Now(), LatencyMS: 5},
		{EventID: "e2", Model: "gpt-4o-mini", Provider: "openai", Timestamp: time.Now(), LatencyMS: 7},
	}
	is.NoErr(exp.Write(t.Context(), batch))
	is.NoErr(exp.Write(t.Context(), batch)) // a retried batch
	is.Equal(len(mem.GetSpans()), 0)        // still in the batcher
	is.NoErr(exp.Close())
	is.Equal(len(mem.GetSpans()), 2) // flushed by Close, not duplicated
	is.True(errors.Is(exp.Write(t.Context(), batch), persist.ErrClosed))
	is.NoErr(exp.Close())
}

func TestNilProvidersAreNoOps(t *testing.T) {
	is := is.New(t)
	exp, err := otelexport.New(nil, nil)
	is.NoErr(err)
	is.NoErr(exp.Write(t.Context(), []*leanllm.Event{{EventID: "e1"}}))
	is.NoErr(exp.Close())
}

func TestTeeWithDatabase(t *testing.T) {
	is := is.New(t)
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	defer tp.Shutdown(context.Background())
	exp, err := otelexport.New(tp, nil)
	is.NoErr(err)
	db := persist.NewMemStore()
	db.FailNext(1, nil) // the database fails once: the batch is retried to both
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()),
		leanllm.WithStore(leanllm.Tee(db, exp)), leanllm.WithRetry(3, time.Millisecond, time.Second))
	is.NoErr(err)
	defer cl.Close(context.Background())
	for range 3 {
		_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
		is.NoErr(err)
	}
	is.NoErr(cl.Flush(t.Context()))
	is.Equal(db.Len(), 3)
	is.Equal(len(mem.GetSpans()), 3) // no duplicate span for the retried batch
}

func TestMiddlewareOutsideASpanAllocatesNothing(t *testing.T) {
	is := is.New(t)
	h := otelexport.Middleware()(leanllm.HandlerFunc(func(context.Context, *leanllm.Call) (*llms.ContentResponse, error) {
		return nil, nil
	}))
	c := &leanllm.Call{Event: &leanllm.Event{}}
	ctx := t.Context()
	allocs := testing.AllocsPerRun(100, func() { _, _ = h.Handle(ctx, c) })
	is.Equal(allocs, 0.0)
	is.Equal(len(c.Event.Metadata.Extra), 0)
}

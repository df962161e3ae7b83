package otelexport_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	otelexport "github.com/leanllm/leanllm-go/export/otel"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// newStatic is the zero-latency model: one shared, read-only response, so
// the benchmarks measure LeanLLM's own cost.
var newStatic = testprovider.NewStatic

// discardStore accepts and forgets every batch (OTel off, same pipeline).
type discardStore struct{}

func (discardStore) Write(context.Context, []*leanllm.Event) error { return nil }
func (discardStore) Close() error                                  { return nil }

var benchMsgs = []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Say hi.")}

func benchClient(b *testing.B, m llms.Model, opts ...leanllm.Option) *leanllm.Client {
	cl, err := leanllm.New(append([]leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(m)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

// benchExporter is an Exporter over real SDK providers: a batching span
// processor in front of a no-op span exporter, and a meter provider with a
// manual reader.
func benchExporter(b *testing.B) (*otelexport.Exporter, *sdktrace.TracerProvider) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	exp, err := otelexport.New(tp, mp)
	if err != nil {
		b.Fatal(err)
	}
	return exp, tp
}

// BenchmarkCallOverhead measures the call path: the raw model, the logged
// call (content off) with OTel export off, and with the Exporter as the
// store, so that the call path only gains the parenting middleware — outside
// and inside a caller's span.
func BenchmarkCallOverhead(b *testing.B) {
	ctx := context.Background()
	static := newStatic()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = static.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/otel_off", func(b *testing.B) {
		cl := benchClient(b, static, leanllm.WithStore(discardStore{}))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/otel_on", func(b *testing.B) {
		exp, _ := benchExporter(b)
		cl := benchClient(b, static, leanllm.WithStore(exp), otelexport.Parenting())
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/otel_on/in_span", func(b *testing.B) {
		exp, tp := benchExporter(b)
		cl := benchClient(b, static, leanllm.WithStore(exp), otelexport.Parenting())
		sctx, span := tp.Tracer("bench").Start(ctx, "caller")
		defer span.End()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(sctx, benchMsgs)
		}
	})
}

// BenchmarkExporterWrite measures the worker side: building, ending and
// recording metrics for one span per event, in batches of 100.
func BenchmarkExporterWrite(b *testing.B) {
	exp, _ := benchExporter(b)
	now := time.Now()
	batch := make([]*leanllm.Event, 100)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = &leanllm.Event{EventID: strconv.Itoa(n), Model: "gpt-4o-mini", Provider: "openai", Timestamp: now,
				LatencyMS: 120, InputTokens: 10, OutputTokens: 5, TotalTokens: 15, Cost: 0.0001,
				Labels: map[string]string{"feature": "bench"}, Metadata: leanllm.Metadata{FinishReason: "stop", CallKind: "chat", SampleRate: 1}}
		}
		_ = exp.Write(context.Background(), batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

// BenchmarkParentingMiddleware isolates what export adds to the call path:
// the middleware, outside and inside a caller's span.
func BenchmarkParentingMiddleware(b *testing.B) {
	resp, _ := newStatic().GenerateContent(context.Background(), nil)
	h := otelexport.Middleware()(leanllm.HandlerFunc(func(context.Context, *leanllm.Call) (*llms.ContentResponse, error) {
		return resp, nil
	}))
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	sctx, span := tp.Tracer("bench").Start(context.Background(), "caller")
	defer span.End()
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{{"no_span", context.Background()}, {"in_span", sctx}} {
		b.Run(bc.name, func(b *testing.B) {
			c := &leanllm.Call{Event: &leanllm.Event{}}
			b.ReportAllocs()
			for b.Loop() {
				c.Event.Metadata.Extra = nil
				_, _ = h.Handle(bc.ctx, c)
			}
		})
	}
}

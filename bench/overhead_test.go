package bench_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/core"
	otelexport "github.com/leanllm/leanllm-go/export/otel"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/llms"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// discardStore accepts every batch and keeps nothing: the Writer's worker
// runs, but the store costs nothing.
type discardStore struct{}

func (discardStore) Write(context.Context, []*core.Event) error { return nil }
func (discardStore) Close() error                               { return nil }

// noopExporter is an OpenTelemetry span exporter that drops every span.
type noopExporter struct{}

func (noopExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (noopExporter) Shutdown(context.Context) error                             { return nil }

// newClient builds a Client around m that persists through the Writer into
// discardStore (so the enqueue is part of the measured call).
func newClient(b *testing.B, m llms.Model, opts ...leanllm.Option) *leanllm.Client {
	b.Helper()
	// A model name, so that events are priced as in a real program.
	base := []leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(m), leanllm.WithStore(discardStore{}), leanllm.WithDefaultModel("gpt-4o-mini")}
	cl, err := leanllm.New(append(base, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

// newTracer returns a tracer whose spans go through a batch span processor
// (OpenTelemetry's defaults: queue 2048, batches of 512) to a no-op
// exporter: the cost of OTel instrumentation without any I/O.
func newTracer(b *testing.B) trace.Tracer {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(noopExporter{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("bench")
}

// newOTelExporter returns LeanLLM's OpenTelemetry exporter (export/otel)
// over real SDK providers: the batch span processor in front of a no-op
// span exporter, and a meter provider with a manual reader.
func newOTelExporter(b *testing.B) *otelexport.Exporter {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(noopExporter{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	exp, err := otelexport.New(tp, mp)
	if err != nil {
		b.Fatal(err)
	}
	return exp
}

// BenchmarkOverhead is the per-call overhead comparison, in one process:
// the raw model; the same model behind a LeanLLM Client (content off,
// sampled out, with OTel export on, and capturing a redacted 1 KiB
// prompt); an OpenTelemetry span (batch span processor, no-op exporter)
// around the raw call, bare and with the GenAI attributes an
// instrumentation sets; and langchaingo's callbacks.LogHandler around the
// raw call, printing to /dev/null.
func BenchmarkOverhead(b *testing.B) {
	ctx := context.Background()
	m := harness.NewStatic()
	short := harness.ShortPrompt
	kib := harness.Prompt(1024)

	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = m.GenerateContent(ctx, short)
		}
	})
	b.Run("leanllm/content_off", func(b *testing.B) {
		cl := newClient(b, m)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, short)
		}
	})
	b.Run("leanllm/sampled_out", func(b *testing.B) {
		cl := newClient(b, m, leanllm.WithSamplingRate(0))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, short)
		}
	})
	b.Run("leanllm/otel_export", func(b *testing.B) {
		// The exporter is the store: spans and metrics are made on the
		// worker goroutine from each batch; the call path gains only the
		// parenting middleware.
		cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(m), leanllm.WithStore(newOTelExporter(b)), otelexport.Parenting(), leanllm.WithDefaultModel("gpt-4o-mini"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cl.Close(context.Background()) })
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, short)
		}
	})
	b.Run("raw/1KiB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = m.GenerateContent(ctx, kib)
		}
	})
	b.Run("leanllm/1KiB_capture_redacted", func(b *testing.B) {
		cl := newClient(b, m, leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("redacted"))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, kib)
		}
	})
	b.Run("otel/span", func(b *testing.B) {
		tr := newTracer(b)
		b.ReportAllocs()
		for b.Loop() {
			sctx, span := tr.Start(ctx, "chat gpt-4o-mini", trace.WithSpanKind(trace.SpanKindClient))
			_, _ = m.GenerateContent(sctx, short)
			span.End()
		}
	})
	b.Run("otel/span_genai_attrs", func(b *testing.B) {
		tr := newTracer(b)
		b.ReportAllocs()
		for b.Loop() {
			sctx, span := tr.Start(ctx, "chat gpt-4o-mini", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(
					attribute.String("gen_ai.operation.name", "chat"),
					attribute.String("gen_ai.provider.name", "openai"),
					attribute.String("gen_ai.request.model", "gpt-4o-mini")))
			resp, _ := m.GenerateContent(sctx, short)
			if resp != nil && len(resp.Choices) > 0 {
				gi := resp.Choices[0].GenerationInfo
				span.SetAttributes(
					attribute.Int("gen_ai.usage.input_tokens", gi["PromptTokens"].(int)),
					attribute.Int("gen_ai.usage.output_tokens", gi["CompletionTokens"].(int)),
					attribute.StringSlice("gen_ai.response.finish_reasons", []string{resp.Choices[0].StopReason}))
			}
			span.End()
		}
	})
	b.Run("langchaingo/LogHandler_devnull", func(b *testing.B) {
		// LogHandler prints with fmt.Println to os.Stdout and takes no
		// writer: point os.Stdout at /dev/null for the duration. Each line
		// is one write(2), which is what it costs in a real program.
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.Skip(err)
		}
		defer null.Close()
		saved := os.Stdout
		os.Stdout = null
		defer func() { os.Stdout = saved }()
		var h callbacks.Handler = callbacks.LogHandler{}
		b.ReportAllocs()
		for b.Loop() {
			h.HandleLLMGenerateContentStart(ctx, short)
			resp, _ := m.GenerateContent(ctx, short)
			h.HandleLLMGenerateContentEnd(ctx, resp)
		}
	})
}

// BenchmarkE2E calls langchaingo's real openai client against the loopback
// OpenAI server (internal/testprovider), with and without LeanLLM. The
// "alternating" case makes one raw and one logged call per iteration, in
// alternating order, and reports the p50/p99 of each and their difference:
// both see the same machine load.
func BenchmarkE2E(b *testing.B) {
	srv := testprovider.NewServer(b, testprovider.WithoutRecording())
	llm := testprovider.OpenAIModel(b, srv)
	ctx := context.Background()
	msgs := harness.ShortPrompt
	b.Run("openai_loopback/raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := llm.GenerateContent(ctx, msgs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("openai_loopback/leanllm", func(b *testing.B) {
		cl := newClient(b, llm)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cl.GenerateContent(ctx, msgs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("openai_loopback/alternating", func(b *testing.B) {
		cl := newClient(b, llm)
		var raw, logged harness.Durations
		call := func(m llms.Model, d *harness.Durations) {
			t0 := time.Now()
			if _, err := m.GenerateContent(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			*d = append(*d, time.Since(t0))
		}
		i := 0
		for b.Loop() {
			if i++; i%2 == 0 {
				call(llm, &raw)
				call(cl, &logged)
			} else {
				call(cl, &logged)
				call(llm, &raw)
			}
		}
		r50, r99 := raw.Quantile(0.50), raw.Quantile(0.99)
		l50, l99 := logged.Quantile(0.50), logged.Quantile(0.99)
		b.ReportMetric(float64(r50), "raw-p50-ns")
		b.ReportMetric(float64(r99), "raw-p99-ns")
		b.ReportMetric(float64(l50), "leanllm-p50-ns")
		b.ReportMetric(float64(l99), "leanllm-p99-ns")
		b.ReportMetric(float64(l50-r50), "delta-p50-ns")
		b.ReportMetric(float64(l99-r99), "delta-p99-ns")
	})
}

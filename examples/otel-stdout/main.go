// Command otel-stdout exports LeanLLM events as OpenTelemetry GenAI spans to
// stdout (the stdouttrace exporter). The Exporter is the client's store, so
// spans are built on the client's worker goroutine; otelexport.Parenting
// makes each call's span a child of the caller's active span.
//
// In production, replace the stdout exporter by OTLP, or use
// otelexport.FromEnv with LEANLLM_OTEL_EXPORT=true and the OTEL_* variables.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	otelexport "github.com/leanllm/leanllm-go/export/otel"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "otel-stdout:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	srv := testprovider.NewUnstarted().Start()
	defer srv.Close()
	srv.Push(testprovider.Reply{Text: "Bonjour !", Usage: testprovider.UsageOf(11, 3)})
	llm, err := openai.New(srv.OpenAIOptions()...)
	if err != nil {
		return err
	}

	// The application's tracer provider.
	stdout, err := stdouttrace.New(stdouttrace.WithWriter(w), stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(stdout),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "otel-stdout-example"))))
	defer tp.Shutdown(ctx)

	// LeanLLM events → spans (metrics: pass a MeterProvider instead of nil).
	exp, err := otelexport.New(tp, nil)
	if err != nil {
		return err
	}
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(llm),
		leanllm.WithStore(exp), // or leanllm.Tee(database, exp)
		otelexport.Parenting(), // = WithMiddleware(After(StageCapture), otelexport.Middleware())
	)
	if err != nil {
		return err
	}

	ctx, span := tp.Tracer("example").Start(ctx, "translate greeting")
	_, err = cl.Chat(ctx, "openai/gpt-4o-mini", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Say hello in French.")},
		leanllm.WithLabels(map[string]string{"feature": "greeting"}), leanllm.WithLLMOptions(llms.WithTemperature(0.3)))
	span.End()
	if err != nil {
		return err
	}
	// Close drains the queue: the call's span is exported now, on the worker.
	return cl.Close(context.Background())
}

package otelexport_test

import (
	"context"
	"fmt"

	otelexport "github.com/leanllm/leanllm-go/export/otel"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The Exporter as the client's store, and Parenting so that the call's
// span is a child of the caller's.
func ExampleParenting() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())

	exp, _ := otelexport.New(tp, nil)
	cl, _ := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()),
		leanllm.WithStore(exp), otelexport.Parenting())

	ctx, span := tp.Tracer("app").Start(context.Background(), "handle request")
	_, _ = cl.Chat(ctx, "openai/gpt-4o-mini", human("Say hi."))
	span.End()
	_ = cl.Close(context.Background()) // drains the queue: the worker exports the call's span

	for _, s := range spans.GetSpans() {
		fmt.Printf("%s (child of the request: %t)\n", s.Name, s.Parent.SpanID() == span.SpanContext().SpanID())
	}
	// Output:
	// handle request (child of the request: false)
	// chat gpt-4o-mini (child of the request: true)
}

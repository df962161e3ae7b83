package otelexport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Environment variables read by FromEnv (besides the standard OTEL_* ones
// read by the OTLP exporter and the SDK).
const (
	// EnvExport turns the export on: "true" (strconv.ParseBool's values).
	EnvExport = "LEANLLM_OTEL_EXPORT"
	// EnvCaptureContent is the variable GenAI instrumentations share to
	// record message content; FromEnv applies it as WithContent.
	EnvCaptureContent = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
	// EnvSDKDisabled is OpenTelemetry's master switch: "true" disables
	// FromEnv as well.
	EnvSDKDisabled = "OTEL_SDK_DISABLED"
)

// ErrDisabled is returned by FromEnv when LEANLLM_OTEL_EXPORT is not true
// (or OTEL_SDK_DISABLED is). Test it with errors.Is.
var ErrDisabled = errors.New("otelexport: disabled: set LEANLLM_OTEL_EXPORT=true")

// ErrConfig is wrapped by FromEnv's errors about an invalid variable. Test
// it with errors.Is.
var ErrConfig = errors.New("otelexport: invalid configuration")

// FromEnv returns an Exporter configured by the environment, or an error
// wrapping ErrDisabled unless LEANLLM_OTEL_EXPORT=true.
//
// Spans go over OTLP/HTTP (otlptracehttp, which reads
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, …) through a
// batching TracerProvider of its own (OTEL_BSP_*, OTEL_TRACES_SAMPLER) whose
// resource comes from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. The
// Exporter owns that provider: its Close (run by the client's Close) flushes
// and shuts it down. Metrics go to the global MeterProvider
// (otel.SetMeterProvider; none is a no-op). opts are applied after the
// environment.
//
// Nothing connects before the first export: a collector that is down costs
// the worker the OTLP timeout per export, never a call.
func FromEnv(ctx context.Context, opts ...Option) (*Exporter, error) {
	return fromEnv(ctx, os.LookupEnv, opts)
}

func fromEnv(ctx context.Context, lookup func(string) (string, bool), opts []Option) (*Exporter, error) {
	on, err := envBool(lookup, EnvExport)
	if err != nil {
		return nil, err
	}
	off, err := envBool(lookup, EnvSDKDisabled)
	if err != nil {
		return nil, err
	}
	if !on || off {
		return nil, ErrDisabled
	}
	content, err := envBool(lookup, EnvCaptureContent)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otelexport: OTLP trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.Default()))
	x, err := New(tp, otel.GetMeterProvider(), append([]Option{WithContent(content)}, opts...)...)
	if err != nil {
		_ = tp.Shutdown(ctx)
		return nil, err
	}
	x.owned = append(x.owned, tp.Shutdown)
	return x, nil
}

func envBool(lookup func(string) (string, bool), name string) (bool, error) {
	v, ok := lookup(name)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q: accepts true or false", ErrConfig, name, v)
	}
	return b, nil
}

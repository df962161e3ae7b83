package otelexport

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/leanllm/leanllm-go/export/otel"

// DefaultCloseTimeout bounds Close's flush and shutdown of the providers.
const DefaultCloseTimeout = 10 * time.Second

// recentSize is how many exported event ids the Exporter remembers, to skip
// an event written twice (a retried batch) and to parent a tool step to the
// span of the LLM call that asked for it.
const recentSize = 8192

// Exporter turns LeanLLM events into OpenTelemetry spans and GenAI client
// metrics. It is a persist.Store: give it to the client as its store
// (leanllm.WithStore(exp)), or beside a database with leanllm.Tee, so that
// all export work runs on the client's worker goroutine, never on a call's.
//
// Write is safe for concurrent use, although the client's worker calls it
// one batch at a time. It is idempotent: an event id it has already
// exported (among the last 8192) is skipped, so a batch the Writer retries
// because another store of a Tee failed does not duplicate spans.
type Exporter struct {
	tracer  trace.Tracer
	inst    instruments
	content bool

	// tp and mp are flushed by Close; owned ones are shut down.
	tp, mp       any
	owned        []func(context.Context) error
	closeTimeout time.Duration

	mu     sync.Mutex
	recent map[string]trace.SpanContext
	sets   map[metricKey]attribute.Set
	order  []string // ring of recent's keys
	next   int
	closed bool
}

var _ persist.Store = (*Exporter)(nil)

// Option configures an Exporter.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	content      bool
	closeTimeout time.Duration
}

// WithContent records the prompt and response as gen_ai.input.messages and
// gen_ai.output.messages (and a tool step's input as
// gen_ai.tool.call.arguments) when the event holds them, that is, when the
// client captures content (capture_content) and after its redaction. Off by
// default: content often holds personal data.
func WithContent(on bool) Option { return optionFunc(func(c *config) { c.content = on }) }

// WithCloseTimeout bounds Close's flush and shutdown of the providers
// (default DefaultCloseTimeout).
func WithCloseTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.closeTimeout = d })
}

// New returns an Exporter emitting spans through tp and metrics through mp.
// A nil provider emits nothing of its kind. The Exporter does not own the
// providers: Close flushes them (when they have a ForceFlush method) but
// does not shut them down.
func New(tp trace.TracerProvider, mp metric.MeterProvider, opts ...Option) (*Exporter, error) {
	cfg := config{closeTimeout: DefaultCloseTimeout}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.closeTimeout <= 0 {
		cfg.closeTimeout = DefaultCloseTimeout
	}
	x := &Exporter{content: cfg.content, closeTimeout: cfg.closeTimeout, tp: tp, mp: mp,
		recent: make(map[string]trace.SpanContext), sets: make(map[metricKey]attribute.Set), order: make([]string, recentSize)}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	x.tracer = tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
	inst, err := newInstruments(mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL)))
	if err != nil {
		return nil, err
	}
	x.inst = inst
	return x, nil
}

// Write emits one span (and its metrics) per event. Events are exported in
// order, so a tool step finds the span of the call that asked for it. Span
// export errors are the SDK's business (its ErrorHandler); Write fails
// only after Close (persist.ErrClosed) or when ctx ends.
func (x *Exporter) Write(ctx context.Context, events []*core.Event) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return persist.ErrClosed
	}
	for _, e := range events {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e == nil {
			continue
		}
		if _, seen := x.recent[e.EventID]; seen && e.EventID != "" {
			continue
		}
		sc := x.export(ctx, e)
		x.remember(e.EventID, sc)
	}
	return nil
}

// export emits e's span and metrics and returns the span's context.
func (x *Exporter) export(ctx context.Context, e *core.Event) trace.SpanContext {
	op := operation(e)
	// The span's parent: the caller's span recorded by Middleware, else the
	// span of the event's parent_request_id (a tool step below its LLM
	// call), else none. Whatever ctx carries is never used.
	parent, ok := SpanContextOf(e)
	if !ok && e.ParentRequestID != "" {
		parent = x.recent[e.ParentRequestID]
	}
	pctx := trace.ContextWithSpanContext(ctx, parent)
	kind := trace.SpanKindClient
	if op == OpExecuteTool {
		kind = trace.SpanKindInternal
	}
	start := e.Timestamp
	if start.IsZero() {
		start = time.Now().Add(-time.Duration(e.LatencyMS) * time.Millisecond)
	}
	end := start.Add(time.Duration(e.LatencyMS) * time.Millisecond)
	_, span := x.tracer.Start(pctx, spanName(e, op),
		trace.WithSpanKind(kind),
		trace.WithTimestamp(start),
		trace.WithAttributes(spanAttributes(e, op, x.content)...))
	if e.ErrorKind != "" {
		span.SetStatus(codes.Error, e.ErrorMessage)
	}
	span.End(trace.WithTimestamp(end))
	if op != OpExecuteTool {
		x.record(ctx, e, op)
	}
	return span.SpanContext()
}

func (x *Exporter) remember(id string, sc trace.SpanContext) {
	if id == "" {
		return
	}
	if old := x.order[x.next]; old != "" {
		delete(x.recent, old)
	}
	x.order[x.next] = id
	x.next = (x.next + 1) % len(x.order)
	x.recent[id] = sc
}

type flusher interface {
	ForceFlush(context.Context) error
}

// Close flushes the providers (ForceFlush) and shuts down those the
// Exporter owns (FromEnv's), within the close timeout. Later Writes fail
// with persist.ErrClosed. Close is safe to call more than once.
func (x *Exporter) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	x.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), x.closeTimeout)
	defer cancel()
	var errs []error
	if len(x.owned) > 0 {
		for _, shutdown := range x.owned {
			errs = append(errs, shutdown(ctx))
		}
		return errors.Join(errs...)
	}
	for _, p := range []any{x.tp, x.mp} {
		if f, ok := p.(flusher); ok {
			errs = append(errs, f.ForceFlush(ctx))
		}
	}
	return errors.Join(errs...)
}

// metricKey identifies the attribute set of an event's metric point.
type metricKey struct {
	op, provider, model, errorType, tokenType string
}

// maxMetricSets bounds the cache of metric attribute sets (it is cleared
// when full; a cache miss only costs an allocation).
const maxMetricSets = 1024

// metricAttrs returns the low-cardinality attribute set of an event's
// metric point, cached. Called with x.mu held.
func (x *Exporter) metricAttrs(e *core.Event, op, errorType, tokenType string) attribute.Set {
	k := metricKey{op: op, provider: e.Provider, model: e.Model, errorType: errorType, tokenType: tokenType}
	if s, ok := x.sets[k]; ok {
		return s
	}
	a := make([]attribute.KeyValue, 0, 6)
	a = append(a, semconv.GenAIOperationNameKey.String(op))
	if e.Provider != "" {
		name, system := providerName(e.Provider)
		a = append(a, semconv.GenAIProviderNameKey.String(name), KeyGenAISystem.String(system))
	}
	if m := requestModel(e); m != "" {
		a = append(a, semconv.GenAIRequestModelKey.String(m))
	}
	if errorType != "" {
		a = append(a, semconv.ErrorTypeKey.String(errorType))
	}
	if tokenType != "" {
		a = append(a, semconv.GenAITokenTypeKey.String(tokenType))
	}
	s := attribute.NewSet(a...)
	if len(x.sets) >= maxMetricSets {
		clear(x.sets)
	}
	x.sets[k] = s
	return s
}

package otelexport

import (
	"context"
	"maps"
	"strconv"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	"go.opentelemetry.io/otel/trace"
)

// Metadata keys (metadata's extra keys) where Middleware records the
// caller's span: lowercase hex, as in a W3C traceparent. KeyTraceFlags is
// written only when the flags are not "01" (sampled), its usual value. They are stored
// with the event, so a trace id found in an OTel backend can be looked up
// in the database too (metadata->>'otel_trace_id').
const (
	KeyTraceID    = "otel_trace_id"
	KeySpanID     = "otel_span_id"
	KeyTraceFlags = "otel_trace_flags"
)

// Middleware returns the middleware that records, on each call's event, the
// span active in the caller's context (trace.SpanContextFromContext), so that
// the Exporter — which runs later, on the client's worker goroutine — makes
// the call's span a child of it. Calls made outside any span are left
// alone; so are calls with log=false, which reach no middleware.
//
// It must run inside the capture stage, which creates the event, and
// outside the enqueue stage, after which the event is immutable:
//
//	leanllm.WithMiddleware(leanllm.After(leanllm.StageCapture), otelexport.Middleware())
//
// which is what Parenting returns. Placed anywhere else it records nothing.
// On the sampled-out path there is no event on the way in; if the call
// fails, the error event built at the end is annotated too.
//
// Cost on the call path: nothing outside a span; inside one, one map and
// three strings per call.
func Middleware() leanllm.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			sc := trace.SpanContextFromContext(ctx)
			if sc.IsValid() {
				switch {
				case c.Event != nil:
					setParent(&c.Event.Metadata, sc)
				case c.Finisher != nil:
					// Sampled out: an event appears only if the call fails.
					c.Finisher = parentFinisher{next: c.Finisher, sc: sc}
				}
			}
			return next.Handle(ctx, c)
		})
	}
}

// Parenting returns the client option that inserts Middleware at its place
// in the chain (just inside the capture stage).
func Parenting() leanllm.Option {
	return leanllm.WithMiddleware(leanllm.After(leanllm.StageCapture), Middleware())
}

type parentFinisher struct {
	next core.Finisher
	sc   trace.SpanContext
}

func (f parentFinisher) Finish(c *core.Call) {
	f.next.Finish(c)
	if c.Event != nil {
		setParent(&c.Event.Metadata, f.sc)
	}
}

// setParent stores sc in m's extra keys. The map is replaced, never written
// in place: another stage may share it. The trace flags are stored only
// when they are not the usual "01" (sampled).
func setParent(m *core.Metadata, sc trace.SpanContext) {
	const hexdigits = "0123456789abcdef"
	var buf [32 + 16 + 2]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	for i, b := range tid {
		buf[2*i], buf[2*i+1] = hexdigits[b>>4], hexdigits[b&0x0f]
	}
	for i, b := range sid {
		buf[32+2*i], buf[32+2*i+1] = hexdigits[b>>4], hexdigits[b&0x0f]
	}
	f := byte(sc.TraceFlags())
	buf[48], buf[49] = hexdigits[f>>4], hexdigits[f&0x0f]
	hex := string(buf[:]) // one allocation for the three values
	n := 2
	if f != byte(trace.FlagsSampled) {
		n = 3
	}
	extra := make(map[string]any, len(m.Extra)+n)
	maps.Copy(extra, m.Extra)
	extra[KeyTraceID] = hex[:32]
	extra[KeySpanID] = hex[32:48]
	if n == 3 {
		extra[KeyTraceFlags] = hex[48:]
	}
	m.Extra = extra
}

// SpanContextOf returns the caller's span recorded on e by Middleware, and
// whether there is a valid one.
func SpanContextOf(e *core.Event) (trace.SpanContext, bool) {
	if e == nil || e.Metadata.Extra == nil {
		return trace.SpanContext{}, false
	}
	tid, _ := e.Metadata.Extra[KeyTraceID].(string)
	sid, _ := e.Metadata.Extra[KeySpanID].(string)
	if tid == "" || sid == "" {
		return trace.SpanContext{}, false
	}
	traceID, err := trace.TraceIDFromHex(tid)
	if err != nil {
		return trace.SpanContext{}, false
	}
	spanID, err := trace.SpanIDFromHex(sid)
	if err != nil {
		return trace.SpanContext{}, false
	}
	flags := trace.FlagsSampled // absent: sampled
	if fh, _ := e.Metadata.Extra[KeyTraceFlags].(string); fh != "" {
		flags = 0
		if v, err := strconv.ParseUint(fh, 16, 8); err == nil {
			flags = trace.TraceFlags(v)
		}
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: flags})
	return sc, sc.IsValid()
}

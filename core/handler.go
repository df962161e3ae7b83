package core

import (
	"context"

	"github.com/tmc/langchaingo/llms"
)

// Handler handles one LLM call. Every stage of the chain and the model adapter
// at its end implement it.
//
// Handle may be called concurrently from many goroutines. It blocks for as
// long as the call (and, for a stage, the rest of the chain) takes; ctx is the
// caller's context, which bounds the provider call and carries per-call
// settings (see NewContext). It returns the provider's response and error
// unchanged unless the stage's documentation says otherwise. The *Call is
// valid only until Handle returns: do not keep it (clients reuse them).
type Handler interface {
	Handle(ctx context.Context, c *Call) (*llms.ContentResponse, error)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, c *Call) (*llms.ContentResponse, error)

// Handle calls f(ctx, c).
func (f HandlerFunc) Handle(ctx context.Context, c *Call) (*llms.ContentResponse, error) {
	return f(ctx, c)
}

// Middleware wraps a Handler with behaviour before and after it. A middleware
// with nothing to do for a client's configuration should return next itself.
type Middleware func(next Handler) Handler

// Chain composes middlewares. The first one is the outermost: for
// Chain(a, b)(h), a sees the call first and the result last.
func Chain(outer Middleware, others ...Middleware) Middleware {
	return func(next Handler) Handler {
		for i := len(others) - 1; i >= 0; i-- {
			next = others[i](next)
		}
		return outer(next)
	}
}

// Sink receives finished events. Enqueue must not block and must not keep a
// reference to anything but the event, which it must not change.
type Sink interface {
	Enqueue(e *Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(e *Event)

// Enqueue calls f(e).
func (f SinkFunc) Enqueue(e *Event) { f(e) }

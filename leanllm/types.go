package leanllm

import (
	"context"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/tmc/langchaingo/llms"
)

// The chain's types live in package core so that stage packages (sampling,
// redaction, capture, middleware) can implement them and be composed here;
// they are re-exported so users need only this package.
type (
	// Event is one LLM call; see core.Event.
	Event = core.Event
	// Parameters are the generation parameters of an event.
	Parameters = core.Parameters
	// Metadata is the event's metadata object.
	Metadata = core.Metadata
	// Call is one call travelling the chain.
	Call = core.Call
	// Handler handles a call; every stage and the model adapter implement it.
	Handler = core.Handler
	// HandlerFunc adapts a function to a Handler.
	HandlerFunc = core.HandlerFunc
	// Middleware wraps a Handler.
	Middleware = core.Middleware
	// Settings are the per-call settings.
	Settings = core.Settings
	// Store receives batches of events on the worker goroutine.
	Store = persist.Store
	// Filter selects stored events.
	Filter = persist.Filter
	// AggregateQuery groups stored events.
	AggregateQuery = persist.AggregateQuery
	// AggregateRow is one group of an aggregate.
	AggregateRow = persist.AggregateRow
)

// Chain composes middlewares; the first is the outermost.
func Chain(outer Middleware, others ...Middleware) Middleware { return core.Chain(outer, others...) }

var _ llms.Model = (*Client)(nil)

// Trace scopes.

// StartTrace returns ctx inside a new trace scope: every call made with it
// (or a context derived from it, also in other goroutines) shares one
// correlation id — correlationID, or a new UUIDv7 when empty. With
// auto_chain, each call's parent_request_id is the previous event of the
// scope. It returns the correlation id.
func StartTrace(ctx context.Context, correlationID string) (context.Context, string) {
	if correlationID == "" {
		correlationID = newID()
	}
	ctx, _ = core.NewScope(ctx, correlationID)
	return ctx, correlationID
}

// WithContext returns ctx carrying per-call settings for every call made
// with it, for code that only sees llms.Model. Settings merge with those ctx
// already carries; labels merge, the inner value wins.
func WithContext(ctx context.Context, opts ...CallOption) context.Context {
	return core.NewContext(ctx, core.Settings{}.Apply(opts...))
}

// SettingsFromContext returns the per-call settings ctx carries.
func SettingsFromContext(ctx context.Context) Settings {
	if s := core.FromContext(ctx); s != nil {
		return *s
	}
	return Settings{}
}

package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Snapshot is what the pre-call and error hooks see of a call: a copy, so a
// hook cannot change the call.
type Snapshot struct {
	Model           string
	Provider        string
	Kind            string
	Messages        []llms.MessageContent // the caller's messages: read only
	Labels          map[string]string
	RequestID       string
	CorrelationID   string
	ParentRequestID string
	Stream          bool
	EventID         string // empty on the sampled-out path
}

// NewSnapshot returns the snapshot of c.
func NewSnapshot(c *core.Call) Snapshot {
	s := Snapshot{
		Model: c.Model, Provider: c.Provider, Kind: c.Kind, Messages: c.Messages,
		Labels: maps.Clone(c.Settings.Labels), RequestID: c.Settings.RequestID,
		CorrelationID: c.Settings.CorrelationID, ParentRequestID: c.Settings.ParentRequestID,
		Stream: c.Params.StreamingFunc != nil || c.Params.StreamingReasoningFunc != nil,
	}
	if c.Event != nil {
		s.EventID = c.Event.EventID
	}
	return s
}

// Hooks are the user's callbacks. Each runs synchronously on the caller's
// goroutine, so a slow hook slows the call by its own time and no more; a
// hook that panics is recovered and logged, and the call goes on.
type Hooks struct {
	// PreCall runs before the model is invoked (logged calls only).
	PreCall func(Snapshot)
	// PostCall runs after a successful call's event is built and queued. It
	// receives a copy of the event.
	PostCall func(*core.Event)
	// OnError runs after a failed call's event is built and queued.
	OnError func(error, Snapshot)
	// Logger receives recovered panics (nil = slog.Default()).
	Logger *slog.Logger
	// Scrub cleans a recovered panic's text (and stack) before it is logged,
	// so that a hook panicking with a secret does not leak it (nil = as is).
	Scrub func(string) string
}

// HooksStage returns the hooks stage, or a no-op when no hook is set.
func HooksStage(h Hooks) core.Middleware {
	if h.PreCall == nil && h.PostCall == nil && h.OnError == nil {
		return func(next core.Handler) core.Handler { return next }
	}
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			if h.PreCall != nil {
				snap := NewSnapshot(c)
				SafelyScrubbed(log, h.Scrub, "pre_call_hook", func() { h.PreCall(snap) })
			}
			resp, err := next.Handle(ctx, c)
			switch {
			case err != nil && h.OnError != nil:
				snap := NewSnapshot(c)
				SafelyScrubbed(log, h.Scrub, "error_hook", func() { h.OnError(err, snap) })
			case err == nil && h.PostCall != nil && c.Event != nil:
				ev := c.Event.Clone()
				SafelyScrubbed(log, h.Scrub, "post_call_hook", func() { h.PostCall(ev) })
			}
			return resp, err
		})
	}
}

// Safely runs f, recovering and logging a panic. It reports whether f
// returned normally.
func Safely(log *slog.Logger, what string, f func()) (ok bool) {
	return SafelyScrubbed(log, nil, what, f)
}

// SafelyScrubbed is Safely with the panic's text and stack passed through
// scrub before they are logged.
func SafelyScrubbed(log *slog.Logger, scrub func(string) string, what string, f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			if log != nil {
				msg, stack := fmt.Sprint(r), string(debug.Stack())
				if scrub != nil {
					msg, stack = scrub(msg), scrub(stack)
				}
				log.Error("leanllm: recovered panic in "+what, "panic", msg, "stack", stack)
			}
		}
	}()
	f()
	return true
}

package middleware

import (
	"context"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Enqueue returns the innermost stage. It is the first code to run when the
// model returns: it stamps c.End, lets c.Finisher complete the event (an
// error event is built even on the sampled-out path: errors always emit),
// applies c.Keep (tail sampling; errors are always kept) and hands the event
// to sink, which must not block.
func Enqueue(sink core.Sink) core.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			resp, err := next.Handle(ctx, c)
			if c.Event != nil || err != nil {
				// A sampled-out success needs no end time: skip the clock.
				c.End = time.Now()
			}
			c.Response, c.Err = resp, err
			if c.Finisher != nil && (c.Event != nil || err != nil) {
				c.Finisher.Finish(c)
			}
			if c.Event == nil {
				return resp, err
			}
			if err == nil && c.Keep != nil && !c.Keep(c) {
				c.Event = nil
				return resp, err
			}
			sink.Enqueue(c.Event)
			return resp, err
		})
	}
}

package middleware

import (
	"context"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Timing returns the timing stage: it stamps c.Start, wraps the streaming
// callbacks to stamp c.FirstToken at the first content or tool-call chunk and
// to tell a consumer that stopped early from a failed stream, and sets
// c.StreamEnd when the call returns.
func Timing() core.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			if c.Start.IsZero() {
				c.Start = time.Now()
			}
			if f := c.Params.StreamingFunc; f != nil {
				c.Stream = true
				c.AddOptions(llms.WithStreamingFunc(func(ctx context.Context, chunk []byte) error {
					if c.FirstToken.IsZero() && len(chunk) > 0 {
						c.FirstToken = time.Now()
					}
					if err := f(ctx, chunk); err != nil {
						c.ConsumerErr = err
						return err
					}
					return nil
				}))
			}
			if f := c.Params.StreamingReasoningFunc; f != nil {
				c.Stream = true
				c.AddOptions(llms.WithStreamingReasoningFunc(func(ctx context.Context, reasoning, chunk []byte) error {
					if c.FirstToken.IsZero() && (len(chunk) > 0 || len(reasoning) > 0) {
						c.FirstToken = time.Now()
					}
					if err := f(ctx, reasoning, chunk); err != nil {
						c.ConsumerErr = err
						return err
					}
					return nil
				}))
			}
			resp, err := next.Handle(ctx, c)
			if c.End.IsZero() && (c.Event != nil || err != nil) {
				c.End = time.Now()
			}
			return resp, err
		})
	}
}

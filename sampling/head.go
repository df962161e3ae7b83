package sampling

import (
	"context"
	"math/rand/v2"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Sampler decides whether a call is kept, before it runs. It is called
// concurrently and must not block.
type Sampler interface {
	// Rate returns the probability (0..1) that c is kept.
	Rate(c *core.Call) float64
}

// SamplerFunc adapts a function to a Sampler.
type SamplerFunc func(c *core.Call) float64

// Rate calls f(c).
func (f SamplerFunc) Rate(c *core.Call) float64 { return f(c) }

// Fixed is a Sampler with one rate for every call.
type Fixed float64

// Rate returns the fixed rate.
func (f Fixed) Rate(*core.Call) float64 { return float64(f) }

// Head returns the head-sampling stage. The call's own `sample` setting wins
// over s. The decision draws one random number only when the rate is
// strictly between 0 and 1.
func Head(s Sampler) core.Middleware {
	if s == nil {
		s = Fixed(1)
	}
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			rate := 1.0
			if c.Settings.HasSample {
				rate = c.Settings.Sample
			} else {
				rate = s.Rate(c)
			}
			c.SampleRate = rate
			c.Sampled = Decide(rate)
			return next.Handle(ctx, c)
		})
	}
}

// Decide draws the head decision for rate.
func Decide(rate float64) bool {
	switch {
	case rate >= 1:
		return true
	case rate <= 0:
		return false
	default:
		return rand.Float64() < rate
	}
}

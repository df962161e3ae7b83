package sampling

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Rule is a tail rule: after a successful call, it says whether the event
// must be kept whatever the head decision. Match is called concurrently,
// after the model returned and the event was built (c.Event is set, c.End
// and c.Response too); it must not block and must not change c.
type Rule interface {
	Match(c *core.Call) bool
}

// RuleFunc adapts a function to a Rule.
type RuleFunc func(c *core.Call) bool

// Match calls f(c).
func (f RuleFunc) Match(c *core.Call) bool { return f(c) }

// SlowerThan keeps calls whose latency exceeds d.
func SlowerThan(d time.Duration) Rule {
	return RuleFunc(func(c *core.Call) bool { return c.Latency() > d })
}

// CostlierThan keeps calls whose cost exceeds usd.
func CostlierThan(usd float64) Rule {
	return RuleFunc(func(c *core.Call) bool { return c.Event != nil && c.Event.Cost > usd })
}

// LabelEquals keeps calls whose label key equals value (the event's labels:
// context and call labels, user_id, session_id and feature included).
func LabelEquals(key, value string) Rule {
	return RuleFunc(func(c *core.Call) bool {
		if c.Event != nil {
			v, ok := c.Event.Labels[key]
			return ok && v == value
		}
		v, ok := c.Settings.Labels[key]
		return ok && v == value
	})
}

// Tail returns the tail-sampling stage. Place it inside the head-sampling
// stage (leanllm.After(leanllm.StageSampling)), since it reads the head
// decision. With no rules it returns next unchanged.
//
// On the way in it remembers the head decision and rate, then sets
// c.Sampled so that every call builds its event. When the call returns, the
// event is kept if a rule matches (or the call failed: errors are always
// kept), else if the head decision kept it; otherwise it is dropped before
// the queue. The tail path therefore costs an event build for every call,
// including those the head decision would have dropped.
//
// # Recorded rate
//
// metadata.sample_rate is the probability with which such an event is
// kept, so that summing 1/sample_rate over stored events estimates the
// number of calls without bias:
//
//   - an event a rule matches, or a failed call, records 1: every such call
//     is kept (even when the head decision also kept it, which would
//     otherwise count it 1/rate times);
//   - any other kept event records the head rate.
//
// Tail sets c.Keep, replacing any Keep an outer stage set: use one Tail with
// all your rules.
func Tail(rules ...Rule) core.Middleware {
	rules = slices.DeleteFunc(slices.Clone(rules), func(r Rule) bool { return r == nil })
	if len(rules) == 0 {
		return func(next core.Handler) core.Handler { return next }
	}
	match := func(c *core.Call) bool {
		for _, r := range rules {
			if r.Match(c) {
				return true
			}
		}
		return false
	}
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			headKept, headRate := c.Sampled, c.SampleRate
			c.Sampled = true
			// Errors and rule-kept events are kept with probability 1.
			c.SampleRate = 1
			c.Keep = func(c *core.Call) bool {
				if match(c) {
					if c.Event != nil {
						c.Event.Metadata.SampleRate = 1
					}
					return true
				}
				if !headKept {
					return false
				}
				if c.Event != nil {
					c.Event.Metadata.SampleRate = headRate
				}
				return true
			}
			return next.Handle(ctx, c)
		})
	}
}

// HeadWithRand is Head drawing its decisions from rnd, which returns
// numbers in [0, 1) and must be safe for concurrent use (nil =
// math/rand/v2). Use it for reproducible runs: a seeded source makes the
// decisions of a sequential run deterministic.
func HeadWithRand(s Sampler, rnd func() float64) core.Middleware {
	if s == nil {
		s = Fixed(1)
	}
	if rnd == nil {
		rnd = rand.Float64
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
			switch {
			case rate >= 1:
				c.Sampled = true
			case rate <= 0:
				c.Sampled = false
			default:
				c.Sampled = rnd() < rate
			}
			return next.Handle(ctx, c)
		})
	}
}

// RateByModel is a head Sampler with one rate per model. The call's model
// string is looked up as given ("openai/gpt-4o-mini"), then without its
// provider prefix ("gpt-4o-mini"); def applies to other models. It panics
// if a rate is not within 0..1 (setup misuse). Rate does not allocate.
func RateByModel(rates map[string]float64, def float64) Sampler {
	m := checkedRates("RateByModel", rates, def)
	return SamplerFunc(func(c *core.Call) float64 {
		model := c.Model
		if model == "" {
			model = c.Params.Model
		}
		if r, ok := m[model]; ok {
			return r
		}
		if i := strings.LastIndexByte(model, '/'); i >= 0 {
			if r, ok := m[model[i+1:]]; ok {
				return r
			}
		}
		return def
	})
}

// RateByLabel is a head Sampler with one rate per value of the label key
// (call and context labels; for "user_id", "session_id" and "feature" also
// the values set with the seed's context). def applies to other values and
// to calls without the label. It panics if a rate is not within 0..1.
// Rate does not allocate.
func RateByLabel(key string, rates map[string]float64, def float64) Sampler {
	m := checkedRates("RateByLabel", rates, def)
	return SamplerFunc(func(c *core.Call) float64 {
		v, ok := c.Settings.Labels[key]
		if !ok {
			switch key {
			case "user_id":
				v, ok = c.Settings.UserID, c.Settings.UserID != ""
			case "session_id":
				v, ok = c.Settings.SessionID, c.Settings.SessionID != ""
			case "feature":
				v, ok = c.Settings.Feature, c.Settings.Feature != ""
			}
		}
		if !ok {
			return def
		}
		if r, ok := m[v]; ok {
			return r
		}
		return def
	})
}

func checkedRates(fn string, rates map[string]float64, def float64) map[string]float64 {
	check := func(k string, r float64) {
		if math.IsNaN(r) || r < 0 || r > 1 {
			panic(fmt.Sprintf("sampling.%s: rate %v for %q is not within 0..1", fn, r, k))
		}
	}
	check("default", def)
	for k, r := range rates {
		check(k, r)
	}
	return maps.Clone(rates)
}

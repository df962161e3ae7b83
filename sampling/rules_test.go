package sampling_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/middleware"
	"github.com/leanllm/leanllm-go/sampling"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// sink collects events.
type sink struct {
	mu     sync.Mutex
	events []*core.Event
}

func (s *sink) Enqueue(e *core.Event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func (s *sink) all() []*core.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*core.Event(nil), s.events...)
}

var errProvider = errors.New("provider exploded")

// Scenarios of the fake model, chosen by the "case" label.
const (
	caseFast  = "fast"
	caseSlow  = "slow"
	caseError = "error"
	caseDear  = "dear"
)

// fakeModel answers per the call's "case" label. It never allocates on the
// sampled-out path beyond the response it returns.
var okResp = &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: "ok", StopReason: "stop"}}}

func fakeModel(_ context.Context, c *core.Call) (*llms.ContentResponse, error) {
	if c.Settings.Labels["case"] == caseError {
		return nil, errProvider
	}
	return okResp, nil
}

// fakeClock runs inside the timing stage: it moves the start of "slow"
// calls two seconds back, so they look slow without sleeping.
func fakeClock(next core.Handler) core.Handler {
	return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
		if c.Settings.Labels["case"] == caseSlow {
			c.Start = c.Start.Add(-2 * time.Second)
		}
		return next.Handle(ctx, c)
	})
}

// newChain builds context → head → tail → timing → clock → capture →
// enqueue → fake model, the default chain's order.
func newChain(head core.Middleware, tail core.Middleware, s core.Sink) core.Handler {
	cap := capture.New(&capture.Config{
		Price: func(model string, u capture.Usage) (float64, bool, string) {
			return 0.001, true, "test"
		},
	})
	return core.Chain(
		middleware.Context(middleware.ContextConfig{}),
		head,
		tail,
		middleware.Timing(),
		fakeClock,
		cap.Middleware(),
		middleware.Enqueue(s),
	)(core.HandlerFunc(fakeModel))
}

var msgs = []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")}

func call(ctx context.Context, h core.Handler, kase string, labels map[string]string) error {
	c := core.NewCall("gpt-4o-mini", core.KindChat, msgs, nil, core.HandlerFunc(fakeModel))
	c.Settings.Labels = map[string]string{"case": kase}
	for k, v := range labels {
		c.Settings.Labels[k] = v
	}
	_, err := h.Handle(ctx, c)
	return err
}

func TestTailRecordedRate(t *testing.T) {
	tests := []struct {
		name     string
		headRate float64
		kase     string
		labels   map[string]string
		kept     bool
		rate     float64
	}{
		{"head in, no rule: head rate", 1, caseFast, nil, true, 1},
		{"head out, no rule: dropped", 0, caseFast, nil, false, 0},
		{"head out, slow: kept at 1", 0, caseSlow, nil, true, 1},
		{"head out, error: kept at 1", 0, caseError, nil, true, 1},
		{"head out, label: kept at 1", 0, caseFast, map[string]string{"tier": "vip"}, true, 1},
		{"head out, other label value: dropped", 0, caseFast, map[string]string{"tier": "free"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			s := &sink{}
			h := newChain(sampling.Head(sampling.Fixed(tt.headRate)),
				sampling.Tail(sampling.SlowerThan(time.Second), sampling.LabelEquals("tier", "vip")), s)
			err := call(t.Context(), h, tt.kase, tt.labels)
			is.Equal(err != nil, tt.kase == caseError)
			got := s.all()
			is.Equal(len(got) == 1, tt.kept)
			if tt.kept {
				is.Equal(got[0].Metadata.SampleRate, tt.rate)
			}
		})
	}
}

// A call the head kept and a rule matches records 1, not the head rate:
// every such call is kept, so it must count once.
func TestTailRuleMatchOverridesHeadRate(t *testing.T) {
	is := is.New(t)
	s := &sink{}
	h := newChain(sampling.HeadWithRand(sampling.Fixed(0.5), func() float64 { return 0 }), // always in
		sampling.Tail(sampling.SlowerThan(time.Second)), s)
	is.NoErr(call(t.Context(), h, caseSlow, nil))
	is.NoErr(call(t.Context(), h, caseFast, nil))
	got := s.all()
	is.Equal(len(got), 2)
	is.Equal(got[0].Metadata.SampleRate, 1.0) // slow: rule
	is.Equal(got[1].Metadata.SampleRate, 0.5) // fast: head
}

func TestCostlierThan(t *testing.T) {
	is := is.New(t)
	for _, tc := range []struct {
		threshold float64
		kept      bool
	}{{0.0005, true}, {0.002, false}} {
		s := &sink{}
		h := newChain(sampling.Head(sampling.Fixed(0)), sampling.Tail(sampling.CostlierThan(tc.threshold)), s)
		is.NoErr(call(t.Context(), h, caseFast, nil)) // costs 0.001
		is.Equal(len(s.all()) == 1, tc.kept)
	}
}

func TestTailWithoutRulesReturnsNext(t *testing.T) {
	is := is.New(t)
	h := core.HandlerFunc(fakeModel)
	is.Equal(fmt.Sprintf("%p", sampling.Tail()(h)), fmt.Sprintf("%p", h))
	is.Equal(fmt.Sprintf("%p", sampling.Tail(nil)(h)), fmt.Sprintf("%p", h))
}

// scenario returns the case of call i of a run: 5 % errors, 10 % slow, the
// rest fast, shuffled with a fixed seed.
func scenario(n int, seed uint64) []string {
	out := make([]string, n)
	for i := range out {
		switch {
		case i < n/20:
			out[i] = caseError
		case i < n/20+n/10:
			out[i] = caseSlow
		default:
			out[i] = caseFast
		}
	}
	r := rand.New(rand.NewPCG(seed, 2))
	r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

type runResult struct {
	errors, slow, fast int     // stored events by case
	scaled             float64 // sum of 1/sample_rate
	naive              float64 // sum of 1/head rate: what recording the head rate everywhere would give
}

func run(t *testing.T, head core.Middleware, cases []string) runResult {
	t.Helper()
	s := &sink{}
	h := newChain(head, sampling.Tail(sampling.SlowerThan(time.Second)), s)
	for _, kase := range cases {
		_ = call(t.Context(), h, kase, nil)
	}
	var r runResult
	for _, e := range s.all() {
		switch e.Labels["case"] {
		case caseError:
			r.errors++
		case caseSlow:
			r.slow++
		default:
			r.fast++
		}
		r.scaled += 1 / e.Metadata.SampleRate
		r.naive += 1 / 0.01
	}
	return r
}

// At a head rate of 1 %, the tail rules keep every error and every slow
// call, whatever the random draws.
func TestTailKeepsAllErrorsAndSlowCallsAtOnePercent(t *testing.T) {
	is := is.New(t)
	const n = 10000
	cases := scenario(n, 1)
	r := run(t, sampling.Head(sampling.Fixed(0.01)), cases) // the real, unseeded head
	is.Equal(r.errors, n/20)                                // 100 % of errors
	is.Equal(r.slow, n/10)                                  // 100 % of slow calls
	is.True(r.fast < n/10)                                  // and only a sample of the rest (expected 85)
}

// The scaled count (sum of 1/sample_rate) of a 10,000-call run at a 1 %
// head rate estimates the true call count. The head draws come from a
// seeded source, so the run is deterministic.
//
// The estimate is exact for errors and slow calls (rate 1); its noise comes
// from the 8,500 fast calls alone: a standard deviation of
// sqrt(8500·0.99/0.01) ≈ 917 calls, 9.2 % of 10,000, for one run. The
// average over many seeded runs shows there is no bias.
func TestScaledCountEstimatesTrueCount(t *testing.T) {
	is := is.New(t)
	const n = 10000
	cases := scenario(n, 1)
	seeded := func(seed uint64) core.Middleware {
		rng := rand.New(rand.NewPCG(seed, 3))
		var mu sync.Mutex
		return sampling.HeadWithRand(sampling.Fixed(0.01), func() float64 {
			mu.Lock()
			defer mu.Unlock()
			return rng.Float64()
		})
	}

	r := run(t, seeded(1), cases)
	relErr := math.Abs(r.scaled-n) / n
	t.Logf("seed 1: stored %d events (errors %d, slow %d, fast %d), scaled count %.0f (error %.1f %%), naive count %.0f",
		r.errors+r.slow+r.fast, r.errors, r.slow, r.fast, r.scaled, 100*relErr, r.naive)
	is.True(relErr < 0.10)           // within 10 % of the truth
	is.True(r.naive > 10*float64(n)) // recording the head rate on tail-kept events would be off by >10x

	if testing.Short() {
		return
	}
	const runs = 20
	var sum float64
	for seed := range uint64(runs) {
		sum += run(t, seeded(100+seed), scenario(n, 100+seed)).scaled
	}
	mean := sum / runs
	t.Logf("mean scaled count over %d seeded runs: %.0f (error %.1f %%)", runs, mean, 100*math.Abs(mean-n)/n)
	is.True(math.Abs(mean-n)/n < 0.05) // unbiased: σ of the mean ≈ 2 %
}

func TestRateByModel(t *testing.T) {
	s := sampling.RateByModel(map[string]float64{"gpt-4o": 0.5, "anthropic/claude-3-5-haiku": 0.2}, 0.1)
	tests := []struct {
		model string
		want  float64
	}{
		{"gpt-4o", 0.5},
		{"openai/gpt-4o", 0.5},
		{"anthropic/claude-3-5-haiku", 0.2},
		{"claude-3-5-haiku", 0.1},
		{"gpt-4o-mini", 0.1},
		{"", 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			is := is.New(t)
			c := core.NewCall(tt.model, core.KindChat, msgs, nil, nil)
			is.Equal(s.Rate(c), tt.want)
		})
	}
	t.Run("Params.Model when the call has none", func(t *testing.T) {
		is := is.New(t)
		c := core.NewCall("", core.KindChat, msgs, []llms.CallOption{llms.WithModel("gpt-4o")}, nil)
		is.Equal(s.Rate(c), 0.5)
	})
}

func TestRateByLabel(t *testing.T) {
	s := sampling.RateByLabel("user_id", map[string]float64{"alice": 1, "bob": 0}, 0.25)
	tests := []struct {
		name     string
		settings core.Settings
		want     float64
	}{
		{"label", core.Settings{Labels: map[string]string{"user_id": "alice"}}, 1},
		{"seed context", core.Settings{UserID: "bob"}, 0},
		{"label wins", core.Settings{UserID: "bob", Labels: map[string]string{"user_id": "alice"}}, 1},
		{"other value", core.Settings{UserID: "carol"}, 0.25},
		{"no label", core.Settings{}, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			c := core.NewCall("m", core.KindChat, msgs, nil, nil)
			c.Settings = tt.settings
			is.Equal(s.Rate(c), tt.want)
		})
	}
}

func TestRateConstructorsPanicOnBadRates(t *testing.T) {
	for _, f := range []func(){
		func() { sampling.RateByModel(nil, 1.5) },
		func() { sampling.RateByModel(map[string]float64{"m": -0.1}, 1) },
		func() { sampling.RateByLabel("k", map[string]float64{"v": math.NaN()}, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

// The head-sampled-out path of the default chain allocates nothing: context
// → sampling → hooks (none) → timing → capture → enqueue → model.
func TestSampledOutPathAllocatesNothing(t *testing.T) {
	heads := map[string]sampling.Sampler{
		"Fixed":       sampling.Fixed(0),
		"RateByModel": sampling.RateByModel(map[string]float64{"gpt-4o-mini": 0}, 1),
		"RateByLabel": sampling.RateByLabel("user_id", map[string]float64{"u": 0}, 1),
	}
	for name, sm := range heads {
		t.Run(name, func(t *testing.T) {
			h, c := sampledOutChain(sampling.Head(sm))
			ctx := t.Context()
			allocs := testing.AllocsPerRun(1000, func() {
				resetCall(c)
				if _, err := h.Handle(ctx, c); err != nil {
					t.Fatal(err)
				}
			})
			if c.Event != nil {
				t.Fatal("sampled-out call built an event")
			}
			if allocs != 0 {
				t.Fatalf("sampled-out path: %v allocs per call, want 0", allocs)
			}
		})
	}
}

func sampledOutChain(head core.Middleware) (core.Handler, *core.Call) {
	cap := capture.New(&capture.Config{})
	model := core.HandlerFunc(func(context.Context, *core.Call) (*llms.ContentResponse, error) { return okResp, nil })
	h := core.Chain(
		middleware.Context(middleware.ContextConfig{}),
		head,
		middleware.HooksStage(middleware.Hooks{}),
		middleware.Timing(),
		cap.Middleware(),
		middleware.Enqueue(core.SinkFunc(func(*core.Event) { panic("sampled-out event enqueued") })),
	)(model)
	c := core.NewCall("gpt-4o-mini", core.KindChat, msgs, nil, model)
	c.Settings.Labels = map[string]string{"user_id": "u"}
	return h, c
}

func resetCall(c *core.Call) {
	c.Start, c.End = time.Time{}, time.Time{}
	c.Event, c.Finisher, c.Keep = nil, nil, nil
	c.Response, c.Err = nil, nil
}

func BenchmarkChainSampledOut(b *testing.B) {
	h, c := sampledOutChain(sampling.Head(sampling.Fixed(0)))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		resetCall(c)
		_, _ = h.Handle(ctx, c)
	}
}

func BenchmarkChainTail(b *testing.B) {
	for _, kase := range []string{caseFast, caseSlow} {
		b.Run(kase, func(b *testing.B) {
			h := newChain(sampling.Head(sampling.Fixed(0.01)), sampling.Tail(sampling.SlowerThan(time.Second)), core.SinkFunc(func(*core.Event) {}))
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				_ = call(ctx, h, kase, nil)
			}
		})
	}
}

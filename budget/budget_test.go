package budget_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/budget"
	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/middleware"
	"github.com/leanllm/leanllm-go/sampling"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// price: $10 per million input tokens, $20 per million output tokens.
func price(model string, in, out int) (float64, bool) {
	if model == "unknown-model" {
		return 0, false
	}
	return float64(in)*10e-6 + float64(out)*20e-6, true
}

// Each call of the fake model reports 100+100 tokens: $0.003. Its estimate
// ("hi": 1 token in, max_tokens 100 out) is $0.00201.
const callCost = 0.003

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

// chain is the default chain's order with the budget after enqueue:
// context → sampling → timing → capture → enqueue → budget → model.
func chain(b *budget.Budget, model llms.Model, s core.Sink, headRate float64) core.Handler {
	cap := capture.New(&capture.Config{})
	return core.Chain(
		middleware.Context(middleware.ContextConfig{}),
		sampling.Head(sampling.Fixed(headRate)),
		middleware.Timing(),
		cap.Middleware(),
		middleware.Enqueue(s),
		b.Middleware(),
	)(invoke(model))
}

func invoke(m llms.Model) core.Handler {
	return core.Invoke(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
		return m.GenerateContent(ctx, c.Messages, c.Options...)
	})
}

func do(ctx context.Context, h core.Handler, user string) error {
	c := core.NewCall("gpt-4o-mini", core.KindChat,
		[]llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")},
		[]llms.CallOption{llms.WithMaxTokens(100)}, nil)
	c.Settings.UserID = user
	_, err := h.Handle(ctx, c)
	return err
}

func fakeModel() *testprovider.Model {
	return testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "ok", Usage: testprovider.UsageOf(100, 100)}))
}

func TestRefusesTheCallThatWouldExceed(t *testing.T) {
	is := is.New(t)
	type warning struct {
		key          string
		spent, limit float64
	}
	var warns []warning
	b, err := budget.New(budget.Config{
		LabelKey: "user_id", Limit: 0.01, Window: time.Hour, WarnAt: 0.8, Price: price,
		OnWarn: func(key string, spent, limit float64) { warns = append(warns, warning{key, spent, limit}) },
	})
	is.NoErr(err)
	m := fakeModel()
	s := &sink{}
	h := chain(b, m, s, 1)

	// $0.003 a call: 3 calls spend $0.009; the 4th (estimate $0.00201)
	// would take the spend to $0.011.
	for range 3 {
		is.NoErr(do(t.Context(), h, "alice"))
	}
	is.Equal(len(warns), 1) // fired once, when $0.009 ≥ 0.8 × $0.01
	is.Equal(warns[0].key, "alice")
	is.True(near(warns[0].spent, 0.009))
	is.Equal(warns[0].limit, 0.01)

	err = do(t.Context(), h, "alice")
	is.True(errors.Is(err, budget.ErrBudgetExceeded))
	var ee *budget.ExceededError
	is.True(errors.As(err, &ee))
	is.Equal(ee.Key, "alice")
	is.True(near(ee.Spent, 0.009))
	is.True(near(ee.Estimate, 0.00201))
	is.Equal(m.CallCount(), 3) // the provider never saw the refused call

	// The refused call emitted its event, with its own error detail.
	events := s.all()
	is.Equal(len(events), 4)
	last := events[3]
	is.Equal(last.ErrorKind, core.ErrorKindRateLimit)
	is.Equal(last.Metadata.ErrorDetail, "budget")
	is.Equal(last.Labels["user_id"], "alice")
	is.True(last.ErrorMessage != "")

	// Another user has a budget of their own.
	is.NoErr(do(t.Context(), h, "bob"))
	is.Equal(m.CallCount(), 4)
	is.True(near(b.Spent("alice"), 0.009))
	is.True(near(b.Spent("bob"), callCost))
	is.Equal(len(warns), 1)
}

func TestClassification(t *testing.T) {
	is := is.New(t)
	err := error(&budget.ExceededError{Key: "k", Spent: 1, Limit: 1})
	ec := core.ClassifyError(err)
	is.Equal(ec.Kind, "rate_limit")
	is.Equal(ec.Detail, "budget")
	is.Equal(ec.GoType, "*budget.ExceededError")
	is.True(errors.Is(err, budget.ErrBudgetExceeded))
	is.True(!errors.Is(errors.New("other"), budget.ErrBudgetExceeded))
}

// Sampled-out calls are metered too: the stage prices the response itself.
func TestMetersSampledOutCalls(t *testing.T) {
	is := is.New(t)
	b, err := budget.New(budget.Config{LabelKey: "user_id", Limit: 1, Price: price})
	is.NoErr(err)
	s := &sink{}
	h := chain(b, fakeModel(), s, 0)
	for range 5 {
		is.NoErr(do(t.Context(), h, "u"))
	}
	is.Equal(len(s.all()), 0)
	is.True(near(b.Spent("u"), 5*callCost))
}

func TestWindowSlides(t *testing.T) {
	is := is.New(t)
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	warned := 0
	b, err := budget.New(budget.Config{LabelKey: "user_id", Limit: 0.005, Window: time.Hour, Price: price, Now: clock,
		WarnAt: 0.5, OnWarn: func(string, float64, float64) { warned++ }})
	is.NoErr(err)
	h := chain(b, fakeModel(), &sink{}, 1)

	is.NoErr(do(t.Context(), h, "u")) // $0.003
	is.Equal(warned, 1)
	is.True(errors.Is(do(t.Context(), h, "u"), budget.ErrBudgetExceeded)) // 0.003+0.00201 > 0.005
	advance(30 * time.Minute)
	is.True(errors.Is(do(t.Context(), h, "u"), budget.ErrBudgetExceeded)) // still in the window
	advance(31 * time.Minute)
	is.Equal(b.Spent("u"), 0.0)
	is.NoErr(do(t.Context(), h, "u")) // the first call left the window
	is.Equal(warned, 2)               // re-armed once the spend fell back

	b.Reset("u")
	is.Equal(b.Spent("u"), 0.0)
}

func TestNotLimited(t *testing.T) {
	is := is.New(t)
	b, err := budget.New(budget.Config{LabelKey: "user_id", Limit: 0.000001, Price: price})
	is.NoErr(err)
	m := fakeModel()
	h := chain(b, m, &sink{}, 1)
	is.NoErr(do(t.Context(), h, "")) // no user: not limited
	c := core.NewCall("unknown-model", core.KindChat, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")}, nil, nil)
	c.Settings.UserID = "u"
	_, err = h.Handle(t.Context(), c) // unknown price: let through, costs nothing
	is.NoErr(err)
	is.Equal(b.Spent("u"), 0.0)
	is.Equal(m.CallCount(), 2)
}

func TestKeyFuncAndLabels(t *testing.T) {
	is := is.New(t)
	b, err := budget.New(budget.Config{LabelKey: "tenant", Limit: 0.004, Price: price})
	is.NoErr(err)
	h := chain(b, fakeModel(), &sink{}, 1)
	ctx := core.NewContext(t.Context(), core.Settings{Labels: map[string]string{"tenant": "acme"}})
	is.NoErr(do(ctx, h, "a"))
	is.True(errors.Is(do(ctx, h, "b"), budget.ErrBudgetExceeded)) // same tenant, other user

	b2, err := budget.New(budget.Config{Key: func(c *core.Call) string { return c.Model }, Limit: 0.004, Price: price})
	is.NoErr(err)
	h2 := chain(b2, fakeModel(), &sink{}, 1)
	is.NoErr(do(t.Context(), h2, "a"))
	is.True(near(b2.Spent("gpt-4o-mini"), callCost))
}

func TestNewValidates(t *testing.T) {
	ok := budget.Config{LabelKey: "user_id", Limit: 1, Price: price}
	tests := []struct {
		name  string
		edit  func(*budget.Config)
		field string
	}{
		{"no key", func(c *budget.Config) { c.LabelKey = "" }, "LabelKey"},
		{"zero limit", func(c *budget.Config) { c.Limit = 0 }, "Limit"},
		{"negative window", func(c *budget.Config) { c.Window = -time.Second }, "Window"},
		{"warn above 1", func(c *budget.Config) { c.WarnAt = 1.5 }, "WarnAt"},
		{"negative max tokens", func(c *budget.Config) { c.DefaultMaxTokens = -1 }, "DefaultMaxTokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			cfg := ok
			tt.edit(&cfg)
			_, err := budget.New(cfg)
			is.True(errors.Is(err, budget.ErrInvalidConfig))
			is.True(contains(err.Error(), tt.field))
		})
	}
	_, err := budget.New(ok)
	is.New(t).NoErr(err)
	// A nil Price means the built-in table.
	noPrice := ok
	noPrice.Price = nil
	_, err = budget.New(noPrice)
	is.New(t).NoErr(err)
	cost, known := budget.DefaultPrice("gpt-4o-mini", 1_000_000, 0)
	is.New(t).True(known && cost > 0.149 && cost < 0.151)
}

func TestOnWarnPanicIsRecovered(t *testing.T) {
	is := is.New(t)
	b, err := budget.New(budget.Config{LabelKey: "user_id", Limit: 1, WarnAt: 0.001, Price: price,
		OnWarn: func(string, float64, float64) { panic("boom") }})
	is.NoErr(err)
	is.NoErr(do(t.Context(), chain(b, fakeModel(), &sink{}, 1), "u"))
}

// Concurrent calls never overrun the limit together: estimates are
// reserved while calls are in flight.
func TestConcurrentSafe(t *testing.T) {
	is := is.New(t)
	const limit = 0.1
	var warns atomic.Int32
	b, err := budget.New(budget.Config{LabelKey: "user_id", Limit: limit, Window: time.Hour, WarnAt: 0.5, Price: price,
		OnWarn: func(string, float64, float64) { warns.Add(1) }})
	is.NoErr(err)
	// Usage as estimated (1 token in, max_tokens out): the reservations are
	// exact, so the limit is never passed.
	m := testprovider.New(testprovider.WithoutRecording(),
		testprovider.WithDefault(testprovider.Reply{Text: "ok", Usage: testprovider.UsageOf(1, 100), Delay: time.Millisecond}))
	const callCost = 0.00201
	s := &sink{}
	h := chain(b, m, s, 1)
	var wg sync.WaitGroup
	var refused atomic.Int32
	for g := range 20 {
		wg.Go(func() {
			for range 20 {
				if err := do(t.Context(), h, "shared"); errors.Is(err, budget.ErrBudgetExceeded) {
					refused.Add(1)
				}
				_ = do(t.Context(), h, string(rune('a'+g)))
			}
		})
	}
	wg.Wait()
	ok := m.CallCount() - 20*20 // calls of the per-goroutine users all pass ($0.04 each)
	is.True(ok > 0)
	is.True(float64(ok)*callCost <= limit+1e-9) // never over the limit
	is.True(near(b.Spent("shared"), float64(ok)*callCost))
	is.Equal(int(refused.Load())+ok, 400)
	is.Equal(len(s.all()), 800) // every call, refused or not, emitted an event
	is.True(warns.Load() >= 1)
}

func near(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

package budget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/pricing"
	"github.com/leanllm/leanllm-go/internal/usage"
	"github.com/tmc/langchaingo/llms"
)

// Defaults.
const (
	// DefaultMaxTokens is the output the estimate assumes for a call that
	// sets no max_tokens.
	DefaultMaxTokens = 512
	// Buckets is the number of slices a sliding window is cut into: spend
	// leaves the window Window/Buckets at a time.
	Buckets = 60
	// sweepEvery is how many admissions pass between sweeps of idle keys.
	sweepEvery = 1024
)

// ErrBudgetExceeded is matched (with errors.Is) by the error a refused
// call returns, an *ExceededError.
var ErrBudgetExceeded = errors.New("budget: budget exceeded")

// ErrInvalidConfig is wrapped by the errors New returns. Test with errors.Is.
var ErrInvalidConfig = errors.New("budget: invalid configuration")

// ExceededError is the error of a call refused by a Budget. The call never
// reached the provider. It classifies itself as error_kind "rate_limit",
// metadata.error_detail "budget".
type ExceededError struct {
	// Key is the label value (e.g. the user id) whose budget is spent.
	Key string
	// Spent is the spend in the window when the call was refused, calls in
	// flight included (at their estimate); Limit the budget.
	Spent, Limit float64
	// Estimate is the call's estimated cost.
	Estimate float64
	// Window is the budget's window (0 = no window).
	Window time.Duration
}

// Error describes the refusal.
func (e *ExceededError) Error() string {
	per := ""
	if e.Window > 0 {
		per = " per " + e.Window.String()
	}
	if e.Spent >= e.Limit {
		return fmt.Sprintf("budget: %q has spent $%.6f of $%.6f%s: call refused", e.Key, e.Spent, e.Limit, per)
	}
	return fmt.Sprintf("budget: %q has spent $%.6f of $%.6f%s: call estimated at $%.6f would exceed it: call refused", e.Key, e.Spent, e.Limit, per, e.Estimate)
}

// Is reports whether target is ErrBudgetExceeded.
func (e *ExceededError) Is(target error) bool { return target == ErrBudgetExceeded }

// LeanLLMErrorClass implements core.Classifier: error_kind "rate_limit",
// error_detail "budget".
func (e *ExceededError) LeanLLMErrorClass() core.ErrorClass {
	return core.ErrorClass{Kind: core.ErrorKindRateLimit, Detail: "budget"}
}

var _ core.Classifier = (*ExceededError)(nil)

// Config configures a Budget.
type Config struct {
	// LabelKey names the label whose values get a budget each ("user_id",
	// "tenant", …): call and context labels, and for "user_id",
	// "session_id" and "feature" the seed's context values too. Calls
	// without the label are not limited. Required unless Key is set.
	LabelKey string
	// Key, when set, returns the budget key of a call instead of LabelKey
	// ("" = not limited). It is called concurrently and must not block.
	Key func(c *core.Call) string
	// Limit is the spend allowed per key and window, in USD (> 0).
	Limit float64
	// Window is the length of the sliding window (0 = no window: the limit
	// holds for the life of the Budget).
	Window time.Duration
	// WarnAt is the fraction of Limit (0..1) at which OnWarn runs; 0 = never.
	WarnAt float64
	// OnWarn runs, on the caller's goroutine after its call, when a key's
	// spend reaches WarnAt·Limit; it runs again only after the spend fell
	// back below (the window slid). A panic in it is recovered and logged.
	OnWarn func(key string, spent, limit float64)
	// Price returns the cost in USD of inTokens input and outTokens output
	// tokens of model, and whether the model is known. Required. Calls to
	// unknown models are let through and cost nothing.
	// nil means DefaultPrice.
	Price func(model string, inTokens, outTokens int) (float64, bool)
	// DefaultMaxTokens is the output the estimate assumes when the call
	// sets no max_tokens (0 = DefaultMaxTokens).
	DefaultMaxTokens int
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Logger receives recovered OnWarn panics (nil = slog.Default()).
	Logger *slog.Logger
}

// Budget keeps the live spend of each key and refuses calls over the
// limit. It is safe for concurrent use.
type Budget struct {
	cfg    Config
	slice  int64 // bucket length, ns (0 = no window)
	mu     sync.Mutex
	keys   map[string]*account
	admits int
}

type bucket struct {
	idx   int64
	spent float64
}

type account struct {
	buckets  [Buckets]bucket
	reserved float64 // estimates of calls in flight
	warned   bool
}

// New returns a Budget for cfg, or an error wrapping ErrInvalidConfig that
// names the bad field.
func New(cfg Config) (*Budget, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	if cfg.LabelKey == "" && cfg.Key == nil {
		bad("LabelKey", "empty (and no Key func): name the label that keys the budget, e.g. \"user_id\"")
	}
	if !(cfg.Limit > 0) || math.IsInf(cfg.Limit, 0) {
		bad("Limit", "%v: accepts a finite amount of USD > 0", cfg.Limit)
	}
	if cfg.Window < 0 {
		bad("Window", "%v: accepts a duration >= 0 (0 = no window)", cfg.Window)
	}
	if math.IsNaN(cfg.WarnAt) || cfg.WarnAt < 0 || cfg.WarnAt > 1 {
		bad("WarnAt", "%v: accepts a fraction within 0..1 (0 = no warning)", cfg.WarnAt)
	}
	if cfg.Price == nil {
		cfg.Price = DefaultPrice
	}
	if cfg.DefaultMaxTokens < 0 {
		bad("DefaultMaxTokens", "%d: accepts a count >= 0", cfg.DefaultMaxTokens)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.DefaultMaxTokens == 0 {
		cfg.DefaultMaxTokens = DefaultMaxTokens
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Budget{cfg: cfg, keys: map[string]*account{}}
	if cfg.Window > 0 {
		b.slice = max(int64(cfg.Window)/Buckets, 1)
	}
	return b, nil
}

// Middleware returns the stage that enforces the budget. Place it between
// the enqueue stage and the model:
//
//	leanllm.WithMiddleware(leanllm.After(leanllm.StageEnqueue), b.Middleware())
//
// There, a refusal is the call's error as the enqueue stage sees it, so the
// refused call still emits its event (error_kind "rate_limit",
// error_detail "budget"), and the provider is never called. Before the
// call it estimates the cost (input: the messages' length / 4 tokens;
// output: max_tokens, else DefaultMaxTokens) and refuses it when the key's
// spend — calls in flight counted at their estimate — has reached the limit
// or would exceed it; otherwise it reserves the estimate. After the call it
// replaces the reservation by the actual cost, priced from the usage the
// provider reported (estimated from the text when it reported none). It
// meters every call that reaches it, sampled out or not; calls made with
// log=false bypass the whole chain, this stage included.
func (b *Budget) Middleware() core.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			key := b.key(c)
			if key == "" {
				return next.Handle(ctx, c)
			}
			model := c.Model
			if model == "" {
				model = c.Params.Model
			}
			out := c.Params.MaxTokens
			if out <= 0 {
				out = b.cfg.DefaultMaxTokens
			}
			est, _ := b.cfg.Price(model, estimateTokens(c.Messages), out)
			if err := b.admit(key, est); err != nil {
				return nil, err
			}
			resp, err := next.Handle(ctx, c)
			cost := b.actualCost(model, c.Messages, resp)
			b.settle(key, est, cost)
			return resp, err
		})
	}
}

func (b *Budget) key(c *core.Call) string {
	if b.cfg.Key != nil {
		return b.cfg.Key(c)
	}
	if v, ok := c.Settings.Labels[b.cfg.LabelKey]; ok {
		return v
	}
	switch b.cfg.LabelKey {
	case "user_id":
		return c.Settings.UserID
	case "session_id":
		return c.Settings.SessionID
	case "feature":
		return c.Settings.Feature
	}
	return ""
}

// admit refuses the call, or reserves its estimate.
func (b *Budget) admit(key string, est float64) error {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.admits++
	if b.admits%sweepEvery == 0 {
		b.sweep(now)
	}
	a := b.keys[key]
	if a == nil {
		a = &account{}
		b.keys[key] = a
	}
	committed := a.spent(now, b.slice)
	if committed < b.cfg.WarnAt*b.cfg.Limit {
		a.warned = false // re-arm: the spend fell back below the threshold
	}
	spent := committed + a.reserved
	if spent >= b.cfg.Limit || spent+est > b.cfg.Limit {
		return &ExceededError{Key: key, Spent: spent, Limit: b.cfg.Limit, Estimate: est, Window: b.cfg.Window}
	}
	a.reserved += est
	return nil
}

// settle replaces the reservation est by the actual cost and runs OnWarn
// when the spend crosses the warning threshold.
func (b *Budget) settle(key string, est, cost float64) {
	now := b.now()
	b.mu.Lock()
	a := b.keys[key]
	if a == nil { // swept meanwhile: cannot happen while reserved, but be safe
		a = &account{}
		b.keys[key] = a
	}
	a.reserved = max(a.reserved-est, 0)
	a.add(now, b.slice, cost)
	spent := a.spent(now, b.slice)
	warn := false
	if b.cfg.WarnAt > 0 && b.cfg.OnWarn != nil {
		over := spent >= b.cfg.WarnAt*b.cfg.Limit
		warn = over && !a.warned
		a.warned = over
	}
	b.mu.Unlock()
	if warn {
		b.safeWarn(key, spent)
	}
}

func (b *Budget) safeWarn(key string, spent float64) {
	defer func() {
		if r := recover(); r != nil {
			b.cfg.Logger.Error("budget: recovered panic in OnWarn", "panic", fmt.Sprint(r), "key", key)
		}
	}()
	b.cfg.OnWarn(key, spent, b.cfg.Limit)
}

// Spent returns the spend of key in the current window (calls in flight
// not included).
func (b *Budget) Spent(key string) float64 {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.keys[key]; a != nil {
		return a.spent(now, b.slice)
	}
	return 0
}

// Reset forgets the spend of key (calls in flight stay reserved).
func (b *Budget) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.keys[key]; a != nil {
		a.buckets = [Buckets]bucket{}
		a.warned = false
	}
}

func (b *Budget) now() int64 { return b.cfg.Now().UnixNano() }

// sweep forgets idle keys (nothing spent in the window, nothing in
// flight). b.mu is held.
func (b *Budget) sweep(now int64) {
	for k, a := range b.keys {
		if a.reserved == 0 && a.spent(now, b.slice) == 0 {
			delete(b.keys, k)
		}
	}
}

// index returns the bucket index of time now (0 without a window).
func index(now, slice int64) int64 {
	if slice == 0 {
		return 0
	}
	return now / slice
}

func (a *account) add(now, slice int64, cost float64) {
	if cost <= 0 {
		return
	}
	idx := index(now, slice)
	bk := &a.buckets[uint64(idx)%Buckets]
	if bk.idx != idx {
		*bk = bucket{idx: idx}
	}
	bk.spent += cost
}

func (a *account) spent(now, slice int64) float64 {
	idx := index(now, slice)
	var s float64
	for _, bk := range a.buckets {
		if bk.spent > 0 && bk.idx > idx-Buckets && bk.idx <= idx {
			s += bk.spent
		}
	}
	return s
}

// actualCost prices the call from the usage the provider reported, or
// from its text when it reported none.
func (b *Budget) actualCost(model string, msgs []llms.MessageContent, resp *llms.ContentResponse) float64 {
	if resp == nil {
		return 0
	}
	u := usage.FromResponse(resp)
	in, out := u.Input, u.Output
	if !u.Reported {
		in = estimateTokens(msgs)
		for _, ch := range resp.Choices {
			if ch != nil {
				out += (len(ch.Content) + 3) / 4
			}
		}
	}
	cost, ok := b.cfg.Price(model, in, out)
	if !ok || cost < 0 || math.IsNaN(cost) {
		return 0
	}
	return cost
}

// estimateTokens estimates the input tokens of msgs: a token per 4 bytes of
// text (at least one per non-empty text).
func estimateTokens(msgs []llms.MessageContent) int {
	n := 0
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch x := p.(type) {
			case llms.TextContent:
				n += len(x.Text)
			case llms.ToolCall:
				if x.FunctionCall != nil {
					n += len(x.FunctionCall.Name) + len(x.FunctionCall.Arguments)
				}
			case llms.ToolCallResponse:
				n += len(x.Name) + len(x.Content)
			case llms.ImageURLContent:
				n += len(x.URL)
			}
		}
	}
	return (n + 3) / 4
}

// DefaultPrice prices calls with LeanLLM's built-in price table (the one
// the capture stage uses without a pricing_file). An unknown model costs 0
// and reports false.
func DefaultPrice(model string, inTokens, outTokens int) (float64, bool) {
	cost, _, ok := pricing.Default().Cost(model, pricing.Usage{Input: inTokens, Output: outTokens, Total: inTokens + outTokens})
	return cost, ok
}

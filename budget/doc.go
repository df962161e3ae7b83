// Package budget enforces spend limits per label value (per user, tenant,
// feature…) before calls reach the provider.
//
// # Sections
//
//   - Configuration: [Config], [New]
//   - The stage: [Budget.Middleware]
//   - Refusals: [ExceededError], [ErrBudgetExceeded]
//   - Live spend: [Budget.Spent], [Budget.Reset]
//
// # Placement
//
// The stage goes between the enqueue stage and the model:
//
//	b, err := budget.New(budget.Config{LabelKey: "user_id", Limit: 0.01, Window: time.Hour, Price: price})
//	cl, err := leanllm.New(leanllm.WithMiddleware(leanllm.After(leanllm.StageEnqueue), b.Middleware()))
//
// Inside the enqueue stage, a refusal is the call's error: the enqueue stage
// records the refused call as an error event (error_kind "rate_limit",
// metadata.error_detail "budget"; errors are never sampled out) and the
// provider is never called. Outside the capture stage it would return before
// any event exists, and the refusal would go unrecorded.
//
// # Estimate and metering
//
// Before a call, its cost is estimated from its input (a token per 4 bytes
// of text) and its max_tokens (or DefaultMaxTokens) at the model's price.
// The call is refused when the key's spend has reached the limit or the
// estimate would take it over; otherwise the estimate is reserved, so that
// concurrent calls cannot overrun the limit together. When the call returns,
// the reservation is replaced by its actual cost, priced from the usage the
// provider reported. Every call that reaches the stage is metered, including
// calls the head sampler dropped (their events do not exist, so the stage
// prices the response itself).
//
// The output part of the estimate (max_tokens) is an upper bound, the input
// part (bytes/4) is not: the spend can pass the limit only by what the
// estimates of the calls admitted last undershot. Set max_tokens on calls
// for a tight bound.
//
// # Windows
//
// Spend is kept over a sliding window cut into [Buckets] slices: a call's
// cost leaves the window between Window·(1−1/Buckets) and Window after it
// was made. With Window 0 the limit holds for the life of the Budget.
//
// # Errors
//
// A refused call returns an *[ExceededError]; errors.Is(err,
// ErrBudgetExceeded) holds, and the error classifies itself through
// core.Classifier.
package budget

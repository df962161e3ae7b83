package pricing

import "strings"

// Price is the list price of one model, in US dollars per one million
// tokens. A zero field means "not charged separately": see [Cost] for how
// each zero falls back.
type Price struct {
	// Input is the price of prompt tokens that were neither read from nor
	// written to a prompt cache.
	Input float64
	// Output is the price of completion tokens, reasoning/thinking tokens
	// included (every provider bills those as output).
	Output float64
	// CachedInput is the price of prompt tokens read from a cache (OpenAI
	// "cached input", Anthropic "cache hits & refreshes", Gemini "context
	// caching"). Zero: cached tokens cost Input.
	CachedInput float64
	// CacheWrite is the price of prompt tokens written to a cache (Anthropic
	// "5m cache writes"). Zero: Input×1.25 for Anthropic models, Input for
	// everyone else.
	CacheWrite float64

	// LongContextThreshold, when > 0, is the prompt size (all input tokens,
	// cached and cache-written ones included) above which the whole request
	// is billed at the Long* rates: Gemini 2.5 Pro and 3 Pro (200k),
	// Gemini 1.5 (128k), Claude Sonnet 4/4.5 with the 1M-context beta (200k).
	LongContextThreshold int
	LongInput            float64
	LongOutput           float64
	// LongCachedInput zero: cached tokens cost LongInput.
	LongCachedInput float64
	// LongCacheWrite zero: LongInput×1.25 for Anthropic models, LongInput
	// for everyone else.
	LongCacheWrite float64

	// Provider is the provider whose price list this is: "openai",
	// "anthropic", "google", "mistral", "ollama", or for prices loaded
	// from a LiteLLM file its litellm_provider value.
	Provider string
}

// IsFree reports whether every rate of p is zero (e.g. ollama models).
func (p Price) IsFree() bool {
	return p.Input == 0 && p.Output == 0 && p.CachedInput == 0 && p.CacheWrite == 0 &&
		p.LongInput == 0 && p.LongOutput == 0 && p.LongCachedInput == 0 && p.LongCacheWrite == 0
}

// anthropicCacheWriteFactor is Anthropic's 5-minute cache write surcharge.
const anthropicCacheWriteFactor = 1.25

func isAnthropic(provider string) bool {
	return strings.Contains(provider, "anthropic")
}

// rates returns the four per-million rates that apply to a request whose
// prompt has input tokens, with every zero fallback resolved.
func (p Price) rates(input int) (in, out, cached, write float64) {
	in, out, cached, write = p.Input, p.Output, p.CachedInput, p.CacheWrite
	if p.LongContextThreshold > 0 && input > p.LongContextThreshold {
		if p.LongInput > 0 {
			in = p.LongInput
		}
		if p.LongOutput > 0 {
			out = p.LongOutput
		}
		cached, write = p.LongCachedInput, p.LongCacheWrite
	}
	if cached == 0 {
		cached = in
	}
	if write == 0 {
		write = in
		if isAnthropic(p.Provider) {
			write = in * anthropicCacheWriteFactor
		}
	}
	return in, out, cached, write
}

// Usage is the token usage of one LLM call, normalised across providers
// (package usage builds it from langchaingo responses; usage.Usage is an
// alias of this type).
//
// Invariants, which [Usage.Normalize] enforces:
//
//   - Input counts ALL prompt tokens: uncached, cache-read and
//     cache-written ones alike. So Input+Output == Total.
//   - CachedInput ⊆ Input (tokens read from a prompt cache).
//   - CacheCreation ⊆ Input (tokens written to a prompt cache), disjoint
//     from CachedInput.
//   - Reasoning ⊆ Output (reasoning/thinking tokens, billed as output).
type Usage struct {
	Input         int
	Output        int
	Total         int
	CachedInput   int
	CacheCreation int
	Reasoning     int
	// Reported is true when the provider reported usage (as opposed to an
	// empty or estimated figure).
	Reported bool
}

// Normalize clamps u to its invariants: negative counts become 0,
// CachedInput+CacheCreation never exceed Input, Reasoning never exceeds
// Output, and Total is Input+Output.
func (u Usage) Normalize() Usage {
	u.Input = max(u.Input, 0)
	u.Output = max(u.Output, 0)
	u.CachedInput = min(max(u.CachedInput, 0), u.Input)
	u.CacheCreation = min(max(u.CacheCreation, 0), u.Input-u.CachedInput)
	u.Reasoning = min(max(u.Reasoning, 0), u.Output)
	u.Total = u.Input + u.Output
	return u
}

// Cost returns the price in US dollars of a call with usage u at price p:
//
//	uncached = Input - CachedInput - CacheCreation
//	cost = ( uncached      × Input
//	       + CachedInput   × CachedInput-rate  (Input if zero)
//	       + CacheCreation × CacheWrite-rate   (Input×1.25 for Anthropic, Input otherwise, if zero)
//	       + Output        × Output ) / 1e6
//
// When p.LongContextThreshold > 0 and u.Input exceeds it, the Long* rates
// replace the normal ones for the whole request (that is how Google and
// Anthropic bill it); a zero LongInput/LongOutput keeps the normal rate.
//
// u is normalised first (see [Usage.Normalize]), so an inconsistent usage
// is never billed twice for the same token. Reasoning tokens are part of
// Output and are not added again. Cost does not allocate.
func Cost(p Price, u Usage) float64 {
	u = u.Normalize()
	in, out, cached, write := p.rates(u.Input)
	uncached := u.Input - u.CachedInput - u.CacheCreation
	return (float64(uncached)*in +
		float64(u.CachedInput)*cached +
		float64(u.CacheCreation)*write +
		float64(u.Output)*out) / 1e6
}

package pricing

// Version identifies the built-in price table. Events priced with it can be
// re-priced later by looking the version up in history.
const Version = "builtin-2026-11"

// Provider names used by the built-in table.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
	ProviderGoogle    = "google"
	ProviderMistral   = "mistral"
	ProviderOllama    = "ollama"
)

// builtinModel is one row of the built-in table. Aliases resolve to the
// same row and report name as the canonical name.
type builtinModel struct {
	name    string
	aliases []string
	price   Price
}

// builtin returns the built-in price list. All prices are standard
// (on-demand, non-batch, non-priority) list prices in USD per 1M tokens,
// for text input; see the package documentation for what is not modelled.
func builtin() []builtinModel {
	var ms []builtinModel
	add := func(provider string, rows ...builtinModel) {
		for _, r := range rows {
			r.price.Provider = provider
			ms = append(ms, r)
		}
	}

	// OpenAI. Source: OpenAI "API Pricing" page (openai.com/api/pricing)
	// and the model pages of platform.openai.com/docs/models; "Standard"
	// tier. Cached input is OpenAI's automatic prompt caching; OpenAI does
	// not charge for cache writes. No OpenAI model has a long-context tier.
	add(ProviderOpenAI,
		builtinModel{name: "gpt-5.1", price: Price{Input: 1.25, CachedInput: 0.125, Output: 10.00}},
		builtinModel{name: "gpt-5", price: Price{Input: 1.25, CachedInput: 0.125, Output: 10.00}},
		builtinModel{name: "gpt-5-mini", price: Price{Input: 0.25, CachedInput: 0.025, Output: 2.00}},
		builtinModel{name: "gpt-5-nano", price: Price{Input: 0.05, CachedInput: 0.005, Output: 0.40}},
		builtinModel{name: "gpt-5-pro", price: Price{Input: 15.00, Output: 120.00}},
		builtinModel{name: "gpt-4.1", price: Price{Input: 2.00, CachedInput: 0.50, Output: 8.00}},
		builtinModel{name: "gpt-4.1-mini", price: Price{Input: 0.40, CachedInput: 0.10, Output: 1.60}},
		builtinModel{name: "gpt-4.1-nano", price: Price{Input: 0.10, CachedInput: 0.025, Output: 0.40}},
		builtinModel{name: "gpt-4o", price: Price{Input: 2.50, CachedInput: 1.25, Output: 10.00}},
		// The first gpt-4o snapshot kept its launch price.
		builtinModel{name: "gpt-4o-2024-05-13", price: Price{Input: 5.00, Output: 15.00}},
		builtinModel{name: "chatgpt-4o-latest", price: Price{Input: 5.00, Output: 15.00}},
		builtinModel{name: "gpt-4o-mini", price: Price{Input: 0.15, CachedInput: 0.075, Output: 0.60}},
		builtinModel{name: "o1", price: Price{Input: 15.00, CachedInput: 7.50, Output: 60.00}},
		builtinModel{name: "o1-mini", price: Price{Input: 1.10, CachedInput: 0.55, Output: 4.40}},
		builtinModel{name: "o1-pro", price: Price{Input: 150.00, Output: 600.00}},
		builtinModel{name: "o3", price: Price{Input: 2.00, CachedInput: 0.50, Output: 8.00}},
		builtinModel{name: "o3-mini", price: Price{Input: 1.10, CachedInput: 0.55, Output: 4.40}},
		builtinModel{name: "o3-pro", price: Price{Input: 20.00, Output: 80.00}},
		builtinModel{name: "o4-mini", price: Price{Input: 1.10, CachedInput: 0.275, Output: 4.40}},
		builtinModel{name: "gpt-4-turbo", aliases: []string{
			"gpt-4-0125-preview", "gpt-4-1106-preview", "gpt-4-vision-preview", "gpt-4-1106-vision-preview",
		}, price: Price{Input: 10.00, Output: 30.00}},
		builtinModel{name: "gpt-4", price: Price{Input: 30.00, Output: 60.00}},
		builtinModel{name: "gpt-4-32k", price: Price{Input: 60.00, Output: 120.00}},
		builtinModel{name: "gpt-3.5-turbo", price: Price{Input: 0.50, Output: 1.50}},
		// Legacy gpt-3.5-turbo snapshots were dearer than the 0125 one.
		builtinModel{name: "gpt-3.5-turbo-1106", price: Price{Input: 1.00, Output: 2.00}},
		builtinModel{name: "gpt-3.5-turbo-0613", price: Price{Input: 1.50, Output: 2.00}},
		builtinModel{name: "gpt-3.5-turbo-0301", price: Price{Input: 1.50, Output: 2.00}},
		builtinModel{name: "gpt-3.5-turbo-16k", price: Price{Input: 3.00, Output: 4.00}},
	)

	// Anthropic. Source: Anthropic "Pricing" page (anthropic.com/pricing)
	// and docs.anthropic.com "Pricing" / "Prompt caching". CacheWrite is the
	// 5-minute cache write price (1.25× input); 1-hour writes (2× input)
	// are not distinguishable in langchaingo's usage and are not modelled.
	// CachedInput is "cache hits & refreshes" (0.1× input). Sonnet 4/4.5
	// requests over 200k input tokens (1M-context beta) are billed at the
	// long-context rates for the whole request.
	sonnet4 := Price{
		Input: 3.00, CacheWrite: 3.75, CachedInput: 0.30, Output: 15.00,
		LongContextThreshold: 200_000,
		LongInput:            6.00, LongCacheWrite: 7.50, LongCachedInput: 0.60, LongOutput: 22.50,
	}
	add(ProviderAnthropic,
		builtinModel{name: "claude-opus-4-5", price: Price{Input: 5.00, CacheWrite: 6.25, CachedInput: 0.50, Output: 25.00}},
		builtinModel{name: "claude-opus-4-1", price: Price{Input: 15.00, CacheWrite: 18.75, CachedInput: 1.50, Output: 75.00}},
		builtinModel{name: "claude-opus-4", price: Price{Input: 15.00, CacheWrite: 18.75, CachedInput: 1.50, Output: 75.00}},
		builtinModel{name: "claude-sonnet-4-5", price: sonnet4},
		builtinModel{name: "claude-sonnet-4", price: sonnet4},
		builtinModel{name: "claude-haiku-4-5", price: Price{Input: 1.00, CacheWrite: 1.25, CachedInput: 0.10, Output: 5.00}},
		builtinModel{name: "claude-3-7-sonnet", price: Price{Input: 3.00, CacheWrite: 3.75, CachedInput: 0.30, Output: 15.00}},
		builtinModel{name: "claude-3-5-sonnet", price: Price{Input: 3.00, CacheWrite: 3.75, CachedInput: 0.30, Output: 15.00}},
		builtinModel{name: "claude-3-5-haiku", price: Price{Input: 0.80, CacheWrite: 1.00, CachedInput: 0.08, Output: 4.00}},
		builtinModel{name: "claude-3-opus", price: Price{Input: 15.00, CacheWrite: 18.75, CachedInput: 1.50, Output: 75.00}},
		builtinModel{name: "claude-3-haiku", price: Price{Input: 0.25, CacheWrite: 0.30, CachedInput: 0.03, Output: 1.25}},
	)

	// Google Gemini. Source: Google AI for Developers "Gemini Developer API
	// Pricing" page (ai.google.dev/gemini-api/docs/pricing), paid tier, text
	// input (audio input is dearer and is not modelled). Output includes
	// thinking tokens. CachedInput is the context-caching (cache read)
	// price; cache storage is billed per hour and is not modelled.
	// Gemini 2.5/3 Pro change price above 200k prompt tokens, Gemini 1.5
	// above 128k.
	add(ProviderGoogle,
		builtinModel{name: "gemini-3-pro-preview", aliases: []string{"gemini-3-pro"}, price: Price{
			Input: 2.00, CachedInput: 0.20, Output: 12.00,
			LongContextThreshold: 200_000, LongInput: 4.00, LongCachedInput: 0.40, LongOutput: 18.00,
		}},
		builtinModel{name: "gemini-2.5-pro", price: Price{
			Input: 1.25, CachedInput: 0.125, Output: 10.00,
			LongContextThreshold: 200_000, LongInput: 2.50, LongCachedInput: 0.25, LongOutput: 15.00,
		}},
		builtinModel{name: "gemini-2.5-flash", price: Price{Input: 0.30, CachedInput: 0.03, Output: 2.50}},
		builtinModel{name: "gemini-2.5-flash-lite", price: Price{Input: 0.10, CachedInput: 0.01, Output: 0.40}},
		builtinModel{name: "gemini-2.0-flash", price: Price{Input: 0.10, CachedInput: 0.025, Output: 0.40}},
		builtinModel{name: "gemini-2.0-flash-lite", price: Price{Input: 0.075, Output: 0.30}},
		builtinModel{name: "gemini-1.5-pro", price: Price{
			Input: 1.25, CachedInput: 0.3125, Output: 5.00,
			LongContextThreshold: 128_000, LongInput: 2.50, LongCachedInput: 0.625, LongOutput: 10.00,
		}},
		builtinModel{name: "gemini-1.5-flash", price: Price{
			Input: 0.075, CachedInput: 0.01875, Output: 0.30,
			LongContextThreshold: 128_000, LongInput: 0.15, LongCachedInput: 0.0375, LongOutput: 0.60,
		}},
		builtinModel{name: "gemini-1.5-flash-8b", price: Price{
			Input: 0.0375, CachedInput: 0.01, Output: 0.15,
			LongContextThreshold: 128_000, LongInput: 0.075, LongCachedInput: 0.02, LongOutput: 0.30,
		}},
	)

	// Mistral. Source: Mistral AI "Pricing" page (mistral.ai/pricing, "API
	// pricing" tab) and docs.mistral.ai "Models overview". Mistral has no
	// prompt-cache discount and no long-context tier. The names are the
	// "-latest" families: mistral-large = Mistral Large 2.1 (2411),
	// mistral-medium = Mistral Medium 3 (2505/2508), mistral-small =
	// Mistral Small 3.x, codestral = Codestral 25.x.
	add(ProviderMistral,
		builtinModel{name: "mistral-large", price: Price{Input: 2.00, Output: 6.00}},
		builtinModel{name: "pixtral-large", price: Price{Input: 2.00, Output: 6.00}},
		builtinModel{name: "mistral-medium", price: Price{Input: 0.40, Output: 2.00}},
		builtinModel{name: "mistral-small", price: Price{Input: 0.10, Output: 0.30}},
		builtinModel{name: "magistral-medium", price: Price{Input: 2.00, Output: 5.00}},
		builtinModel{name: "magistral-small", price: Price{Input: 0.50, Output: 1.50}},
		builtinModel{name: "codestral", price: Price{Input: 0.30, Output: 0.90}},
		builtinModel{name: "ministral-8b", price: Price{Input: 0.10, Output: 0.10}},
		builtinModel{name: "ministral-3b", price: Price{Input: 0.04, Output: 0.04}},
		builtinModel{name: "open-mistral-nemo", aliases: []string{"mistral-nemo"}, price: Price{Input: 0.15, Output: 0.15}},
	)
	return ms
}

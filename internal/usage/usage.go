package usage

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/leanllm/leanllm-go/internal/pricing"
	"github.com/tmc/langchaingo/llms"
)

// Usage is the normalised token usage of one call. It is the same type as
// [pricing.Usage], so it can be passed to [pricing.Cost] directly; see
// there for its invariants (Input counts every prompt token, cached and
// cache-written ones included; Input+Output == Total; CachedInput and
// CacheCreation ⊆ Input; Reasoning ⊆ Output).
type Usage = pricing.Usage

// GenerationInfo keys set by langchaingo v0.1.14 providers.
const (
	// OpenAI (llms/openai, blocking and streamed), Ollama, Maritaca, and
	// Google AI (llms/googleai, as "standardized" copies).
	keyPromptTokens              = "PromptTokens"
	keyCompletionTokens          = "CompletionTokens"
	keyTotalTokens               = "TotalTokens"
	keyPromptCachedTokens        = "PromptCachedTokens"        // OpenAI, ⊆ PromptTokens
	keyReasoningTokens           = "ReasoningTokens"           // OpenAI, ⊆ CompletionTokens
	keyCompletionReasoningTokens = "CompletionReasoningTokens" // OpenAI, same value
	keyThinkingTokens            = "ThinkingTokens"            // OpenAI (same value); 0 elsewhere
	keyCachedTokens              = "CachedTokens"              // Google AI and Ollama, ⊆ PromptTokens

	// Anthropic (llms/anthropic). InputTokens EXCLUDES cache reads and
	// cache writes.
	keyInputTokens              = "InputTokens"
	keyOutputTokens             = "OutputTokens"
	keyCacheCreationInputTokens = "CacheCreationInputTokens"
	keyCacheReadInputTokens     = "CacheReadInputTokens" // also set by Google AI, where it is ⊆ prompt

	// Google AI and Vertex (llms/googleai, llms/googleai/vertex; int32) and
	// Bedrock (llms/bedrock: anthropic, nova, meta, amazon, ai21; int).
	keyInputTokensSnake  = "input_tokens"
	keyOutputTokensSnake = "output_tokens"
	keyTotalTokensSnake  = "total_tokens"
	// Anthropic's raw JSON names, if a caller passes them through; same
	// meaning as the Anthropic keys above.
	keyCacheReadSnake     = "cache_read_input_tokens"
	keyCacheCreationSnake = "cache_creation_input_tokens"

	// Ollama's raw names (prompt_eval_count, eval_count).
	keyPromptEvalCount = "prompt_eval_count"
	keyEvalCount       = "eval_count"

	// Mistral (llms/mistral): a mistral-go UsageInfo struct, or a map.
	keyUsage = "usage"
)

// FromGenerationInfo normalises the usage found in one
// llms.ContentChoice.GenerationInfo. The shape is recognised by its keys:
//
//   - Anthropic: InputTokens, OutputTokens, CacheReadInputTokens,
//     CacheCreationInputTokens. Anthropic's input excludes cache reads and
//     writes, so Input = InputTokens + CacheRead + CacheCreation.
//   - OpenAI, Ollama, Maritaca, Google AI: PromptTokens, CompletionTokens,
//     TotalTokens; cached tokens from PromptCachedTokens (OpenAI) or
//     CachedTokens (Google, Ollama), which are already part of the prompt
//     (Google's CacheReadInputTokens copy is NOT added again); reasoning
//     from ReasoningTokens, CompletionReasoningTokens or ThinkingTokens.
//   - Google Vertex and Bedrock: input_tokens, output_tokens, total_tokens.
//   - Ollama raw: prompt_eval_count, eval_count.
//   - Mistral: a "usage" value (mistral-go UsageInfo or a map) with
//     prompt_tokens, completion_tokens, total_tokens.
//
// A reported total larger than input+output is Gemini's thinking tokens
// (counted in total_tokens but not in the candidates count, and billed as
// output): the difference is added to Output and Reasoning. A reported
// total smaller than input+output is ignored. The result is normalised
// (see [pricing.Usage.Normalize]), so Total == Input+Output always.
//
// Counts may be any integer type, float64, float32, json.Number or a
// pointer to int/int32/int64. Reported is true when input+output > 0.
//
// FromGenerationInfo does not allocate, except for a Mistral usage struct,
// which is read through a JSON round trip.
func FromGenerationInfo(info map[string]any) Usage {
	if len(info) == 0 {
		return Usage{}
	}
	var (
		u        Usage
		total    int
		hasTotal bool
	)
	switch {
	// OpenAI-style keys first: the most common shape (openai, googleai, and
	// OpenAI-compatible servers). No langchaingo provider sets both these
	// and Anthropic's InputTokens.
	case has(info, keyPromptTokens) || has(info, keyCompletionTokens):
		u.Input, _ = get(info, keyPromptTokens)
		u.Output, _ = get(info, keyCompletionTokens)
		total, hasTotal = get(info, keyTotalTokens)
		var ok bool
		if u.CachedInput, ok = get(info, keyPromptCachedTokens); !ok {
			u.CachedInput, _ = get(info, keyCachedTokens)
		}
		u.Reasoning = firstPositive(info, keyReasoningTokens, keyCompletionReasoningTokens, keyThinkingTokens)

	case has(info, keyInputTokens) || has(info, keyOutputTokens):
		in, _ := get(info, keyInputTokens)
		read, _ := get(info, keyCacheReadInputTokens)
		write, _ := get(info, keyCacheCreationInputTokens)
		u.Input = in + read + write
		u.CachedInput = read
		u.CacheCreation = write
		u.Output, _ = get(info, keyOutputTokens)
		u.Reasoning, _ = get(info, keyThinkingTokens)

	case has(info, keyInputTokensSnake) || has(info, keyOutputTokensSnake):
		in, _ := get(info, keyInputTokensSnake)
		read, _ := get(info, keyCacheReadSnake)
		write, _ := get(info, keyCacheCreationSnake)
		u.Input = in + read + write
		u.CachedInput = read
		u.CacheCreation = write
		u.Output, _ = get(info, keyOutputTokensSnake)
		total, hasTotal = get(info, keyTotalTokensSnake)
		if hasTotal && (read > 0 || write > 0) {
			// A total from a source with Anthropic-style cache counts is
			// not comparable with our Input; do not derive reasoning from it.
			hasTotal = false
		}

	case has(info, keyPromptEvalCount) || has(info, keyEvalCount):
		u.Input, _ = get(info, keyPromptEvalCount)
		u.Output, _ = get(info, keyEvalCount)

	case has(info, keyUsage):
		u, total, hasTotal = fromUsageValue(info[keyUsage])

	default:
		return Usage{}
	}

	if hasTotal && total > u.Input+u.Output && u.Input >= 0 && u.Output >= 0 {
		hidden := total - u.Input - u.Output
		u.Output += hidden
		u.Reasoning = max(u.Reasoning, 0) + hidden
	}
	u = u.Normalize()
	u.Reported = u.Total > 0
	return u
}

// FromChoices returns the usage reported by the first choice that reports
// any. Providers repeat the call's usage on every choice (Anthropic returns
// one choice per content block, OpenAI one per n), so choices are never
// summed. No reporting choice gives the zero Usage.
func FromChoices(choices []*llms.ContentChoice) Usage {
	for _, c := range choices {
		if c == nil {
			continue
		}
		if u := FromGenerationInfo(c.GenerationInfo); u.Reported {
			return u
		}
	}
	return Usage{}
}

// FromResponse is FromChoices(resp.Choices); a nil resp gives the zero
// Usage.
func FromResponse(resp *llms.ContentResponse) Usage {
	if resp == nil {
		return Usage{}
	}
	return FromChoices(resp.Choices)
}

func has(info map[string]any, key string) bool {
	_, ok := info[key]
	return ok
}

// get returns info[key] as an int, and whether it was a number.
func get(info map[string]any, key string) (int, bool) {
	v, ok := info[key]
	if !ok {
		return 0, false
	}
	return toInt(v)
}

func firstPositive(info map[string]any, keys ...string) int {
	for _, k := range keys {
		if n, _ := get(info, k); n > 0 {
			return n
		}
	}
	return 0
}

// toInt converts the numeric types providers use to int, clamping to the
// int range. It does not allocate.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return clampInt64(n), true
	case int16:
		return int(n), true
	case int8:
		return int(n), true
	case uint:
		return clampUint64(uint64(n)), true
	case uint32:
		return clampUint64(uint64(n)), true
	case uint64:
		return clampUint64(n), true
	case uint16:
		return int(n), true
	case uint8:
		return int(n), true
	case float64:
		return fromFloat(n)
	case float32:
		return fromFloat(float64(n))
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return clampInt64(i), true
		}
		if f, err := n.Float64(); err == nil {
			return fromFloat(f)
		}
	case *int:
		if n != nil {
			return *n, true
		}
	case *int32:
		if n != nil {
			return int(*n), true
		}
	case *int64:
		if n != nil {
			return clampInt64(*n), true
		}
	}
	return 0, false
}

func clampInt64(n int64) int {
	if n > math.MaxInt {
		return math.MaxInt
	}
	if n < math.MinInt {
		return math.MinInt
	}
	return int(n)
}

func clampUint64(n uint64) int {
	if n > math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

func fromFloat(f float64) (int, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	f = math.Round(f)
	if f >= math.MaxInt {
		return math.MaxInt, true
	}
	if f <= math.MinInt {
		return math.MinInt, true
	}
	return int(f), true
}

// fromUsageValue reads a "usage" value: a map (allocation-free) or any
// struct, read through one JSON round trip (only for this rare shape).
// Both the API's names (prompt_tokens, as mistral-go's json tags spell
// them) and Go field names (PromptTokens) are accepted.
func fromUsageValue(v any) (u Usage, total int, hasTotal bool) {
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return Usage{}, 0, false
		}
		if m = viaJSON(v); m == nil {
			return Usage{}, 0, false
		}
	}
	u.Input, _ = getEither(m, "prompt_tokens", "PromptTokens")
	u.Output, _ = getEither(m, "completion_tokens", "CompletionTokens")
	total, hasTotal = getEither(m, "total_tokens", "TotalTokens")
	if d, ok := m["prompt_tokens_details"].(map[string]any); ok {
		u.CachedInput, _ = get(d, "cached_tokens")
	}
	return u, total, hasTotal
}

// viaJSON turns any value into a map through a JSON round trip, or nil.
func viaJSON(v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil
	}
	return m
}

func getEither(m map[string]any, a, b string) (int, bool) {
	if n, ok := get(m, a); ok {
		return n, true
	}
	return get(m, b)
}

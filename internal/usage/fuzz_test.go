package usage

import (
	"math"
	"testing"

	"github.com/leanllm/leanllm-go/internal/pricing"
)

// fuzzBound keeps counts in a range where their sums cannot overflow int:
// providers report at most a few million tokens per call.
const fuzzBound = 1 << 40

func bounded(v int64) int64 {
	if v > fuzzBound || v < -fuzzBound {
		return v % fuzzBound
	}
	return v
}

// fuzzInfo builds a GenerationInfo of one of the provider shapes that
// FromGenerationInfo recognises, with the fuzzer's counts.
func fuzzInfo(shape uint8, asFloat bool, a, b, c, d, e int64) map[string]any {
	n := func(v int64) any {
		v = bounded(v)
		if asFloat {
			return float64(v)
		}
		return v
	}
	switch shape % 7 {
	case 0: // OpenAI
		return map[string]any{"PromptTokens": n(a), "CompletionTokens": n(b), "TotalTokens": n(c),
			"PromptCachedTokens": n(d), "ReasoningTokens": n(e), "CompletionReasoningTokens": n(e), "ThinkingTokens": n(e)}
	case 1: // Anthropic
		return map[string]any{"InputTokens": n(a), "OutputTokens": n(b), "CacheReadInputTokens": n(c),
			"CacheCreationInputTokens": n(d), "ThinkingTokens": n(e)}
	case 2: // Google AI, int32 counts
		i32 := func(v int64) any { return int32(v) }
		return map[string]any{"input_tokens": i32(a), "output_tokens": i32(b), "total_tokens": i32(c),
			"PromptTokens": i32(a), "CompletionTokens": i32(b), "TotalTokens": i32(c),
			"CachedTokens": i32(d), "CacheReadInputTokens": i32(d), "ThinkingTokens": 0}
	case 3: // Vertex / Bedrock / raw Anthropic snake case
		return map[string]any{"input_tokens": n(a), "output_tokens": n(b), "total_tokens": n(c),
			"cache_read_input_tokens": n(d), "cache_creation_input_tokens": n(e)}
	case 4: // Ollama raw
		return map[string]any{"prompt_eval_count": n(a), "eval_count": n(b)}
	case 5: // Mistral-style usage map (as after a JSON round trip)
		return map[string]any{"usage": map[string]any{"prompt_tokens": n(a), "completion_tokens": n(b),
			"total_tokens": n(c), "prompt_tokens_details": map[string]any{"cached_tokens": n(d)}}}
	default: // mixed keys of several shapes at once
		return map[string]any{"PromptTokens": n(a), "InputTokens": n(b), "input_tokens": n(c),
			"CachedTokens": n(d), "usage": n(e)}
	}
}

// FuzzFromGenerationInfo checks, for any counts in any provider shape, that
// FromGenerationInfo never panics and always returns a usage that keeps its
// invariants (so that nothing is billed twice or negatively), and that its
// cost is finite, non-negative and bounded by the dearest rates.
//
//	go test -run='^$' -fuzz=FuzzFromGenerationInfo -fuzztime=20s ./internal/usage/
func FuzzFromGenerationInfo(f *testing.F) {
	f.Add(uint8(0), false, int64(1000), int64(200), int64(1200), int64(400), int64(150))
	f.Add(uint8(1), false, int64(100), int64(300), int64(2000), int64(500), int64(0))
	f.Add(uint8(2), false, int64(1000), int64(100), int64(1600), int64(600), int64(0))
	f.Add(uint8(3), true, int64(70), int64(30), int64(130), int64(0), int64(0))
	f.Add(uint8(4), false, int64(26), int64(290), int64(0), int64(0), int64(0))
	f.Add(uint8(5), true, int64(50), int64(5), int64(55), int64(20), int64(0))
	f.Add(uint8(6), false, int64(-5), int64(7), int64(-1), int64(1<<40), int64(3))
	sonnet, _, _ := pricing.Default().Lookup("claude-sonnet-4-5")
	f.Fuzz(func(t *testing.T, shape uint8, asFloat bool, a, b, c, d, e int64) {
		info := fuzzInfo(shape, asFloat, a, b, c, d, e)
		u := FromGenerationInfo(info)
		if u.Input < 0 || u.Output < 0 || u.CachedInput < 0 || u.CacheCreation < 0 || u.Reasoning < 0 {
			t.Fatalf("negative count %+v from %v", u, info)
		}
		if u.Total != u.Input+u.Output {
			t.Fatalf("Total %d != Input %d + Output %d (%v)", u.Total, u.Input, u.Output, info)
		}
		if u.CachedInput+u.CacheCreation > u.Input {
			t.Fatalf("cached %d + cache creation %d > input %d (%v)", u.CachedInput, u.CacheCreation, u.Input, info)
		}
		if u.Reasoning > u.Output {
			t.Fatalf("reasoning %d > output %d (%v)", u.Reasoning, u.Output, info)
		}
		if u.Reported != (u.Total > 0) {
			t.Fatalf("Reported %v with Total %d", u.Reported, u.Total)
		}
		if again := FromGenerationInfo(info); again != u {
			t.Fatalf("not deterministic: %+v then %+v", u, again)
		}
		cost := pricing.Cost(sonnet, u)
		// The dearest Sonnet rates: long-context cache write $7.50/M for
		// input, long-context output $22.50/M.
		limit := (float64(u.Input)*7.5 + float64(u.Output)*22.5) / 1e6
		if math.IsNaN(cost) || math.IsInf(cost, 0) || cost < 0 || cost > limit*(1+1e-12) {
			t.Fatalf("cost %g outside [0, %g] for %+v", cost, limit, u)
		}
	})
}

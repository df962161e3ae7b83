package usage

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/leanllm/leanllm-go/internal/pricing"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// The maps below copy the GenerationInfo that langchaingo v0.1.14 builds
// (see the file named in each comment), with the Go types it uses.

// openAIInfo is llms/openai/openaillm.go GenerateContent (blocking and
// streamed: the streamed usage is copied into the same response struct).
func openAIInfo(prompt, completion, total, cached, reasoning int) map[string]any {
	return map[string]any{
		"CompletionTokens":                   completion,
		"PromptTokens":                       prompt,
		"TotalTokens":                        total,
		"ReasoningTokens":                    reasoning,
		"PromptAudioTokens":                  0,
		"ThinkingContent":                    "",
		"ThinkingTokens":                     reasoning,
		"PromptCachedTokens":                 cached,
		"CompletionAudioTokens":              0,
		"CompletionReasoningTokens":          reasoning,
		"CompletionAcceptedPredictionTokens": 0,
		"CompletionRejectedPredictionTokens": 0,
	}
}

// anthropicInfo is llms/anthropic/anthropicllm.go processAnthropicResponse.
func anthropicInfo(input, output, cacheWrite, cacheRead int) map[string]any {
	return map[string]any{
		"InputTokens":              input,
		"OutputTokens":             output,
		"CacheCreationInputTokens": cacheWrite,
		"CacheReadInputTokens":     cacheRead,
		"ThinkingContent":          "",
		"OutputContent":            "hi",
	}
}

// googleAIInfo is llms/googleai/googleai.go convertCandidates (int32 from
// genai.UsageMetadata).
func googleAIInfo(prompt, candidates, total, cached int32) map[string]any {
	m := map[string]any{
		"citations":        nil,
		"safety":           nil,
		"input_tokens":     prompt,
		"output_tokens":    candidates,
		"total_tokens":     total,
		"PromptTokens":     prompt,
		"CompletionTokens": candidates,
		"TotalTokens":      total,
		"ThinkingContent":  "",
		"ThinkingTokens":   0,
	}
	if cached > 0 {
		m["CachedTokens"] = cached
		m["CacheReadInputTokens"] = cached
		m["NonCachedInputTokens"] = prompt - cached
	}
	return m
}

// mistralUsageInfo mirrors mistral-go's UsageInfo, the value langchaingo's
// llms/mistral puts in GenerationInfo["usage"].
type mistralUsageInfo struct {
	PromptTokens     int `json:"prompt_tokens"`
	TotalTokens      int `json:"total_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// untaggedUsage has no json tags: marshals with Go field names.
type untaggedUsage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
}

func TestFromGenerationInfo(t *testing.T) {
	tests := []struct {
		name string
		info map[string]any
		want Usage
	}{
		{
			name: "openai plain",
			info: openAIInfo(100, 50, 150, 0, 0),
			want: Usage{Input: 100, Output: 50, Total: 150, Reported: true},
		},
		{
			name: "openai cached and reasoning",
			info: openAIInfo(1000, 200, 1200, 400, 150),
			want: Usage{Input: 1000, Output: 200, Total: 1200, CachedInput: 400, Reasoning: 150, Reported: true},
		},
		{
			name: "openai stream without usage reports zeros",
			info: openAIInfo(0, 0, 0, 0, 0),
			want: Usage{},
		},
		{
			name: "openai cached above prompt is clamped",
			info: openAIInfo(100, 10, 110, 500, 0),
			want: Usage{Input: 100, Output: 10, Total: 110, CachedInput: 100, Reported: true},
		},
		{
			name: "anthropic cache read and creation are added to input",
			info: anthropicInfo(100, 300, 500, 2000),
			// 100 + 2000 + 500
			want: Usage{Input: 2600, Output: 300, Total: 2900, CachedInput: 2000, CacheCreation: 500, Reported: true},
		},
		{
			name: "anthropic no cache",
			info: anthropicInfo(12, 34, 0, 0),
			want: Usage{Input: 12, Output: 34, Total: 46, Reported: true},
		},
		{
			name: "anthropic tool_use choice (no ThinkingContent keys)",
			info: map[string]any{"InputTokens": 10, "OutputTokens": 5, "CacheCreationInputTokens": 0, "CacheReadInputTokens": 3},
			want: Usage{Input: 13, Output: 5, Total: 18, CachedInput: 3, Reported: true},
		},
		{
			name: "googleai cached tokens are inside the prompt, CacheReadInputTokens copy not added",
			info: googleAIInfo(1000, 200, 1200, 600),
			want: Usage{Input: 1000, Output: 200, Total: 1200, CachedInput: 600, Reported: true},
		},
		{
			name: "googleai thinking tokens only in total become output",
			info: googleAIInfo(100, 50, 400, 0),
			// 400 - 100 - 50 = 250 hidden thinking tokens
			want: Usage{Input: 100, Output: 300, Total: 400, Reasoning: 250, Reported: true},
		},
		{
			name: "vertex snake case int32",
			info: map[string]any{"citations": nil, "safety": nil,
				"input_tokens": int32(70), "output_tokens": int32(30), "total_tokens": int32(100)},
			want: Usage{Input: 70, Output: 30, Total: 100, Reported: true},
		},
		{
			name: "vertex thinking gap",
			info: map[string]any{"input_tokens": int32(70), "output_tokens": int32(30), "total_tokens": int32(130)},
			want: Usage{Input: 70, Output: 60, Total: 130, Reasoning: 30, Reported: true},
		},
		{
			name: "bedrock no total",
			info: map[string]any{"input_tokens": 21, "output_tokens": 8},
			want: Usage{Input: 21, Output: 8, Total: 29, Reported: true},
		},
		{
			name: "bedrock anthropic stream: only input known yet",
			info: map[string]any{"input_tokens": 21},
			want: Usage{Input: 21, Total: 21, Reported: true},
		},
		{
			name: "raw anthropic snake names with cache",
			info: map[string]any{"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 50},
			want: Usage{Input: 160, Output: 5, Total: 165, CachedInput: 100, CacheCreation: 50, Reported: true},
		},
		{
			name: "mistral usage struct",
			info: map[string]any{"created": 1700000000, "model": "mistral-small-latest",
				"usage": mistralUsageInfo{PromptTokens: 9, CompletionTokens: 11, TotalTokens: 20}},
			want: Usage{Input: 9, Output: 11, Total: 20, Reported: true},
		},
		{
			name: "mistral usage pointer",
			info: map[string]any{"usage": &mistralUsageInfo{PromptTokens: 9, CompletionTokens: 11, TotalTokens: 20}},
			want: Usage{Input: 9, Output: 11, Total: 20, Reported: true},
		},
		{
			name: "mistral streaming chunk without usage yet",
			info: map[string]any{"created": 1, "model": "m", "usage": mistralUsageInfo{}},
			want: Usage{},
		},
		{
			name: "usage struct without json tags",
			info: map[string]any{"usage": untaggedUsage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}},
			want: Usage{Input: 3, Output: 4, Total: 7, Reported: true},
		},
		{
			name: "usage map with cached details",
			info: map[string]any{"usage": map[string]any{"prompt_tokens": 50.0, "completion_tokens": 5.0, "total_tokens": 55.0,
				"prompt_tokens_details": map[string]any{"cached_tokens": 20.0}}},
			want: Usage{Input: 50, Output: 5, Total: 55, CachedInput: 20, Reported: true},
		},
		{
			name: "ollama",
			info: map[string]any{"CompletionTokens": 40, "PromptTokens": 60, "TotalTokens": 100, "ThinkingContent": "", "ThinkingTokens": 0},
			want: Usage{Input: 60, Output: 40, Total: 100, Reported: true},
		},
		{
			name: "ollama context cache larger than prompt is clamped",
			info: map[string]any{"CompletionTokens": 40, "PromptTokens": 60, "TotalTokens": 100, "CachedTokens": 80, "CacheHit": true},
			want: Usage{Input: 60, Output: 40, Total: 100, CachedInput: 60, Reported: true},
		},
		{
			name: "ollama raw names",
			info: map[string]any{"prompt_eval_count": 26, "eval_count": 290},
			want: Usage{Input: 26, Output: 290, Total: 316, Reported: true},
		},
		{
			name: "maritaca",
			info: map[string]any{"CompletionTokens": 7, "PromptTokens": 3, "TotalTokens": 10},
			want: Usage{Input: 3, Output: 7, Total: 10, Reported: true},
		},
		{
			name: "float64 after a JSON round trip",
			info: map[string]any{"PromptTokens": 1000.0, "CompletionTokens": 200.0, "TotalTokens": 1200.0, "PromptCachedTokens": 400.0, "ReasoningTokens": 50.0},
			want: Usage{Input: 1000, Output: 200, Total: 1200, CachedInput: 400, Reasoning: 50, Reported: true},
		},
		{
			name: "json.Number",
			info: map[string]any{"InputTokens": json.Number("5"), "OutputTokens": json.Number("6"), "CacheReadInputTokens": json.Number("7.0")},
			want: Usage{Input: 12, Output: 6, Total: 18, CachedInput: 7, Reported: true},
		},
		{
			name: "int64 and uint",
			info: map[string]any{"PromptTokens": int64(8), "CompletionTokens": uint(2), "TotalTokens": uint64(10)},
			want: Usage{Input: 8, Output: 2, Total: 10, Reported: true},
		},
		{
			name: "reported total smaller than parts is ignored",
			info: map[string]any{"PromptTokens": 8, "CompletionTokens": 2, "TotalTokens": 3},
			want: Usage{Input: 8, Output: 2, Total: 10, Reported: true},
		},
		{
			name: "non-numeric values are ignored",
			info: map[string]any{"PromptTokens": "8", "CompletionTokens": 2, "TotalTokens": nil},
			want: Usage{Output: 2, Total: 2, Reported: true},
		},
		{name: "nil map", info: nil, want: Usage{}},
		{name: "no usage keys (cohere)", info: map[string]any{"generation_id": "x", "index": 0}, want: Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			got := FromGenerationInfo(tt.info)
			is.Equal(got, tt.want)
			is.Equal(got.Input+got.Output, got.Total) // invariant
		})
	}
}

func TestToInt(t *testing.T) {
	is := is.New(t)
	i, i32, i64 := 5, int32(6), int64(7)
	for _, tt := range []struct {
		v    any
		want int
		ok   bool
	}{
		{3, 3, true}, {int8(3), 3, true}, {int16(3), 3, true}, {int32(3), 3, true}, {int64(3), 3, true},
		{uint8(3), 3, true}, {uint16(3), 3, true}, {uint32(3), 3, true}, {uint64(3), 3, true}, {uint(3), 3, true},
		{2.6, 3, true}, {float32(2.4), 2, true}, {json.Number("12"), 12, true}, {json.Number("1e3"), 1000, true},
		{&i, 5, true}, {&i32, 6, true}, {&i64, 7, true}, {(*int)(nil), 0, false},
		{uint64(math.MaxUint64), math.MaxInt, true}, {math.Inf(1), 0, false}, {math.NaN(), 0, false},
		{1e300, math.MaxInt, true}, {json.Number("x"), 0, false}, {"3", 0, false}, {nil, 0, false}, {true, 0, false},
	} {
		got, ok := toInt(tt.v)
		is.Equal(got, tt.want)
		is.Equal(ok, tt.ok)
	}
}

func TestFromChoices(t *testing.T) {
	ant := anthropicInfo(100, 300, 500, 2000)
	tests := []struct {
		name    string
		choices []*llms.ContentChoice
		want    Usage
	}{
		{
			name: "anthropic repeats usage on each content block: not summed",
			choices: []*llms.ContentChoice{
				{GenerationInfo: ant}, {GenerationInfo: ant}, {GenerationInfo: ant},
			},
			want: FromGenerationInfo(ant),
		},
		{
			name: "openai n=2 shares one usage",
			choices: []*llms.ContentChoice{
				{GenerationInfo: openAIInfo(10, 20, 30, 0, 0)}, {GenerationInfo: openAIInfo(10, 20, 30, 0, 0)},
			},
			want: Usage{Input: 10, Output: 20, Total: 30, Reported: true},
		},
		{
			name: "first reporting choice wins",
			choices: []*llms.ContentChoice{
				nil, {}, {GenerationInfo: map[string]any{"index": 0}}, {GenerationInfo: openAIInfo(1, 2, 3, 0, 0)},
				{GenerationInfo: openAIInfo(100, 200, 300, 0, 0)},
			},
			want: Usage{Input: 1, Output: 2, Total: 3, Reported: true},
		},
		{name: "none", choices: nil, want: Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			is.Equal(FromChoices(tt.choices), tt.want)
			is.Equal(FromResponse(&llms.ContentResponse{Choices: tt.choices}), tt.want)
		})
	}
	is.New(t).Equal(FromResponse(nil), Usage{})
}

func TestCostFromProviderShapes(t *testing.T) {
	tests := []struct {
		name  string
		model string
		info  map[string]any
		want  float64 // hand-computed USD
	}{
		{
			name:  "gpt-4o-mini 1000 in (400 cached) + 200 out",
			model: "gpt-4o-mini-2024-07-18",
			info:  openAIInfo(1000, 200, 1200, 400, 0),
			want:  600*0.15/1e6 + 400*0.075/1e6 + 200*0.60/1e6, // 0.000240
		},
		{
			name:  "o4-mini with reasoning (part of output, not added)",
			model: "o4-mini",
			info:  openAIInfo(2000, 1500, 3500, 1000, 1200),
			// 1000*1.10 + 1000*0.275 + 1500*4.40 = 1100 + 275 + 6600
			want: 0.007975,
		},
		{
			name:  "claude-sonnet-4-5 cache read + creation",
			model: "anthropic/claude-sonnet-4-5-20250929",
			info:  anthropicInfo(100, 300, 500, 2000),
			// 100*3 + 2000*0.30 + 500*3.75 + 300*15 = 300+600+1875+4500
			want: 0.007275,
		},
		{
			name:  "claude-3-5-haiku cache creation only",
			model: "claude-3-5-haiku-latest",
			info:  anthropicInfo(1000, 100, 4000, 0),
			// 1000*0.80 + 4000*1.00 + 100*4.00 = 800+4000+400
			want: 0.0052,
		},
		{
			name:  "gemini-2.5-flash cached + hidden thinking",
			model: "googleai/gemini-2.5-flash",
			info:  googleAIInfo(1000, 100, 1600, 600),
			// input 400*0.30 + 600*0.03 = 120+18; output (100+500)*2.50 = 1500
			want: 0.001638,
		},
		{
			name:  "gemini-2.5-pro long context via total prompt",
			model: "gemini-2.5-pro",
			info:  googleAIInfo(250_000, 1000, 251_000, 0),
			// 250000*2.50 + 1000*15 = 625000 + 15000
			want: 0.64,
		},
		{
			name:  "mistral-large",
			model: "mistral-large-latest",
			info:  map[string]any{"usage": mistralUsageInfo{PromptTokens: 1000, CompletionTokens: 500, TotalTokens: 1500}},
			// 1000*2 + 500*6 = 5000
			want: 0.005,
		},
		{
			name:  "ollama is free",
			model: "ollama/llama3.2",
			info:  map[string]any{"CompletionTokens": 40, "PromptTokens": 60, "TotalTokens": 100},
			want:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			cost, _, ok := pricing.Default().Cost(tt.model, FromGenerationInfo(tt.info))
			is.True(ok)
			is.True(math.Abs(cost-tt.want) < 1e-12) // matches hand-computed dollars
			if t.Failed() {
				t.Logf("got %.12f want %.12f", cost, tt.want)
			}
		})
	}
}

func TestNoAllocations(t *testing.T) {
	shapes := map[string]map[string]any{
		"openai":    openAIInfo(1000, 200, 1200, 400, 150),
		"anthropic": anthropicInfo(100, 300, 500, 2000),
		"googleai":  googleAIInfo(1000, 100, 1600, 600),
		"float64":   {"PromptTokens": 1000.0, "CompletionTokens": 200.0, "TotalTokens": 1200.0},
		"usagemap":  {"usage": map[string]any{"prompt_tokens": 50, "completion_tokens": 5}},
	}
	for name, info := range shapes {
		t.Run(name, func(t *testing.T) {
			is.New(t).Equal(testing.AllocsPerRun(100, func() { FromGenerationInfo(info) }), 0.0)
		})
	}
	choices := []*llms.ContentChoice{{GenerationInfo: shapes["anthropic"]}, {GenerationInfo: shapes["anthropic"]}}
	is.New(t).Equal(testing.AllocsPerRun(100, func() { FromChoices(choices) }), 0.0)
}

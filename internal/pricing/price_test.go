package pricing

import (
	"math"
	"testing"

	"github.com/matryer/is"
)

func approx(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func mustPrice(t *testing.T, model string) Price {
	t.Helper()
	p, _, ok := Default().Lookup(model)
	if !ok {
		t.Fatalf("model %q not in the built-in table", model)
	}
	return p
}

func TestCost(t *testing.T) {
	tests := []struct {
		name  string
		model string
		price *Price // used instead of model when set
		u     Usage
		want  float64 // hand-computed USD
	}{
		{
			name:  "gpt-4o-mini cached input",
			model: "gpt-4o-mini",
			u:     Usage{Input: 1000, CachedInput: 400, Output: 200},
			// 600*0.15 + 400*0.075 + 200*0.60 = 90 + 30 + 120 = 240 per 1e6
			want: 600*0.15/1e6 + 400*0.075/1e6 + 200*0.60/1e6,
		},
		{
			name:  "gpt-4o-mini literal",
			model: "gpt-4o-mini",
			u:     Usage{Input: 1000, CachedInput: 400, Output: 200},
			want:  0.000240,
		},
		{
			name:  "o3 reasoning is part of output, not added again",
			model: "o3",
			u:     Usage{Input: 1000, Output: 5000, Reasoning: 4000},
			// 1000*2 + 5000*8 = 42000
			want: 0.042,
		},
		{
			name:  "claude-sonnet-4-5 cache read and write",
			model: "claude-sonnet-4-5",
			u:     Usage{Input: 2600, CachedInput: 2000, CacheCreation: 500, Output: 300},
			// 100*3 + 2000*0.30 + 500*3.75 + 300*15 = 300+600+1875+4500 = 7275
			want: 0.007275,
		},
		{
			name:  "claude-3-5-haiku cache write only",
			model: "claude-3-5-haiku-20241022",
			u:     Usage{Input: 10_000, CacheCreation: 8_000, Output: 100},
			// 2000*0.80 + 8000*1.00 + 100*4 = 1600+8000+400 = 10000
			want: 0.01,
		},
		{
			name:  "claude-sonnet-4 long context over 200k",
			model: "claude-sonnet-4",
			u:     Usage{Input: 250_000, CachedInput: 50_000, Output: 1_000},
			// 200000*6 + 50000*0.60 + 1000*22.50 = 1200000+30000+22500
			want: 1.2525,
		},
		{
			name:  "claude-sonnet-4 long context with cache write",
			model: "claude-sonnet-4",
			u:     Usage{Input: 300_000, CacheCreation: 100_000, Output: 0},
			// 200000*6 + 100000*7.50 = 1200000 + 750000
			want: 1.95,
		},
		{
			name:  "gemini-2.5-pro at the 200k threshold stays normal",
			model: "gemini-2.5-pro",
			u:     Usage{Input: 200_000, Output: 1_000},
			// 200000*1.25 + 1000*10 = 260000
			want: 0.26,
		},
		{
			name:  "gemini-2.5-pro above 200k",
			model: "gemini-2.5-pro",
			u:     Usage{Input: 200_001, Output: 1_000},
			// 200001*2.50 + 1000*15 = 500002.5 + 15000
			want: 0.5150025,
		},
		{
			name:  "gemini-1.5-flash above 128k with cache",
			model: "gemini-1.5-flash",
			u:     Usage{Input: 130_000, CachedInput: 30_000, Output: 2_000},
			// 100000*0.15 + 30000*0.0375 + 2000*0.60 = 15000+1125+1200
			want: 0.017325,
		},
		{
			name:  "gemini-2.5-flash thinking billed as output",
			model: "gemini-2.5-flash",
			u:     Usage{Input: 1_000, CachedInput: 500, Output: 3_000, Reasoning: 2_500},
			// 500*0.30 + 500*0.03 + 3000*2.50 = 150+15+7500
			want: 0.007665,
		},
		{
			name:  "no cached price: cached tokens cost input",
			model: "gpt-4-turbo",
			u:     Usage{Input: 1_000, CachedInput: 100, Output: 500},
			// 1000*10 + 500*30 = 25000
			want: 0.025,
		},
		{
			name:  "mistral-large",
			model: "mistral-large-latest",
			u:     Usage{Input: 1_000, Output: 1_000},
			want:  0.008,
		},
		{
			name:  "anthropic without cache write price: 1.25x input",
			price: &Price{Input: 3, Output: 15, Provider: "anthropic"},
			u:     Usage{Input: 1_000, CacheCreation: 1_000},
			want:  0.00375,
		},
		{
			name:  "litellm vertex anthropic provider also 1.25x",
			price: &Price{Input: 3, Output: 15, Provider: "vertex_ai-anthropic_models"},
			u:     Usage{Input: 1_000, CacheCreation: 1_000},
			want:  0.00375,
		},
		{
			name:  "other provider without cache write price: input",
			price: &Price{Input: 2, Output: 8, Provider: "openai"},
			u:     Usage{Input: 1_000, CacheCreation: 1_000},
			want:  0.002,
		},
		{
			name:  "long tier without long cached price uses long input",
			price: &Price{Input: 1, Output: 2, CachedInput: 0.1, LongContextThreshold: 10, LongInput: 4, LongOutput: 8},
			u:     Usage{Input: 20, CachedInput: 10, Output: 10},
			// 10*4 + 10*4 + 10*8 = 160
			want: 160 / 1e6,
		},
		{
			name:  "cached larger than input is clamped, not double billed",
			model: "gpt-4o-mini",
			u:     Usage{Input: 100, CachedInput: 500},
			want:  100 * 0.075 / 1e6,
		},
		{
			name:  "negative counts are zero",
			model: "gpt-4o",
			u:     Usage{Input: -5, Output: -1},
			want:  0,
		},
		{
			name:  "ollama is free",
			model: "ollama/llama3.2",
			u:     Usage{Input: 1_000_000, Output: 1_000_000},
			want:  0,
		},
		{
			name:  "one million tokens each is the list price",
			model: "gpt-4.1",
			u:     Usage{Input: 1_000_000, Output: 1_000_000},
			want:  10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			var p Price
			if tt.price != nil {
				p = *tt.price
			} else {
				p = mustPrice(t, tt.model)
			}
			got := Cost(p, tt.u)
			is.True(approx(got, tt.want)) // cost matches the hand-computed dollars
			if t.Failed() {
				t.Logf("got %.12f want %.12f", got, tt.want)
			}
		})
	}
}

func TestTableCost(t *testing.T) {
	is := is.New(t)
	c, name, ok := Default().Cost("openai/gpt-4o-mini-2024-07-18", Usage{Input: 1000, CachedInput: 400, Output: 200})
	is.True(ok)
	is.Equal(name, "gpt-4o-mini")
	is.True(approx(c, 0.000240))

	c, name, ok = Default().Cost("no-such-model", Usage{Input: 10})
	is.True(!ok)
	is.Equal(name, "")
	is.Equal(c, 0.0)
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   Usage
		want Usage
	}{
		{"consistent", Usage{Input: 10, Output: 5, CachedInput: 3, CacheCreation: 2, Reasoning: 1},
			Usage{Input: 10, Output: 5, Total: 15, CachedInput: 3, CacheCreation: 2, Reasoning: 1}},
		{"cached plus creation over input", Usage{Input: 10, CachedInput: 8, CacheCreation: 8},
			Usage{Input: 10, Total: 10, CachedInput: 8, CacheCreation: 2}},
		{"reasoning over output", Usage{Output: 5, Reasoning: 9},
			Usage{Output: 5, Total: 5, Reasoning: 5}},
		{"negatives", Usage{Input: -1, Output: -1, CachedInput: -1, Reported: true},
			Usage{Reported: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is.New(t).Equal(tt.in.Normalize(), tt.want)
		})
	}
}

func TestCostDoesNotAllocate(t *testing.T) {
	is := is.New(t)
	p := mustPrice(t, "claude-sonnet-4")
	u := Usage{Input: 250_000, CachedInput: 10, CacheCreation: 10, Output: 10}
	is.Equal(testing.AllocsPerRun(100, func() { _ = Cost(p, u) }), 0.0)
}

package pricing

import "testing"

var (
	sinkPrice Price
	sinkName  string
	sinkOK    bool
	sinkCost  float64
)

func BenchmarkLookup(b *testing.B) {
	tab := Default()
	for _, name := range []string{
		"gpt-4o-mini",
		"gpt-4o-mini-2024-07-18",
		"openai/gpt-4o-mini",
		"anthropic/claude-sonnet-4-5-20250929",
		"gemini-2.5-flash-preview-05-20",
		"claude-sonnet-4-0",
		"ollama/llama3.2",
		"no-such-model",
		"GPT-4o-Mini",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkPrice, sinkName, sinkOK = tab.Lookup(name)
			}
		})
	}
}

func BenchmarkCost(b *testing.B) {
	p, _, _ := Default().Lookup("claude-sonnet-4-5")
	u := Usage{Input: 2600, CachedInput: 2000, CacheCreation: 500, Output: 300}
	b.ReportAllocs()
	for b.Loop() {
		sinkCost = Cost(p, u)
	}
}

func BenchmarkTableCost(b *testing.B) {
	tab := Default()
	u := Usage{Input: 1000, CachedInput: 400, Output: 200}
	b.ReportAllocs()
	for b.Loop() {
		sinkCost, sinkName, sinkOK = tab.Cost("gpt-4o-mini-2024-07-18", u)
	}
}

func BenchmarkLoadFileLiteLLMSample(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadFile("testdata/litellm_sample.json"); err != nil {
			b.Fatal(err)
		}
	}
}

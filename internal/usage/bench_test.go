package usage

import (
	"testing"

	"github.com/tmc/langchaingo/llms"
)

var sinkUsage Usage

func BenchmarkFromGenerationInfo(b *testing.B) {
	for _, bc := range []struct {
		name string
		info map[string]any
	}{
		{"openai", openAIInfo(1000, 200, 1200, 400, 150)},
		{"anthropic", anthropicInfo(100, 300, 500, 2000)},
		{"googleai", googleAIInfo(1000, 100, 1600, 600)},
		{"mistral-struct", map[string]any{"usage": mistralUsageInfo{PromptTokens: 9, CompletionTokens: 11, TotalTokens: 20}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkUsage = FromGenerationInfo(bc.info)
			}
		})
	}
}

func BenchmarkFromChoices(b *testing.B) {
	info := anthropicInfo(100, 300, 500, 2000)
	choices := []*llms.ContentChoice{{GenerationInfo: info}, {GenerationInfo: info}, {GenerationInfo: info}}
	b.ReportAllocs()
	for b.Loop() {
		sinkUsage = FromChoices(choices)
	}
}

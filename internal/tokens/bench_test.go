package tokens

import (
	"strings"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	"github.com/tmc/langchaingo/llms"
)

var sinkN int

// text1KiB is 1024 bytes of English prose.
var text1KiB = func() string {
	const s = "LeanLLM records each LLM call as an event with token counts and cost. "
	return strings.Repeat(s, 1024/len(s)+1)[:1024]
}()

func BenchmarkEstimate1KiB(b *testing.B) {
	for _, model := range []string{"gpt-4o", "gpt-4", "claude-sonnet-4-5"} {
		b.Run(model, func(b *testing.B) {
			Estimate(model, "warm") // exclude the one-time encoder creation
			b.SetBytes(int64(len(text1KiB)))
			b.ReportAllocs()
			for b.Loop() {
				sinkN = Estimate(model, text1KiB)
			}
		})
	}
}

func BenchmarkEstimateMessages(b *testing.B) {
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "You are a helpful assistant."),
		llms.TextParts(llms.ChatMessageTypeHuman, text1KiB),
	}
	EstimateMessages("gpt-4o", msgs)
	b.ReportAllocs()
	for b.Loop() {
		sinkN = EstimateMessages("gpt-4o", msgs)
	}
}

// BenchmarkEncoderInit is the cost of creating an encoder once tiktoken has
// parsed the embedded BPE file (itself part of the first call only, see
// TestOffline's log for the whole first-call cost).
func BenchmarkEncoderInit(b *testing.B) {
	for _, name := range []string{O200kBase, Cl100kBase} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tiktoken.GetEncoding(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodingName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if EncodingName("openai/gpt-4o-mini-2024-07-18") != O200kBase {
			b.Fatal("wrong encoding")
		}
	}
}

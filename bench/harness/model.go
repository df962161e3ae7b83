package harness

import (
	"strings"

	"github.com/leanllm/leanllm-go/internal/testprovider"

	"github.com/tmc/langchaingo/llms"
)

// StaticModel is the zero-latency model of internal/testprovider (shared
// with the SDK's own benchmarks): one read-only response, no I/O.
type StaticModel = testprovider.Static

// NewStatic returns a StaticModel answering "ok" with openai-style usage
// (10 prompt and 5 completion tokens).
func NewStatic() *StaticModel { return testprovider.NewStatic() }

// ShortPrompt is a one-message prompt of a few bytes.
var ShortPrompt = []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Say hi.")}

const prose = "The quarterly report shows steady growth in all regions, with margins holding. "

// PromptText returns n bytes (n >= 200) of ordinary prose holding one email
// address and one API-key-like token for the redaction stage to mask.
func PromptText(n int) string {
	tail := " Contact jane.doe@example.com, key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD."
	var b strings.Builder
	b.Grow(n)
	for b.Len() < n-len(tail) {
		b.WriteString(prose)
	}
	s := b.String()[:max(n-len(tail), 0)] + tail
	return s[:min(len(s), n)]
}

// Prompt returns a one-message prompt of n bytes (see PromptText).
func Prompt(n int) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, PromptText(n))}
}

package harness

import (
	"context"
	"strings"

	"github.com/tmc/langchaingo/llms"
)

// StaticModel answers instantly with one shared, read-only response: the
// cheapest possible llms.Model, so that what a benchmark measures around it
// is the wrapper's own cost. It is safe for concurrent use.
type StaticModel struct{ resp *llms.ContentResponse }

var _ llms.Model = (*StaticModel)(nil)

// NewStatic returns a StaticModel answering "ok" with openai-style usage
// (10 prompt and 5 completion tokens).
func NewStatic() *StaticModel {
	return &StaticModel{resp: &llms.ContentResponse{Choices: []*llms.ContentChoice{{
		Content: "ok", StopReason: "stop",
		GenerationInfo: map[string]any{"PromptTokens": 10, "CompletionTokens": 5, "TotalTokens": 15},
	}}}}
}

// GenerateContent implements llms.Model.
func (m *StaticModel) GenerateContent(context.Context, []llms.MessageContent, ...llms.CallOption) (*llms.ContentResponse, error) {
	return m.resp, nil
}

// Call implements llms.Model.
func (m *StaticModel) Call(ctx context.Context, p string, opts ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, p, opts...)
}

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

package testprovider

import (
	"context"

	"github.com/tmc/langchaingo/llms"
)

// Static answers instantly with one shared, read-only response: the
// cheapest possible llms.Model, so that what a benchmark measures around it
// is the wrapper's own cost. It is safe for concurrent use; callers must not
// change the response it returns.
type Static struct{ resp *llms.ContentResponse }

var _ llms.Model = (*Static)(nil)

// NewStatic returns a Static answering "ok" with openai-style usage (10
// prompt and 5 completion tokens).
func NewStatic() *Static {
	return &Static{resp: &llms.ContentResponse{Choices: []*llms.ContentChoice{{
		Content: "ok", StopReason: "stop",
		GenerationInfo: map[string]any{"PromptTokens": 10, "CompletionTokens": 5, "TotalTokens": 15},
	}}}}
}

// GenerateContent implements llms.Model.
func (m *Static) GenerateContent(context.Context, []llms.MessageContent, ...llms.CallOption) (*llms.ContentResponse, error) {
	return m.resp, nil
}

// Call implements llms.Model.
func (m *Static) Call(ctx context.Context, p string, opts ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, p, opts...)
}

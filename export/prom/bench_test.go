package prom_test

import (
	"context"
	"testing"

	"github.com/leanllm/leanllm-go/export/prom"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
)

type staticModel struct{ resp *llms.ContentResponse }

func (m *staticModel) GenerateContent(context.Context, []llms.MessageContent, ...llms.CallOption) (*llms.ContentResponse, error) {
	return m.resp, nil
}

func (m *staticModel) Call(ctx context.Context, p string, opts ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, p, opts...)
}

// BenchmarkMiddleware measures what the per-call metrics add to a logged
// call (content off, no store).
func BenchmarkMiddleware(b *testing.B) {
	static := &staticModel{resp: &llms.ContentResponse{Choices: []*llms.ContentChoice{{
		Content: "ok", StopReason: "stop",
		GenerationInfo: map[string]any{"PromptTokens": 10, "CompletionTokens": 5, "TotalTokens": 15},
	}}}}
	msgs := human("Say hi.")
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts []leanllm.Option
	}{{"metrics_off", nil}, {"metrics_on", []leanllm.Option{prom.NewMetrics().ClientOption()}}} {
		b.Run(bc.name, func(b *testing.B) {
			cl, err := leanllm.New(append([]leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(static)}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				_, _ = cl.GenerateContent(ctx, msgs)
			}
		})
	}
}

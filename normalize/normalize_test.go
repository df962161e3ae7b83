package normalize_test

import (
	"testing"

	"github.com/leanllm/leanllm-go/normalize"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

func TestSemanticHashGroupsDynamicTokens(t *testing.T) {
	is := is.New(t)
	a := "Summarise order 1234567 for user 3f2b8c1e-9a4d-4e2b-8f1a-2c3d4e5f6a7b at 2026-11-28T10:00:00Z"
	b := "summarise  order 7654321 for user 0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d at 2025-01-02T23:59:59Z"
	is.Equal(normalize.SemanticHash(a), normalize.SemanticHash(b))
	is.True(normalize.SemanticHash(a) != normalize.SemanticHash("Summarise the refund policy"))
	is.Equal(normalize.Canonical("Hash deadbeefcafe1234 ok"), "hash <hex> ok")
}

func TestOutputTypes(t *testing.T) {
	is := is.New(t)
	is.Equal(normalize.Output(`{"a":1}`, nil)["type"], "json")
	is.Equal(normalize.Output("```go\nx\n```", nil)["type"], "code")
	is.Equal(normalize.Output("hello", nil)["type"], "text")
	is.Equal(normalize.Output("", nil)["type"], "empty")
	tc := []llms.ToolCall{{FunctionCall: &llms.FunctionCall{Name: "search"}}}
	o := normalize.Output("", tc)
	is.Equal(o["type"], "tool_call")
	is.Equal(o["tool_names"], []string{"search"})
	in := normalize.Input("completion", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")})
	is.Equal(in["type"], "completion")
	is.Equal(in["length_bucket"], "xs")
}

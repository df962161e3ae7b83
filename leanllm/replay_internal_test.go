package leanllm

import (
	"strings"
	"testing"

	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

func TestParsePromptInvertsRenderMessages(t *testing.T) {
	tc := func(id, name, args string) llms.ToolCall {
		return llms.ToolCall{ID: id, Type: "function", FunctionCall: &llms.FunctionCall{Name: name, Arguments: args}}
	}
	tests := []struct {
		name string
		msgs []llms.MessageContent
		want []llms.MessageContent // nil = msgs
	}{
		{
			name: "single human message: raw text",
			msgs: []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "What is 2+2?\nAnswer briefly.")},
		},
		{
			name: "system and human, multi-line",
			msgs: []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeSystem, "You are terse.\nNo markdown."),
				llms.TextParts(llms.ChatMessageTypeHuman, "Capital of France?"),
			},
		},
		{
			name: "conversation",
			msgs: []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeHuman, "hi"),
				llms.TextParts(llms.ChatMessageTypeAI, "hello"),
				llms.TextParts(llms.ChatMessageTypeHuman, "bye"),
			},
		},
		{
			name: "image",
			msgs: []llms.MessageContent{
				{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.TextContent{Text: "what is this?"}, llms.ImageURLContent{URL: "https://x/y.png"}}},
				llms.TextParts(llms.ChatMessageTypeAI, "a cat"),
			},
		},
		{
			name: "tool calls and results",
			msgs: []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeHuman, "weather and time in Paris?"),
				{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{tc("a", "weather", `{"city":"Paris","note":"a ] bracket"}`), tc("b", "clock", `{}`)}},
				{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "b", Name: "clock", Content: "12:00"}}},
				{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "a", Name: "weather", Content: "sunny, 21°C"}}},
			},
			want: []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeHuman, "weather and time in Paris?"),
				{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{tc("call_replay_0", "weather", `{"city":"Paris","note":"a ] bracket"}`), tc("call_replay_1", "clock", `{}`)}},
				{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "call_replay_1", Name: "clock", Content: "12:00"}}},
				{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "call_replay_0", Name: "weather", Content: "sunny, 21°C"}}},
			},
		},
		{
			name: "text and a tool call",
			msgs: []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeHuman, "go"),
				{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{llms.TextContent{Text: "Let me look."}, tc("x", "search", `{"q":"go"}`)}},
			},
			want: []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeHuman, "go"),
				{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{llms.TextContent{Text: "Let me look."}, tc("call_replay_0", "search", `{"q":"go"}`)}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			got, err := parsePrompt(capture.RenderMessages(tt.msgs), core.KindChat)
			is.NoErr(err)
			want := tt.want
			if want == nil {
				want = tt.msgs
			}
			is.Equal(got, want)
		})
	}
}

func TestParsePromptEdges(t *testing.T) {
	is := is.New(t)
	// A completion's prompt is one human message, whatever it looks like.
	got, err := parsePrompt("system: not a role", core.KindCompletion)
	is.NoErr(err)
	is.Equal(got, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "system: not a role")})
	// Binary parts were never captured.
	_, err = parsePrompt(capture.RenderMessages([]llms.MessageContent{
		{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.BinaryContent{MIMEType: "image/png", Data: []byte{1, 2}}}},
		llms.TextParts(llms.ChatMessageTypeAI, "?"),
	}), core.KindChat)
	is.True(err != nil)
	// Tool call arguments that are not JSON.
	_, err = parsePrompt("ai: [tool_call f not-json]", core.KindChat)
	is.True(err != nil)
}

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "x\ny", "x\ny", ""},
		{"one line", "hello", "goodbye", "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-hello\n+goodbye\n"},
		{"from empty", "", "new", "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n"},
		{
			"context and two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12",
			"1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13",
			"--- a\n+++ b\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n",
		},
		{
			"close changes share a hunk",
			"a\nb\nc\nd\ne",
			"A\nb\nc\nd\nE",
			"--- a\n+++ b\n@@ -1,5 +1,5 @@\n-a\n+A\n b\n c\n d\n-e\n+E\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			is.Equal(unifiedDiff("a", "b", tt.a, tt.b), tt.want)
		})
	}
	// Huge inputs fall back to a whole replacement, without a huge table.
	big := strings.Repeat("x\n", 3000)
	d := unifiedDiff("a", "b", "start\n"+big, "begin\n"+big+"end")
	is := is.New(t)
	is.True(strings.HasPrefix(d, "--- a\n+++ b\n@@ -1,3001 +1,3002 @@\n-start\n-x\n"))
	is.True(strings.HasSuffix(d, "+x\n+end\n"))
}

func TestParameterOptionsRoundTrip(t *testing.T) {
	is := is.New(t)
	p := core.Parameters{Temperature: 0.3, MaxTokens: 64, TopP: 0.9, TopK: 5, Stop: []string{"\n"}, Seed: 7, N: 2,
		FrequencyPenalty: 0.1, PresencePenalty: 0.2, RepetitionPenalty: 1.1, JSONMode: true, ToolChoice: "auto"}
	var o llms.CallOptions
	for _, f := range parameterOptions(p) {
		f(&o)
	}
	is.Equal(o.Temperature, 0.3)
	is.Equal(o.MaxTokens, 64)
	is.Equal(o.TopP, 0.9)
	is.Equal(o.TopK, 5)
	is.Equal(o.StopWords, []string{"\n"})
	is.Equal(o.Seed, 7)
	is.Equal(o.N, 2)
	is.Equal(o.FrequencyPenalty, 0.1)
	is.Equal(o.PresencePenalty, 0.2)
	is.Equal(o.RepetitionPenalty, 1.1)
	is.True(o.JSONMode)
	is.Equal(o.ToolChoice, "auto")
}

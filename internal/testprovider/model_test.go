package testprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"

	"github.com/leanllm/leanllm-go/internal/testprovider"
)

func human(text string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, text)}
}

func TestModelDefaultReply(t *testing.T) {
	is := is.New(t)
	m := testprovider.New()

	resp, err := m.GenerateContent(t.Context(), human("hello"))
	is.NoErr(err)
	is.Equal(len(resp.Choices), 1)
	c := resp.Choices[0]
	is.Equal(c.Content, "ok")
	is.Equal(c.StopReason, "stop")
	is.Equal(c.GenerationInfo["PromptTokens"], 10)
	is.Equal(c.GenerationInfo["CompletionTokens"], 5)
	is.Equal(c.GenerationInfo["TotalTokens"], 15)
	is.Equal(c.GenerationInfo["PromptCachedTokens"], 0)
	is.Equal(c.GenerationInfo["ReasoningTokens"], 0)

	out, err := m.Call(t.Context(), "again")
	is.NoErr(err)
	is.Equal(out, "ok")
	is.Equal(m.CallCount(), 2)
}

func TestModelQueueThenDefault(t *testing.T) {
	is := is.New(t)
	m := testprovider.New(testprovider.WithReplies(testprovider.Reply{Text: "first"}))
	m.Push(testprovider.Reply{Text: "second"}, testprovider.Reply{Text: "third"})
	is.Equal(m.Pending(), 3)

	var got []string
	for range 5 {
		out, err := m.Call(t.Context(), "q")
		is.NoErr(err)
		got = append(got, out)
	}
	is.Equal(got, []string{"first", "second", "third", "ok", "ok"})
	is.Equal(m.Pending(), 0)

	m.SetDefault(testprovider.Reply{Text: "new default"})
	out, err := m.Call(t.Context(), "q")
	is.NoErr(err)
	is.Equal(out, "new default")
}

func TestModelUsageAndGenerationInfo(t *testing.T) {
	is := is.New(t)
	m := testprovider.New()
	anthropic := map[string]any{
		"InputTokens": 7, "OutputTokens": 3,
		"CacheReadInputTokens": 2, "CacheCreationInputTokens": 1,
	}
	m.Push(
		testprovider.Reply{Text: "no usage"},
		testprovider.Reply{Text: "full", Usage: &testprovider.Usage{Prompt: 100, Completion: 20, Cached: 40, Reasoning: 8}},
		testprovider.Reply{Text: "raw", Usage: testprovider.UsageOf(1, 1), GenerationInfo: anthropic},
	)

	resp, err := m.GenerateContent(t.Context(), human("x"))
	is.NoErr(err)
	is.Equal(len(resp.Choices[0].GenerationInfo), 0) // no usage keys at all

	resp, err = m.GenerateContent(t.Context(), human("x"))
	is.NoErr(err)
	gi := resp.Choices[0].GenerationInfo
	is.Equal(gi["PromptTokens"], 100)
	is.Equal(gi["CompletionTokens"], 20)
	is.Equal(gi["TotalTokens"], 120)
	is.Equal(gi["PromptCachedTokens"], 40)
	is.Equal(gi["ReasoningTokens"], 8)

	resp, err = m.GenerateContent(t.Context(), human("x"))
	is.NoErr(err)
	gi = resp.Choices[0].GenerationInfo
	is.Equal(gi, anthropic)
	gi["InputTokens"] = 999 // a copy: the script is not mutated
	is.Equal(anthropic["InputTokens"], 7)
}

func TestModelToolCalls(t *testing.T) {
	is := is.New(t)
	m := testprovider.New()
	m.Push(testprovider.Reply{ToolCalls: []llms.ToolCall{{
		ID:           "call_1",
		FunctionCall: &llms.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`},
	}}})

	resp, err := m.GenerateContent(t.Context(), human("weather?"))
	is.NoErr(err)
	c := resp.Choices[0]
	is.Equal(c.StopReason, "tool_calls")
	is.Equal(len(c.ToolCalls), 1)
	is.Equal(c.ToolCalls[0].ID, "call_1")
	is.Equal(c.ToolCalls[0].Type, "function")
	is.Equal(c.ToolCalls[0].FunctionCall.Name, "get_weather")
	is.Equal(c.ToolCalls[0].FunctionCall.Arguments, `{"city":"Paris"}`)
	is.Equal(c.FuncCall.Name, "get_weather")
}

func TestModelErr(t *testing.T) {
	is := is.New(t)
	boom := errors.New("boom")
	m := testprovider.New(testprovider.WithReplies(testprovider.Reply{Err: boom}))

	resp, err := m.GenerateContent(t.Context(), human("x"))
	is.True(errors.Is(err, boom))
	is.Equal(resp, nil)

	_, err = m.GenerateContent(t.Context(), human("x"))
	is.NoErr(err) // back to default
}

func TestModelDelayAndCancellation(t *testing.T) {
	t.Run("delay honoured", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "slow", Delay: 30 * time.Millisecond}))
		start := time.Now()
		out, err := m.Call(t.Context(), "x")
		is.NoErr(err)
		is.Equal(out, "slow")
		is.True(time.Since(start) >= 30*time.Millisecond)
	})
	t.Run("cancel during delay", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New(testprovider.WithDefault(testprovider.Reply{Delay: 10 * time.Second}))
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := m.GenerateContent(ctx, human("x"))
		is.True(errors.Is(err, context.DeadlineExceeded))
		is.True(time.Since(start) < time.Second)
	})
	t.Run("already cancelled", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := m.GenerateContent(ctx, human("x"))
		is.True(errors.Is(err, context.Canceled))
	})
}

// collector records streamed chunks.
type collector struct {
	mu     sync.Mutex
	chunks []string
	times  []time.Time
}

func (c *collector) fn(_ context.Context, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chunks = append(c.chunks, string(b))
	c.times = append(c.times, time.Now())
	return nil
}

func (c *collector) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.chunks...)
}

// nonEmpty drops empty chunks (the openai client emits one for finish_reason).
func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func TestModelStream(t *testing.T) {
	t.Run("default split", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "Hello, world!", Usage: testprovider.UsageOf(4, 3)}))
		var c collector
		resp, err := m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(c.fn))
		is.NoErr(err)
		is.Equal(len(c.get()), 3)
		is.Equal(strings.Join(c.get(), ""), "Hello, world!")
		is.Equal(resp.Choices[0].Content, "Hello, world!")
		is.Equal(resp.Choices[0].GenerationInfo["TotalTokens"], 7)
		is.True(m.Calls()[0].Stream)
	})
	t.Run("explicit chunks in order", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New()
		m.Push(testprovider.Reply{Chunks: []string{"a", "b", "c", "d"}})
		var c collector
		resp, err := m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(c.fn))
		is.NoErr(err)
		is.Equal(c.get(), []string{"a", "b", "c", "d"})
		is.Equal(resp.Choices[0].Content, "abcd")
	})
	t.Run("tool calls chunk", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New()
		m.Push(testprovider.Reply{Text: "hm", ToolCalls: []llms.ToolCall{{
			ID: "c1", FunctionCall: &llms.FunctionCall{Name: "f", Arguments: `{}`},
		}}})
		var c collector
		resp, err := m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(c.fn))
		is.NoErr(err)
		chunks := c.get()
		is.Equal(strings.Join(chunks[:len(chunks)-1], ""), "hm")
		// Same shape as langchaingo's openai client streams for tool calls.
		var tcs []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		}
		is.NoErr(json.Unmarshal([]byte(chunks[len(chunks)-1]), &tcs))
		is.Equal(tcs[0].ID, "c1")
		is.Equal(tcs[0].Type, "function")
		is.Equal(tcs[0].Function.Name, "f")
		is.Equal(tcs[0].Function.Arguments, `{}`)
		is.Equal(resp.Choices[0].ToolCalls[0].ID, "c1")
		is.Equal(resp.Choices[0].Content, "hm")
	})
	t.Run("reasoning func also receives chunks", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New()
		var got []string
		_, err := m.GenerateContent(t.Context(), human("x"),
			llms.WithStreamingReasoningFunc(func(_ context.Context, _, chunk []byte) error {
				got = append(got, string(chunk))
				return nil
			}))
		is.NoErr(err)
		is.Equal(strings.Join(got, ""), "ok")
	})
}

func TestModelStreamErrAfter(t *testing.T) {
	is := is.New(t)
	boom := errors.New("mid-stream failure")
	m := testprovider.New()
	m.Push(
		testprovider.Reply{Chunks: []string{"1", "2", "3", "4"}, Err: boom, StreamErrAfter: 2},
		testprovider.Reply{Chunks: []string{"1", "2"}, Err: boom}, // fails before any chunk
	)

	var c collector
	resp, err := m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(c.fn))
	is.True(errors.Is(err, boom))
	is.Equal(resp, nil)
	is.Equal(c.get(), []string{"1", "2"})

	var c2 collector
	_, err = m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(c2.fn))
	is.True(errors.Is(err, boom))
	is.Equal(len(c2.get()), 0)
}

func TestModelStreamConsumerErrorStops(t *testing.T) {
	is := is.New(t)
	stop := errors.New("consumer says stop")
	m := testprovider.New(testprovider.WithDefault(testprovider.Reply{Chunks: []string{"a", "b", "c"}}))
	var got []string
	_, err := m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(func(_ context.Context, b []byte) error {
		got = append(got, string(b))
		if len(got) == 2 {
			return stop
		}
		return nil
	}))
	is.True(errors.Is(err, stop))
	is.Equal(got, []string{"a", "b"}) // no chunk after the error
}

func TestModelStreamDelays(t *testing.T) {
	t.Run("first chunk and chunk delays", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New(testprovider.WithDefault(testprovider.Reply{
			Chunks: []string{"a", "b", "c"}, FirstChunkDelay: 40 * time.Millisecond, ChunkDelay: 10 * time.Millisecond,
		}))
		var c collector
		start := time.Now()
		_, err := m.GenerateContent(t.Context(), human("x"), llms.WithStreamingFunc(c.fn))
		is.NoErr(err)
		is.True(c.times[0].Sub(start) >= 40*time.Millisecond)
		is.True(c.times[1].Sub(c.times[0]) >= 10*time.Millisecond)
		is.True(c.times[2].Sub(c.times[1]) >= 10*time.Millisecond)
	})
	t.Run("cancel mid-stream", func(t *testing.T) {
		is := is.New(t)
		m := testprovider.New(testprovider.WithDefault(testprovider.Reply{
			Chunks: []string{"a", "b"}, ChunkDelay: 10 * time.Second,
		}))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		start := time.Now()
		_, err := m.GenerateContent(ctx, human("x"), llms.WithStreamingFunc(func(context.Context, []byte) error {
			cancel() // cancel after the first chunk
			return nil
		}))
		is.True(errors.Is(err, context.Canceled))
		is.True(time.Since(start) < time.Second)
	})
}

func TestModelRecordsCalls(t *testing.T) {
	is := is.New(t)
	m := testprovider.New()
	before := time.Now()
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "be brief"),
		llms.TextParts(llms.ChatMessageTypeHuman, "hi"),
	}
	_, err := m.GenerateContent(t.Context(), msgs,
		llms.WithModel("fake-1"), llms.WithTemperature(0.2), llms.WithMaxTokens(42),
		llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
	is.NoErr(err)
	_, err = m.Call(t.Context(), "second")
	is.NoErr(err)

	calls := m.Calls()
	is.Equal(len(calls), 2)
	is.Equal(m.CallCount(), 2)
	is.Equal(calls[0].Messages, msgs)
	is.Equal(calls[0].Options.Model, "fake-1")
	is.Equal(calls[0].Options.Temperature, 0.2)
	is.Equal(calls[0].Options.MaxTokens, 42)
	is.True(calls[0].Options.StreamingFunc == nil) // funcs are stripped
	is.True(calls[0].Stream)
	is.True(!calls[0].Time.Before(before))
	is.Equal(calls[1].Messages[0].Parts[0], llms.TextContent{Text: "second"})
	is.True(!calls[1].Stream)

	m.Push(testprovider.Reply{Text: "queued"})
	m.Reset()
	is.Equal(m.CallCount(), 0)
	is.Equal(len(m.Calls()), 0)
	is.Equal(m.Pending(), 0)

	nr := testprovider.New(testprovider.WithoutRecording())
	_, err = nr.Call(t.Context(), "x")
	is.NoErr(err)
	is.Equal(nr.CallCount(), 1)
	is.Equal(len(nr.Calls()), 0)
}

func TestModelConcurrent(t *testing.T) {
	is := is.New(t)
	m := testprovider.New()
	const n = 64
	for i := range n / 2 {
		m.Push(testprovider.Reply{Text: "q", Usage: testprovider.UsageOf(i, 1)})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	texts := map[string]int{}
	for i := range n {
		wg.Go(func() {
			var opts []llms.CallOption
			if i%2 == 0 {
				opts = append(opts, llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
			}
			out, err := m.Call(t.Context(), "x", opts...)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			texts[out]++
			mu.Unlock()
			_ = m.Calls()
			_ = m.CallCount()
		})
	}
	wg.Wait()
	is.Equal(texts["q"], n/2)
	is.Equal(texts["ok"], n/2)
	is.Equal(m.CallCount(), n)
}

func TestSplitText(t *testing.T) {
	is := is.New(t)
	is.Equal(testprovider.SplitText("", 3), []string(nil))
	is.Equal(testprovider.SplitText("ok", 3), []string{"o", "k"})
	is.Equal(testprovider.SplitText("abcdef", 3), []string{"ab", "cd", "ef"})
	for _, s := range []string{"héllo wörld", "日本語のテキスト", "😀ab", "a"} {
		parts := testprovider.SplitText(s, 3)
		is.Equal(strings.Join(parts, ""), s)
		is.True(len(parts) <= 3)
		for _, p := range parts {
			is.True(p != "")
			is.True(strings.ToValidUTF8(p, "?") == p)
		}
	}
}

func TestModelFastPathAllocs(t *testing.T) {
	is := is.New(t)
	m := testprovider.New(testprovider.WithoutRecording())
	ctx := context.Background()
	msgs := human("x")
	allocs := testing.AllocsPerRun(200, func() {
		_, _ = m.GenerateContent(ctx, msgs)
	})
	t.Logf("allocs per non-stream call: %.1f", allocs)
	is.True(allocs <= 8)
}

func BenchmarkModelGenerateContent(b *testing.B) {
	m := testprovider.New(testprovider.WithoutRecording())
	msgs := human("x")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.GenerateContent(b.Context(), msgs); err != nil {
			b.Fatal(err)
		}
	}
}

package tokens

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

var (
	cacheDir      string
	firstCallCost time.Duration
)

// TestMain makes any network access fail before the first encoder is
// created: every proxy variable points at a closed local port and
// tiktoken's download cache is an empty directory. The default (online)
// loader would have to download the BPE files through the proxy and write
// them to the cache; the tests check the counts are exact and the cache
// stays empty.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tiktoken-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		os.Setenv(k, "http://127.0.0.1:1")
	}
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	os.Setenv("TIKTOKEN_CACHE_DIR", dir)
	os.Setenv("DATA_GYM_CACHE_DIR", dir)

	start := time.Now()
	Estimate("gpt-4o", "warm up")
	firstCallCost = time.Since(start)

	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestOffline(t *testing.T) {
	is := is.New(t)
	for _, name := range []string{"gpt-4o", "gpt-4"} {
		Estimate(name, "x") // create both encoders
	}
	is.NoErr(o200k.err)  // o200k_base created without network
	is.NoErr(cl100k.err) // cl100k_base created without network
	is.True(o200k.enc != nil && cl100k.enc != nil)
	entries, err := os.ReadDir(cacheDir)
	is.NoErr(err)
	is.Equal(len(entries), 0) // nothing downloaded into tiktoken's cache
	t.Logf("first call (o200k_base creation + encode): %v", firstCallCost)
}

func TestEstimate(t *testing.T) {
	tests := []struct {
		model, text string
		want        int
	}{
		{"gpt-4", "", 0},
		{"gpt-4o", "", 0},
		{"gpt-4", "hello world", 2},
		{"gpt-4o", "hello world", 2},
		// OpenAI cookbook: "tiktoken is great!" is 6 cl100k_base tokens.
		{"gpt-3.5-turbo", "tiktoken is great!", 6},
		{"gpt-4o-mini", "Hello, world!", 4},
		// o200k_base packs CJK text better than cl100k_base.
		{"gpt-4o", "你好，世界", 3},
		{"gpt-4-turbo", "你好，世界", 6},
		// special tokens in text are plain text, no panic
		{"gpt-4o", "<|endoftext|>", 7},
		{"gpt-4", "<|endoftext|>", 7},
		// non-OpenAI models: cl100k_base approximation
		{"claude-sonnet-4-5", "你好，世界", 6},
		{"anthropic/claude-3-5-haiku", "hello world", 2},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.text, func(t *testing.T) {
			is.New(t).Equal(Estimate(tt.model, tt.text), tt.want)
		})
	}
}

func TestEncodingName(t *testing.T) {
	tests := []struct{ model, want string }{
		{"gpt-4o", O200kBase},
		{"gpt-4o-mini-2024-07-18", O200kBase},
		{"openai/gpt-4o-mini", O200kBase},
		{"GPT-4O", O200kBase},
		{"chatgpt-4o-latest", O200kBase},
		{"gpt-4.1-nano", O200kBase},
		{"gpt-4.5-preview", O200kBase},
		{"gpt-5", O200kBase},
		{"gpt-5-mini", O200kBase},
		{"gpt-oss-120b", O200kBase},
		{"o1", O200kBase},
		{"o1-mini", O200kBase},
		{"o3", O200kBase},
		{"o3-mini-2025-01-31", O200kBase},
		{"o4-mini", O200kBase},
		{"ft:gpt-4o-mini-2024-07-18:org::id", O200kBase},
		{"gpt-4", Cl100kBase},
		{"gpt-4-turbo", Cl100kBase},
		{"gpt-3.5-turbo", Cl100kBase},
		{"claude-sonnet-4-5", Cl100kBase},
		{"gemini-2.5-pro", Cl100kBase},
		{"mistral-large-latest", Cl100kBase},
		{"ollama/llama3.2", Cl100kBase},
		{"o", Cl100kBase},
		{"omni-model", Cl100kBase},
		{"o1x", Cl100kBase},
		{"", Cl100kBase},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			is.New(t).Equal(EncodingName(tt.model), tt.want)
		})
	}
}

func TestHeuristic(t *testing.T) {
	is := is.New(t)
	for _, tt := range []struct {
		text string
		want int
	}{{"", 0}, {"a", 1}, {"abcd", 1}, {"abcde", 2}, {strings.Repeat("x", 1024), 256}} {
		is.Equal(Heuristic(tt.text), tt.want)
	}
}

func TestFallbackWhenEncoderFails(t *testing.T) {
	is := is.New(t)
	// An encoding tiktoken does not know fails to create: the heuristic
	// is used and nothing panics.
	bad := &lazyEncoder{name: "no_such_encoding"}
	is.True(bad.get() == nil)
	is.True(bad.err != nil)

	saved := cl100k
	cl100k = bad
	defer func() { cl100k = saved }()
	is.Equal(Estimate("gpt-4", "abcdefghij"), 3)   // ceil(10/4)
	is.Equal(Estimate("gpt-4o", "hello world"), 2) // o200k unaffected
}

func TestEstimateMessages(t *testing.T) {
	sys := llms.TextParts(llms.ChatMessageTypeSystem, "You are a helpful assistant.")
	user := llms.TextParts(llms.ChatMessageTypeHuman, "Hello!")
	tests := []struct {
		name string
		msgs []llms.MessageContent
		want int
	}{
		{"empty", nil, ReplyPriming},
		// OpenAI's API reference example reports prompt_tokens 19 for these
		// two messages: 3 + (3+1+6) + (3+1+2).
		{"system and user", []llms.MessageContent{sys, user}, 19},
		{"two text parts", []llms.MessageContent{
			{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.TextPart("Hello!"), &llms.TextContent{Text: "Hello!"}}},
		}, 3 + 3 + 1 + 2 + 2},
		{"image not counted", []llms.MessageContent{
			{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.ImageURLPart("https://example.invalid/x.png"), llms.BinaryPart("image/png", []byte{1, 2})}},
		}, 3 + 3 + 1},
		{"tool call and response", []llms.MessageContent{
			{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{llms.ToolCall{ID: "1", Type: "function",
				FunctionCall: &llms.FunctionCall{Name: "hello", Arguments: "hello world"}}, llms.ToolCall{ID: "2"}}},
			{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "1", Content: "hello world"}}},
		}, 3 + (3 + 1 + 1 + 2) + (3 + 1 + 2)},
		{"nil pointer parts", []llms.MessageContent{
			{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{(*llms.TextContent)(nil), (*llms.ToolCall)(nil), (*llms.ToolCallResponse)(nil), nil}},
		}, 3 + 3 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is.New(t).Equal(EstimateMessages("gpt-4o", tt.msgs), tt.want)
		})
	}
}

func TestConcurrentEstimate(t *testing.T) {
	done := make(chan int, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			model := "gpt-4o"
			if g%2 == 1 {
				model = "claude-sonnet-4"
			}
			done <- Estimate(model, "tiktoken is great!")
		}(g)
	}
	for g := 0; g < 8; g++ {
		if n := <-done; n != 6 {
			t.Errorf("got %d", n)
		}
	}
}

package canary_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/leanllm/leanllm-go/internal/pricing"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// want is what one call's event must say. Dollars are computed by hand
// from the built-in price table (USD per million tokens), written out in
// each case's comment.
type want struct {
	input, output, total    int
	cached, reasoning       int
	cacheCreation           int
	cost                    float64
	estimated, costUnknown  bool
	pricingVersion          string
	streamed                bool
	streamEnd, finishReason string
}

const costTolerance = 1e-12

func checkEvent(t *testing.T, ev *leanllm.Event, w want) {
	t.Helper()
	if ev == nil {
		t.Fatal("no event")
	}
	if ev.ErrorKind != "" {
		t.Fatalf("unexpected error event: %s %s", ev.ErrorKind, ev.ErrorMessage)
	}
	got := [...]int{ev.InputTokens, ev.OutputTokens, ev.TotalTokens, ev.CachedInputTokens, ev.ReasoningTokens, ev.Metadata.CacheCreation}
	exp := [...]int{w.input, w.output, w.total, w.cached, w.reasoning, w.cacheCreation}
	if got != exp {
		t.Errorf("tokens [input output total cached reasoning cache_creation] = %v, want %v", got, exp)
	}
	if math.Abs(ev.Cost-w.cost) > costTolerance {
		t.Errorf("cost = %.15g, want %.15g (diff %g)", ev.Cost, w.cost, ev.Cost-w.cost)
	}
	if ev.Metadata.TokensEstimated != w.estimated {
		t.Errorf("tokens_estimated = %v, want %v", ev.Metadata.TokensEstimated, w.estimated)
	}
	if ev.Metadata.CostUnknown != w.costUnknown {
		t.Errorf("cost_unknown = %v, want %v", ev.Metadata.CostUnknown, w.costUnknown)
	}
	if ev.Metadata.PricingVersion != w.pricingVersion {
		t.Errorf("pricing_version = %q, want %q", ev.Metadata.PricingVersion, w.pricingVersion)
	}
	if ev.Metadata.Stream != w.streamed {
		t.Errorf("stream = %v, want %v", ev.Metadata.Stream, w.streamed)
	}
	if w.streamEnd != "" && ev.Metadata.StreamEnd != w.streamEnd {
		t.Errorf("stream_end = %q, want %q", ev.Metadata.StreamEnd, w.streamEnd)
	}
	// The wire form carries the same figures.
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Input     int     `json:"input_tokens"`
		Output    int     `json:"output_tokens"`
		Total     int     `json:"total_tokens"`
		Cached    int     `json:"cached_input_tokens"`
		Reasoning int     `json:"reasoning_tokens"`
		Cost      float64 `json:"cost"`
		Metadata  struct {
			CacheCreation  int    `json:"cache_creation_input_tokens"`
			PricingVersion string `json:"pricing_version"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if [...]int{j.Input, j.Output, j.Total, j.Cached, j.Reasoning, j.Metadata.CacheCreation} != exp ||
		math.Abs(j.Cost-w.cost) > costTolerance || j.Metadata.PricingVersion != w.pricingVersion {
		t.Errorf("event JSON disagrees with the event: %s", b)
	}
}

// shape is one provider's usage as langchaingo puts it in GenerationInfo.
type shape struct {
	name  string
	model string
	info  map[string]any
	want  want
}

var builtinShapes = []shape{
	{
		// OpenAI o3: 2000 prompt tokens of which 1200 cached, 500 completion
		// tokens of which 300 reasoning. o3: input $2.00, cached $0.50,
		// output $8.00 per M.
		// (800×2.00 + 1200×0.50 + 500×8.00) / 1e6 = 6200/1e6.
		name: "openai cached+reasoning", model: "openai/o3",
		info: map[string]any{"PromptTokens": 2000, "CompletionTokens": 500, "TotalTokens": 2500,
			"PromptCachedTokens": 1200, "ReasoningTokens": 300, "CompletionReasoningTokens": 300, "ThinkingTokens": 300},
		want: want{input: 2000, output: 500, total: 2500, cached: 1200, reasoning: 300, cost: 0.0062},
	},
	{
		// OpenAI gpt-4o without cache or reasoning: (1000×2.50 + 100×10.00)/1e6.
		name: "openai plain", model: "gpt-4o",
		info: map[string]any{"PromptTokens": 1000, "CompletionTokens": 100, "TotalTokens": 1100},
		want: want{input: 1000, output: 100, total: 1100, cost: 0.0035},
	},
	{
		// Anthropic: InputTokens EXCLUDES cache reads and writes, so the
		// prompt is 100 + 3000 + 1000 = 4100 tokens. claude-sonnet-4-5:
		// input $3.00, cache read $0.30, cache write $3.75, output $15.00.
		// (100×3.00 + 3000×0.30 + 1000×3.75 + 400×15.00)/1e6 = 10950/1e6.
		name: "anthropic cache read+creation", model: "anthropic/claude-sonnet-4-5",
		info: map[string]any{"InputTokens": 100, "OutputTokens": 400,
			"CacheReadInputTokens": 3000, "CacheCreationInputTokens": 1000},
		want: want{input: 4100, output: 400, total: 4500, cached: 3000, cacheCreation: 1000, cost: 0.01095},
	},
	{
		// Anthropic past 200k prompt tokens (150000 + 60000 cache read):
		// the whole request at the long-context rates, input $6.00, cache
		// read $0.60, output $22.50.
		// (150000×6.00 + 60000×0.60 + 1000×22.50)/1e6 = 958500/1e6.
		name: "anthropic long context", model: "claude-sonnet-4-5-20250929",
		info: map[string]any{"InputTokens": 150000, "OutputTokens": 1000,
			"CacheReadInputTokens": 60000, "CacheCreationInputTokens": 0},
		want: want{input: 210000, output: 1000, total: 211000, cached: 60000, cost: 0.9585},
	},
	{
		// Google AI (langchaingo googleai, int32 counts): 10000 prompt
		// tokens of which 4000 cached, 800 candidate tokens, total 12000:
		// the 1200 missing tokens are Gemini 2.5 thinking, billed as
		// output. gemini-2.5-pro ≤200k: input $1.25, cached $0.125,
		// output $10.00. (6000×1.25 + 4000×0.125 + 2000×10.00)/1e6 = 28000/1e6.
		name: "google thinking+cache", model: "googleai/gemini-2.5-pro",
		info: map[string]any{
			"input_tokens": int32(10000), "output_tokens": int32(800), "total_tokens": int32(12000),
			"PromptTokens": int32(10000), "CompletionTokens": int32(800), "TotalTokens": int32(12000),
			"CachedTokens": int32(4000), "CacheReadInputTokens": int32(4000), "NonCachedInputTokens": int32(6000),
			"ThinkingContent": "", "ThinkingTokens": 0,
		},
		want: want{input: 10000, output: 2000, total: 12000, cached: 4000, reasoning: 1200, cost: 0.028},
	},
	{
		// Gemini 2.5 Pro above 200k prompt tokens: input $2.50, output
		// $15.00 for the whole request. (250000×2.50 + 1000×15.00)/1e6.
		name: "google long context", model: "gemini-2.5-pro",
		info: map[string]any{
			"input_tokens": int32(250000), "output_tokens": int32(1000), "total_tokens": int32(251000),
			"PromptTokens": int32(250000), "CompletionTokens": int32(1000), "TotalTokens": int32(251000),
			"ThinkingContent": "", "ThinkingTokens": 0,
		},
		want: want{input: 250000, output: 1000, total: 251000, cost: 0.64},
	},
	{
		// Vertex / Bedrock snake-case keys. gemini-2.0-flash: input $0.10,
		// output $0.40. (3000×0.10 + 500×0.40)/1e6 = 500/1e6.
		name: "vertex snake case", model: "vertex_ai/gemini-2.0-flash",
		info: map[string]any{"input_tokens": 3000, "output_tokens": 500, "total_tokens": 3500},
		want: want{input: 3000, output: 500, total: 3500, cost: 0.0005},
	},
	{
		// Ollama runs locally: known and free.
		name: "ollama free", model: "ollama/llama3",
		info: map[string]any{"PromptTokens": 40, "CompletionTokens": 10, "TotalTokens": 50},
		want: want{input: 40, output: 10, total: 50, cost: 0},
	},
	{
		// A model missing from the table: cost 0 and cost_unknown.
		name: "unknown model", model: "acme/widget-1",
		info: map[string]any{"PromptTokens": 100, "CompletionTokens": 50, "TotalTokens": 150},
		want: want{input: 100, output: 50, total: 150, cost: 0, costUnknown: true},
	},
}

// TestUsageAndCostPerProviderShape runs each shape through the client
// (fake model, GenerationInfo override) into SQLite, and checks the event
// and the stored row.
func TestUsageAndCostPerProviderShape(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	dbURL, dbPath := sqliteURL(t)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithDatabaseURL(dbURL))
	is.NoErr(err)
	ids := map[string]shape{}
	for _, s := range builtinShapes {
		s.want.pricingVersion = pricing.Version
		t.Run(s.name, func(t *testing.T) {
			is := is.New(t)
			fake.Push(testprovider.Reply{Text: "ok", GenerationInfo: s.info})
			_, err := cl.Chat(t.Context(), s.model, human("hi"))
			is.NoErr(err)
			ev := cl.LastEvent()
			checkEvent(t, ev, s.want)
			ids[ev.EventID] = s
		})
	}
	is.NoErr(cl.Close(t.Context()))

	// The stored rows hold the same figures.
	rows := dumpRows(t, dbPath)
	is.Equal(len(rows), len(builtinShapes))
	for _, r := range rows {
		s := ids[*r["event_id"]]
		w := s.want
		for col, n := range map[string]int{"input_tokens": w.input, "output_tokens": w.output, "total_tokens": w.total,
			"cached_input_tokens": w.cached, "reasoning_tokens": w.reasoning} {
			if r[col] == nil || *r[col] != strconv.Itoa(n) {
				t.Errorf("%s: row %s = %v, want %d", s.name, col, deref(r[col]), n)
			}
		}
		cost, err := strconv.ParseFloat(deref(r["cost"]), 64)
		if err != nil || math.Abs(cost-w.cost) > costTolerance {
			t.Errorf("%s: row cost = %v, want %v", s.name, deref(r["cost"]), w.cost)
		}
		var md map[string]any
		is.NoErr(json.Unmarshal([]byte(deref(r["metadata"])), &md))
		if md["pricing_version"] != pricing.Version {
			t.Errorf("%s: row metadata.pricing_version = %v", s.name, md["pricing_version"])
		}
		if got, _ := md["cache_creation_input_tokens"].(float64); int(got) != w.cacheCreation {
			t.Errorf("%s: row metadata.cache_creation_input_tokens = %v, want %d", s.name, md["cache_creation_input_tokens"], w.cacheCreation)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<NULL>"
	}
	return *s
}

// TestStreamUsage: a stream that reports usage is priced from it; one that
// does not is estimated offline with tiktoken and says so.
func TestStreamUsage(t *testing.T) {
	fake := testprovider.New()
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	chunks := []string{"Hello there,", " streaming", " world!"}

	t.Run("with usage", func(t *testing.T) {
		// gpt-4o-mini: input $0.15, cached $0.075, output $0.60.
		// (30×0.15 + 20×0.075 + 20×0.60)/1e6 = 18/1e6.
		fake.Push(testprovider.Reply{Chunks: chunks, Usage: &testprovider.Usage{Prompt: 50, Completion: 20, Cached: 20}})
		text := drain(t, cl, "gpt-4o-mini")
		is.New(t).Equal(text, "Hello there, streaming world!")
		checkEvent(t, cl.LastEvent(), want{input: 50, output: 20, total: 70, cached: 20, cost: 0.000018,
			pricingVersion: pricing.Version, streamed: true, streamEnd: "completed"})
	})
	t.Run("without usage", func(t *testing.T) {
		// No usage: tiktoken (o200k_base for gpt-4o-mini) counts the
		// prompt "Say hello to the streaming world." as 7 tokens (Say,
		// ␣hello, ␣to, ␣the, ␣streaming, ␣world, .) and the answer "Hello
		// there, streaming world!" as 6 (Hello, ␣there, ",", ␣streaming,
		// ␣world, !). (7×0.15 + 6×0.60)/1e6 = 4.65/1e6.
		fake.Push(testprovider.Reply{Chunks: chunks})
		drain(t, cl, "gpt-4o-mini")
		checkEvent(t, cl.LastEvent(), want{input: 7, output: 6, total: 13, cost: 0.00000465, estimated: true,
			pricingVersion: pricing.Version, streamed: true, streamEnd: "completed"})
	})
}

func drain(t *testing.T, cl *leanllm.Client, model string) string {
	t.Helper()
	var text string
	for c, err := range cl.Stream(t.Context(), model, human("Say hello to the streaming world.")) {
		if err != nil {
			t.Fatal(err)
		}
		text += c.Text
	}
	return text
}

// TestOpenAIWireUsage: the real langchaingo openai client against the fake
// server, whose wire usage object carries
// prompt_tokens_details.cached_tokens and
// completion_tokens_details.reasoning_tokens, blocking and streamed.
func TestOpenAIWireUsage(t *testing.T) {
	srv := newProviderServer(t)
	cl, err := leanllm.New(leanllm.WithAPIKey("sk-test-accuracy"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	// o3 as above: (800×2.00 + 1200×0.50 + 500×8.00)/1e6 = 0.0062.
	u := &testprovider.Usage{Prompt: 2000, Completion: 500, Cached: 1200, Reasoning: 300}
	w := want{input: 2000, output: 500, total: 2500, cached: 1200, reasoning: 300, cost: 0.0062, pricingVersion: pricing.Version}

	t.Run("blocking", func(t *testing.T) {
		srv.Push(testprovider.Reply{Text: "done", Usage: u})
		_, err := cl.Chat(t.Context(), "openai/o3", human("think"))
		is.New(t).NoErr(err)
		checkEvent(t, cl.LastEvent(), w)
	})
	t.Run("stream with usage", func(t *testing.T) {
		srv.Push(testprovider.Reply{Text: "done thinking", Usage: u})
		for _, err := range cl.Stream(t.Context(), "openai/o3", human("think")) {
			is.New(t).NoErr(err)
		}
		ws := w
		ws.streamed, ws.streamEnd = true, "completed"
		checkEvent(t, cl.LastEvent(), ws)
		is.New(t).True(srv.Requests()[len(srv.Requests())-1].IncludeUsage) // langchaingo asked for usage
	})
	t.Run("stream without usage", func(t *testing.T) {
		// The server omits the usage chunk: estimated with o200k_base.
		// "think" = 1 token; "Hello world" = 2 tokens (Hello, ␣world).
		// o3: (1×2.00 + 2×8.00)/1e6 = 18/1e6.
		srv.Push(testprovider.Reply{Text: "Hello world"})
		for _, err := range cl.Stream(t.Context(), "openai/o3", human("think")) {
			is.New(t).NoErr(err)
		}
		checkEvent(t, cl.LastEvent(), want{input: 1, output: 2, total: 3, cost: 0.000018, estimated: true,
			pricingVersion: pricing.Version, streamed: true, streamEnd: "completed"})
	})
}

// TestPricingFileOverride: a LiteLLM price file (per-token prices) loaded
// with WithPricingFile changes the cost of the models it lists, prices
// models the built-in table lacks, leaves the others alone, and names
// itself in pricing_version; LeanLLM's own format works the same way.
func TestPricingFileOverride(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	litellm := []byte(`{
  "sample_spec": {"input_cost_per_token": 0, "litellm_provider": "one of …", "mode": "one of: chat, embedding"},
  "gpt-4o-mini": {"input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06,
                  "cache_read_input_token_cost": 2.5e-07, "litellm_provider": "openai", "mode": "chat"},
  "acme/widget-1": {"input_cost_per_token": 3e-06, "output_cost_per_token": 9e-06, "litellm_provider": "acme"},
  "text-embedding-acme": {"input_cost_per_token": 1e-07, "output_cost_per_token": 0, "mode": "embedding"}
}`)
	own := []byte(`{"version": "2026-12-01", "models": {
  "gpt-4o-mini": {"input_per_million": 0.2, "output_per_million": 0.8, "provider": "openai"}}}`)
	litellmPath := filepath.Join(dir, "model_prices.json")
	ownPath := filepath.Join(dir, "own.json")
	is.NoErr(os.WriteFile(litellmPath, litellm, 0o600))
	is.NoErr(os.WriteFile(ownPath, own, 0o600))
	version := func(name string, data []byte) string {
		sum := sha256.Sum256(data)
		return "file:" + name + "@" + hex.EncodeToString(sum[:])[:12]
	}

	// 1000 prompt tokens (400 cached), 200 completion tokens.
	mini := map[string]any{"PromptTokens": 1000, "CompletionTokens": 200, "TotalTokens": 1200, "PromptCachedTokens": 400}
	widget := map[string]any{"PromptTokens": 100, "CompletionTokens": 50, "TotalTokens": 150}
	sonnet := map[string]any{"InputTokens": 100, "OutputTokens": 400, "CacheReadInputTokens": 3000, "CacheCreationInputTokens": 1000}

	cases := []struct {
		name, file, version string
		mini, widget        want
	}{
		{
			// Built-in gpt-4o-mini: (600×0.15 + 400×0.075 + 200×0.60)/1e6 = 240/1e6.
			name: "builtin", version: pricing.Version,
			mini:   want{cost: 0.00024},
			widget: want{cost: 0, costUnknown: true},
		},
		{
			// LiteLLM: $1/M input, $0.25/M cache read, $4/M output:
			// (600×1 + 400×0.25 + 200×4)/1e6 = 1500/1e6.
			// acme/widget-1: (100×3 + 50×9)/1e6 = 750/1e6.
			name: "litellm", file: litellmPath, version: version("model_prices.json", litellm),
			mini:   want{cost: 0.0015},
			widget: want{cost: 0.00075},
		},
		{
			// Own format, no cached rate: cached tokens cost input.
			// (1000×0.2 + 200×0.8)/1e6 = 360/1e6.
			name: "own format", file: ownPath, version: version("own.json", own),
			mini:   want{cost: 0.00036},
			widget: want{cost: 0, costUnknown: true},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			fake := testprovider.New()
			opts := []leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(fake)}
			if c.file != "" {
				opts = append(opts, leanllm.WithPricingFile(c.file))
			}
			cl, err := leanllm.New(opts...)
			is.NoErr(err)
			defer cl.Close(context.Background())
			for _, x := range []struct {
				model string
				info  map[string]any
				w     want
			}{
				{"gpt-4o-mini", mini, want{input: 1000, output: 200, total: 1200, cached: 400}},
				{"acme/widget-1", widget, want{input: 100, output: 50, total: 150}},
				// Not in either file: the built-in price stays (0.01095, see above).
				{"claude-sonnet-4-5", sonnet, want{input: 4100, output: 400, total: 4500, cached: 3000, cacheCreation: 1000, cost: 0.01095}},
			} {
				fake.Push(testprovider.Reply{Text: "ok", GenerationInfo: x.info})
				_, err := cl.Chat(t.Context(), x.model, human("hi"), leanllm.WithLLMOptions(llms.WithTemperature(0)))
				is.NoErr(err)
				w := x.w
				switch x.model {
				case "gpt-4o-mini":
					w.cost, w.costUnknown = c.mini.cost, c.mini.costUnknown
				case "acme/widget-1":
					w.cost, w.costUnknown = c.widget.cost, c.widget.costUnknown
				}
				w.pricingVersion = c.version
				checkEvent(t, cl.LastEvent(), w)
			}
		})
	}

	// A broken price file is an error from New naming the variable.
	bad := filepath.Join(dir, "bad.json")
	is.NoErr(os.WriteFile(bad, []byte(`{"gpt-4o-mini": {"input_cost_per_token": -1}}`), 0o600))
	_, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithPricingFile(bad))
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), "LEANLLM_PRICING_FILE"))
}

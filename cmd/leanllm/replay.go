package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms/openai"
)

const replayAbout = `Re-run a stored call and compare: the same messages, model, parameters
and tools as the original, unless overridden. The replay is recorded as a new
event (metadata.replay_of = ID). It prints the deltas of tokens, cost and
latency and a unified diff of the response text.

The original must have its prompt stored verbatim (capture_content=true with
redaction_mode=full, as the demo does); otherwise exit code 1.

By default the call goes to the built-in offline provider, which answers
with the original response marked as a replay; --live sends it to the real
provider of the model (its API key must be set, e.g. OPENAI_API_KEY).`

func (a *app) replay(ctx context.Context, args []string) error {
	f := a.newFlags("replay", "leanllm replay [flags] ID", replayAbout).withDB()
	model := f.String("model", "", "replay with this model instead (e.g. gpt-4o, anthropic/claude-3-5-haiku-latest)")
	temp := f.Float64("temperature", math.NaN(), "replay with this temperature")
	maxTokens := f.Int("max-tokens", 0, "replay with this max_tokens")
	live := f.Bool("live", false, "call the real provider instead of the offline one")
	asJSON := f.Bool("json", false, "print the result as JSON")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "event ID"); err != nil {
		return err
	}
	if !math.IsNaN(*temp) && (*temp < 0 || *temp > 2) {
		return usageErr("--temperature must be between 0 and 2, got %g", *temp)
	}
	if *maxTokens < 0 {
		return usageErr("--max-tokens must be > 0, got %d", *maxTokens)
	}
	dbURL := f.dbURL()

	// Find the original (short ids allowed) with a read-only open.
	store, err := openRead(ctx, dbURL)
	if err != nil {
		return err
	}
	orig, err := resolveEvent(ctx, store, pos[0])
	store.Close()
	if err != nil {
		return err
	}

	opts := []leanllm.Option{
		leanllm.WithDatabaseURL(dbURL),
		leanllm.WithLeanLLMAPIKey(""),
		leanllm.WithPersistence(true),
		leanllm.WithCaptureContent(true),
		leanllm.WithLastEventBuffer(8),
	}
	provider := "offline provider"
	if !*live {
		srv := testprovider.NewUnstarted(testprovider.WithoutRecording(), testprovider.WithDefault(offlineReplay(orig))).Start()
		defer srv.Close()
		llm, err := openai.New(srv.OpenAIOptions()...)
		if err != nil {
			return fmt.Errorf("offline provider: %w", err)
		}
		opts = append(opts, leanllm.WithModel(llm))
	} else {
		provider = "live"
	}
	cl, err := leanllm.New(opts...)
	if err != nil {
		return err
	}
	var ropts []leanllm.ReplayOption
	if *model != "" {
		ropts = append(ropts, leanllm.WithReplayModel(*model))
	}
	if !math.IsNaN(*temp) {
		ropts = append(ropts, leanllm.WithReplayTemperature(*temp))
	}
	if *maxTokens > 0 {
		ropts = append(ropts, leanllm.WithReplayMaxTokens(*maxTokens))
	}
	res, callErr := cl.Replay(ctx, orig.EventID, ropts...)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	closeErr := cl.Close(closeCtx)
	if res == nil {
		if errors.Is(callErr, leanllm.ErrNoContent) {
			return fmt.Errorf("cannot replay %s: %w", orig.EventID, callErr)
		}
		return errors.Join(callErr, closeErr)
	}
	if *asJSON {
		out := struct {
			OriginalID     string         `json:"original_id"`
			ReplayID       string         `json:"replay_id,omitempty"`
			Provider       string         `json:"provider"`
			Diff           string         `json:"diff"`
			TokensDelta    int            `json:"tokens_delta"`
			CostDelta      float64        `json:"cost_delta"`
			LatencyDeltaMS int64          `json:"latency_delta_ms"`
			Error          string         `json:"error,omitempty"`
			Replayed       *leanllm.Event `json:"replayed,omitempty"`
		}{OriginalID: orig.EventID, Provider: provider, Diff: res.Diff, TokensDelta: res.TokensDelta,
			CostDelta: res.CostDelta, LatencyDeltaMS: res.LatencyDeltaMS, Replayed: res.Replayed}
		if res.Replayed != nil {
			out.ReplayID = res.Replayed.EventID
		}
		if callErr != nil {
			out.Error = callErr.Error()
		}
		if err := writeJSON(a.stdout, out); err != nil {
			return err
		}
	} else if err := printReplay(a.stdout, res, provider); err != nil {
		return err
	}
	if callErr != nil {
		return fmt.Errorf("the replayed call failed: %w", callErr)
	}
	if closeErr != nil {
		return fmt.Errorf("storing the replay: %w", closeErr)
	}
	return nil
}

// offlineReplay is the offline provider's answer to a replay: the original
// response, marked, with similar usage.
func offlineReplay(orig *leanllm.Event) testprovider.Reply {
	text := ""
	if orig.Response != nil {
		text = *orig.Response
	}
	return testprovider.Reply{
		Text:  "[offline replay] " + text,
		Usage: testprovider.UsageOf(max(orig.InputTokens, 1), orig.OutputTokens+4),
		Delay: time.Duration(min(orig.LatencyMS, 200)) * time.Millisecond,
	}
}

func printReplay(w io.Writer, res *leanllm.ReplayResult, provider string) error {
	o, r := res.Original, res.Replayed
	if r == nil {
		fmt.Fprintf(w, "replayed %s (%s) — no event was recorded for the replay\n", o.EventID, o.Model)
	} else {
		fmt.Fprintf(w, "replayed %s (%s)\n      as %s (%s), %s\n\n", o.EventID, o.Model, r.EventID, r.Model, provider)
		tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\toriginal\treplay\tdelta\t\n")
		fmt.Fprintf(tw, "tokens\t%s\t%s\t%s\t\n", view.Tokens(o), view.Tokens(r), signed(int64(res.TokensDelta), view.Int))
		fmt.Fprintf(tw, "cost\t%s\t%s\t%s\t\n", view.Cost(o.Cost), view.Cost(r.Cost), signedCost(res.CostDelta))
		fmt.Fprintf(tw, "latency\t%s\t%s\t%s\t\n", view.MS(o.LatencyMS), view.MS(r.LatencyMS), signed(res.LatencyDeltaMS, func(n int64) string { return view.MS(n) }))
		fmt.Fprintf(tw, "status\t%s\t%s\t\t\n", view.Status(o), view.Status(r))
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if res.Diff == "" {
		_, err := fmt.Fprintln(w, "the response text is identical")
		return err
	}
	_, err := io.WriteString(w, strings.TrimRight(res.Diff, "\n")+"\n")
	return err
}

func signed(n int64, f func(int64) string) string {
	switch {
	case n > 0:
		return "+" + f(n)
	case n < 0:
		return "-" + f(-n)
	}
	return "0"
}

func signedCost(c float64) string {
	switch {
	case c > 0:
		return "+" + view.Cost(c)
	case c < 0:
		return "-" + view.Cost(-c)
	}
	return "0"
}

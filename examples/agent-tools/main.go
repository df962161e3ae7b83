// Command agent-tools runs a langchaingo agent (OpenAI functions agent and
// executor) whose model is a LeanLLM Client and whose tool is recorded by
// package toolcb. The run is one trace: every LLM call and tool step shares
// the correlation id, and parent_request_id links them into a tree.
//
// It runs offline: the loopback "OpenAI" first asks for the weather tool,
// then answers with what the tool said.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/toolcb"
	"github.com/tmc/langchaingo/agents"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/tools"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "agent-tools:", err)
		os.Exit(1)
	}
}

// weather is a tool that reports nothing to callbacks: toolcb.Wrap records it.
type weather struct{}

func (weather) Name() string        { return "weather" }
func (weather) Description() string { return "Current weather in a city." }
func (weather) Call(_ context.Context, city string) (string, error) {
	return "sunny, 21°C in " + city, nil
}

func run(w io.Writer) error {
	ctx := context.Background()
	srv := testprovider.NewUnstarted().Start()
	defer srv.Close()
	srv.Push(
		testprovider.Reply{ToolCalls: []llms.ToolCall{{ID: "call_weather_1", Type: "function",
			FunctionCall: &llms.FunctionCall{Name: "weather", Arguments: `{"__arg1":"Paris"}`}}},
			Usage: testprovider.UsageOf(85, 14)},
		testprovider.Reply{Text: "It is sunny and 21°C in Paris.", Usage: testprovider.UsageOf(120, 11)},
	)
	llm, err := openai.New(srv.OpenAIOptions()...)
	if err != nil {
		return err
	}
	// auto_chain: each call of the trace is a child of the previous one.
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(llm), leanllm.WithAutoChain(true))
	if err != nil {
		return err
	}
	defer cl.Close(ctx)

	h := toolcb.NewHandler(cl) // names tool steps from the executor's actions
	agentTools := []tools.Tool{toolcb.Wrap(cl, weather{})}
	agent := agents.NewOpenAIFunctionsAgent(cl, agentTools, agents.WithCallbacksHandler(h))
	exec := agents.NewExecutor(agent, agents.WithCallbacksHandler(h), agents.WithMaxIterations(3))

	// One trace for the whole run.
	ctx, traceID := leanllm.StartTrace(ctx, "")
	answer, err := chains.Run(ctx, exec, "What's the weather in Paris?", chains.WithModel("openai/gpt-4o-mini"))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "answer:", answer)
	fmt.Fprintln(w, "trace (correlation id):", traceID)

	events := cl.RecentEvents(0)
	slices.Reverse(events) // oldest first
	depth := map[string]int{}
	for _, e := range events {
		if e.CorrelationID != traceID {
			continue
		}
		d := 0
		if p, ok := depth[e.ParentRequestID]; ok {
			d = p + 1
		}
		depth[e.EventID] = d
		kind := e.Metadata.CallKind
		detail := fmt.Sprintf("%d+%d tokens", e.InputTokens, e.OutputTokens)
		if kind == toolcb.CallKind {
			detail = fmt.Sprintf("input %v", e.Metadata.Extra[toolcb.KeyToolInput])
		} else if len(e.ToolCalls) > 0 {
			detail += ", asked for " + e.ToolCalls[0].FunctionCall.Name
		}
		fmt.Fprintf(w, "%s- %-5s %-22s %s  event %s parent %s\n", strings.Repeat("  ", d), kind, e.Model, detail,
			short(e.EventID), short(e.ParentRequestID))
	}
	return nil
}

func short(id string) string {
	if id == "" {
		return "-"
	}
	return id[len(id)-8:]
}

// Command langchain-chain runs a langchaingo LLMChain whose llms.Model is a
// LeanLLM Client, then prints the answer and the event the call became.
//
// It runs offline: the "OpenAI" it talks to is a loopback server.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "langchain-chain:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()

	// The provider: langchaingo's real openai client, pointed at a loopback
	// server that answers like OpenAI.
	srv := testprovider.NewUnstarted().Start()
	defer srv.Close()
	srv.Push(testprovider.Reply{Text: "The capital of France is Paris.", Usage: testprovider.UsageOf(24, 7)})
	llm, err := openai.New(srv.OpenAIOptions()...)
	if err != nil {
		return err
	}

	// The Client wraps it and is itself an llms.Model.
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(llm), leanllm.WithEnvironment("example"))
	if err != nil {
		return err
	}
	defer cl.Close(ctx)

	prompt := prompts.NewPromptTemplate("What is the capital of {{.country}}? Answer in one sentence.", []string{"country"})
	chain := chains.NewLLMChain(cl, prompt)

	// Per-call settings travel in the context, since the chain only sees an
	// llms.Model; the model string names the model in the event.
	ctx = leanllm.WithContext(ctx, leanllm.WithLabels(map[string]string{"feature": "capitals"}))
	answer, err := chains.Run(ctx, chain, "France", chains.WithModel("openai/gpt-4o-mini"), chains.WithTemperature(0.2))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "answer:", answer)

	ev := cl.LastEvent()
	fmt.Fprintf(w, "event: %s via %s, %d input + %d output tokens, $%.6f, %d ms, labels %v\n",
		ev.Model, ev.Provider, ev.InputTokens, ev.OutputTokens, ev.Cost, ev.LatencyMS, ev.Labels)
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "event JSON (the wire format):\n%s\n", b)
	return nil
}

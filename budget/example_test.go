package budget_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leanllm/leanllm-go/budget"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
)

// A budget of $0.01 per user and hour: the call that would exceed it is
// refused before it reaches the provider, and still recorded.
func Example() {
	ctx := context.Background()
	b, err := budget.New(budget.Config{
		LabelKey: "user_id",
		Limit:    0.01,
		Window:   time.Hour,
		WarnAt:   0.8,
		OnWarn: func(key string, spent, limit float64) {
			fmt.Printf("warning: %s spent $%.4f of $%.4f\n", key, spent, limit)
		},
		// $10 per million input tokens, $20 per million output tokens.
		Price: func(model string, in, out int) (float64, bool) { return float64(in)*10e-6 + float64(out)*20e-6, true },
	})
	if err != nil {
		panic(err)
	}
	fake := testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "ok", Usage: testprovider.UsageOf(100, 100)}))
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake),
		leanllm.WithMiddleware(leanllm.After(leanllm.StageEnqueue), b.Middleware()))
	if err != nil {
		panic(err)
	}
	defer cl.Close(ctx)

	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")}
	for i := 1; i <= 4; i++ {
		_, err := cl.Chat(ctx, "gpt-4o-mini", msgs, leanllm.WithLabel("user_id", "alice"),
			leanllm.WithLLMOptions(llms.WithMaxTokens(100)))
		fmt.Printf("call %d: refused=%v\n", i, errors.Is(err, budget.ErrBudgetExceeded))
	}
	e := cl.LastEvent()
	fmt.Printf("provider calls: %d; last event: error_kind=%s detail=%s\n", fake.CallCount(), e.ErrorKind, e.Metadata.ErrorDetail)
	// Output:
	// call 1: refused=false
	// call 2: refused=false
	// warning: alice spent $0.0090 of $0.0100
	// call 3: refused=false
	// call 4: refused=true
	// provider calls: 3; last event: error_kind=rate_limit detail=budget
}

package leanllm_test

import (
	"context"
	"fmt"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
)

// The five-line start: a client, a call, the event.
func Example() {
	model := testprovider.New() // any llms.Model: openai.New(), anthropic.New(), …
	client, _ := leanllm.New(leanllm.WithModel(model), leanllm.WithoutEnv())
	defer client.Close(context.Background())

	resp, _ := client.Chat(context.Background(), "gpt-4o-mini",
		[]llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Say hi.")},
		leanllm.WithLabels(map[string]string{"feature": "demo"}))
	ev := client.LastEvent()
	fmt.Println(resp.Choices[0].Content)
	fmt.Println(ev.Model, ev.Provider, ev.InputTokens, ev.OutputTokens, ev.Labels["feature"])
	fmt.Printf("$%.7f\n", ev.Cost)
	// Output:
	// ok
	// gpt-4o-mini openai 10 5 demo
	// $0.0000045
}

// Chain composes middlewares; the first one is the outermost, so it sees the
// call first and the result last.
func ExampleChain() {
	trace := func(name string) leanllm.Middleware {
		return func(next leanllm.Handler) leanllm.Handler {
			return leanllm.HandlerFunc(func(ctx context.Context, c *leanllm.Call) (*llms.ContentResponse, error) {
				fmt.Println("pre ", name)
				defer fmt.Println("post", name)
				return next.Handle(ctx, c)
			})
		}
	}
	model := leanllm.HandlerFunc(func(ctx context.Context, c *leanllm.Call) (*llms.ContentResponse, error) {
		fmt.Println("model")
		return &llms.ContentResponse{}, nil
	})
	h := leanllm.Chain(trace("outer"), trace("inner"))(model)
	_, _ = h.Handle(context.Background(), &leanllm.Call{})
	// Output:
	// pre  outer
	// pre  inner
	// model
	// post inner
	// post outer
}

// A custom middleware inserted at a named position of the default chain:
// here, a per-tenant label taken from the context, added before the event
// is built.
func ExampleWithMiddleware() {
	type tenantKey struct{}
	tenantLabel := func(next leanllm.Handler) leanllm.Handler {
		return leanllm.HandlerFunc(func(ctx context.Context, c *leanllm.Call) (*llms.ContentResponse, error) {
			if t, ok := ctx.Value(tenantKey{}).(string); ok {
				c.SetLabel("tenant", t)
			}
			return next.Handle(ctx, c)
		})
	}
	client, _ := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()),
		leanllm.WithMiddleware(leanllm.Before(leanllm.StageCapture), tenantLabel))
	defer client.Close(context.Background())

	ctx := context.WithValue(context.Background(), tenantKey{}, "acme")
	_, _ = client.Call(ctx, "hello", llms.WithModel("gpt-4o-mini"))
	fmt.Println(client.LastEvent().Labels["tenant"])
	// Output: acme
}

// A trace scope gives every call the same correlation id; with auto_chain
// each call's parent is the previous call of the scope.
func ExampleStartTrace() {
	client, _ := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()), leanllm.WithAutoChain(true))
	defer client.Close(context.Background())

	ctx, traceID := leanllm.StartTrace(context.Background(), "order-42")
	_, _ = client.Completion(ctx, "gpt-4o-mini", "plan")
	first := client.LastEvent()
	_, _ = client.Completion(ctx, "gpt-4o-mini", "act")
	second := client.LastEvent()
	fmt.Println(traceID, second.CorrelationID, second.ParentRequestID == first.EventID)
	// Output: order-42 order-42 true
}

// Errors are always recorded and returned unchanged.
func ExampleWithErrorHook() {
	model := testprovider.New()
	model.Push(testprovider.Reply{Err: fmt.Errorf("API returned unexpected status code: 429: slow down")})
	client, _ := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(model), leanllm.WithSamplingRate(0),
		leanllm.WithErrorHook(func(err error, s leanllm.Snapshot) { fmt.Println("hook:", s.Model, err) }))
	defer client.Close(context.Background())

	_, err := client.Completion(context.Background(), "gpt-4o-mini", "x")
	ev := client.LastEvent()
	fmt.Println(err != nil, ev.ErrorKind, ev.Metadata.HTTPStatus)
	// Output:
	// hook: gpt-4o-mini API returned unexpected status code: 429: slow down
	// true rate_limit 429
}

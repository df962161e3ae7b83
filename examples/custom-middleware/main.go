// Command custom-middleware adds two middlewares of its own to a Client's
// chain with leanllm.WithMiddleware:
//
//   - tenantLabels, just inside the context stage: it reads the tenant the
//     application put in the context and labels the call with it, before
//     the event is built.
//   - quota, just inside the enqueue stage: it refuses the calls of a
//     tenant over quota without reaching the model. Because it sits inside
//     enqueue, the refusal is still recorded, as an error event.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "custom-middleware:", err)
		os.Exit(1)
	}
}

type tenantKey struct{}

// withTenant is how the application says whom a request is for.
func withTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

func tenantOf(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}

// tenantLabels labels each call with its tenant. SetLabel copies the label
// map, so a map shared with the context is never written.
func tenantLabels() leanllm.Middleware {
	return func(next leanllm.Handler) leanllm.Handler {
		return leanllm.HandlerFunc(func(ctx context.Context, c *leanllm.Call) (*llms.ContentResponse, error) {
			if t := tenantOf(ctx); t != "" {
				c.SetLabel("tenant", t)
			}
			return next.Handle(ctx, c)
		})
	}
}

// errOverQuota classifies itself, so its event says error_kind
// "rate_limit", metadata.error_detail "quota".
var errOverQuota = quotaError{}

type quotaError struct{}

func (quotaError) Error() string { return "tenant over quota" }

func (quotaError) LeanLLMErrorClass() core.ErrorClass {
	return core.ErrorClass{Kind: core.ErrorKindRateLimit, Detail: "quota"}
}

// quota refuses the calls of tenants in over.
func quota(over map[string]bool) leanllm.Middleware {
	return func(next leanllm.Handler) leanllm.Handler {
		return leanllm.HandlerFunc(func(ctx context.Context, c *leanllm.Call) (*llms.ContentResponse, error) {
			if over[tenantOf(ctx)] {
				return nil, errOverQuota
			}
			return next.Handle(ctx, c)
		})
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	srv := testprovider.NewUnstarted().Start()
	defer srv.Close()
	llm, err := openai.New(srv.OpenAIOptions()...)
	if err != nil {
		return err
	}
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(llm),
		leanllm.WithMiddleware(leanllm.After(leanllm.StageContext), tenantLabels()),
		leanllm.WithMiddleware(leanllm.After(leanllm.StageEnqueue), quota(map[string]bool{"globex": true})),
	)
	if err != nil {
		return err
	}
	defer cl.Close(ctx)

	for _, tenant := range []string{"acme", "initech", "globex"} {
		_, err := cl.Chat(withTenant(ctx, tenant), "gpt-4o-mini", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Hello")})
		switch {
		case errors.Is(err, errOverQuota):
			fmt.Fprintf(w, "%-8s refused: %v\n", tenant, err)
		case err != nil:
			return err
		default:
			fmt.Fprintf(w, "%-8s answered\n", tenant)
		}
	}
	fmt.Fprintf(w, "the provider saw %d requests\n", srv.RequestCount())
	for _, e := range cl.RecentEvents(0) {
		fmt.Fprintf(w, "event tenant=%-8s error_kind=%-10q error_detail=%q\n", e.Labels["tenant"], e.ErrorKind, e.Metadata.ErrorDetail)
	}
	return nil
}

package middleware

import (
	"context"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// ContextConfig configures the context stage.
type ContextConfig struct {
	// Environment is copied to metadata.environment when the call and its
	// context set none.
	Environment string
	// AutoChain sets each call's parent_request_id to the previous event of
	// its trace scope, unless the call gives one.
	AutoChain bool
}

// Context returns the outermost stage: it merges the settings carried by ctx
// under the call's own (call wins, labels merge), applies the log=false
// bypass (the model is called directly: no event, no hooks, no sampling
// draw), and with AutoChain links the call to the previous event of its
// trace scope.
func Context(cfg ContextConfig) core.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			if s := core.FromContext(ctx); s != nil {
				c.Settings = core.Merge(*s, c.Settings)
				if len(s.LLMOptions) > 0 {
					c.AddOptions(s.LLMOptions...)
				}
			}
			if !c.Logged() {
				return c.Terminal().Handle(ctx, c)
			}
			if c.Settings.Environment == "" {
				c.Settings.Environment = cfg.Environment
			}
			var scope *core.Scope
			if cfg.AutoChain {
				if scope = core.ScopeFromContext(ctx); scope != nil && c.Settings.ParentRequestID == "" {
					c.Settings.ParentRequestID = scope.Last()
				}
			}
			resp, err := next.Handle(ctx, c)
			if scope != nil && c.Event != nil {
				scope.SetLast(c.Event.EventID)
			}
			return resp, err
		})
	}
}

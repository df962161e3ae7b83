package leanllm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/middleware"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/leanllm/leanllm-go/sampling"
	"github.com/tmc/langchaingo/llms"
)

// ErrNoStore is returned by the read API when the client has no readable
// store (no database_url, persistence disabled, or the remote collector).
var ErrNoStore = errors.New("leanllm: no readable store: set LEANLLM_DATABASE_URL (sqlite:// or postgres://) and enable persistence")

// Client records every LLM call made through it as an Event. It implements
// llms.Model, so it drops into any langchaingo chain or agent. It is safe
// for concurrent use. Close it to flush queued events and stop its worker.
type Client struct {
	cfg      config
	router   *router
	chain    core.Handler
	terminal core.Handler
	ring     *ring
	writer   *persist.Writer
	reader   persist.Reader
	capture  *capture.Stage
	log      *slog.Logger
	debug    bool
	// scrub removes known secrets and masks PII in text we log.
	scrub func(string) string

	events    atomic.Int64
	closeOnce sync.Once
	closeErr  error
}

// New returns a Client configured from the LEANLLM_* variables, overridden by
// opts. An invalid value is an error naming the variable and what it
// accepts. New does no I/O: the store is opened lazily and migrated on the
// worker goroutine.
func New(opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if !cfg.noEnv {
		// Env first, then options again so options win.
		env := defaultConfig()
		env.errs = env.fromEnv(os.LookupEnv)
		for _, o := range opts {
			if o != nil {
				o.apply(&env)
			}
		}
		cfg = env
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cl := &Client{cfg: cfg, ring: newRing(cfg.lastEventBuffer), debug: cfg.debug}
	cl.log = cfg.logger
	if cl.log == nil {
		if cfg.debug {
			cl.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		} else {
			cl.log = slog.New(slog.NewTextHandler(io.Discard, nil))
		}
	}
	keys := map[string]string{}
	for k, v := range cfg.providerKeys {
		keys[k] = v
	}
	if cfg.apiKey != "" {
		keys[""] = cfg.apiKey
	}
	cl.router = &router{routes: cfg.models, fallback: cfg.model, keys: keys, baseURL: cfg.openaiBaseURL, useEnv: !cfg.noEnv}
	cl.terminal = core.Invoke(invokeModel)

	capCfg, red, err := cl.buildCapture()
	if err != nil {
		return nil, err
	}
	cl.capture = capture.New(capCfg)
	cl.scrub = func(msg string) string {
		msg = cl.capture.Scrub(msg)
		if capCfg.RedactError != nil {
			msg = capCfg.RedactError(msg)
		}
		return msg
	}
	if err := cl.openStore(); err != nil {
		return nil, err
	}
	stages := []named{
		{StageContext, middleware.Context(middleware.ContextConfig{Environment: cfg.environment, AutoChain: cfg.autoChain})},
		{StageSampling, sampling.Head(sampling.Fixed(cfg.samplingRate))},
		{StageRedaction, red},
		{StageHooks, middleware.HooksStage(middleware.Hooks{PreCall: cfg.hooks.pre, PostCall: cfg.hooks.post, OnError: cfg.hooks.onError, Logger: cl.log, Scrub: cl.scrub})},
		{StageTiming, middleware.Timing()},
		{StageCapture, cl.capture.Middleware()},
		{StageEnqueue, middleware.Enqueue(core.SinkFunc(cl.enqueue))},
	}
	chain, err := buildChain(stages, cfg.middleware, cfg.replaceChain)
	if err != nil {
		cl.closeWriter(context.Background())
		return nil, err
	}
	cl.chain = chain(cl.terminal)
	return cl, nil
}

type named struct {
	name string
	mw   core.Middleware
}

func buildChain(stages []named, extra []placed, replace []Middleware) (core.Middleware, error) {
	var mws []core.Middleware
	if replace != nil {
		mws = replace
	} else {
		for _, p := range extra {
			found := false
			for _, s := range stages {
				if s.name == p.pos.stage {
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("%w: WithMiddleware: unknown stage %q (stages: context, sampling, redaction, hooks, timing, capture, enqueue)", ErrConfig, p.pos.stage)
			}
		}
		for _, s := range stages {
			for _, p := range extra {
				if p.pos.stage == s.name && !p.pos.after {
					mws = append(mws, p.mw)
				}
			}
			mws = append(mws, s.mw)
			for _, p := range extra {
				if p.pos.stage == s.name && p.pos.after {
					mws = append(mws, p.mw)
				}
			}
		}
	}
	if len(mws) == 0 {
		return func(h core.Handler) core.Handler { return h }, nil
	}
	return core.Chain(mws[0], mws[1:]...), nil
}

// invokeModel is the terminal handler: it calls the routed model.
func invokeModel(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
	if c.RouteErr != nil {
		return nil, c.RouteErr
	}
	return c.Target.GenerateContent(ctx, c.Messages, c.Options...)
}

func (cl *Client) enqueue(e *Event) {
	cl.events.Add(1)
	if cl.ring != nil {
		cl.ring.add(e)
	}
	if cl.writer != nil {
		cl.writer.Enqueue(e)
	}
	if cl.debug {
		cl.log.Debug("leanllm event", "event_id", e.EventID, "model", e.Model, "provider", e.Provider,
			"latency_ms", e.LatencyMS, "input_tokens", e.InputTokens, "output_tokens", e.OutputTokens,
			"cost", e.Cost, "error_kind", e.ErrorKind, "correlation_id", e.CorrelationID)
	}
}

// callPool recycles Call values (about 900 bytes each): a sampled-out or
// bypassed call then allocates nothing of its own. Stages must not keep a
// *Call after Handle returns (documented on core.Handler).
var callPool = sync.Pool{New: func() any { return new(core.Call) }}

// handle runs c through the chain and recycles it.
func (cl *Client) handle(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
	resp, err := cl.chain.Handle(ctx, c)
	*c = core.Call{}
	callPool.Put(c)
	return resp, err
}

// newCall builds the call and routes it.
func (cl *Client) newCall(model, kind string, msgs []llms.MessageContent, opts []llms.CallOption) *core.Call {
	c := callPool.Get().(*core.Call)
	c.Init(model, kind, msgs, opts, cl.terminal)
	if c.Model == "" {
		c.Model = c.Params.Model
	}
	fromDefault := false
	if c.Model == "" && cl.cfg.defaultModel != "" {
		c.Model, fromDefault = cl.cfg.defaultModel, true
	}
	target, provider, name, err := cl.router.resolve(c.Model)
	c.Target, c.Provider, c.RouteErr = target, provider, err
	// Forward the bare name unless the model already has it, or the name is
	// only the client's default and the model is the user's own (WithModel),
	// which is configured with its model already.
	if name != "" && name != c.Params.Model && !(fromDefault && target == cl.cfg.model && target != nil) {
		c.AddOptions(llms.WithModel(name))
	}
	return c
}

// GenerateContent implements llms.Model. The model string of
// llms.WithModel routes the call; per-call settings ride on ctx (see
// WithContext and StartTrace). The provider's response and error are
// returned unchanged.
func (cl *Client) GenerateContent(ctx context.Context, messages []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	c := cl.newCall("", core.KindChat, messages, options)
	return cl.handle(ctx, c)
}

// Call implements llms.Model.
func (cl *Client) Call(ctx context.Context, prompt string, options ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, cl, prompt, options...)
}

// SupportsReasoning forwards to the WithModel model when it implements
// llms.ReasoningModel.
func (cl *Client) SupportsReasoning() bool {
	if rm, ok := cl.cfg.model.(llms.ReasoningModel); ok {
		return rm.SupportsReasoning()
	}
	return false
}

// Chat calls model with messages, as the seed's client.chat. opts carry the
// seed's per-call settings; langchaingo options go in WithLLMOptions.
func (cl *Client) Chat(ctx context.Context, model string, messages []llms.MessageContent, opts ...CallOption) (*llms.ContentResponse, error) {
	return cl.do(ctx, model, core.KindChat, messages, opts)
}

// Completion calls model with a single prompt, as the seed's
// client.completion.
func (cl *Client) Completion(ctx context.Context, model, prompt string, opts ...CallOption) (*llms.ContentResponse, error) {
	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, prompt)}
	return cl.do(ctx, model, core.KindCompletion, msgs, opts)
}

func (cl *Client) do(ctx context.Context, model, kind string, msgs []llms.MessageContent, opts []CallOption) (*llms.ContentResponse, error) {
	var s core.Settings
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	llmOpts := s.LLMOptions
	s.LLMOptions = nil
	c := cl.newCall(model, kind, msgs, llmOpts)
	c.Settings = s
	return cl.handle(ctx, c)
}

// LastEvent returns a copy of the most recent event, or nil.
func (cl *Client) LastEvent() *Event {
	if cl.ring == nil {
		return nil
	}
	r := cl.ring.recent(1)
	if len(r) == 0 {
		return nil
	}
	return r[0].Clone()
}

// RecentEvents returns copies of up to n recent events, newest first (n <= 0:
// all that the buffer holds).
func (cl *Client) RecentEvents(n int) []*Event {
	if cl.ring == nil {
		return nil
	}
	r := cl.ring.recent(n)
	for i, e := range r {
		r[i] = e.Clone()
	}
	return r
}

// Flush waits until every event enqueued before it is stored or accounted
// as dropped, or ctx ends.
func (cl *Client) Flush(ctx context.Context) error {
	if cl.writer == nil {
		return nil
	}
	return cl.writer.Flush(ctx)
}

// Close stops accepting events, drains and flushes the queue, closes the
// store and stops the worker. It returns by ctx's deadline, with an error
// saying how many events were not delivered. Calls made after Close still
// reach the model; their events are counted as dropped (closed). Close is
// safe to call more than once.
func (cl *Client) Close(ctx context.Context) error {
	cl.closeOnce.Do(func() {
		cl.closeErr = cl.closeWriter(ctx)
	})
	return cl.closeErr
}

func (cl *Client) closeWriter(ctx context.Context) error {
	if cl.writer == nil {
		return nil
	}
	return cl.writer.Close(ctx)
}

// Stats are the client's delivery counters.
type Stats struct {
	persist.WriterStats
	// Events counts events built (after sampling).
	Events int64
	// CostUnknown counts events whose model had no price.
	CostUnknown int64
	// Persistence is false when events only go to the in-memory buffer.
	Persistence bool
}

// Stats returns the delivery counters. At rest, Enqueued == Stored + the sum
// of Dropped.
func (cl *Client) Stats() Stats {
	s := Stats{Events: cl.events.Load(), CostUnknown: cl.capture.CostUnknown(), Persistence: cl.writer != nil}
	if cl.writer != nil {
		s.WriterStats = cl.writer.Stats()
	}
	return s
}

func newID() string { return capture.NewEventID() }

// durMS converts milliseconds to a Duration.
func durMS(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

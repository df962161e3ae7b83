package core

import (
	"context"
	"maps"
	"time"

	"github.com/tmc/langchaingo/llms"
)

// Call kinds stored in metadata.call_kind.
const (
	KindChat       = "chat"
	KindCompletion = "completion"
)

// Call is one LLM call as it travels the chain. The client creates it; stages
// read and annotate it. A stage must not change Messages or Options in place:
// they belong to the caller (replace the slice instead, see SetOptions).
type Call struct {
	// Model is the model string as the caller gave it ("openai/gpt-4o-mini",
	// "gpt-4o-mini", ""), and Provider the provider it routes to.
	Model    string
	Provider string
	Kind     string

	Messages []llms.MessageContent
	// Options are forwarded to the model unchanged.
	Options []llms.CallOption
	// Params is Options applied to a zero llms.CallOptions.
	Params llms.CallOptions

	// Settings are the per-call settings (labels, ids, sampling, redaction),
	// already merged with those of the context by the context stage.
	Settings Settings

	// Sampled is the head sampling decision (true = keep); SampleRate is the
	// rate that decided it.
	Sampled    bool
	SampleRate float64

	// Capture policy, set by the redaction stage: whether content is captured,
	// in which mode, and the function that masks it.
	CaptureContent bool
	RedactionMode  string
	Redact         func(string) string

	// Timing, set by the timing stage (and the enqueue stage for End).
	Start      time.Time
	End        time.Time
	FirstToken time.Time
	Stream     bool
	StreamEnd  string
	// ConsumerErr is the error the caller's streaming callback returned, if
	// any: the consumer stopped the stream early.
	ConsumerErr error

	// Outcome.
	Response *llms.ContentResponse
	Err      error

	// Event is the event being built (nil on the sampled-out path until an
	// error makes one).
	Event *Event

	// Finisher completes Event when the model returns (set by the capture stage).
	Finisher Finisher
	// Keep, when set, decides after the call whether the finished event is
	// kept (tail sampling). Errors are kept whatever it says.
	Keep func(c *Call) bool

	// Target is the model the call is routed to (nil when routing failed:
	// RouteErr then says why, and the terminal handler returns it).
	Target   llms.Model
	RouteErr error

	terminal Handler
}

// Finisher fills the response side of c.Event once the model has answered.
type Finisher interface {
	Finish(c *Call)
}

// NewCall returns a call for messages with opts applied to Params.
// terminal is the handler that invokes the model directly (used by the
// log=false bypass).
func NewCall(model, kind string, messages []llms.MessageContent, opts []llms.CallOption, terminal Handler) *Call {
	c := &Call{}
	c.Init(model, kind, messages, opts, terminal)
	return c
}

// Init resets c for a new call (see NewCall). It lets a client reuse Call
// values: a stage must not keep a *Call after its Handle returns.
func (c *Call) Init(model, kind string, messages []llms.MessageContent, opts []llms.CallOption, terminal Handler) {
	*c = Call{Model: model, Kind: kind, Messages: messages, Options: opts, terminal: terminal, Sampled: true, SampleRate: 1}
	for _, o := range opts {
		if o != nil {
			o(&c.Params)
		}
	}
}

// Terminal returns the handler that calls the model without any stage.
func (c *Call) Terminal() Handler { return c.terminal }

// AddOptions appends the forwarded options (copying, never appending in
// place to the caller's slice) and re-reads Params.
func (c *Call) AddOptions(opts ...llms.CallOption) {
	n := make([]llms.CallOption, 0, len(c.Options)+len(opts))
	n = append(n, c.Options...)
	n = append(n, opts...)
	c.Options = n
	for _, o := range opts {
		if o != nil {
			o(&c.Params)
		}
	}
}

// SetLabel sets a label for this call (call labels win over context labels).
// The map is copied first, so a map shared with a context is never written.
func (c *Call) SetLabel(key, value string) {
	m := make(map[string]string, len(c.Settings.Labels)+1)
	maps.Copy(m, c.Settings.Labels)
	m[key] = value
	c.Settings.Labels = m
}

// Latency returns End-Start (0 if either is unset).
func (c *Call) Latency() time.Duration {
	if c.Start.IsZero() || c.End.IsZero() {
		return 0
	}
	return c.End.Sub(c.Start)
}

// Logged reports whether the call is observed at all (log=true).
func (c *Call) Logged() bool { return c.Settings.Log != LogOff }

// Invoke is the terminal handler: it calls the model resolved for the call.
type Invoke func(ctx context.Context, c *Call) (*llms.ContentResponse, error)

// Handle implements Handler.
func (f Invoke) Handle(ctx context.Context, c *Call) (*llms.ContentResponse, error) { return f(ctx, c) }

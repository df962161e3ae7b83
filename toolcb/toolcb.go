package toolcb

import (
	"context"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/schema"
)

// Tool-step event fields.
const (
	// CallKind is the metadata.call_kind of tool steps.
	CallKind = "tool"
	// Provider is the provider of tool steps.
	Provider = "tool"
	// ModelPrefix prefixes the tool name in a tool step's model ("tool:search").
	ModelPrefix = "tool:"
	// DefaultMaxInputBytes bounds the tool input kept in metadata.tool_input.
	DefaultMaxInputBytes = 1024
	// maxPending bounds the tool starts and agent actions awaiting their end.
	maxPending = 4096
)

// Metadata keys of tool steps (metadata's extra keys).
const (
	KeyToolName    = "tool_name"
	KeyToolInput   = "tool_input"
	KeyInputBytes  = "tool_input_bytes"
	KeyOutputBytes = "tool_output_bytes"
	KeyToolCallID  = "tool_call_id"
	KeyToolEnd     = "tool_end" // "unreported" when the tool never reported its end
)

// Client is what this package needs of a leanllm client; *leanllm.Client
// implements it.
type Client interface {
	// Record enqueues an event built outside the chain.
	Record(ctx context.Context, e *core.Event)
	// RecentEvents returns copies of recent events, newest first.
	RecentEvents(n int) []*core.Event
}

// Tool is langchaingo's tools.Tool (same method set: values convert both
// ways), declared here so this package does not import langchaingo's tools
// package and its dependencies.
type Tool interface {
	Name() string
	Description() string
	Call(ctx context.Context, input string) (string, error)
}

// Option configures a Handler or a wrapped tool.
type Option func(*config)

type config struct {
	maxInput int
	redact   func(string) string
	name     string
}

// WithMaxInputBytes sets how much of the tool input is kept in
// metadata.tool_input (0 = none; default DefaultMaxInputBytes).
func WithMaxInputBytes(n int) Option { return func(c *config) { c.maxInput = n } }

// WithRedact masks the tool input and error messages before they are
// recorded.
func WithRedact(f func(string) string) Option { return func(c *config) { c.redact = f } }

// WithToolName names the tool a Handler records when no agent action
// announced it (a tool called outside an agent executor).
func WithToolName(name string) Option { return func(c *config) { c.name = name } }

func newConfig(opts []Option) config {
	c := config{maxInput: DefaultMaxInputBytes}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Handler is a langchaingo callbacks.Handler that records tool executions
// as events. Set it as the agent executor's callbacks handler (for the
// tool names) and as the tools' (for their start and end):
//
//	h := toolcb.NewHandler(cl)
//	exec := agents.NewExecutor(agent, agents.WithCallbacksHandler(h))
//	calc := tools.Calculator{CallbacksHandler: h}
//
// HandleAgentAction announces a tool (name, input, tool call id);
// HandleToolStart starts the step and HandleToolEnd or HandleToolError
// records it. The calls are matched by their context, which the executor
// and the tools pass along unchanged; a step that starts but never reports
// its end is recorded with metadata.tool_end "unreported" when the next
// action of that context arrives. Tools that report nothing: use Wrap.
//
// A Handler is safe for concurrent use. Its other callbacks do nothing.
type Handler struct {
	callbacks.SimpleHandler
	cl  Client
	cfg config
	st  *state
}

var _ callbacks.Handler = (*Handler)(nil)

type state struct {
	mu      sync.Mutex
	actions map[any]schema.AgentAction
	frames  map[any][]*frame
	n       int
}

type frame struct {
	id, parent string
	name       string
	input      string
	toolCallID string
	start      time.Time
}

// NewHandler returns a Handler recording to cl.
func NewHandler(cl Client, opts ...Option) *Handler {
	return &Handler{cl: cl, cfg: newConfig(opts), st: &state{actions: map[any]schema.AgentAction{}, frames: map[any][]*frame{}}}
}

// ForTool returns a Handler sharing h's state that names the steps it
// records name when no agent action announced them.
func (h *Handler) ForTool(name string) *Handler {
	c := *h
	c.cfg.name = name
	return &c
}

// key identifies a chain of callbacks: the context itself when comparable.
func key(ctx context.Context) any {
	if ctx == nil {
		return nil
	}
	if reflect.TypeOf(ctx).Comparable() {
		return ctx
	}
	if sc := core.ScopeFromContext(ctx); sc != nil {
		return sc
	}
	return nil
}

// HandleAgentAction remembers the tool the agent is about to run.
func (h *Handler) HandleAgentAction(ctx context.Context, action schema.AgentAction) {
	if isWrapped(ctx) {
		return
	}
	k := key(ctx)
	stale := h.takeFrames(k)
	h.st.mu.Lock()
	if len(h.st.actions) >= maxPending {
		clear(h.st.actions)
	}
	h.st.actions[k] = action
	h.st.mu.Unlock()
	h.recordStale(ctx, stale)
}

// HandleAgentFinish forgets what the agent left pending.
func (h *Handler) HandleAgentFinish(ctx context.Context, _ schema.AgentFinish) {
	k := key(ctx)
	stale := h.takeFrames(k)
	h.st.mu.Lock()
	delete(h.st.actions, k)
	h.st.mu.Unlock()
	h.recordStale(ctx, stale)
}

// HandleToolStart starts a tool step.
func (h *Handler) HandleToolStart(ctx context.Context, input string) {
	if isWrapped(ctx) {
		return
	}
	f := &frame{id: capture.NewEventID(), parent: parentOf(ctx, h.cl), input: input, name: h.cfg.name, start: time.Now()}
	k := key(ctx)
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	if a, ok := h.st.actions[k]; ok {
		f.name, f.toolCallID = a.Tool, a.ToolID
		delete(h.st.actions, k)
	}
	if h.st.n >= maxPending {
		clear(h.st.frames)
		h.st.n = 0
	}
	h.st.frames[k] = append(h.st.frames[k], f)
	h.st.n++
}

// HandleToolEnd records the step that ended.
func (h *Handler) HandleToolEnd(ctx context.Context, output string) {
	if isWrapped(ctx) {
		return
	}
	if f := h.pop(key(ctx)); f != nil {
		h.cl.Record(ctx, newEvent(&h.cfg, f, time.Now(), len(output), nil, ""))
	}
}

// HandleToolError records the step that failed.
func (h *Handler) HandleToolError(ctx context.Context, err error) {
	if isWrapped(ctx) {
		return
	}
	if f := h.pop(key(ctx)); f != nil {
		h.cl.Record(ctx, newEvent(&h.cfg, f, time.Now(), -1, err, ""))
	}
}

func (h *Handler) pop(k any) *frame {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	fs := h.st.frames[k]
	if len(fs) == 0 {
		return nil
	}
	f := fs[len(fs)-1]
	if len(fs) == 1 {
		delete(h.st.frames, k)
	} else {
		h.st.frames[k] = fs[:len(fs)-1]
	}
	h.st.n--
	return f
}

func (h *Handler) takeFrames(k any) []*frame {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	fs := h.st.frames[k]
	delete(h.st.frames, k)
	h.st.n -= len(fs)
	return fs
}

func (h *Handler) recordStale(ctx context.Context, fs []*frame) {
	now := time.Now()
	for _, f := range fs {
		h.cl.Record(ctx, newEvent(&h.cfg, f, now, -1, nil, "unreported"))
	}
}

// Wrap returns tool recording each of its calls as a tool step: name,
// input, duration, output size and error. The step is a child of the LLM
// call that asked for the tool (the trace's most recent call), and LLM
// calls the tool makes itself are linked below the step (with auto_chain).
// The wrapped tool returns what tool returns, unchanged. A Handler that the
// tool also reports to ignores the wrapped calls, so a step is recorded
// once.
//
// The result converts to langchaingo's tools.Tool (same method set).
func Wrap(cl Client, tool Tool, opts ...Option) Tool {
	return &wrapped{cl: cl, tool: tool, cfg: newConfig(opts)}
}

type wrapped struct {
	cl   Client
	tool Tool
	cfg  config
}

func (w *wrapped) Name() string        { return w.tool.Name() }
func (w *wrapped) Description() string { return w.tool.Description() }

// Call runs the tool and records the step.
func (w *wrapped) Call(ctx context.Context, input string) (string, error) {
	f := &frame{id: capture.NewEventID(), parent: parentOf(ctx, w.cl), name: w.tool.Name(), input: input, start: time.Now()}
	inner := context.WithValue(ctx, wrappedKey{}, true)
	if sc := core.ScopeFromContext(ctx); sc != nil {
		// Calls the tool makes start a sub-chain below the step.
		var sub *core.Scope
		inner, sub = core.NewScope(inner, sc.ID)
		sub.SetLast(f.id)
	}
	out, err := w.tool.Call(inner, input)
	size := len(out)
	if err != nil {
		size = -1
	}
	w.cl.Record(ctx, newEvent(&w.cfg, f, time.Now(), size, err, ""))
	return out, err
}

type wrappedKey struct{}

func isWrapped(ctx context.Context) bool {
	v, _ := ctx.Value(wrappedKey{}).(bool)
	return v
}

// parentOf returns the event a tool step of ctx hangs from: the trace
// scope's most recent event (auto_chain), else the client's most recent
// LLM call of the same trace. Outside a trace it returns "" (the settings
// of ctx then apply).
func parentOf(ctx context.Context, cl Client) string {
	sc := core.ScopeFromContext(ctx)
	if sc == nil {
		return ""
	}
	if last := sc.Last(); last != "" {
		return last
	}
	for _, e := range cl.RecentEvents(0) {
		if e.CorrelationID == sc.ID && e.Metadata.CallKind != CallKind {
			return e.EventID
		}
	}
	return ""
}

// newEvent builds the event of a step; outBytes < 0 = no output.
func newEvent(cfg *config, f *frame, end time.Time, outBytes int, err error, toolEnd string) *core.Event {
	name := f.name
	if name == "" {
		name = "unknown"
	}
	e := &core.Event{
		EventID:         f.id,
		ParentRequestID: f.parent,
		Timestamp:       f.start,
		Model:           ModelPrefix + name,
		Provider:        Provider,
		LatencyMS:       end.Sub(f.start).Milliseconds(),
		SchemaVersion:   core.SchemaVersion,
		Metadata:        core.Metadata{CallKind: CallKind, SampleRate: 1},
	}
	e.Metadata.Extra = map[string]any{KeyToolName: name, KeyInputBytes: len(f.input)}
	if cfg.maxInput > 0 {
		in := f.input
		if cfg.redact != nil {
			in = cfg.redact(in)
		}
		if cut, ok := capture.Cut(in, cfg.maxInput); ok {
			in = cut
		}
		if !utf8.ValidString(in) {
			in = strconv.QuoteToASCII(in)
		}
		e.Metadata.Extra[KeyToolInput] = in
	}
	if outBytes >= 0 {
		e.Metadata.Extra[KeyOutputBytes] = outBytes
	}
	if f.toolCallID != "" {
		e.Metadata.Extra[KeyToolCallID] = f.toolCallID
	}
	if toolEnd != "" {
		e.Metadata.Extra[KeyToolEnd] = toolEnd
	}
	if err != nil {
		ec := core.ClassifyError(err)
		e.ErrorKind = ec.Kind
		e.Metadata.ErrorDetail = ec.Detail
		e.Metadata.ErrorClass = ec.GoType
		msg := err.Error()
		if cfg.redact != nil {
			msg = cfg.redact(msg)
		}
		if cut, ok := capture.Cut(msg, 4096); ok {
			msg = cut
		}
		if msg == "" {
			msg = ec.GoType
		}
		e.ErrorMessage = msg
	}
	return e
}

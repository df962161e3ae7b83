package core

import (
	"context"
	"maps"
	"sync"

	"github.com/tmc/langchaingo/llms"
)

// LogMode is the per-call log switch. The zero value means "not set" (log).
type LogMode uint8

// Log modes.
const (
	LogDefault LogMode = iota
	LogOn
	LogOff
)

// Settings are the seed's per-call settings. They come from CallOptions and
// from the context (NewContext, StartTrace); call settings win, labels merge.
type Settings struct {
	Labels          map[string]string
	RequestID       string
	CorrelationID   string
	ParentRequestID string
	Log             LogMode
	Sample          float64 // used when HasSample
	HasSample       bool
	RedactionMode   string
	UserID          string
	SessionID       string
	Feature         string
	Environment     string
	// ReplayOf is the id of the event a replayed call re-runs (see
	// leanllm's Client.Replay); capture copies it to metadata.replay_of.
	ReplayOf string
	// LLMOptions are langchaingo options forwarded to the model.
	LLMOptions []llms.CallOption
}

// CallOption sets per-call settings.
type CallOption func(*Settings)

// Apply returns s with opts applied.
func (s Settings) Apply(opts ...CallOption) Settings {
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	return s
}

// Merge returns base overridden by over: non-empty fields of over win and
// labels are merged (over's win). Neither input is changed.
func Merge(base, over Settings) Settings {
	out := base
	switch {
	case len(over.Labels) == 0:
	case len(base.Labels) == 0:
		out.Labels = over.Labels
	default:
		m := make(map[string]string, len(base.Labels)+len(over.Labels))
		maps.Copy(m, base.Labels)
		maps.Copy(m, over.Labels)
		out.Labels = m
	}
	if over.RequestID != "" {
		out.RequestID = over.RequestID
	}
	if over.CorrelationID != "" {
		out.CorrelationID = over.CorrelationID
	}
	if over.ParentRequestID != "" {
		out.ParentRequestID = over.ParentRequestID
	}
	if over.Log != LogDefault {
		out.Log = over.Log
	}
	if over.HasSample {
		out.Sample, out.HasSample = over.Sample, true
	}
	if over.RedactionMode != "" {
		out.RedactionMode = over.RedactionMode
	}
	if over.UserID != "" {
		out.UserID = over.UserID
	}
	if over.SessionID != "" {
		out.SessionID = over.SessionID
	}
	if over.Feature != "" {
		out.Feature = over.Feature
	}
	if over.Environment != "" {
		out.Environment = over.Environment
	}
	if over.ReplayOf != "" {
		out.ReplayOf = over.ReplayOf
	}
	if len(over.LLMOptions) > 0 {
		out.LLMOptions = append(append([]llms.CallOption(nil), base.LLMOptions...), over.LLMOptions...)
	}
	return out
}

type settingsKey struct{}
type scopeKey struct{}

// NewContext returns a copy of ctx carrying s merged over the settings ctx
// already carries. Labels are copied, so later changes to the caller's map do
// not leak into calls.
func NewContext(ctx context.Context, s Settings) context.Context {
	s.Labels = maps.Clone(s.Labels)
	if prev := FromContext(ctx); prev != nil {
		s = Merge(*prev, s)
	}
	return context.WithValue(ctx, settingsKey{}, &s)
}

// FromContext returns the settings ctx carries, or nil. The result must not
// be changed.
func FromContext(ctx context.Context) *Settings {
	s, _ := ctx.Value(settingsKey{}).(*Settings)
	return s
}

// Scope is a trace scope: every call made with a context derived from the
// scope's shares its correlation id; with auto_chain, each call's parent is
// the previous event of the scope. A Scope is safe for concurrent use:
// goroutines started inside it inherit it through their context.
type Scope struct {
	ID   string
	mu   sync.Mutex
	last string
}

// Last returns the id of the scope's most recent event.
func (s *Scope) Last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// SetLast records id as the scope's most recent event.
func (s *Scope) SetLast(id string) {
	s.mu.Lock()
	s.last = id
	s.mu.Unlock()
}

// NewScope returns ctx inside a new trace scope whose correlation id is id.
func NewScope(ctx context.Context, id string) (context.Context, *Scope) {
	sc := &Scope{ID: id}
	ctx = context.WithValue(ctx, scopeKey{}, sc)
	return NewContext(ctx, Settings{CorrelationID: id}), sc
}

// ScopeFromContext returns the innermost trace scope of ctx, or nil.
func ScopeFromContext(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

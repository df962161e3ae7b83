package leanllm

import (
	"maps"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// CallOption sets per-call settings (the seed's keyword arguments). The same
// options can ride on a context with WithContext.
type CallOption = core.CallOption

// LeanContext is the seed's LeanLLMContext: who and what a call is for.
// UserID, SessionID and Feature become labels (user_id, session_id,
// feature); Environment goes to metadata.environment.
type LeanContext struct {
	UserID, SessionID, Feature, Environment string
	Labels                                  map[string]string
}

// WithLabels adds labels to the call (merged over context labels; call wins).
func WithLabels(labels map[string]string) CallOption {
	l := maps.Clone(labels)
	return func(s *core.Settings) {
		if len(s.Labels) == 0 {
			s.Labels = l
			return
		}
		m := maps.Clone(s.Labels)
		maps.Copy(m, l)
		s.Labels = m
	}
}

// WithLabel adds one label.
func WithLabel(key, value string) CallOption {
	return WithLabels(map[string]string{key: value})
}

// WithRequestID sets the call's request_id, which becomes its event_id.
func WithRequestID(id string) CallOption { return func(s *core.Settings) { s.RequestID = id } }

// WithCorrelationID sets the call's correlation_id.
func WithCorrelationID(id string) CallOption { return func(s *core.Settings) { s.CorrelationID = id } }

// WithParentRequestID sets the call's parent_request_id.
func WithParentRequestID(id string) CallOption {
	return func(s *core.Settings) { s.ParentRequestID = id }
}

// WithLeanContext sets the seed's context (user, session, feature,
// environment, labels).
func WithLeanContext(lc LeanContext) CallOption {
	over := core.Settings{UserID: lc.UserID, SessionID: lc.SessionID, Feature: lc.Feature,
		Environment: lc.Environment, Labels: maps.Clone(lc.Labels)}
	return func(s *core.Settings) { *s = core.Merge(*s, over) }
}

// WithLog sets the seed's log flag. WithLog(false) is a hard bypass: the
// model is called directly, no event is built, no hook runs.
func WithLog(on bool) CallOption {
	return func(s *core.Settings) {
		if on {
			s.Log = core.LogOn
		} else {
			s.Log = core.LogOff
		}
	}
}

// WithSample sets the call's sampling rate (0..1), overriding sampling_rate.
// Errors are recorded whatever the rate. Values outside 0..1 are clamped.
func WithSample(rate float64) CallOption {
	switch {
	case rate < 0 || rate != rate:
		rate = 0
	case rate > 1:
		rate = 1
	}
	return func(s *core.Settings) { s.Sample, s.HasSample = rate, true }
}

// WithCallRedactionMode sets the call's redaction_mode (metadata, redacted,
// hashed, full). An unknown mode falls back to the strictest, metadata.
func WithCallRedactionMode(mode string) CallOption {
	if !validMode(mode) {
		mode = "metadata"
	}
	return func(s *core.Settings) { s.RedactionMode = mode }
}

// WithLLMOptions forwards langchaingo options (temperature, tools,
// streaming, …) to the model unchanged.
func WithLLMOptions(opts ...llms.CallOption) CallOption {
	o := append([]llms.CallOption(nil), opts...)
	return func(s *core.Settings) { s.LLMOptions = append(s.LLMOptions, o...) }
}

package leanllm

import (
	"context"
	"maps"
	"time"

	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
)

// Record enqueues e, an event built by the caller (a tool step, a call made
// outside the client), through the client's sink: the in-memory buffer
// (LastEvent, RecentEvents) and the store. It never blocks. Record takes
// ownership of e: do not change it afterwards.
//
// Record fills what e leaves empty: event_id (a new UUIDv7), timestamp
// (now), schema_version, correlation_id and parent_request_id from the
// settings and trace scope of ctx (the parent: ctx's parent_request_id,
// else, with auto_chain, the scope's most recent event), the labels of ctx
// (merged under e's own), metadata.environment, and metadata.sample_rate = 1
// (recorded events are never sampled).
//
// Record does not move the trace scope's most recent event: with auto_chain,
// the next call of the scope is still linked to the last LLM call, not to
// the recorded event (see docs/lineage.md). It runs no hook and no
// middleware, and with log=false in ctx it records nothing.
func (cl *Client) Record(ctx context.Context, e *Event) {
	if e == nil {
		return
	}
	var s core.Settings
	if p := core.FromContext(ctx); p != nil {
		s = *p
	}
	if s.Log == core.LogOff {
		return
	}
	if e.EventID == "" {
		e.EventID = capture.NewEventID()
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now()
	}
	if e.SchemaVersion == 0 {
		e.SchemaVersion = core.SchemaVersion
	}
	scope := core.ScopeFromContext(ctx)
	if e.CorrelationID == "" {
		e.CorrelationID = s.CorrelationID
		if e.CorrelationID == "" && scope != nil {
			e.CorrelationID = scope.ID
		}
	}
	if e.ParentRequestID == "" {
		e.ParentRequestID = s.ParentRequestID
		if e.ParentRequestID == "" && cl.cfg.autoChain && scope != nil {
			e.ParentRequestID = scope.Last()
		}
	}
	if len(s.Labels) > 0 || s.UserID != "" || s.SessionID != "" || s.Feature != "" {
		m := make(map[string]string, len(s.Labels)+len(e.Labels)+3)
		for _, kv := range [...][2]string{{"user_id", s.UserID}, {"session_id", s.SessionID}, {"feature", s.Feature}} {
			if kv[1] != "" {
				m[kv[0]] = kv[1]
			}
		}
		maps.Copy(m, s.Labels)
		maps.Copy(m, e.Labels)
		e.Labels = m
	}
	if e.Metadata.Environment == "" {
		e.Metadata.Environment = s.Environment
		if e.Metadata.Environment == "" {
			e.Metadata.Environment = cl.cfg.environment
		}
	}
	if e.Metadata.SampleRate == 0 {
		e.Metadata.SampleRate = 1
	}
	cl.enqueue(e)
}

package core

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/tmc/langchaingo/llms"
)

// SchemaVersion is the event schema version written in every event. It is
// the version of Python LeanLLM's LLMEvent whose JSON names we share.
const SchemaVersion = 2

// Error kinds stored in Event.ErrorKind.
const (
	ErrorKindTimeout       = "timeout"
	ErrorKindRateLimit     = "rate_limit"
	ErrorKindProviderError = "provider_error"
	ErrorKindParsingError  = "parsing_error"
	ErrorKindUnknown       = "unknown"
)

// Stream end states stored in Metadata.StreamEnd.
const (
	StreamCompleted       = "completed"
	StreamFailed          = "failed"
	StreamConsumerStopped = "consumer_stopped"
)

// Event is one LLM call. Its JSON form is the wire format shared with Python
// LeanLLM (LLMEvent, schema_version 2); new fields are added as new keys.
//
// Once an Event has been handed to the queue it is immutable: use Clone to
// get a copy you may change.
type Event struct {
	EventID         string
	CorrelationID   string // empty = null
	ParentRequestID string // empty = null
	Timestamp       time.Time
	Model           string
	Provider        string

	InputTokens  int
	OutputTokens int
	TotalTokens  int
	Cost         float64
	LatencyMS    int64

	TimeToFirstTokenMS sql.NullInt64 // streams only
	TotalStreamTimeMS  sql.NullInt64 // streams only

	Parameters Parameters
	Tools      []llms.Tool
	ToolCalls  []llms.ToolCall

	ErrorKind    string // empty = null
	ErrorMessage string // empty = null

	Labels map[string]string

	Prompt   *string // nil = not captured
	Response *string // nil = not captured

	NormalizedInput  map[string]any
	NormalizedOutput map[string]any

	Metadata Metadata

	SchemaVersion int

	// Extras (new keys; old readers ignore them).
	CachedInputTokens int
	ReasoningTokens   int
}

// wireEvent is the JSON shape of Event.
type wireEvent struct {
	EventID            string            `json:"event_id"`
	CorrelationID      *string           `json:"correlation_id"`
	ParentRequestID    *string           `json:"parent_request_id"`
	Timestamp          string            `json:"timestamp"`
	Model              string            `json:"model"`
	Provider           string            `json:"provider"`
	InputTokens        int               `json:"input_tokens"`
	OutputTokens       int               `json:"output_tokens"`
	TotalTokens        int               `json:"total_tokens"`
	Cost               float64           `json:"cost"`
	LatencyMS          int64             `json:"latency_ms"`
	TimeToFirstTokenMS *int64            `json:"time_to_first_token_ms"`
	TotalStreamTimeMS  *int64            `json:"total_stream_time_ms"`
	Parameters         *Parameters       `json:"parameters"`
	Tools              []llms.Tool       `json:"tools"`
	ToolCalls          []wireToolCall    `json:"tool_calls"`
	ErrorKind          *string           `json:"error_kind"`
	ErrorMessage       *string           `json:"error_message"`
	Labels             map[string]string `json:"labels"`
	Prompt             *string           `json:"prompt"`
	Response           *string           `json:"response"`
	NormalizedInput    map[string]any    `json:"normalized_input"`
	NormalizedOutput   map[string]any    `json:"normalized_output"`
	Metadata           *Metadata         `json:"metadata"`
	SchemaVersion      int               `json:"schema_version"`
	CachedInputTokens  int               `json:"cached_input_tokens"`
	ReasoningTokens    int               `json:"reasoning_tokens"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// TimestampFormat is the layout of Event.Timestamp on the wire (RFC 3339, UTC).
const TimestampFormat = "2006-01-02T15:04:05.000000Z07:00"

// MarshalJSON writes the wire format.
func (e *Event) MarshalJSON() ([]byte, error) {
	labels := e.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	sv := e.SchemaVersion
	if sv == 0 {
		sv = SchemaVersion
	}
	w := wireEvent{
		EventID:            e.EventID,
		CorrelationID:      strPtr(e.CorrelationID),
		ParentRequestID:    strPtr(e.ParentRequestID),
		Timestamp:          e.Timestamp.UTC().Format(TimestampFormat),
		Model:              e.Model,
		Provider:           e.Provider,
		InputTokens:        e.InputTokens,
		OutputTokens:       e.OutputTokens,
		TotalTokens:        e.TotalTokens,
		Cost:               e.Cost,
		LatencyMS:          e.LatencyMS,
		TimeToFirstTokenMS: nullInt(e.TimeToFirstTokenMS),
		TotalStreamTimeMS:  nullInt(e.TotalStreamTimeMS),
		Parameters:         &e.Parameters,
		Tools:              e.Tools,
		ToolCalls:          wireToolCalls(e.ToolCalls),
		ErrorKind:          strPtr(e.ErrorKind),
		ErrorMessage:       strPtr(e.ErrorMessage),
		Labels:             labels,
		Prompt:             e.Prompt,
		Response:           e.Response,
		NormalizedInput:    e.NormalizedInput,
		NormalizedOutput:   e.NormalizedOutput,
		Metadata:           &e.Metadata,
		SchemaVersion:      sv,
		CachedInputTokens:  e.CachedInputTokens,
		ReasoningTokens:    e.ReasoningTokens,
	}
	return json.Marshal(&w)
}

// UnmarshalJSON reads the wire format, including batches written by Python
// LeanLLM (ISO timestamps with +00:00, unknown keys ignored).
func (e *Event) UnmarshalJSON(b []byte) error {
	var w struct {
		wireEvent
		Timestamp          json.RawMessage `json:"timestamp"`
		TimeToFirstTokenMS *float64        `json:"time_to_first_token_ms"`
		TotalStreamTimeMS  *float64        `json:"total_stream_time_ms"`
		LatencyMS          float64         `json:"latency_ms"`
		Parameters         json.RawMessage `json:"parameters"`
		Tools              json.RawMessage `json:"tools"`
		ToolCalls          json.RawMessage `json:"tool_calls"`
		Labels             map[string]any  `json:"labels"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event{
		EventID:           w.EventID,
		Model:             w.Model,
		Provider:          w.Provider,
		InputTokens:       w.InputTokens,
		OutputTokens:      w.OutputTokens,
		TotalTokens:       w.TotalTokens,
		Cost:              w.Cost,
		LatencyMS:         int64(w.LatencyMS),
		Prompt:            w.Prompt,
		Response:          w.Response,
		NormalizedInput:   w.NormalizedInput,
		NormalizedOutput:  w.NormalizedOutput,
		SchemaVersion:     w.SchemaVersion,
		CachedInputTokens: w.CachedInputTokens,
		ReasoningTokens:   w.ReasoningTokens,
	}
	if w.CorrelationID != nil {
		e.CorrelationID = *w.CorrelationID
	}
	if w.ParentRequestID != nil {
		e.ParentRequestID = *w.ParentRequestID
	}
	if w.ErrorKind != nil {
		e.ErrorKind = *w.ErrorKind
	}
	if w.ErrorMessage != nil {
		e.ErrorMessage = *w.ErrorMessage
	}
	if w.TimeToFirstTokenMS != nil {
		e.TimeToFirstTokenMS = sql.NullInt64{Int64: int64(*w.TimeToFirstTokenMS), Valid: true}
	}
	if w.TotalStreamTimeMS != nil {
		e.TotalStreamTimeMS = sql.NullInt64{Int64: int64(*w.TotalStreamTimeMS), Valid: true}
	}
	if len(w.Timestamp) > 0 && string(w.Timestamp) != "null" {
		var s string
		if err := json.Unmarshal(w.Timestamp, &s); err != nil {
			return &json.UnmarshalTypeError{Value: "timestamp", Type: nil, Field: "timestamp"}
		}
		t, err := ParseTimestamp(s)
		if err != nil {
			return err
		}
		e.Timestamp = t
	}
	if len(w.Parameters) > 0 && !bytes.Equal(w.Parameters, []byte("null")) {
		if err := json.Unmarshal(w.Parameters, &e.Parameters); err != nil {
			return err
		}
	}
	if len(w.Tools) > 0 && !bytes.Equal(w.Tools, []byte("null")) {
		// Tools from other writers may have another shape: keep what parses.
		_ = json.Unmarshal(w.Tools, &e.Tools)
	}
	if len(w.ToolCalls) > 0 && !bytes.Equal(w.ToolCalls, []byte("null")) {
		e.ToolCalls = parseToolCalls(w.ToolCalls)
	}
	if len(w.Labels) > 0 {
		e.Labels = make(map[string]string, len(w.Labels))
		for k, v := range w.Labels {
			switch x := v.(type) {
			case string:
				e.Labels[k] = x
			case nil:
				e.Labels[k] = ""
			default:
				bb, _ := json.Marshal(x)
				e.Labels[k] = string(bb)
			}
		}
	}
	if w.Metadata != nil {
		e.Metadata = *w.Metadata
	}
	return nil
}

// wireToolCall is the OpenAI shape of a tool call, used on the wire and in
// the database (langchaingo's own ToolCall JSON nests it differently).
type wireToolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Function wireFunctionCall `json:"function"`
}

type wireFunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

func wireToolCalls(tcs []llms.ToolCall) []wireToolCall {
	if tcs == nil {
		return nil
	}
	out := make([]wireToolCall, len(tcs))
	for i, tc := range tcs {
		out[i] = wireToolCall{ID: tc.ID, Type: tc.Type}
		if out[i].Type == "" {
			out[i].Type = "function"
		}
		if tc.FunctionCall != nil {
			out[i].Function = wireFunctionCall{Name: tc.FunctionCall.Name, Arguments: tc.FunctionCall.Arguments}
		}
	}
	return out
}

// MarshalToolCalls writes tool calls in the OpenAI shape.
func MarshalToolCalls(tcs []llms.ToolCall) ([]byte, error) { return json.Marshal(wireToolCalls(tcs)) }

// ParseToolCalls reads tool calls in the OpenAI, flat or langchaingo shape.
func ParseToolCalls(raw []byte) []llms.ToolCall { return parseToolCalls(raw) }

// parseToolCalls accepts OpenAI-shaped records ({"id","type","function":{"name","arguments"}})
// and flat ones ({"id","name","arguments"}); arguments may be a string or an object.
func parseToolCalls(raw json.RawMessage) []llms.ToolCall {
	var recs []map[string]any
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil
	}
	out := make([]llms.ToolCall, 0, len(recs))
	for _, r := range recs {
		tc := llms.ToolCall{}
		tc.ID, _ = r["id"].(string)
		tc.Type, _ = r["type"].(string)
		if inner, ok := r["tool_call"].(map[string]any); ok { // langchaingo's shape
			r = inner
			tc.ID, _ = r["id"].(string)
			tc.Type, _ = r["type"].(string)
		}
		fn, ok := r["function"].(map[string]any)
		if !ok {
			fn = r
		}
		name, _ := fn["name"].(string)
		args := ""
		switch a := fn["arguments"].(type) {
		case string:
			args = a
		case nil:
		default:
			bb, _ := json.Marshal(a)
			args = string(bb)
		}
		if tc.Type == "" {
			tc.Type = "function"
		}
		tc.FunctionCall = &llms.FunctionCall{Name: name, Arguments: args}
		out = append(out, tc)
	}
	return out
}

// ParseTimestamp parses RFC 3339 timestamps as written by Go and Python
// (with or without fractional seconds, "Z" or "+00:00", or no zone = UTC).
func ParseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return time.Time{}, err
}

// Clone returns a deep copy of e that may be changed freely.
func (e *Event) Clone() *Event {
	if e == nil {
		return nil
	}
	c := *e
	c.Labels = maps.Clone(e.Labels)
	c.Tools = slices.Clone(e.Tools)
	if e.ToolCalls != nil {
		c.ToolCalls = make([]llms.ToolCall, len(e.ToolCalls))
		for i, tc := range e.ToolCalls {
			c.ToolCalls[i] = tc
			if tc.FunctionCall != nil {
				fc := *tc.FunctionCall
				c.ToolCalls[i].FunctionCall = &fc
			}
		}
	}
	if e.Prompt != nil {
		p := *e.Prompt
		c.Prompt = &p
	}
	if e.Response != nil {
		r := *e.Response
		c.Response = &r
	}
	c.NormalizedInput = cloneAnyMap(e.NormalizedInput)
	c.NormalizedOutput = cloneAnyMap(e.NormalizedOutput)
	c.Parameters.Stop = slices.Clone(e.Parameters.Stop)
	c.Parameters.Extra = cloneAnyMap(e.Parameters.Extra)
	c.Metadata.Extra = cloneAnyMap(e.Metadata.Extra)
	return &c
}

func cloneAnyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			v = cloneAnyMap(mm)
		}
		out[k] = v
	}
	return out
}

// eventBaseSize is the approximate fixed memory of an Event.
const eventBaseSize = 640

// SizeBytes estimates the memory the event holds, used for the queue's byte
// cap. It is cheap (no map iteration): labels count 96 bytes each.
func (e *Event) SizeBytes() int {
	n := eventBaseSize + len(e.EventID) + len(e.CorrelationID) + len(e.ParentRequestID) + len(e.Model) + len(e.Provider) + len(e.ErrorMessage)
	if e.Prompt != nil {
		n += len(*e.Prompt)
	}
	if e.Response != nil {
		n += len(*e.Response)
	}
	// Labels are estimated by count, not walked: starting a map iteration
	// costs more than the whole enqueue, and the cap only needs a bound.
	n += 96 * len(e.Labels)
	for _, tc := range e.ToolCalls {
		n += 64
		if tc.FunctionCall != nil {
			n += len(tc.FunctionCall.Name) + len(tc.FunctionCall.Arguments)
		}
	}
	n += 128 * len(e.Tools)
	n += 64 * (len(e.Metadata.Extra) + len(e.NormalizedInput) + len(e.NormalizedOutput))
	return n
}

// IsError reports whether the event records a failed call.
func (e *Event) IsError() bool { return e.ErrorKind != "" }

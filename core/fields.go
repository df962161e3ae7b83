package core

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Parameters are the generation parameters of a call. Zero values are not
// written (langchaingo cannot tell an unset temperature from 0).
type Parameters struct {
	Temperature       float64        `json:"temperature,omitempty"`
	MaxTokens         int            `json:"max_tokens,omitempty"`
	TopP              float64        `json:"top_p,omitempty"`
	TopK              int            `json:"top_k,omitempty"`
	Stop              []string       `json:"stop,omitempty"`
	Seed              int            `json:"seed,omitempty"`
	N                 int            `json:"n,omitempty"`
	FrequencyPenalty  float64        `json:"frequency_penalty,omitempty"`
	PresencePenalty   float64        `json:"presence_penalty,omitempty"`
	RepetitionPenalty float64        `json:"repetition_penalty,omitempty"`
	JSONMode          bool           `json:"json_mode,omitempty"`
	ToolChoice        any            `json:"tool_choice,omitempty"`
	Extra             map[string]any `json:"-"`
}

var parameterKeys = []string{"temperature", "max_tokens", "top_p", "top_k", "stop", "seed", "n", "frequency_penalty", "presence_penalty", "repetition_penalty", "json_mode", "tool_choice"}

// MarshalJSON writes the known parameters and then Extra's keys.
func (p Parameters) MarshalJSON() ([]byte, error) {
	type plain Parameters
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	return appendExtra(b, p.Extra, parameterKeys)
}

// UnmarshalJSON reads known parameters and keeps other keys in Extra.
func (p *Parameters) UnmarshalJSON(b []byte) error {
	type plain Parameters
	var x plain
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*p = Parameters(x)
	p.Extra = extraKeys(b, parameterKeys)
	return nil
}

// Metadata is the event's metadata object: the fields this SDK writes, plus
// Extra for anything else (user data, fields from other writers).
type Metadata struct {
	FinishReason    string  `json:"finish_reason,omitempty"`
	Stream          bool    `json:"stream,omitempty"`
	StreamEnd       string  `json:"stream_end,omitempty"` // completed, failed, consumer_stopped
	Environment     string  `json:"environment,omitempty"`
	SampleRate      float64 `json:"sample_rate"`
	ErrorClass      string  `json:"error_class,omitempty"`  // Go type of the provider error
	ErrorDetail     string  `json:"error_detail,omitempty"` // auth, invalid_request, context_length, …
	HTTPStatus      int     `json:"http_status,omitempty"`
	TokensEstimated bool    `json:"tokens_estimated,omitempty"`
	CostUnknown     bool    `json:"cost_unknown,omitempty"`
	PricingVersion  string  `json:"pricing_version,omitempty"`
	CacheCreation   int     `json:"cache_creation_input_tokens,omitempty"`
	CallKind        string  `json:"call_kind,omitempty"` // chat, completion, tool
	ContentCut      bool    `json:"content_truncated,omitempty"`
	RedactionMode   string  `json:"redaction_mode,omitempty"`
	Sanitized       bool    `json:"sanitized,omitempty"`
	ReplayOf        string  `json:"replay_of,omitempty"`
	SDK             string  `json:"sdk,omitempty"`

	Extra map[string]any `json:"-"`
}

var metadataKeys = []string{"finish_reason", "stream", "stream_end", "environment", "sample_rate", "error_class", "error_detail", "http_status", "tokens_estimated", "cost_unknown", "pricing_version", "cache_creation_input_tokens", "call_kind", "content_truncated", "redaction_mode", "sanitized", "replay_of", "sdk"}

// MarshalJSON writes the known fields and then Extra's keys. Non-finite
// floats in Extra are written as strings so the document stays valid JSON.
func (m Metadata) MarshalJSON() ([]byte, error) {
	type plain Metadata
	if math.IsNaN(m.SampleRate) || math.IsInf(m.SampleRate, 0) {
		m.SampleRate = 0
	}
	b, err := json.Marshal(plain(m))
	if err != nil || len(m.Extra) == 0 {
		return b, err
	}
	return appendExtra(b, m.Extra, metadataKeys)
}

// UnmarshalJSON reads the known fields and keeps other keys in Extra.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	type plain Metadata
	var x plain
	if err := json.Unmarshal(b, &x); err != nil {
		// Other writers may use other types for our keys: keep everything in Extra.
		var all map[string]any
		if err2 := json.Unmarshal(b, &all); err2 != nil {
			return err
		}
		*m = Metadata{Extra: all}
		return nil
	}
	*m = Metadata(x)
	m.Extra = extraKeys(b, metadataKeys)
	return nil
}

// Set stores key=value in Extra (copying Extra first, so a shared map is never written).
func (m *Metadata) Set(key string, value any) {
	nm := make(map[string]any, len(m.Extra)+1)
	maps.Copy(nm, m.Extra)
	nm[key] = value
	m.Extra = nm
}

func appendExtra(b []byte, extra map[string]any, known []string) ([]byte, error) {
	keys := slices.Sorted(maps.Keys(extra))
	out := b[:len(b)-1] // drop '}'
	first := len(out) == 1
	for _, k := range keys {
		if slices.Contains(known, k) {
			continue
		}
		vb, err := json.Marshal(finite(extra[k]))
		if err != nil {
			vb, _ = json.Marshal(strconv.Quote(err.Error()))
		}
		kb, _ := json.Marshal(k)
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, vb...)
	}
	return append(out, '}'), nil
}

// finite replaces NaN and ±Inf (which JSON cannot hold) by their names.
func finite(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = finite(vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = finite(vv)
		}
		return out
	}
	return v
}

func extraKeys(b []byte, known []string) map[string]any {
	var all map[string]any
	if json.Unmarshal(b, &all) != nil {
		return nil
	}
	for _, k := range known {
		delete(all, k)
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

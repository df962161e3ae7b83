package persist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Bounds Sanitize enforces so an event fits both SQL dialects' columns.
var (
	// minTimestamp and maxTimestamp bound Event.Timestamp to four-digit years,
	// so the fixed-width ISO-8601 text used by SQLite sorts as time does and
	// Postgres TIMESTAMPTZ accepts it.
	minTimestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// Integer columns holding counts (tokens, schema_version) are INTEGER on
// Postgres: 32-bit.
const (
	minInt32 = math.MinInt32
	maxInt32 = math.MaxInt32
)

// replacement replaces NUL bytes and invalid UTF-8 sequences.
const replacement = "\uFFFD"

// Sanitize returns an event that both SQL stores accept as is.
//
// When e already is storable Sanitize returns e itself and false, without
// allocating. Otherwise it returns a corrected deep copy, with
// Metadata.Sanitized set, and true; e is never changed. The corrections:
//
//   - in every string, including label keys and values, tool definitions and
//     calls, prompt, response, error message and the keys and values of
//     Parameters.Extra, Metadata.Extra and the normalized maps (nested maps
//     and lists included), each NUL byte and each invalid UTF-8 sequence
//     becomes U+FFFD (PostgreSQL TEXT and JSONB reject both);
//   - Cost and the float parameters: NaN and ±Inf become 0; in the free-form
//     maps they become the strings "NaN", "+Inf" and "-Inf" (JSON has no
//     such numbers);
//   - token counts and SchemaVersion are clamped to the 32-bit range of the
//     INTEGER columns, Timestamp to the years 1..9999;
//   - a free-form value JSON cannot encode becomes a string naming its type.
//
// When two map keys become equal after correction, one of them is kept: a key
// that needed no correction wins.
//
// Stores call Sanitize on every event they write.
func Sanitize(e *core.Event) (*core.Event, bool) {
	if e == nil || eventOK(e) {
		return e, false
	}
	c := e.Clone()
	fixEvent(c)
	c.Metadata.Sanitized = true
	return c, true
}

// --- checks (never allocate on storable data) ---

func strOK(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

func floatOK(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func int32OK(n int) bool { return n >= minInt32 && n <= maxInt32 }

func eventOK(e *core.Event) bool {
	ts := e.Timestamp
	if ts.Before(minTimestamp) || ts.After(maxTimestamp) {
		return false
	}
	if !strOK(e.EventID) || !strOK(e.CorrelationID) || !strOK(e.ParentRequestID) ||
		!strOK(e.Model) || !strOK(e.Provider) || !strOK(e.ErrorKind) || !strOK(e.ErrorMessage) {
		return false
	}
	if !int32OK(e.InputTokens) || !int32OK(e.OutputTokens) || !int32OK(e.TotalTokens) ||
		!int32OK(e.CachedInputTokens) || !int32OK(e.ReasoningTokens) || !int32OK(e.SchemaVersion) {
		return false
	}
	if !floatOK(e.Cost) {
		return false
	}
	if e.Prompt != nil && !strOK(*e.Prompt) || e.Response != nil && !strOK(*e.Response) {
		return false
	}
	for k, v := range e.Labels {
		if !strOK(k) || !strOK(v) {
			return false
		}
	}
	for i := range e.Tools {
		if !toolOK(&e.Tools[i]) {
			return false
		}
	}
	for i := range e.ToolCalls {
		tc := &e.ToolCalls[i]
		if !strOK(tc.ID) || !strOK(tc.Type) {
			return false
		}
		if fc := tc.FunctionCall; fc != nil && (!strOK(fc.Name) || !strOK(fc.Arguments)) {
			return false
		}
	}
	return paramsOK(&e.Parameters) && metadataOK(&e.Metadata) &&
		mapOK(e.NormalizedInput) && mapOK(e.NormalizedOutput)
}

func toolOK(t *llms.Tool) bool {
	if !strOK(t.Type) {
		return false
	}
	f := t.Function
	return f == nil || strOK(f.Name) && strOK(f.Description) && anyOK(f.Parameters)
}

func paramsOK(p *core.Parameters) bool {
	if !floatOK(p.Temperature) || !floatOK(p.TopP) || !floatOK(p.FrequencyPenalty) ||
		!floatOK(p.PresencePenalty) || !floatOK(p.RepetitionPenalty) {
		return false
	}
	for _, s := range p.Stop {
		if !strOK(s) {
			return false
		}
	}
	return anyOK(p.ToolChoice) && mapOK(p.Extra)
}

func metadataOK(m *core.Metadata) bool {
	return floatOK(m.SampleRate) &&
		strOK(m.FinishReason) && strOK(m.StreamEnd) && strOK(m.Environment) &&
		strOK(m.ErrorClass) && strOK(m.ErrorDetail) && strOK(m.PricingVersion) &&
		strOK(m.CallKind) && strOK(m.RedactionMode) && strOK(m.ReplayOf) && strOK(m.SDK) &&
		mapOK(m.Extra)
}

func mapOK(m map[string]any) bool {
	for k, v := range m {
		if !strOK(k) || !anyOK(v) {
			return false
		}
	}
	return true
}

// anyOK reports whether a free-form value encodes to JSON that both stores
// accept. Common JSON-shaped types are checked without allocating; other
// types are encoded once.
func anyOK(v any) bool {
	switch x := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case float64:
		return floatOK(x)
	case float32:
		return floatOK(float64(x))
	case string:
		return strOK(x)
	case json.Number:
		// Must be a JSON number that decodes into a float64 again.
		f, err := strconv.ParseFloat(string(x), 64)
		return err == nil && floatOK(f) && json.Valid([]byte(x))
	case map[string]any:
		return mapOK(x)
	case []any:
		for _, vv := range x {
			if !anyOK(vv) {
				return false
			}
		}
		return true
	case map[string]string:
		for k, vv := range x {
			if !strOK(k) || !strOK(vv) {
				return false
			}
		}
		return true
	case []string:
		for _, s := range x {
			if !strOK(s) {
				return false
			}
		}
		return true
	}
	// Another type (a struct, a typed map, json.RawMessage): its JSON must
	// have no NUL escape and decode again (numbers within float64's range).
	b, err := json.Marshal(v)
	if err != nil || bytes.Contains(b, []byte(`\u0000`)) {
		return false
	}
	var generic any
	return json.Unmarshal(b, &generic) == nil
}

// --- fixes (on a Clone; never write into containers shared with the input) ---

func fixStr(s string) string {
	if strOK(s) {
		return s
	}
	s = strings.ToValidUTF8(s, replacement)
	return strings.ReplaceAll(s, "\x00", replacement)
}

func fixFloat(f float64) float64 {
	if floatOK(f) {
		return f
	}
	return 0
}

func clampInt32(n int) int { return min(max(n, minInt32), maxInt32) }

func fixEvent(e *core.Event) {
	ts := e.Timestamp
	if ts.Before(minTimestamp) {
		e.Timestamp = minTimestamp
	} else if ts.After(maxTimestamp) {
		e.Timestamp = maxTimestamp
	}
	e.EventID = fixStr(e.EventID)
	e.CorrelationID = fixStr(e.CorrelationID)
	e.ParentRequestID = fixStr(e.ParentRequestID)
	e.Model = fixStr(e.Model)
	e.Provider = fixStr(e.Provider)
	e.ErrorKind = fixStr(e.ErrorKind)
	e.ErrorMessage = fixStr(e.ErrorMessage)
	e.InputTokens = clampInt32(e.InputTokens)
	e.OutputTokens = clampInt32(e.OutputTokens)
	e.TotalTokens = clampInt32(e.TotalTokens)
	e.CachedInputTokens = clampInt32(e.CachedInputTokens)
	e.ReasoningTokens = clampInt32(e.ReasoningTokens)
	e.SchemaVersion = clampInt32(e.SchemaVersion)
	e.Cost = fixFloat(e.Cost)
	if e.Prompt != nil {
		s := fixStr(*e.Prompt)
		e.Prompt = &s
	}
	if e.Response != nil {
		s := fixStr(*e.Response)
		e.Response = &s
	}
	if !labelsOK(e.Labels) {
		e.Labels = fixLabels(e.Labels)
	}
	for i := range e.Tools { // Clone copied the slice, not the *FunctionDefinition
		t := &e.Tools[i]
		t.Type = fixStr(t.Type)
		if t.Function != nil && !toolOK(t) {
			f := *t.Function
			f.Name = fixStr(f.Name)
			f.Description = fixStr(f.Description)
			f.Parameters = fixAny(f.Parameters)
			t.Function = &f
		}
	}
	for i := range e.ToolCalls { // Clone copied each *FunctionCall
		tc := &e.ToolCalls[i]
		tc.ID = fixStr(tc.ID)
		tc.Type = fixStr(tc.Type)
		if fc := tc.FunctionCall; fc != nil {
			fc.Name = fixStr(fc.Name)
			fc.Arguments = fixStr(fc.Arguments)
		}
	}
	p := &e.Parameters
	p.Temperature = fixFloat(p.Temperature)
	p.TopP = fixFloat(p.TopP)
	p.FrequencyPenalty = fixFloat(p.FrequencyPenalty)
	p.PresencePenalty = fixFloat(p.PresencePenalty)
	p.RepetitionPenalty = fixFloat(p.RepetitionPenalty)
	for i, s := range p.Stop {
		p.Stop[i] = fixStr(s)
	}
	p.ToolChoice = fixAny(p.ToolChoice)
	p.Extra = fixMap(p.Extra)
	m := &e.Metadata
	m.SampleRate = fixFloat(m.SampleRate)
	for _, s := range []*string{&m.FinishReason, &m.StreamEnd, &m.Environment, &m.ErrorClass,
		&m.ErrorDetail, &m.PricingVersion, &m.CallKind, &m.RedactionMode, &m.ReplayOf, &m.SDK} {
		*s = fixStr(*s)
	}
	m.Extra = fixMap(m.Extra)
	e.NormalizedInput = fixMap(e.NormalizedInput)
	e.NormalizedOutput = fixMap(e.NormalizedOutput)
}

func labelsOK(m map[string]string) bool {
	for k, v := range m {
		if !strOK(k) || !strOK(v) {
			return false
		}
	}
	return true
}

// fixLabels returns a new map with corrected keys and values. Keys that
// needed no correction are placed first, then corrected ones in sorted order,
// so a collision resolves the same way every time.
func fixLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	var bad []string
	for k, v := range m {
		if strOK(k) {
			out[k] = fixStr(v)
		} else {
			bad = append(bad, k)
		}
	}
	slices.Sort(bad)
	for _, k := range bad {
		fk := fixStr(k)
		if _, dup := out[fk]; !dup {
			out[fk] = fixStr(m[k])
		}
	}
	return out
}

// fixMap returns m when it is storable, else a new map (see fixLabels for
// key collisions).
func fixMap(m map[string]any) map[string]any {
	if mapOK(m) {
		return m
	}
	out := make(map[string]any, len(m))
	var bad []string
	for k, v := range m {
		if strOK(k) {
			out[k] = fixAny(v)
		} else {
			bad = append(bad, k)
		}
	}
	slices.Sort(bad)
	for _, k := range bad {
		fk := fixStr(k)
		if _, dup := out[fk]; !dup {
			out[fk] = fixAny(m[k])
		}
	}
	return out
}

// fixAny returns v when it is storable, else a corrected copy.
func fixAny(v any) any {
	if anyOK(v) {
		return v
	}
	switch x := v.(type) {
	case float64:
		return nonFinite(x)
	case float32:
		return nonFinite(float64(x))
	case string:
		return fixStr(x)
	case json.Number:
		return fixStr(string(x))
	case map[string]any:
		return fixMap(x)
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = fixAny(vv)
		}
		return out
	case map[string]string:
		return fixLabels(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = fixStr(s)
		}
		return out
	}
	// Another type: go through its JSON form.
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<unserializable %T>", v)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return fmt.Sprintf("<unserializable %T>", v)
	}
	return fixAny(generic)
}

// nonFinite names a NaN or infinity as core's JSON encoding does.
func nonFinite(f float64) any {
	if floatOK(f) {
		return f
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// sanitizeBatch returns events with every event sanitized, reusing the input
// slice's events (and the input slice itself when nothing changed).
func sanitizeBatch(events []*core.Event) []*core.Event {
	out, copied := events, false
	for i, e := range events {
		if c, changed := Sanitize(e); changed {
			if !copied {
				out, copied = slices.Clone(events), true
			}
			out[i] = c
		}
	}
	return out
}

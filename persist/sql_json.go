package persist

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Fast JSON encoders for the JSON columns. They write what encoding/json
// (and core's MarshalJSON methods) write, up to key order and HTML
// escaping, without reflection on the hot path: the write path spends most
// of its CPU here otherwise. sql_json_test.go checks them against
// encoding/json.

// plainParameters and plainMetadata have core's fields and tags but not its
// MarshalJSON methods; Extra is tagged json:"-".
type (
	plainParameters core.Parameters
	plainMetadata   core.Metadata
)

// Known JSON keys of Parameters and Metadata: an Extra key equal to one of
// them is not written (as core's MarshalJSON does).
var (
	parameterJSONKeys = jsonFieldNames(reflect.TypeFor[core.Parameters]())
	metadataJSONKeys  = jsonFieldNames(reflect.TypeFor[core.Metadata]())
)

func jsonFieldNames(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = true
	}
	return out
}

// structEncoder encodes structs with encoding/json into a reused buffer.
type structEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (s *structEncoder) encode(v any) ([]byte, error) {
	if s.enc == nil {
		s.enc = json.NewEncoder(&s.buf)
		s.enc.SetEscapeHTML(false)
	}
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")), nil
}

// The fast Parameters and Metadata encoders know these fields (Go name and
// json tag). If core's structs ever differ, encoding falls back to
// encoding/json (TestSQLJSONFastPathsActive then fails as a reminder).
var (
	parameterFields = []string{"Temperature temperature,omitempty", "MaxTokens max_tokens,omitempty",
		"TopP top_p,omitempty", "TopK top_k,omitempty", "Stop stop,omitempty", "Seed seed,omitempty",
		"N n,omitempty", "FrequencyPenalty frequency_penalty,omitempty", "PresencePenalty presence_penalty,omitempty",
		"RepetitionPenalty repetition_penalty,omitempty", "JSONMode json_mode,omitempty",
		"ToolChoice tool_choice,omitempty", "Extra -"}
	metadataFields = []string{"FinishReason finish_reason,omitempty", "Stream stream,omitempty",
		"StreamEnd stream_end,omitempty", "Environment environment,omitempty", "SampleRate sample_rate",
		"ErrorClass error_class,omitempty", "ErrorDetail error_detail,omitempty", "HTTPStatus http_status,omitempty",
		"TokensEstimated tokens_estimated,omitempty", "CostUnknown cost_unknown,omitempty",
		"PricingVersion pricing_version,omitempty", "CacheCreation cache_creation_input_tokens,omitempty",
		"CallKind call_kind,omitempty", "ContentCut content_truncated,omitempty",
		"RedactionMode redaction_mode,omitempty", "Sanitized sanitized,omitempty", "ReplayOf replay_of,omitempty",
		"SDK sdk,omitempty", "Extra -"}
	parametersFast = fieldsAre(reflect.TypeFor[core.Parameters](), parameterFields)
	metadataFast   = fieldsAre(reflect.TypeFor[core.Metadata](), metadataFields)
)

func fieldsAre(t reflect.Type, want []string) bool {
	var got []string
	for f := range t.Fields() {
		got = append(got, f.Name+" "+f.Tag.Get("json"))
	}
	return slices.Equal(got, want)
}

// objWriter writes a JSON object's members.
type objWriter struct {
	b   []byte
	n   int
	err error
}

func (w *objWriter) sep() {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
}

// key starts a member; k is one of our ASCII field names.
func (w *objWriter) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *objWriter) str(k, v string) {
	if v != "" {
		w.key(k)
		w.b = appendJSONString(w.b, v)
	}
}

func (w *objWriter) boolean(k string, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, "true"...)
	}
}

func (w *objWriter) integer(k string, v int) {
	if v != 0 {
		w.key(k)
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	}
}

func (w *objWriter) float(k string, v float64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	w.key(k)
	var err error
	if w.b, err = appendFloat(w.b, v, 64); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *objWriter) value(k string, v any) {
	w.key(k)
	var err error
	if w.b, err = appendAny(w.b, v); err != nil && w.err == nil {
		w.err = err
	}
}

// extra writes the keys of extra that are not known, sorted.
func (w *objWriter) extra(extra map[string]any, known map[string]bool) {
	if len(extra) == 0 {
		return
	}
	var arr [16]string
	for _, k := range appendSortedKeys(arr[:0], extra) {
		if !known[k] {
			w.sep()
			w.b = appendJSONString(w.b, k)
			w.b = append(w.b, ':')
			var err error
			if w.b, err = appendAny(w.b, extra[k]); err != nil && w.err == nil {
				w.err = err
			}
		}
	}
}

// appendParameters writes p as core.Parameters.MarshalJSON does.
func appendParameters(b []byte, se *structEncoder, p *core.Parameters) ([]byte, error) {
	if !parametersFast {
		pb, err := se.encode((*plainParameters)(p))
		if err != nil {
			return b, err
		}
		return appendWithExtra(b, pb, p.Extra, parameterJSONKeys)
	}
	w := objWriter{b: append(b, '{')}
	w.float("temperature", p.Temperature, true)
	w.integer("max_tokens", p.MaxTokens)
	w.float("top_p", p.TopP, true)
	w.integer("top_k", p.TopK)
	if len(p.Stop) > 0 {
		w.value("stop", p.Stop)
	}
	w.integer("seed", p.Seed)
	w.integer("n", p.N)
	w.float("frequency_penalty", p.FrequencyPenalty, true)
	w.float("presence_penalty", p.PresencePenalty, true)
	w.float("repetition_penalty", p.RepetitionPenalty, true)
	w.boolean("json_mode", p.JSONMode)
	if p.ToolChoice != nil {
		w.value("tool_choice", p.ToolChoice)
	}
	w.extra(p.Extra, parameterJSONKeys)
	return append(w.b, '}'), w.err
}

// appendMetadata writes m as core.Metadata.MarshalJSON does.
func appendMetadata(b []byte, se *structEncoder, m *core.Metadata) ([]byte, error) {
	if !metadataFast {
		mb, err := se.encode((*plainMetadata)(m))
		if err != nil {
			return b, err
		}
		return appendWithExtra(b, mb, m.Extra, metadataJSONKeys)
	}
	w := objWriter{b: append(b, '{')}
	w.str("finish_reason", m.FinishReason)
	w.boolean("stream", m.Stream)
	w.str("stream_end", m.StreamEnd)
	w.str("environment", m.Environment)
	w.float("sample_rate", m.SampleRate, false)
	w.str("error_class", m.ErrorClass)
	w.str("error_detail", m.ErrorDetail)
	w.integer("http_status", m.HTTPStatus)
	w.boolean("tokens_estimated", m.TokensEstimated)
	w.boolean("cost_unknown", m.CostUnknown)
	w.str("pricing_version", m.PricingVersion)
	w.integer("cache_creation_input_tokens", m.CacheCreation)
	w.str("call_kind", m.CallKind)
	w.boolean("content_truncated", m.ContentCut)
	w.str("redaction_mode", m.RedactionMode)
	w.boolean("sanitized", m.Sanitized)
	w.str("replay_of", m.ReplayOf)
	w.str("sdk", m.SDK)
	w.extra(m.Extra, metadataJSONKeys)
	return append(w.b, '}'), w.err
}

// appendWithExtra appends the object obj with extra's keys (sorted, known
// keys skipped) added.
func appendWithExtra(b, obj []byte, extra map[string]any, known map[string]bool) ([]byte, error) {
	if len(extra) == 0 {
		return append(b, obj...), nil
	}
	b = append(b, obj[:len(obj)-1]...) // drop '}'
	first := len(obj) == 2
	var err error
	var arr [16]string
	for _, k := range appendSortedKeys(arr[:0], extra) {
		if known[k] {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		if b, err = appendAny(b, extra[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendSortedKeys appends m's keys to dst, sorted. Callers pass a small
// array's slice so that common maps need no allocation.
func appendSortedKeys[V any](dst []string, m map[string]V) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// appendLabels writes a string map as a JSON object with sorted keys.
func appendLabels(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	var arr [16]string
	for i, k := range appendSortedKeys(arr[:0], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendToolCalls writes tool calls in OpenAI's shape (see toolCallRow).
func appendToolCalls(b []byte, tcs []llms.ToolCall) []byte {
	b = append(b, '[')
	for i, tc := range tcs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, tc.ID)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, tc.Type)
		if fc := tc.FunctionCall; fc != nil {
			b = append(b, `,"function":{"name":`...)
			b = appendJSONString(b, fc.Name)
			b = append(b, `,"arguments":`...)
			b = appendJSONString(b, fc.Arguments)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendTools writes tool definitions as encoding/json does.
func appendTools(b []byte, tools []llms.Tool) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i, t := range tools {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendJSONString(b, t.Type)
		if f := t.Function; f != nil {
			b = append(b, `,"function":{"name":`...)
			b = appendJSONString(b, f.Name)
			b = append(b, `,"description":`...)
			b = appendJSONString(b, f.Description)
			if f.Parameters != nil {
				b = append(b, `,"parameters":`...)
				if b, err = appendAny(b, f.Parameters); err != nil {
					return b, err
				}
			}
			if f.Strict {
				b = append(b, `,"strict":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendAnyMap writes a free-form object with sorted keys.
func appendAnyMap(b []byte, m map[string]any) ([]byte, error) {
	b = append(b, '{')
	var err error
	var arr [16]string
	for i, k := range appendSortedKeys(arr[:0], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if b, err = appendAny(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendAny writes a free-form value; uncommon types go through
// encoding/json.
func appendAny(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendJSONString(b, x), nil
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case map[string]any:
		return appendAnyMap(b, x)
	case []any:
		b = append(b, '[')
		var err error
		for i, vv := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendAny(b, vv); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		return appendLabels(b, x), nil
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	}
	vb, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, vb...), nil
}

// appendFloat formats like encoding/json (ES6 number formatting).
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if !floatOK(f) {
		return b, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 → e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as with encoding/json.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

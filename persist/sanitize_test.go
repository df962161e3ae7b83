package persist

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// dump renders v deeply and exactly (floats by their bits, pointers by what
// they point to, maps by sorted key), to prove an input was not changed.
func sanDump(v any) string {
	var b strings.Builder
	sanDumpValue(&b, reflect.ValueOf(v))
	return b.String()
}

func sanDumpValue(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString("&")
		sanDumpValue(b, v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			b.WriteString(t.Format(time.RFC3339Nano))
			return
		}
		b.WriteString("{")
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			fmt.Fprintf(b, "%s:", v.Type().Field(i).Name)
			sanDumpValue(b, v.Field(i))
			b.WriteString(",")
		}
		b.WriteString("}")
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("nilmap")
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
		b.WriteString("map{")
		for _, k := range keys {
			fmt.Fprintf(b, "%q:", fmt.Sprint(k))
			sanDumpValue(b, v.MapIndex(k))
			b.WriteString(",")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nilslice")
			return
		}
		b.WriteString("[")
		for i := range v.Len() {
			sanDumpValue(b, v.Index(i))
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(b, "f%x", math.Float64bits(v.Float()))
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}

// walk calls str for every string and num for every float in v, map keys
// included.
func sanWalk(v reflect.Value, str func(string), num func(float64)) {
	if !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			sanWalk(v.Elem(), str, num)
		}
	case reflect.Struct:
		if _, ok := v.Interface().(time.Time); ok {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				sanWalk(v.Field(i), str, num)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			sanWalk(k, str, num)
			sanWalk(v.MapIndex(k), str, num)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			sanWalk(v.Index(i), str, num)
		}
	case reflect.String:
		str(v.String())
	case reflect.Float32, reflect.Float64:
		num(v.Float())
	}
}

// sanCheckStorable fails t unless every string of e is valid UTF-8 without NUL,
// every float is finite and the event encodes to JSON.
func sanCheckStorable(t testing.TB, e *core.Event) {
	t.Helper()
	sanWalk(reflect.ValueOf(e), func(s string) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("unstorable string %q", s)
		}
	}, func(f float64) {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("non-finite float %v", f)
		}
	})
	if e.Timestamp.Year() < 1 || e.Timestamp.Year() > 9999 {
		t.Fatalf("timestamp out of range: %v", e.Timestamp)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if strings.Contains(string(b), `\u0000`) {
		t.Fatalf("JSON holds a NUL escape: %s", b)
	}
}

func sanCleanEvent() *core.Event {
	p := "hello"
	return &core.Event{
		EventID:   "id-1",
		Timestamp: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		Model:     "gpt-4o-mini",
		Provider:  "openai",
		Cost:      0.01,
		Labels:    map[string]string{"team": "search"},
		Prompt:    &p,
		Tools:     []llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{Name: "f", Parameters: map[string]any{"type": "object"}}}},
		ToolCalls: []llms.ToolCall{{ID: "c", Type: "function", FunctionCall: &llms.FunctionCall{Name: "f", Arguments: "{}"}}},
		Parameters: core.Parameters{Temperature: 0.5, Stop: []string{"x"}, ToolChoice: "auto",
			Extra: map[string]any{"k": []any{1.0, "s", map[string]any{"n": nil}}}},
		Metadata:        core.Metadata{SampleRate: 1, Extra: map[string]any{"user": "u", "ids": []string{"a"}, "m": map[string]string{"a": "b"}}},
		NormalizedInput: map[string]any{"type": "chat"},
	}
}

type sanCustomExtra struct {
	Name string  `json:"name"`
	F    float64 `json:"f"`
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *core.Event)
		check  func(is *is.I, out *core.Event)
	}{
		{"NUL in prompt", func(e *core.Event) { p := "a\x00b"; e.Prompt = &p },
			func(is *is.I, out *core.Event) { is.Equal(*out.Prompt, "a\uFFFDb") }},
		{"invalid UTF-8 in label key and value", func(e *core.Event) { e.Labels = map[string]string{"k\xff": "v\xc3\x28", "ok": "fine"} },
			func(is *is.I, out *core.Event) {
				is.Equal(out.Labels, map[string]string{"k\uFFFD": "v\uFFFD(", "ok": "fine"})
			}},
		{"label key collision keeps the clean key", func(e *core.Event) {
			e.Labels = map[string]string{"a\uFFFD": "clean", "a\x00": "dirty", "a\xff": "dirty2"}
		},
			func(is *is.I, out *core.Event) { is.Equal(out.Labels, map[string]string{"a\uFFFD": "clean"}) }},
		{"cost NaN", func(e *core.Event) { e.Cost = math.NaN() },
			func(is *is.I, out *core.Event) { is.Equal(out.Cost, 0.0) }},
		{"cost +Inf", func(e *core.Event) { e.Cost = math.Inf(1) },
			func(is *is.I, out *core.Event) { is.Equal(out.Cost, 0.0) }},
		{"NaN and Inf in metadata extras, nested", func(e *core.Event) {
			e.Metadata.Extra = map[string]any{"nan": math.NaN(), "inf": float32(math.Inf(-1)), "deep": []any{map[string]any{"x": math.Inf(1)}}}
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.Metadata.Extra["nan"], "NaN")
			is.Equal(out.Metadata.Extra["inf"], "-Inf")
			is.Equal(out.Metadata.Extra["deep"].([]any)[0].(map[string]any)["x"], "+Inf")
		}},
		{"sample rate and temperature NaN", func(e *core.Event) { e.Metadata.SampleRate = math.NaN(); e.Parameters.TopP = math.Inf(1) },
			func(is *is.I, out *core.Event) {
				is.Equal(out.Metadata.SampleRate, 0.0)
				is.Equal(out.Parameters.TopP, 0.0)
			}},
		{"tokens clamped", func(e *core.Event) { e.InputTokens = 1 << 40; e.ReasoningTokens = -(1 << 40) },
			func(is *is.I, out *core.Event) {
				is.Equal(out.InputTokens, math.MaxInt32)
				is.Equal(out.ReasoningTokens, math.MinInt32)
			}},
		{"timestamp clamped", func(e *core.Event) { e.Timestamp = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC) },
			func(is *is.I, out *core.Event) { is.Equal(out.Timestamp.Year(), 9999) }},
		{"tool definition and call", func(e *core.Event) {
			e.Tools[0].Function.Description = "d\x00"
			e.Tools[0].Function.Parameters = map[string]any{"p\xff": "q"}
			e.ToolCalls[0].FunctionCall.Arguments = "{\"a\":\"\x00\"}"
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.Tools[0].Function.Description, "d\uFFFD")
			is.Equal(out.Tools[0].Function.Parameters, map[string]any{"p\uFFFD": "q"})
			is.Equal(out.ToolCalls[0].FunctionCall.Arguments, "{\"a\":\"\uFFFD\"}")
		}},
		{"parameters extra and stop", func(e *core.Event) {
			e.Parameters.Stop = []string{"\x00"}
			e.Parameters.Extra = map[string]any{"\x00": []string{"\xff"}}
			e.Parameters.ToolChoice = map[string]any{"name": "\xff"}
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.Parameters.Stop, []string{"\uFFFD"})
			is.Equal(out.Parameters.Extra, map[string]any{"\uFFFD": []string{"\uFFFD"}})
			is.Equal(out.Parameters.ToolChoice, map[string]any{"name": "\uFFFD"})
		}},
		{"strings everywhere", func(e *core.Event) {
			e.EventID, e.CorrelationID, e.ParentRequestID = "i\x00", "c\xff", "p\x00"
			e.Model, e.Provider, e.ErrorKind, e.ErrorMessage = "m\x00", "p\xff", "k\x00", "boom\x00"
			r := "\xed\xa0\x80" // an encoded surrogate is invalid UTF-8
			e.Response = &r
			e.Metadata.FinishReason = "s\x00"
			e.NormalizedOutput = map[string]any{"k": "\x00"}
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.EventID, "i\uFFFD")
			is.Equal(out.ErrorMessage, "boom\uFFFD")
			is.True(utf8.ValidString(*out.Response))
			is.Equal(out.Metadata.FinishReason, "s\uFFFD")
			is.Equal(out.NormalizedOutput["k"], "\uFFFD")
		}},
		{"custom type with NUL goes through JSON", func(e *core.Event) {
			e.Metadata.Extra = map[string]any{"c": sanCustomExtra{Name: "a\x00"}}
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.Metadata.Extra["c"], map[string]any{"name": "a\uFFFD", "f": 0.0})
		}},
		{"custom type JSON cannot encode", func(e *core.Event) {
			e.Metadata.Extra = map[string]any{"c": sanCustomExtra{F: math.NaN()}, "ch": make(chan int)}
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.Metadata.Extra["c"], "<unserializable persist.sanCustomExtra>")
			is.Equal(out.Metadata.Extra["ch"], "<unserializable chan int>")
		}},
		{"json.Number out of float range", func(e *core.Event) {
			e.Metadata.Extra = map[string]any{"n": json.Number("1e999"), "ok": json.Number("12")}
		}, func(is *is.I, out *core.Event) {
			is.Equal(out.Metadata.Extra["n"], "1e999")
			is.Equal(out.Metadata.Extra["ok"], json.Number("12"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			in := sanCleanEvent()
			tt.change(in)
			before := sanDump(in)
			out, changed := Sanitize(in)
			is.True(changed)
			is.True(out != in)
			is.True(out.Metadata.Sanitized)
			is.Equal(sanDump(in), before) // input untouched
			tt.check(is, out)
			sanCheckStorable(t, out)
			again, changed := Sanitize(out)
			is.True(!changed) // idempotent
			is.True(again == out)
		})
	}
}

func TestSanitizeCleanEventIsReturnedAsIs(t *testing.T) {
	is := is.New(t)
	e := sanCleanEvent()
	out, changed := Sanitize(e)
	is.True(!changed)
	is.True(out == e)
	is.True(!out.Metadata.Sanitized)
	out, changed = Sanitize(nil)
	is.True(!changed)
	is.True(out == nil)
}

func TestSanitizeCleanEventDoesNotAllocate(t *testing.T) {
	e := sanCleanEvent()
	e.Metadata.Extra = map[string]any{"user": "u", "ids": []string{"a"}, "nested": map[string]any{"n": 1.0}}
	if n := testing.AllocsPerRun(100, func() { Sanitize(e) }); n != 0 {
		t.Fatalf("Sanitize allocated %v times on a clean event", n)
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("id", "prompt", "key", "value", "extra", 1.5, int64(10), []byte(`{"a":[1,"x",{"b":null}]}`))
	f.Add("i\x00d", "p\xffq", "k\xc3", "v\x00", "\xed\xa0\x80", math.NaN(), int64(1)<<40, []byte(`{"\u0000":"\ud800"}`))
	f.Fuzz(func(t *testing.T, id, text, key, val, extraKey string, num float64, n int64, raw []byte) {
		var generic any
		_ = json.Unmarshal(raw, &generic)
		args := text
		e := &core.Event{
			EventID:      id,
			Timestamp:    time.Unix(n, 0),
			Model:        text,
			ErrorMessage: val,
			Cost:         num,
			InputTokens:  int(n),
			Labels:       map[string]string{key: val, val: key},
			Prompt:       &text,
			ToolCalls:    []llms.ToolCall{{ID: key, FunctionCall: &llms.FunctionCall{Name: val, Arguments: args}}},
			Parameters:   core.Parameters{Temperature: num, Stop: []string{key}, Extra: map[string]any{extraKey: generic}},
			Metadata: core.Metadata{SampleRate: num, Environment: val,
				Extra: map[string]any{extraKey: num, key: []any{val, num, map[string]any{val: generic}}}},
			NormalizedInput: map[string]any{key: generic},
		}
		before := sanDump(e)
		out, changed := Sanitize(e)
		if sanDump(e) != before {
			t.Fatal("Sanitize changed its input")
		}
		if !changed && out != e {
			t.Fatal("unchanged event must be returned as is")
		}
		if changed && !out.Metadata.Sanitized {
			t.Fatal("a changed event must be marked sanitized")
		}
		sanCheckStorable(t, out)
		again, changed2 := Sanitize(out)
		if changed2 || again != out {
			t.Fatal("Sanitize is not idempotent")
		}
	})
}

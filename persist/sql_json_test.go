package persist

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// sqlJSONSame checks that got is valid JSON meaning the same as want.
func sqlJSONSame(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

type sqlJSONCustom struct {
	A string `json:"a"`
}

func TestSQLJSONFastPathsActive(t *testing.T) {
	if !parametersFast || !metadataFast {
		t.Fatal("core.Parameters or core.Metadata changed: update parameterFields/metadataFields and the fast encoders in sql_json.go")
	}
}

func TestSQLJSONEncodersMatchEncodingJSON(t *testing.T) {
	for _, fast := range []bool{true, false} {
		pf, mf := parametersFast, metadataFast
		parametersFast, metadataFast = fast, fast
		t.Run(map[bool]string{true: "fast", false: "fallback"}[fast], sqlJSONEncodersMatch)
		parametersFast, metadataFast = pf, mf
	}
}

func sqlJSONEncodersMatch(t *testing.T) {
	e := sqlFullEvent("id", time.Now())
	e.Metadata.Extra["floats"] = []any{0.0, -0.0, 1e-7, 1e21, 123456789.125, float32(0.1), math.MaxFloat64, math.SmallestNonzeroFloat64}
	e.Metadata.Extra["ints"] = []any{int64(math.MaxInt64), int32(-5), 7}
	e.Metadata.Extra["strs"] = []string{"<&>", "\u2028", "tab\tnl\nquote\"back\\", "\x01\x1f\x7f", "é🚀"}
	e.Metadata.Extra["custom"] = sqlJSONCustom{A: "x"}
	e.Metadata.Extra["number"] = json.Number("12.50")
	e.Metadata.Extra["stream"] = "an Extra key equal to a known key is not written"
	e.Parameters.Extra["temperature"] = 99.0
	e.Tools = append(e.Tools, llms.Tool{Type: "function"}, llms.Tool{Type: "x", Function: &llms.FunctionDefinition{Name: "n"}})
	e.ToolCalls = append(e.ToolCalls, llms.ToolCall{ID: "no-function", Type: "function"})

	is := is.New(t)
	got, err := appendParameters(nil, new(structEncoder), &e.Parameters)
	is.NoErr(err)
	want, err := json.Marshal(e.Parameters)
	is.NoErr(err)
	sqlJSONSame(t, got, want)

	got, err = appendMetadata(nil, new(structEncoder), &e.Metadata)
	is.NoErr(err)
	want, err = json.Marshal(e.Metadata)
	is.NoErr(err)
	sqlJSONSame(t, got, want)

	got, err = appendTools(nil, e.Tools)
	is.NoErr(err)
	want, err = json.Marshal(e.Tools)
	is.NoErr(err)
	sqlJSONSame(t, got, want)

	got = appendToolCalls(nil, e.ToolCalls)
	want, err = json.Marshal(toolCallRows(e.ToolCalls))
	is.NoErr(err)
	sqlJSONSame(t, got, want)

	sqlJSONSame(t, appendLabels(nil, e.Labels), sqlMust(json.Marshal(e.Labels)))
	sqlJSONSame(t, appendLabels(nil, nil), []byte("{}"))
	many := map[string]string{}
	for i := range 40 {
		many[string(rune('a'+i))] = "v"
	}
	sqlJSONSame(t, appendLabels(nil, many), sqlMust(json.Marshal(many)))

	got, err = appendAnyMap(nil, e.Metadata.Extra)
	is.NoErr(err)
	sqlJSONSame(t, got, sqlMust(json.Marshal(e.Metadata.Extra)))

	// Floats are written byte for byte as encoding/json writes them.
	for _, f := range []float64{0, 1, -1.5, 1e-7, 1e-6, 1e20, 1e21, 1e-9, 123.456, math.MaxFloat64} {
		b, err := appendFloat(nil, f, 64)
		is.NoErr(err)
		is.Equal(string(b), string(sqlMust(json.Marshal(f))))
	}
	_, err = appendFloat(nil, math.NaN(), 64)
	is.True(err != nil)
	// Strings too (apart from HTML escaping, which storage does not need).
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x01\n\r\t\x1f", "é🚀", "bad\xffutf8"} {
		var dec string
		is.NoErr(json.Unmarshal(appendJSONString(nil, s), &dec))
		var want string
		is.NoErr(json.Unmarshal(sqlMust(json.Marshal(s)), &want))
		is.Equal(dec, want)
	}
}

// Every field of Parameters and Metadata survives the fast encoder and the
// decoder, including fields added to core later (set here by reflection).
func TestSQLJSONEncodersKeepEveryField(t *testing.T) {
	is := is.New(t)
	var p core.Parameters
	var m core.Metadata
	sqlFillFields(reflect.ValueOf(&p).Elem())
	sqlFillFields(reflect.ValueOf(&m).Elem())
	pb, err := appendParameters(nil, new(structEncoder), &p)
	is.NoErr(err)
	var p2 core.Parameters
	is.NoErr(json.Unmarshal(pb, &p2))
	is.Equal(sqlMust(json.Marshal(p2)), sqlMust(json.Marshal(p)))
	mb, err := appendMetadata(nil, new(structEncoder), &m)
	is.NoErr(err)
	var m2 core.Metadata
	is.NoErr(json.Unmarshal(mb, &m2))
	is.Equal(sqlMust(json.Marshal(m2)), sqlMust(json.Marshal(m)))
}

// sqlFillFields sets every exported field but Extra to a non-zero value.
func sqlFillFields(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() || v.Type().Field(i).Name == "Extra" {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64, reflect.Int32:
			f.SetInt(int64(i + 1))
		case reflect.Float64, reflect.Float32:
			f.SetFloat(float64(i) + 0.5)
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				f.Set(reflect.ValueOf([]string{"a", "b"}))
			}
		case reflect.Interface:
			f.Set(reflect.ValueOf("auto"))
		}
	}
}

func sqlMust(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

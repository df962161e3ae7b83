package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return false }

var _ net.Error = timeoutErr{}

func TestClassifyError(t *testing.T) {
	for _, tc := range []struct {
		err          error
		kind, detail string
		status       int
	}{
		{errors.New("API returned unexpected status code: 429: Rate limit reached"), "rate_limit", "rate_limit", 429},
		{errors.New("API returned unexpected status code: 429: You exceeded your current quota"), "rate_limit", "quota", 429},
		{errors.New("API returned unexpected status code: 401: Incorrect API key"), "provider_error", "auth", 401},
		{errors.New("API returned unexpected status code: 400: This model's maximum context length is 8192"), "provider_error", "context_length", 400},
		{errors.New("API returned unexpected status code: 400: flagged by content filter"), "provider_error", "content_filter", 400},
		{errors.New("API returned unexpected status code: 400: bad"), "provider_error", "invalid_request", 400},
		{errors.New("API returned unexpected status code: 503"), "provider_error", "server_error", 503},
		{errors.New("API returned unexpected status code: 504: gateway"), "timeout", "timeout", 504},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "timeout", "timeout", 0},
		{context.Canceled, "unknown", "cancelled", 0},
		{errors.New("request cancelled"), "unknown", "cancelled", 0},
		{errors.New("request timeout: API call exceeded deadline"), "timeout", "timeout", 0},
		{&net.OpError{Op: "dial", Err: timeoutErr{}}, "timeout", "timeout", 0},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, "provider_error", "network", 0},
		{&json.SyntaxError{}, "parsing_error", "", 0},
		{&llms.Error{Code: llms.ErrCodeTokenLimit, Message: "too long"}, "provider_error", "context_length", 0},
		{&llms.Error{Code: llms.ErrCodeRateLimit}, "rate_limit", "rate_limit", 0},
		{errors.New("something odd"), "unknown", "", 0},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			is := is.New(t)
			ec := core.ClassifyError(tc.err)
			is.Equal(ec.Kind, tc.kind)
			is.Equal(ec.Detail, tc.detail)
			is.Equal(ec.HTTPStatus, tc.status)
			is.True(ec.GoType != "")
		})
	}
	is.New(t).Equal(core.ClassifyError(nil), core.ErrorClass{})
}

// A batch written by Python LeanLLM (model_dump(mode="json")) reads back.
func TestEventReadsPythonShape(t *testing.T) {
	is := is.New(t)
	raw := `{"event_id":"e1","correlation_id":null,"parent_request_id":"p","timestamp":"2026-11-28T10:00:00.123456+00:00",
	"model":"gpt-4o-mini","provider":"openai","input_tokens":3,"output_tokens":2,"total_tokens":5,"cost":0.1,"latency_ms":12.0,
	"time_to_first_token_ms":null,"total_stream_time_ms":null,"parameters":{"temperature":0.5,"custom":"x"},"tools":null,
	"tool_calls":[{"id":"c1","name":"search","arguments":{"q":"go"}}],"error_kind":null,"error_message":null,
	"labels":{"team":"a","n":3},"prompt":null,"response":null,"normalized_input":{"type":"chat","nested":{"a":1}},
	"normalized_output":null,"metadata":{"sample_rate":0.5,"python_only":true},"schema_version":2,"future_key":[1,2]}`
	var e core.Event
	is.NoErr(json.Unmarshal([]byte(raw), &e))
	is.Equal(e.EventID, "e1")
	is.Equal(e.Timestamp.Nanosecond(), 123456000)
	is.Equal(e.LatencyMS, int64(12))
	is.Equal(e.Parameters.Temperature, 0.5)
	is.Equal(e.Parameters.Extra["custom"], "x")
	is.Equal(e.ToolCalls[0].FunctionCall.Name, "search")
	is.Equal(e.ToolCalls[0].FunctionCall.Arguments, `{"q":"go"}`)
	is.Equal(e.Labels["n"], "3")
	is.Equal(e.Metadata.SampleRate, 0.5)
	is.Equal(e.Metadata.Extra["python_only"], true)
	is.Equal(e.NormalizedInput["nested"].(map[string]any)["a"], 1.0)

	b, err := json.Marshal(&e)
	is.NoErr(err)
	s := string(b)
	is.True(strings.Contains(s, `"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":\"go\"}"}}]`))
	is.True(strings.Contains(s, `"python_only":true`))
	is.True(strings.Contains(s, `"custom":"x"`))
}

func TestMetadataNonFiniteStaysValidJSON(t *testing.T) {
	is := is.New(t)
	e := core.Event{EventID: "x"}
	e.Metadata.Set("nan", math.NaN())
	e.Metadata.Set("inf", math.Inf(-1))
	e.Metadata.SampleRate = math.NaN()
	b, err := json.Marshal(&e)
	is.NoErr(err)
	is.True(json.Valid(b))
	is.True(strings.Contains(string(b), `"nan":"NaN"`))
}

func TestCloneIsDeep(t *testing.T) {
	is := is.New(t)
	p := "prompt"
	e := &core.Event{Labels: map[string]string{"a": "b"}, Prompt: &p,
		ToolCalls: []llms.ToolCall{{ID: "1", FunctionCall: &llms.FunctionCall{Name: "f"}}}}
	c := e.Clone()
	c.Labels["a"] = "z"
	*c.Prompt = "changed"
	c.ToolCalls[0].FunctionCall.Name = "g"
	is.Equal(e.Labels["a"], "b")
	is.Equal(*e.Prompt, "prompt")
	is.Equal(e.ToolCalls[0].FunctionCall.Name, "f")
}

func TestMergeAndContext(t *testing.T) {
	is := is.New(t)
	labels := map[string]string{"a": "1"}
	ctx := core.NewContext(context.Background(), core.Settings{Labels: labels, UserID: "u"})
	labels["a"] = "mutated" // the context kept a copy
	ctx = core.NewContext(ctx, core.Settings{Labels: map[string]string{"b": "2"}})
	s := core.FromContext(ctx)
	is.Equal(s.Labels, map[string]string{"a": "1", "b": "2"})
	is.Equal(s.UserID, "u")
	m := core.Merge(*s, core.Settings{Labels: map[string]string{"a": "call"}, Log: core.LogOff})
	is.Equal(m.Labels["a"], "call")
	is.Equal(m.Log, core.LogOff)
	is.Equal(s.Labels["a"], "1") // inputs unchanged
}

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type span struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func TestRun(t *testing.T) {
	is := is.New(t)
	var out bytes.Buffer
	is.NoErr(run(&out))
	t.Log(out.String())
	var spans []span
	dec := json.NewDecoder(&out)
	for {
		var s span
		if err := dec.Decode(&s); err == io.EOF {
			break
		} else {
			is.NoErr(err)
		}
		spans = append(spans, s)
	}
	is.Equal(len(spans), 2)
	caller, llm := spans[0], spans[1]
	is.Equal(caller.Name, "translate greeting")
	is.Equal(llm.Name, "chat gpt-4o-mini")
	is.Equal(llm.Parent.SpanID, caller.SpanContext.SpanID) // one trace
	is.Equal(llm.SpanContext.TraceID, caller.SpanContext.TraceID)
	a := map[string]any{}
	for _, kv := range llm.Attributes {
		a[kv.Key] = kv.Value.Value
	}
	is.Equal(a["gen_ai.provider.name"], "openai")
	is.Equal(a["gen_ai.system"], "openai")
	is.Equal(a["gen_ai.request.model"], "gpt-4o-mini")
	is.Equal(a["gen_ai.request.temperature"], 0.3)
	is.Equal(a["gen_ai.usage.input_tokens"], 11.0)
	is.Equal(a["gen_ai.usage.output_tokens"], 3.0)
	is.Equal(a["leanllm.labels.feature"], "greeting")
}

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	is := is.New(t)
	var out bytes.Buffer
	is.NoErr(run(&out))
	s := out.String()
	t.Log(s)
	for _, want := range []string{
		`leanllm_calls_total{model="gpt-4o-mini",provider="openai"} 3`,
		`leanllm_call_errors_total{error_kind="rate_limit",model="gpt-4o-mini",provider="openai"} 1`,
		`leanllm_tokens_total{model="gpt-4o-mini",provider="openai",type="input"} 22`,
		`leanllm_tokens_total{model="gpt-4o-mini",provider="openai",type="output"} 7`,
		"leanllm_events_enqueued_total 3",
		"leanllm_events_stored_total 3",
		`leanllm_store_write_seconds_count{result="ok"} 1`,
		"leanllm_queue_depth 0",
	} {
		is.True(strings.Contains(s, want+"\n")) // output has want
	}
}

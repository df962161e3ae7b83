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
		"answer: The capital of France is Paris.",
		"event: openai/gpt-4o-mini via openai, 24 input + 7 output tokens",
		"labels map[feature:capitals]",
		`"model": "openai/gpt-4o-mini"`,
		`"temperature": 0.2`,
		`"environment": "example"`,
	} {
		is.True(strings.Contains(s, want)) // output has want
	}
}

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
	is.True(strings.Contains(s, "answer: It is sunny and 21°C in Paris."))
	lines := strings.Split(strings.TrimSpace(s), "\n")
	is.Equal(len(lines), 5)                                              // answer, trace, and three events
	is.True(strings.HasPrefix(lines[2], "- chat  openai/gpt-4o-mini"))   // the plan: a root
	is.True(strings.Contains(lines[2], "asked for weather"))             // …asking for the tool
	is.True(strings.HasPrefix(lines[3], "  - tool  tool:weather"))       // the tool step, its child
	is.True(strings.Contains(lines[3], "Paris"))                         // with its input
	is.True(strings.HasPrefix(lines[4], "  - chat  openai/gpt-4o-mini")) // the answer, also its child
}

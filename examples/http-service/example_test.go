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
	is.True(strings.Contains(s, "HTTP 200, X-Request-ID req-7f3a9c: Go 1.26."))
	is.True(strings.Contains(s, "correlation_id=req-7f3a9c labels=map[route:/ask] model=gpt-4o-mini tokens=13"))
}

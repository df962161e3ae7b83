package main

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestKeyNeverLogged: with debug on, the provider key given to WithAPIKey
// appears in no log line, in any of its usual encodings, even though the
// provider echoed it in its error.
func TestKeyNeverLogged(t *testing.T) {
	is := is.New(t)
	for _, v := range []string{"LEANLLM_DATABASE_URL", "LEANLLM_API_KEY", "OPENAI_BASE_URL"} {
		t.Setenv(v, "") // hermetic, and restored after run's own setenv
	}
	var out bytes.Buffer
	is.NoErr(run(&out))
	s := out.String()
	t.Log(s)
	lines := strings.Split(strings.TrimSpace(s), "\n")
	is.True(len(lines) >= 4)
	is.Equal(strings.Count(s, `msg="leanllm event"`), 2) // one debug line per event
	is.True(strings.Contains(s, "error_kind=provider_error"))
	is.True(strings.Contains(s, "error_detail=auth"))
	is.True(strings.Contains(s, "Incorrect API key provided: [REDACTED]"))
	is.True(strings.Contains(s, "the provider received the key: true"))
	for _, form := range []string{canaryKey, url.QueryEscape(canaryKey), base64.StdEncoding.EncodeToString([]byte(canaryKey)),
		canaryKey[len(canaryKey)-16:]} {
		is.True(!strings.Contains(s, form)) // no form of the key in any line
	}
}

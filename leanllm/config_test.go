package leanllm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
)

func TestInvalidEnvIsAnErrorNamingTheVariable(t *testing.T) {
	for _, tc := range []struct{ env, value, accepts string }{
		{"LEANLLM_SAMPLING_RATE", "1.5", "between 0 and 1"},
		{"LEANLLM_SAMPLING_RATE", "half", "a number"},
		{"LEANLLM_QUEUE_MAX_SIZE", "0", ">= 1"},
		{"LEANLLM_QUEUE_MAX_SIZE", "ten", "an integer"},
		{"LEANLLM_QUEUE_MAX_BYTES", "-5", ">= 1024"},
		{"LEANLLM_BATCH_SIZE", "-1", ">= 1"},
		{"LEANLLM_FLUSH_INTERVAL_MS", "0", ">= 1"},
		{"LEANLLM_REDACTION_MODE", "partial", "metadata, redacted, hashed, full"},
		{"LEANLLM_CAPTURE_CONTENT", "maybe", "true/false"},
		{"LEANLLM_ENABLE_PERSISTENCE", "2", "true/false"},
		{"LEANLLM_MAX_CONTENT_BYTES", "-1", ">= 0"},
		{"LEANLLM_LAST_EVENT_BUFFER", "-3", ">= 0"},
		{"LEANLLM_RETRY_MAX_ATTEMPTS", "0", ">= 1"},
		{"LEANLLM_RETRY_INITIAL_BACKOFF_MS", "-1", ">= 1"},
		{"LEANLLM_RETRY_INITIAL_BACKOFF_MS", "0", ">= 1"},
		{"LEANLLM_RETRY_TOTAL_BUDGET_MS", "0", ">= 1"},
		{"LEANLLM_RETRY_TOTAL_BUDGET_MS", "x", "an integer"},
		{"LEANLLM_DATABASE_URL", "mysql://root@localhost/x", "unsupported scheme"},
		{"LEANLLM_DATABASE_URL", "sqlite:relative.db", "sqlite:///"},
		{"LEANLLM_PRICING_FILE", "/does/not/exist.json", "readable JSON"},
		{"LEANLLM_AUTO_CHAIN", "yes please", "true/false"},
		{"LEANLLM_DEBUG", "verbose", "true/false"},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			is := is.New(t)
			t.Setenv(tc.env, tc.value)
			_, err := leanllm.New(leanllm.WithModel(testprovider.New()))
			is.True(err != nil)
			is.True(errors.Is(err, leanllm.ErrConfig))
			is.True(strings.Contains(err.Error(), tc.env))
			is.True(strings.Contains(err.Error(), tc.accepts))
		})
	}
}

func TestDatabaseURLAndAPIKeyAreExclusive(t *testing.T) {
	is := is.New(t)
	t.Setenv("LEANLLM_DATABASE_URL", "sqlite:///x.db")
	t.Setenv("LEANLLM_API_KEY", "lk-123")
	_, err := leanllm.New()
	is.True(errors.Is(err, leanllm.ErrConfig))
	is.True(strings.Contains(err.Error(), "LEANLLM_DATABASE_URL and LEANLLM_API_KEY"))
}

func TestDatabaseURLPasswordNeverInError(t *testing.T) {
	is := is.New(t)
	t.Setenv("LEANLLM_DATABASE_URL", "mysql://user:hunter2secret@db/x")
	_, err := leanllm.New()
	is.True(err != nil)
	is.True(!strings.Contains(err.Error(), "hunter2secret"))
}

func TestOptionsOverrideEnv(t *testing.T) {
	is := is.New(t)
	t.Setenv("LEANLLM_SAMPLING_RATE", "0")
	fake := testprovider.New()
	cl, err := leanllm.New(leanllm.WithModel(fake), leanllm.WithSamplingRate(1))
	is.NoErr(err)
	defer cl.Close(t.Context())
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.True(cl.LastEvent() != nil)

	// An invalid option value is an error too, naming the variable.
	_, err = leanllm.New(leanllm.WithoutEnv(), leanllm.WithSamplingRate(-1))
	is.True(errors.Is(err, leanllm.ErrConfig))
	is.True(strings.Contains(err.Error(), "LEANLLM_SAMPLING_RATE"))
}

func TestEnvConfiguresTheClient(t *testing.T) {
	is := is.New(t)
	t.Setenv("LEANLLM_SAMPLING_RATE", "0")
	t.Setenv("LEANLLM_ENVIRONMENT", "staging")
	t.Setenv("LEANLLM_LAST_EVENT_BUFFER", "2")
	cl, err := leanllm.New(leanllm.WithModel(testprovider.New()))
	is.NoErr(err)
	defer cl.Close(t.Context())
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.Equal(cl.LastEvent(), nil) // sampled out by env
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithSample(1))
	is.NoErr(err)
	is.Equal(cl.LastEvent().Metadata.Environment, "staging")
}

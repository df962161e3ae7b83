package leanllm_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// Tests in this file go through langchaingo's real openai client talking to
// an OpenAI-compatible server on loopback.

func TestOpenAIStreamTimeToFirstToken(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	const firstDelay = 80 * time.Millisecond
	srv.Push(testprovider.Reply{Text: "one two three", Chunks: []string{"one ", "two ", "three"},
		FirstChunkDelay: firstDelay, ChunkDelay: 10 * time.Millisecond, Usage: testprovider.UsageOf(12, 3)})
	cl := newClient(t, leanllm.WithModel(testprovider.OpenAIModel(t, srv)))
	var got strings.Builder
	resp, err := cl.Chat(t.Context(), "gpt-4o-mini", human("stream"), leanllm.WithLLMOptions(llms.WithStreamingFunc(func(_ context.Context, b []byte) error {
		got.Write(b)
		return nil
	})))
	is.NoErr(err)
	is.Equal(got.String(), "one two three")
	is.Equal(resp.Choices[0].Content, "one two three")
	ev := cl.LastEvent()
	is.True(ev.Metadata.Stream)
	is.Equal(ev.Metadata.StreamEnd, "completed")
	is.True(ev.TimeToFirstTokenMS.Valid)
	ttft := time.Duration(ev.TimeToFirstTokenMS.Int64) * time.Millisecond
	// The first chunk leaves the server after firstDelay; on loopback it
	// arrives a few ms later.
	is.True(ttft >= firstDelay)
	is.True(ttft < firstDelay+60*time.Millisecond)
	is.True(ev.TotalStreamTimeMS.Valid)
	is.True(ev.TotalStreamTimeMS.Int64 >= ev.TimeToFirstTokenMS.Int64+20)
	is.Equal(ev.InputTokens, 12) // usage from the final stream chunk
	is.Equal(ev.OutputTokens, 3)
	is.True(!ev.Metadata.TokensEstimated)
	reqs := srv.Requests()
	is.True(reqs[0].Stream && reqs[0].IncludeUsage)
}

func TestOpenAIStreamWithoutUsageIsEstimated(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	srv.Push(testprovider.Reply{Text: "a fairly short answer", Usage: nil})
	cl := newClient(t, leanllm.WithModel(testprovider.OpenAIModel(t, srv)))
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("hello there"), leanllm.WithLLMOptions(llms.WithStreamingFunc(func(context.Context, []byte) error { return nil })))
	is.NoErr(err)
	ev := cl.LastEvent()
	is.True(ev.Metadata.TokensEstimated)
	is.True(ev.InputTokens > 0 && ev.OutputTokens > 0)
	is.Equal(ev.TotalTokens, ev.InputTokens+ev.OutputTokens)
}

func TestOpenAIStreamConsumerStopsEarly(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	srv.Push(testprovider.Reply{Text: "abc", Chunks: []string{"a", "b", "c"}, ChunkDelay: 5 * time.Millisecond})
	cl := newClient(t, leanllm.WithModel(testprovider.OpenAIModel(t, srv)))
	stop := errors.New("enough")
	n := 0
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithLLMOptions(llms.WithStreamingFunc(func(_ context.Context, b []byte) error {
		if len(b) == 0 {
			return nil
		}
		n++
		return stop
	})))
	is.True(errors.Is(err, stop))
	is.Equal(n, 1)
	ev := cl.LastEvent()
	is.Equal(ev.Metadata.StreamEnd, "consumer_stopped")
	is.True(ev.TimeToFirstTokenMS.Valid)
}

func TestOpenAIStreamIterator(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	srv.Push(testprovider.Reply{Text: "xyz", Chunks: []string{"x", "y", "z"}, Usage: testprovider.UsageOf(4, 3)})
	srv.Push(testprovider.Reply{Text: "123", Chunks: []string{"1", "2", "3"}, ChunkDelay: 5 * time.Millisecond})
	cl := newClient(t, leanllm.WithModel(testprovider.OpenAIModel(t, srv)))
	var text string
	var final *llms.ContentResponse
	for ch, err := range cl.Stream(t.Context(), "gpt-4o-mini", human("x")) {
		is.NoErr(err)
		text += ch.Text
		if ch.Response != nil {
			final = ch.Response
		}
	}
	is.Equal(text, "xyz")
	is.True(final != nil)
	is.Equal(final.Choices[0].Content, "xyz")
	is.Equal(cl.LastEvent().Metadata.StreamEnd, "completed")
	is.Equal(cl.LastEvent().OutputTokens, 3)

	// Breaking out of the loop stops the stream and records it.
	for ch, err := range cl.Stream(t.Context(), "gpt-4o-mini", human("x")) {
		is.NoErr(err)
		is.Equal(ch.Text, "1")
		break
	}
	is.Equal(cl.LastEvent().Metadata.StreamEnd, "consumer_stopped")
}

func TestOpenAIErrorStatuses(t *testing.T) {
	for _, tc := range []struct {
		status     int
		kind       string
		detail     string
		errorBody  string
		wantSubstr string
	}{
		{429, "rate_limit", "rate_limit", "", "429"},
		{500, "provider_error", "server_error", "", "500"},
		{401, "provider_error", "auth", "", "401"},
		{400, "provider_error", "context_length", `{"error":{"message":"This model's maximum context length is 128000 tokens","type":"invalid_request_error"}}`, "400"},
	} {
		t.Run(tc.kind+"_"+tc.detail, func(t *testing.T) {
			is := is.New(t)
			srv := testprovider.NewServer(t)
			srv.Push(testprovider.Reply{Status: tc.status, ErrorBody: tc.errorBody})
			raw := testprovider.OpenAIModel(t, srv)
			srv.Push(testprovider.Reply{Status: tc.status, ErrorBody: tc.errorBody})
			_, rawErr := raw.GenerateContent(t.Context(), human("x"))
			cl := newClient(t, leanllm.WithModel(raw), leanllm.WithSamplingRate(0))
			_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
			is.True(err != nil)
			is.Equal(err.Error(), rawErr.Error()) // unchanged
			is.True(strings.Contains(err.Error(), tc.wantSubstr))
			ev := cl.LastEvent()
			is.Equal(ev.ErrorKind, tc.kind)
			is.Equal(ev.Metadata.ErrorDetail, tc.detail)
			is.Equal(ev.Metadata.HTTPStatus, tc.status)
			is.True(ev.ErrorMessage != "")
		})
	}
}

func TestOpenAITimeout(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	srv.Push(testprovider.Reply{Delay: 2 * time.Second})
	cl := newClient(t, leanllm.WithModel(testprovider.OpenAIModel(t, srv)))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := cl.Chat(ctx, "gpt-4o-mini", human("x"))
	is.True(err != nil)
	ev := cl.LastEvent()
	is.Equal(ev.ErrorKind, "timeout")
	is.True(ev.LatencyMS >= 50)
}

func TestCancelledIsRecorded(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.Reply{Delay: time.Second})
	cl := newClient(t, leanllm.WithModel(fake))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(10*time.Millisecond, cancel)
	_, err := cl.Chat(ctx, "gpt-4o-mini", human("x"))
	is.True(errors.Is(err, context.Canceled))
	is.Equal(cl.LastEvent().Metadata.ErrorDetail, "cancelled")
}

func TestProviderKeyEchoedInErrorIsScrubbed(t *testing.T) {
	is := is.New(t)
	const key = "sk-canary-7f3a9c2e1b4d5f60718293a4b5c6d7e8"
	srv := testprovider.NewServer(t)
	body := `{"error":{"message":"Incorrect API key provided: ` + key + ` (also ` + url.QueryEscape(key) + ` and ` + base64.StdEncoding.EncodeToString([]byte(key)) + `)","type":"invalid_request_error"}}`
	srv.Push(testprovider.Reply{Status: 401, ErrorBody: body})
	var logs bytes.Buffer
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	cl, err := leanllm.New(leanllm.WithAPIKey(key), leanllm.WithDebug(true),
		leanllm.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	is.NoErr(err)
	defer cl.Close(context.Background())
	_, err = cl.Chat(t.Context(), "openai/gpt-4o-mini", human("x"))
	is.True(err != nil)
	ev := cl.LastEvent()
	is.Equal(ev.Metadata.ErrorDetail, "auth")
	all := ev.ErrorMessage + logs.String()
	b, _ := ev.MarshalJSON()
	all += string(b)
	for _, form := range []string{key, url.QueryEscape(key), base64.StdEncoding.EncodeToString([]byte(key))} {
		is.True(!strings.Contains(all, form)) // key scrubbed everywhere we write
	}
	is.True(strings.Contains(ev.ErrorMessage, "Incorrect API key provided"))
	// The request carried the key to the provider, as it must.
	is.Equal(srv.Requests()[0].Header.Get("Authorization"), "Bearer "+key)
}

func TestRoutingByModelString(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	t.Setenv("OPENAI_API_KEY", "sk-test-routing")
	cl, err := leanllm.New()
	is.NoErr(err)
	defer cl.Close(context.Background())

	// Through llms.Model, as a langchaingo chain would call it.
	out, err := cl.Call(t.Context(), "hi", llms.WithModel("openai/gpt-4o-mini"))
	is.NoErr(err)
	is.Equal(out, "ok")
	is.Equal(srv.Requests()[0].Model, "gpt-4o-mini") // prefix stripped for the provider
	ev := cl.LastEvent()
	is.Equal(ev.Model, "openai/gpt-4o-mini")
	is.Equal(ev.Provider, "openai")
	is.True(!ev.Metadata.CostUnknown)

	// A bare name is inferred as openai.
	_, err = cl.Chat(t.Context(), "gpt-4o", human("x"))
	is.NoErr(err)
	is.Equal(srv.Requests()[1].Model, "gpt-4o")
	is.Equal(cl.LastEvent().Provider, "openai")

	// An unknown provider: a clear error, and an error event.
	_, err = cl.Chat(t.Context(), "invalid/model", human("x"))
	is.True(errors.Is(err, leanllm.ErrUnknownProvider))
	is.True(strings.Contains(err.Error(), `"invalid"`))
	ev = cl.LastEvent()
	is.Equal(ev.Model, "invalid/model")
	is.Equal(ev.ErrorKind, "provider_error")
	is.Equal(ev.Metadata.ErrorDetail, "invalid_request")
	is.Equal(srv.RequestCount(), 2)
}

func TestRegisteredRoutes(t *testing.T) {
	is := is.New(t)
	local := testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "local"}))
	exact := testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "exact"}))
	cl := newClient(t, leanllm.WithRoute("local/", local), leanllm.WithRoute("my-model", exact))
	r, err := cl.Chat(t.Context(), "local/llama3", human("x"))
	is.NoErr(err)
	is.Equal(r.Choices[0].Content, "local")
	is.Equal(cl.LastEvent().Provider, "local")
	is.Equal(local.Calls()[0].Options.Model, "llama3")
	r, err = cl.Chat(t.Context(), "my-model", human("x"))
	is.NoErr(err)
	is.Equal(r.Choices[0].Content, "exact")
	is.True(cl.LastEvent().Metadata.CostUnknown)
	is.Equal(cl.Stats().CostUnknown, int64(2)) // neither local/llama3 nor my-model has a price
	_, err = cl.Chat(t.Context(), "", human("x"))
	is.True(errors.Is(err, leanllm.ErrNoModel))
}

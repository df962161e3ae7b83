package leanllm_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// Replay re-runs a stored call against the real openai client (loopback
// server) with a model override, and diffs the answers.
func TestReplayWithModelOverride(t *testing.T) {
	is := is.New(t)
	srv := testprovider.NewServer(t)
	cl := newClient(t, leanllm.WithModel(testprovider.OpenAIModel(t, srv)),
		leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("full"),
		leanllm.WithDatabaseURL("sqlite://:memory:"))

	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "You are a geography tutor.\nBe brief."),
		llms.TextParts(llms.ChatMessageTypeHuman, "Where is Paris?"),
	}
	srv.Push(testprovider.Reply{Text: "Paris is the capital of France.\nIt lies on the Seine.", Usage: testprovider.UsageOf(20, 12)})
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", msgs, leanllm.WithLabel("feature", "geo"),
		leanllm.WithLLMOptions(llms.WithTemperature(0.2), llms.WithMaxTokens(50), llms.WithSeed(42)))
	is.NoErr(err)
	orig := cl.LastEvent()
	is.NoErr(cl.Flush(t.Context()))

	srv.Push(testprovider.Reply{Text: "Paris is the capital of France.\nIt lies on the river Seine.", Usage: testprovider.UsageOf(20, 14)})
	res, err := cl.Replay(t.Context(), orig.EventID, leanllm.WithReplayModel("gpt-4o"), leanllm.WithReplayTemperature(0.7))
	is.NoErr(err)

	// The provider saw the original messages, the new model and
	// temperature, and the original max_tokens and seed.
	reqs := srv.Requests()
	is.Equal(len(reqs), 2)
	r := reqs[1]
	is.Equal(r.Model, "gpt-4o")
	is.Equal(r.Messages, []testprovider.RecordedMessage{
		{Role: "system", Content: "You are a geography tutor.\nBe brief."},
		{Role: "user", Content: "Where is Paris?"},
	})
	var body map[string]any
	is.NoErr(json.Unmarshal(r.Body, &body))
	is.Equal(body["temperature"], 0.7)
	is.Equal(body["seed"], 42.0)
	is.True(body["max_tokens"] == 50.0 || body["max_completion_tokens"] == 50.0)

	// The diff, the deltas and the linked event.
	want := "--- original " + orig.EventID + "\n+++ replay " + res.Replayed.EventID + "\n" +
		"@@ -1,2 +1,2 @@\n" +
		" Paris is the capital of France.\n" +
		"-It lies on the Seine.\n" +
		"+It lies on the river Seine.\n"
	is.Equal(res.Diff, want)
	is.Equal(res.Response.Choices[0].Content, "Paris is the capital of France.\nIt lies on the river Seine.")
	is.Equal(res.Original.EventID, orig.EventID)
	is.Equal(res.TokensDelta, 2)
	is.True(res.CostDelta > 0) // gpt-4o costs more than gpt-4o-mini
	is.Equal(res.Replayed.Model, "gpt-4o")
	is.Equal(res.Replayed.Parameters.Temperature, 0.7)
	is.Equal(res.Replayed.Labels["feature"], "geo")
	is.Equal(res.Replayed.Metadata.SampleRate, 1.0)
	is.True(res.Replayed.EventID != orig.EventID)
	is.Equal(res.Replayed.Metadata.ReplayOf, orig.EventID)

	is.NoErr(cl.Flush(t.Context()))
	stored, err := cl.GetEvent(t.Context(), res.Replayed.EventID)
	is.NoErr(err)
	is.Equal(stored.Metadata.ReplayOf, orig.EventID)
	is.Equal(*stored.Response, "Paris is the capital of France.\nIt lies on the river Seine.")
}

func TestReplayNeedsFullContent(t *testing.T) {
	tests := []struct {
		name string
		opts []leanllm.Option
	}{
		{"content not captured", nil},
		{"content masked", []leanllm.Option{leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("redacted")}},
		{"content truncated", []leanllm.Option{leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("full"), leanllm.WithMaxContentBytes(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			fake := testprovider.New()
			cl := newClient(t, append([]leanllm.Option{leanllm.WithModel(fake)}, tt.opts...)...)
			_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("hello there"))
			is.NoErr(err)
			id := cl.LastEvent().EventID
			_, err = cl.Replay(t.Context(), id) // from the in-memory buffer: no store
			is.True(errors.Is(err, leanllm.ErrNoContent))
			is.Equal(fake.CallCount(), 1) // nothing was re-run

			// Supplying the messages makes it replayable.
			res, err := cl.Replay(t.Context(), id, leanllm.WithReplayMessages(human("hello again")))
			is.NoErr(err)
			is.Equal(fake.CallCount(), 2)
			is.Equal(fake.Calls()[1].Messages, human("hello again"))
			is.Equal(res.Diff, "") // the original answer was not stored, or was "ok" too
		})
	}
}

func TestReplayErrors(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	cl := newClient(t, leanllm.WithModel(fake), leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("full"))
	_, err := cl.Replay(t.Context(), "nope")
	is.True(errors.Is(err, leanllm.ErrNoStore))

	// A failing replay returns its error unchanged, with the error event.
	_, err = cl.Completion(t.Context(), "gpt-4o-mini", "say ok")
	is.NoErr(err)
	id := cl.LastEvent().EventID
	boom := errors.New("boom")
	fake.Push(testprovider.Reply{Err: boom})
	res, err := cl.Replay(t.Context(), id, leanllm.WithReplayMaxTokens(5))
	is.True(errors.Is(err, boom))
	is.True(res != nil && res.Replayed != nil)
	is.True(res.Replayed.ErrorKind != "")
	is.Equal(fake.Calls()[1].Options.MaxTokens, 5)
	is.Equal(fake.Calls()[1].Messages, human("say ok"))

	// Tool steps are not LLM calls.
	cl.Record(t.Context(), &leanllm.Event{EventID: "tool-1", Model: "tool:x", Metadata: leanllm.Metadata{CallKind: "tool"}})
	_, err = cl.Replay(t.Context(), "tool-1")
	is.True(err != nil)
}

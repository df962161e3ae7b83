package leanllm_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

func newClient(t *testing.T, opts ...leanllm.Option) *leanllm.Client {
	t.Helper()
	cl, err := leanllm.New(append([]leanllm.Option{leanllm.WithoutEnv()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

func human(s string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, s)}
}

func TestPlainCallEmitsOneEvent(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.Reply{Text: "hello there", Usage: &testprovider.Usage{Prompt: 1000, Completion: 200, Cached: 400}})
	cl := newClient(t, leanllm.WithModel(fake))

	resp, err := cl.Chat(t.Context(), "gpt-4o-mini", human("Say hi."), leanllm.WithLabels(map[string]string{"feature": "demo"}),
		leanllm.WithLLMOptions(llms.WithTemperature(0.2), llms.WithMaxTokens(64)))
	is.NoErr(err)
	is.Equal(resp.Choices[0].Content, "hello there") // the provider's answer, untouched

	ev := cl.LastEvent()
	is.True(ev != nil)
	id, err := uuid.Parse(ev.EventID)
	is.NoErr(err)
	is.Equal(id.Version(), uuid.Version(7)) // time-ordered ids
	is.Equal(ev.Model, "gpt-4o-mini")
	is.Equal(ev.Provider, "openai")
	is.Equal(ev.InputTokens, 1000)
	is.Equal(ev.OutputTokens, 200)
	is.Equal(ev.TotalTokens, 1200)
	is.Equal(ev.CachedInputTokens, 400)
	// gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output.
	want := (600*0.15 + 400*0.075 + 200*0.60) / 1e6
	is.True(ev.Cost > want*0.999 && ev.Cost < want*1.001)
	is.Equal(ev.Labels["feature"], "demo")
	is.Equal(ev.Parameters.Temperature, 0.2)
	is.Equal(ev.Parameters.MaxTokens, 64)
	is.Equal(ev.Metadata.SampleRate, 1.0)
	is.Equal(ev.Metadata.FinishReason, "stop")
	is.True(ev.Prompt == nil && ev.Response == nil) // metadata mode: no content
	is.Equal(ev.ErrorKind, "")
	is.Equal(ev.SchemaVersion, 2)
	is.True(!ev.Timestamp.IsZero())
	// The model received the bare model name and the caller's options.
	calls := fake.Calls()
	is.Equal(len(calls), 1)
	is.Equal(calls[0].Options.Model, "gpt-4o-mini")
	is.Equal(calls[0].Options.Temperature, 0.2)
	is.Equal(cl.Stats().Events, int64(1))
}

// The JSON names are exactly those of DESIGN.md's event table.
func TestEventJSONFieldNames(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()))
	_, err := cl.Completion(t.Context(), "gpt-4o-mini", "hi")
	is.NoErr(err)
	b, err := json.Marshal(cl.LastEvent())
	is.NoErr(err)
	var m map[string]any
	is.NoErr(json.Unmarshal(b, &m))
	want := []string{"event_id", "correlation_id", "parent_request_id", "timestamp", "model", "provider",
		"input_tokens", "output_tokens", "total_tokens", "cost", "latency_ms", "time_to_first_token_ms",
		"total_stream_time_ms", "parameters", "tools", "tool_calls", "error_kind", "error_message", "labels",
		"prompt", "response", "normalized_input", "normalized_output", "metadata", "schema_version",
		"cached_input_tokens", "reasoning_tokens"}
	got := slices.Sorted(maps.Keys(m))
	slices.Sort(want)
	is.Equal(got, want)
	is.Equal(m["correlation_id"], nil) // null, not ""
	ts, _ := m["timestamp"].(string)
	_, err = time.Parse(time.RFC3339Nano, ts)
	is.NoErr(err)
	is.True(strings.HasSuffix(ts, "Z"))

	// Round trip.
	var back leanllm.Event
	is.NoErr(json.Unmarshal(b, &back))
	b2, err := json.Marshal(&back)
	is.NoErr(err)
	is.Equal(string(b), string(b2))
}

func TestProviderErrorIsReturnedUnchangedAndEmitted(t *testing.T) {
	is := is.New(t)
	sentinel := errors.New("boom from provider")
	fake := testprovider.New()
	fake.Push(testprovider.Reply{Err: sentinel})
	var hookErr error
	var hookSnap leanllm.Snapshot
	cl := newClient(t, leanllm.WithModel(fake), leanllm.WithSamplingRate(0),
		leanllm.WithErrorHook(func(err error, s leanllm.Snapshot) { hookErr, hookSnap = err, s }))
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.True(err == sentinel) // the very same error value
	ev := cl.LastEvent()
	is.True(ev != nil) // errors always emit, even at sampling 0
	is.Equal(ev.ErrorKind, "unknown")
	is.Equal(ev.ErrorMessage, "boom from provider")
	is.Equal(ev.Metadata.SampleRate, 1.0) // errors are always kept: effective rate 1
	is.True(hookErr == sentinel)
	is.Equal(hookSnap.Model, "gpt-4o-mini")
}

func TestSamplingZeroKeepsErrorsOnly(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	cl := newClient(t, leanllm.WithModel(fake), leanllm.WithSamplingRate(0))
	for range 50 {
		_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
		is.NoErr(err)
	}
	is.Equal(cl.LastEvent(), nil)
	fake.Push(testprovider.Reply{Err: errors.New("bad")})
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.True(err != nil)
	is.Equal(len(cl.RecentEvents(0)), 1)
	// Per-call sample overrides the config.
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithSample(1))
	is.NoErr(err)
	is.Equal(len(cl.RecentEvents(0)), 2)
	is.Equal(cl.LastEvent().Metadata.SampleRate, 1.0)
}

func TestLogFalseIsAHardBypass(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	var hooks atomic.Int32
	cl := newClient(t, leanllm.WithModel(fake),
		leanllm.WithPreCallHook(func(leanllm.Snapshot) { hooks.Add(1) }),
		leanllm.WithPostCallHook(func(*leanllm.Event) { hooks.Add(1) }),
		leanllm.WithErrorHook(func(error, leanllm.Snapshot) { hooks.Add(1) }))
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithLog(false))
	is.NoErr(err)
	fake.Push(testprovider.Reply{Err: errors.New("bad")})
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithLog(false))
	is.True(err != nil)
	is.Equal(fake.CallCount(), 2)
	is.Equal(cl.LastEvent(), nil)
	is.Equal(hooks.Load(), int32(0))
	// Through the context, for code that only sees llms.Model.
	ctx := leanllm.WithContext(t.Context(), leanllm.WithLog(false))
	_, err = cl.GenerateContent(ctx, human("x"))
	is.NoErr(err)
	is.Equal(cl.LastEvent(), nil)
}

func TestHookPanicsNeverBreakTheCall(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	cl := newClient(t, leanllm.WithModel(fake),
		leanllm.WithPreCallHook(func(leanllm.Snapshot) { panic("pre") }),
		leanllm.WithPostCallHook(func(*leanllm.Event) { panic("post") }),
		leanllm.WithErrorHook(func(error, leanllm.Snapshot) { panic("err") }))
	resp, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.Equal(resp.Choices[0].Content, "ok")
	sentinel := errors.New("provider down")
	fake.Push(testprovider.Reply{Err: sentinel})
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.True(errors.Is(err, sentinel))
	is.Equal(len(cl.RecentEvents(0)), 2)
}

func TestPostHookGetsACopy(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()),
		leanllm.WithPostCallHook(func(e *leanllm.Event) { e.Model = "changed"; e.Labels["x"] = "y" }))
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithLabel("a", "b"))
	is.NoErr(err)
	ev := cl.LastEvent()
	is.Equal(ev.Model, "gpt-4o-mini")
	is.Equal(len(ev.Labels), 1)
}

func TestContextScopeAndLabels(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithAutoChain(true), leanllm.WithEnvironment("test"))
	ctx := leanllm.WithContext(t.Context(), leanllm.WithLabels(map[string]string{"team": "a", "tier": "free"}),
		leanllm.WithLeanContext(leanllm.LeanContext{UserID: "u1", Feature: "search"}))
	ctx, trace := leanllm.StartTrace(ctx, "")
	var ids []string
	for i := range 3 {
		_, err := cl.Chat(ctx, "gpt-4o-mini", human("step"), leanllm.WithLabel("tier", "pro"), leanllm.WithLabel("step", string(rune('0'+i))))
		is.NoErr(err)
		ev := cl.LastEvent()
		is.Equal(ev.CorrelationID, trace)
		is.Equal(ev.Labels["team"], "a")
		is.Equal(ev.Labels["tier"], "pro") // call wins
		is.Equal(ev.Labels["user_id"], "u1")
		is.Equal(ev.Labels["feature"], "search")
		is.Equal(ev.Metadata.Environment, "test")
		if i > 0 {
			is.Equal(ev.ParentRequestID, ids[i-1]) // auto_chain
		} else {
			is.Equal(ev.ParentRequestID, "")
		}
		ids = append(ids, ev.EventID)
	}
	// A goroutine started inside the scope inherits it.
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := cl.GenerateContent(ctx, human("child"))
		is.NoErr(err)
	})
	wg.Wait()
	ev := cl.LastEvent()
	is.Equal(ev.CorrelationID, trace)
	is.Equal(ev.ParentRequestID, ids[2])
	// A new scope starts a new chain.
	ctx2, trace2 := leanllm.StartTrace(t.Context(), "")
	_, err := cl.Chat(ctx2, "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.True(trace2 != trace)
	is.Equal(cl.LastEvent().ParentRequestID, "")
	// Explicit ids win.
	_, err = cl.Chat(ctx, "gpt-4o-mini", human("x"), leanllm.WithRequestID("req-1"), leanllm.WithCorrelationID("corr-1"), leanllm.WithParentRequestID("p-1"))
	is.NoErr(err)
	ev = cl.LastEvent()
	is.Equal(ev.EventID, "req-1")
	is.Equal(ev.CorrelationID, "corr-1")
	is.Equal(ev.ParentRequestID, "p-1")
}

func TestRingBuffer(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithLastEventBuffer(3))
	for i := range 5 {
		_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"), leanllm.WithRequestID(string(rune('a'+i))))
		is.NoErr(err)
	}
	var got []string
	for _, e := range cl.RecentEvents(10) {
		got = append(got, e.EventID)
	}
	is.Equal(got, []string{"e", "d", "c"}) // newest first, capacity 3
	is.Equal(len(cl.RecentEvents(2)), 2)
	// The copy cannot change the buffer.
	cl.LastEvent().Model = "x"
	is.Equal(cl.LastEvent().Model, "gpt-4o-mini")

	off := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithLastEventBuffer(0))
	_, err := off.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.Equal(off.LastEvent(), nil)
	is.Equal(len(off.RecentEvents(5)), 0)
}

func TestCustomMiddlewareAtNamedPosition(t *testing.T) {
	is := is.New(t)
	var order []string
	var mu sync.Mutex
	mark := func(name string) leanllm.Middleware {
		return func(next leanllm.Handler) leanllm.Handler {
			return leanllm.HandlerFunc(func(ctx context.Context, c *leanllm.Call) (*llms.ContentResponse, error) {
				mu.Lock()
				order = append(order, name+">")
				mu.Unlock()
				c.SetLabel("tenant", "acme")
				r, err := next.Handle(ctx, c)
				mu.Lock()
				order = append(order, "<"+name)
				mu.Unlock()
				return r, err
			})
		}
	}
	cl := newClient(t, leanllm.WithModel(testprovider.New()),
		leanllm.WithMiddleware(leanllm.Before(leanllm.StageHooks), mark("a")),
		leanllm.WithMiddleware(leanllm.After(leanllm.StageCapture), mark("b")))
	_, err := cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.Equal(order, []string{"a>", "b>", "<b", "<a"})
	is.Equal(cl.LastEvent().Labels["tenant"], "acme")

	_, err = leanllm.New(leanllm.WithoutEnv(), leanllm.WithMiddleware(leanllm.Before("nope"), mark("x")))
	is.True(errors.Is(err, leanllm.ErrConfig))
}

func TestConcurrentCalls(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New(testprovider.WithoutRecording())), leanllm.WithLastEventBuffer(10000))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			ctx, _ := leanllm.StartTrace(t.Context(), "")
			for range 100 {
				_, err := cl.Chat(ctx, "gpt-4o-mini", human("x"), leanllm.WithLabel("g", string(rune('a'+g))))
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	is.Equal(cl.Stats().Events, int64(1600))
	seen := map[string]bool{}
	for _, e := range cl.RecentEvents(0) {
		is.True(!seen[e.EventID])
		seen[e.EventID] = true
	}
	is.Equal(len(seen), 1600)
}

func TestDefaultModelNamesCallsWithoutOne(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	cl := newClient(t, leanllm.WithModel(fake), leanllm.WithDefaultModel("openai/gpt-4o-mini"))
	_, err := cl.Call(t.Context(), "hi")
	is.NoErr(err)
	ev := cl.LastEvent()
	is.Equal(ev.Model, "openai/gpt-4o-mini")
	is.Equal(ev.Provider, "openai")
	is.True(!ev.Metadata.CostUnknown)
	is.Equal(fake.Calls()[0].Options.Model, "") // the user's model keeps its own configuration
}

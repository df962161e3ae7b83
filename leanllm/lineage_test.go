package leanllm_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/lineage"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// chat makes one call and returns its event.
func chat(t *testing.T, ctx context.Context, cl *leanllm.Client, opts ...leanllm.CallOption) *leanllm.Event {
	t.Helper()
	if _, err := cl.Chat(ctx, "gpt-4o-mini", human("hi"), opts...); err != nil {
		t.Fatal(err)
	}
	return cl.LastEvent()
}

func TestAutoChainLinksCallsOfATrace(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithAutoChain(true))

	ctx, id := leanllm.StartTrace(t.Context(), "")
	a := chat(t, ctx, cl)
	b := chat(t, ctx, cl)
	c := chat(t, ctx, cl)
	is.Equal(a.CorrelationID, id)
	is.Equal(a.ParentRequestID, "") // the first call of a trace is a root
	is.Equal(b.ParentRequestID, a.EventID)
	is.Equal(c.ParentRequestID, b.EventID)
	is.Equal(c.CorrelationID, id)

	// An explicit parent wins, and the chain goes on from that call.
	d := chat(t, ctx, cl, leanllm.WithParentRequestID(a.EventID))
	is.Equal(d.ParentRequestID, a.EventID)
	e := chat(t, ctx, cl)
	is.Equal(e.ParentRequestID, d.EventID)

	// A context derived from the trace's (extra settings) stays in it.
	f := chat(t, leanllm.WithContext(ctx, leanllm.WithLabel("step", "f")), cl)
	is.Equal(f.ParentRequestID, e.EventID)
	is.Equal(f.CorrelationID, id)

	// Outside any trace: no parent, no correlation id.
	g := chat(t, t.Context(), cl)
	is.Equal(g.ParentRequestID, "")
	is.Equal(g.CorrelationID, "")
}

func TestAutoChainNestedScopes(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithAutoChain(true))

	outer, outerID := leanllm.StartTrace(t.Context(), "outer")
	o1 := chat(t, outer, cl)

	// A new StartTrace, even inside another, starts a new chain.
	inner, innerID := leanllm.StartTrace(outer, "inner")
	i1 := chat(t, inner, cl)
	i2 := chat(t, inner, cl)
	is.Equal(innerID, "inner")
	is.Equal(i1.CorrelationID, "inner")
	is.Equal(i1.ParentRequestID, "") // not linked to the outer trace's call
	is.Equal(i2.ParentRequestID, i1.EventID)

	// The outer trace resumes from its own last call.
	o2 := chat(t, outer, cl)
	is.Equal(o2.CorrelationID, outerID)
	is.Equal(o2.ParentRequestID, o1.EventID)

	// A sibling trace started from the same parent context is independent.
	sib, _ := leanllm.StartTrace(outer, "sibling")
	s1 := chat(t, sib, cl)
	is.Equal(s1.ParentRequestID, "")
	is.Equal(s1.CorrelationID, "sibling")
}

func TestAutoChainAcrossGoroutines(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithAutoChain(true), leanllm.WithLastEventBuffer(64))

	ctx, id := leanllm.StartTrace(t.Context(), "")
	root := chat(t, ctx, cl)

	// A goroutine started inside the scope inherits it: same correlation
	// id, and its call is linked to the scope's previous event.
	done := make(chan *leanllm.Event)
	go func() {
		resp, err := cl.Chat(ctx, "gpt-4o-mini", human("from a goroutine"), leanllm.WithRequestID("g1"))
		if err != nil || resp == nil {
			done <- nil
			return
		}
		done <- findEvent(cl, "g1")
	}()
	g1 := <-done
	is.True(g1 != nil)
	is.Equal(g1.CorrelationID, id)
	is.Equal(g1.ParentRequestID, root.EventID)

	// Back on this goroutine, the chain continues from the goroutine's call.
	next := chat(t, ctx, cl)
	is.Equal(next.ParentRequestID, "g1")

	// Many goroutines at once: every call stays in the trace and links to an
	// event of the trace (which one depends on the interleaving).
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := cl.Chat(ctx, "gpt-4o-mini", human("fan out"))
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	events := cl.RecentEvents(0)
	ids := map[string]bool{}
	for _, e := range events {
		ids[e.EventID] = true
	}
	for _, e := range events {
		is.Equal(e.CorrelationID, id)
		if e.EventID != root.EventID {
			is.True(ids[e.ParentRequestID]) // parent is an event of the trace
		}
	}
	// And the graph of the trace is a single tree.
	g := lineage.Build(id, events)
	is.Equal(len(g.Roots), 1)
	is.Equal(g.Roots[0].EventID, root.EventID)
	is.Equal(g.Totals.Events, 23)
}

func TestWithoutAutoChainNoParent(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()))
	ctx, id := leanllm.StartTrace(t.Context(), "")
	chat(t, ctx, cl)
	b := chat(t, ctx, cl)
	is.Equal(b.CorrelationID, id) // the trace still sets the correlation id
	is.Equal(b.ParentRequestID, "")
}

func findEvent(cl *leanllm.Client, id string) *leanllm.Event {
	for _, e := range cl.RecentEvents(0) {
		if e.EventID == id {
			return e
		}
	}
	return nil
}

func TestRecordFillsDefaultsAndKeepsTheChain(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(testprovider.New()), leanllm.WithAutoChain(true), leanllm.WithEnvironment("test"))
	ctx, id := leanllm.StartTrace(t.Context(), "")
	ctx = leanllm.WithContext(ctx, leanllm.WithLabel("team", "a"))
	llm := chat(t, ctx, cl)

	tool := &leanllm.Event{Model: "tool:search", Provider: "tool", LatencyMS: 12, Labels: map[string]string{"tool": "search"},
		Metadata: leanllm.Metadata{CallKind: "tool"}}
	cl.Record(ctx, tool)
	got := cl.LastEvent()
	is.True(got.EventID != "")
	is.Equal(got.CorrelationID, id)
	is.Equal(got.ParentRequestID, llm.EventID) // child of the call that asked for it
	is.Equal(got.SchemaVersion, 2)
	is.True(!got.Timestamp.IsZero())
	is.Equal(got.Metadata.SampleRate, 1.0)
	is.Equal(got.Metadata.Environment, "test")
	is.Equal(got.Labels, map[string]string{"team": "a", "tool": "search"})

	// Record does not move the chain: the next call's parent is the LLM call.
	next := chat(t, ctx, cl)
	is.Equal(next.ParentRequestID, llm.EventID)

	// log=false records nothing.
	n := cl.Stats().Events
	cl.Record(leanllm.WithContext(ctx, leanllm.WithLog(false)), &leanllm.Event{Model: "tool:x"})
	is.Equal(cl.Stats().Events, n)
	cl.Record(ctx, nil) // no-op
}

// Lineage reads a trace back from the store: an LLM call asking for two
// tools, the tools, and the follow-up call.
func TestLineageFromStore(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.Reply{Text: "", ToolCalls: []llms.ToolCall{
		{ID: "c1", FunctionCall: &llms.FunctionCall{Name: "weather", Arguments: `{"city":"Paris"}`}},
		{ID: "c2", FunctionCall: &llms.FunctionCall{Name: "clock", Arguments: `{}`}},
	}, Usage: testprovider.UsageOf(50, 20)})
	fake.Push(testprovider.Reply{Text: "Sunny, noon.", Usage: testprovider.UsageOf(80, 10)})
	cl := newClient(t, leanllm.WithModel(fake), leanllm.WithAutoChain(true), leanllm.WithDatabaseURL("sqlite://:memory:"))

	ctx, id := leanllm.StartTrace(t.Context(), "")
	plan := chat(t, ctx, cl)
	cl.Record(ctx, &leanllm.Event{Model: "tool:weather", Provider: "tool", LatencyMS: 30, Metadata: leanllm.Metadata{CallKind: "tool"}})
	cl.Record(ctx, &leanllm.Event{Model: "tool:clock", Provider: "tool", LatencyMS: 1, Metadata: leanllm.Metadata{CallKind: "tool"}})
	answer := chat(t, ctx, cl)
	chat(t, t.Context(), cl) // another trace
	is.NoErr(cl.Flush(t.Context()))

	g, err := cl.Lineage(t.Context(), id)
	is.NoErr(err)
	is.Equal(g.CorrelationID, id)
	is.Equal(len(g.Roots), 1)
	root := g.Roots[0]
	is.Equal(root.EventID, plan.EventID)
	is.Equal(len(root.Children), 3)
	is.Equal(root.Children[0].Kind, "tool")
	is.Equal(root.Children[0].Model, "tool:weather")
	is.Equal(root.Children[1].Model, "tool:clock")
	is.Equal(root.Children[2].EventID, answer.EventID)
	is.Equal(len(root.ToolCalls), 2) // names and arguments: see TestLineageToolCallsSurviveTheStore
	is.Equal(g.Totals.Calls, 2)
	is.Equal(g.Totals.Tools, 2)
	is.Equal(g.Totals.ToolCalls, 2)
	is.Equal(g.Totals.InputTokens, 130)
	is.True(g.Totals.Cost > 0)

	_, err = cl.Lineage(t.Context(), "no-such-trace")
	is.True(errors.Is(err, persist.ErrNotFound))
	_, err = newClient(t).Lineage(t.Context(), id)
	is.True(errors.Is(err, leanllm.ErrNoStore))
}

// The tool calls an LLM call asked for are listed with their names and
// arguments after a round trip through the store.
//
// Known failure (not in lineage): core.Event.MarshalJSON and the SQL store
// encode tool_calls with langchaingo's llms.ToolCall JSON
// ({"type":"tool_call","tool_call":{…}}), whose UnmarshalJSON drops the
// function; the wire and column format should be OpenAI's
// {"id","type","function":{"name","arguments"}}.
func TestLineageToolCallsSurviveTheStore(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.Reply{ToolCalls: []llms.ToolCall{
		{ID: "c1", FunctionCall: &llms.FunctionCall{Name: "weather", Arguments: `{"city":"Paris"}`}},
		{ID: "c2", FunctionCall: &llms.FunctionCall{Name: "clock", Arguments: `{}`}},
	}})
	// Tool-call arguments are content: stored only with content capture.
	cl := newClient(t, leanllm.WithModel(fake), leanllm.WithDatabaseURL("sqlite://:memory:"),
		leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("full"))
	ctx, id := leanllm.StartTrace(t.Context(), "")
	chat(t, ctx, cl)
	is.NoErr(cl.Flush(t.Context()))
	g, err := cl.Lineage(t.Context(), id)
	is.NoErr(err)
	is.Equal(g.Roots[0].ToolCalls, []lineage.ToolCall{{ID: "c1", Name: "weather", Arguments: `{"city":"Paris"}`}, {ID: "c2", Name: "clock", Arguments: `{}`}})

	// In the default metadata mode, names survive and arguments are not stored.
	fake.Push(testprovider.Reply{ToolCalls: []llms.ToolCall{{ID: "c3", FunctionCall: &llms.FunctionCall{Name: "weather", Arguments: `{"city":"Oslo"}`}}}})
	meta := newClient(t, leanllm.WithModel(fake), leanllm.WithDatabaseURL("sqlite://:memory:"))
	ctx, id = leanllm.StartTrace(t.Context(), "")
	chat(t, ctx, meta)
	is.NoErr(meta.Flush(t.Context()))
	g, err = meta.Lineage(t.Context(), id)
	is.NoErr(err)
	is.Equal(g.Roots[0].ToolCalls, []lineage.ToolCall{{ID: "c3", Name: "weather"}})
}

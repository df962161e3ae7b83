package toolcb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/lineage"
	"github.com/leanllm/leanllm-go/toolcb"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/schema"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var _ toolcb.Client = (*leanllm.Client)(nil)

func newClient(t *testing.T, m llms.Model, opts ...leanllm.Option) *leanllm.Client {
	t.Helper()
	cl, err := leanllm.New(append([]leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(m), leanllm.WithLastEventBuffer(256)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

// reporting is a tool that reports to its callbacks handler, as
// langchaingo's calculator and search tools do.
type reporting struct {
	name string
	out  string
	err  error
	cb   callbacks.Handler
}

func (r *reporting) Name() string        { return r.name }
func (r *reporting) Description() string { return "reports to callbacks" }
func (r *reporting) Call(ctx context.Context, input string) (string, error) {
	r.cb.HandleToolStart(ctx, input)
	if r.err != nil {
		r.cb.HandleToolError(ctx, r.err)
		return "", r.err
	}
	r.cb.HandleToolEnd(ctx, r.out)
	return r.out, nil
}

// silent is a tool that reports nothing.
type silent struct {
	name string
	call func(ctx context.Context, input string) (string, error)
}

func (s *silent) Name() string        { return s.name }
func (s *silent) Description() string { return "silent" }
func (s *silent) Call(ctx context.Context, input string) (string, error) {
	if s.call != nil {
		return s.call(ctx, input)
	}
	return "done", nil
}

// runAgent runs the loop of langchaingo's agents.Executor with an OpenAI
// functions agent (agents/executor.go doIteration and doAction: the
// executor's callbacks handler gets HandleAgentAction, then the tool is
// called with the same context; HandleAgentFinish ends the run), without
// the prompt templates' dependencies.
func runAgent(ctx context.Context, model llms.Model, h callbacks.Handler, tools []toolcb.Tool, input string) (string, error) {
	byName := map[string]toolcb.Tool{}
	for _, t := range tools {
		byName[t.Name()] = t
	}
	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, input)}
	for range 5 {
		resp, err := model.GenerateContent(ctx, msgs)
		if err != nil {
			return "", err
		}
		choice := resp.Choices[0]
		if len(choice.ToolCalls) == 0 {
			h.HandleAgentFinish(ctx, schema.AgentFinish{ReturnValues: map[string]any{"output": choice.Content}})
			return choice.Content, nil
		}
		var parts []llms.ContentPart
		for _, tc := range choice.ToolCalls {
			parts = append(parts, tc)
		}
		msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: parts})
		for _, tc := range choice.ToolCalls {
			action := schema.AgentAction{Tool: tc.FunctionCall.Name, ToolInput: tc.FunctionCall.Arguments, ToolID: tc.ID}
			h.HandleAgentAction(ctx, action)
			obs, err := byName[action.Tool].Call(ctx, action.ToolInput)
			if err != nil {
				return "", err
			}
			msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeTool,
				Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: tc.ID, Name: action.Tool, Content: obs}}})
		}
	}
	return "", errors.New("agent did not finish")
}

func toolCall(id, name, args string) llms.ToolCall {
	return llms.ToolCall{ID: id, Type: "function", FunctionCall: &llms.FunctionCall{Name: name, Arguments: args}}
}

// shape renders a trace's graph: "model (kind)" per node, indented.
func shape(g *lineage.Graph) string {
	var b strings.Builder
	g.Walk(func(n *lineage.Node, depth int) bool {
		label := n.Model
		if n.Kind == lineage.KindLLM {
			label = "llm"
		}
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", depth), label)
		return true
	})
	return b.String()
}

func traceGraph(cl *leanllm.Client, id string) *lineage.Graph {
	var events []*core.Event
	for _, e := range cl.RecentEvents(0) {
		if e.CorrelationID == id {
			events = append(events, e)
		}
	}
	return lineage.Build(id, events)
}

// The tree: an LLM call asks for two tools, both run, and the
// follow-up call answers: LLM call → tool A, tool B, follow-up call.
func TestAgentRunBuildsTheTree(t *testing.T) {
	for _, autoChain := range []bool{true, false} {
		t.Run(fmt.Sprintf("auto_chain=%v", autoChain), func(t *testing.T) {
			is := is.New(t)
			fake := testprovider.New()
			fake.Push(
				testprovider.Reply{ToolCalls: []llms.ToolCall{toolCall("c1", "weather", `{"city":"Paris"}`), toolCall("c2", "clock", `{}`)}},
				testprovider.Reply{Text: "Sunny at noon."},
			)
			cl := newClient(t, fake, leanllm.WithAutoChain(autoChain))
			h := toolcb.NewHandler(cl)
			weather := &reporting{name: "weather", out: "sunny, 21°C", cb: h}
			clock := toolcb.Wrap(cl, &silent{name: "clock"})

			ctx, id := leanllm.StartTrace(t.Context(), "")
			out, err := runAgent(ctx, cl, h, []toolcb.Tool{weather, clock}, "Weather and time in Paris?")
			is.NoErr(err)
			is.Equal(out, "Sunny at noon.")

			g := traceGraph(cl, id)
			if autoChain {
				is.Equal(shape(g), "llm\n  tool:weather\n  tool:clock\n  llm\n")
			} else {
				// Without auto_chain LLM calls are not linked; tools still hang
				// from the call that asked for them.
				is.Equal(shape(g), "llm\n  tool:weather\n  tool:clock\nllm\n")
			}
			plan := g.Roots[0]
			w := plan.Children[0]
			is.Equal(w.Kind, "tool")
			is.Equal(w.Provider, "tool")
			ev := w.Event
			is.Equal(ev.CorrelationID, id)
			is.Equal(ev.Metadata.CallKind, "tool")
			is.Equal(ev.Metadata.SampleRate, 1.0)
			is.Equal(ev.Metadata.Extra[toolcb.KeyToolName], "weather")
			is.Equal(ev.Metadata.Extra[toolcb.KeyToolInput], `{"city":"Paris"}`)
			is.Equal(ev.Metadata.Extra[toolcb.KeyInputBytes], 16)
			is.Equal(ev.Metadata.Extra[toolcb.KeyOutputBytes], len("sunny, 21°C"))
			is.Equal(ev.Metadata.Extra[toolcb.KeyToolCallID], "c1")
			is.Equal(plan.Children[1].Event.Metadata.Extra[toolcb.KeyToolInput], `{}`)
			is.Equal(g.Totals.Calls, 2)
			is.Equal(g.Totals.Tools, 2)
			is.Equal(g.Totals.ToolCalls, 2)
		})
	}
}

func TestToolErrorIsRecorded(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.Reply{ToolCalls: []llms.ToolCall{toolCall("c1", "search", `{"q":"x"}`)}})
	cl := newClient(t, fake, leanllm.WithAutoChain(true))
	h := toolcb.NewHandler(cl)
	boom := errors.New("search backend down")
	ctx, _ := leanllm.StartTrace(t.Context(), "")
	_, err := runAgent(ctx, cl, h, []toolcb.Tool{&reporting{name: "search", err: boom, cb: h}}, "find x")
	is.True(errors.Is(err, boom))
	ev := cl.LastEvent()
	is.Equal(ev.Model, "tool:search")
	is.Equal(ev.ErrorKind, core.ErrorKindUnknown)
	is.Equal(ev.ErrorMessage, "search backend down")
	is.Equal(ev.Metadata.ErrorClass, "*errors.errorString")
	_, hasOut := ev.Metadata.Extra[toolcb.KeyOutputBytes]
	is.True(!hasOut)

	// The wrapped form records errors too, and returns them unchanged.
	w := toolcb.Wrap(cl, &silent{name: "fetch", call: func(context.Context, string) (string, error) { return "", boom }})
	_, err = w.Call(ctx, "u")
	is.Equal(err, boom)
	is.Equal(cl.LastEvent().Model, "tool:fetch")
	is.Equal(cl.LastEvent().ErrorMessage, "search backend down")
}

// LLM calls a wrapped tool makes are children of its step, and the agent's
// chain goes on from the call that asked for the tool.
func TestWrappedToolNestsItsOwnCalls(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(
		testprovider.Reply{ToolCalls: []llms.ToolCall{toolCall("c1", "summarize", `{"doc":"d"}`)}},
		testprovider.Reply{Text: "summary"},   // the tool's own call
		testprovider.Reply{Text: "All done."}, // the follow-up
	)
	cl := newClient(t, fake, leanllm.WithAutoChain(true))
	summarize := toolcb.Wrap(cl, &silent{name: "summarize", call: func(ctx context.Context, in string) (string, error) {
		resp, err := cl.Chat(ctx, "gpt-4o-mini", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "summarize "+in)})
		if err != nil {
			return "", err
		}
		return resp.Choices[0].Content, nil
	}})
	ctx, id := leanllm.StartTrace(t.Context(), "")
	_, err := runAgent(ctx, cl, toolcb.NewHandler(cl), []toolcb.Tool{summarize}, "summarize d")
	is.NoErr(err)
	is.Equal(shape(traceGraph(cl, id)), "llm\n  tool:summarize\n    llm\n  llm\n")
}

// A tool both wrapped and reporting to the Handler is recorded once.
func TestWrapAndHandlerRecordOnce(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.Push(testprovider.Reply{ToolCalls: []llms.ToolCall{toolCall("c1", "weather", `{}`)}}, testprovider.Reply{Text: "ok"})
	cl := newClient(t, fake, leanllm.WithAutoChain(true))
	h := toolcb.NewHandler(cl)
	tool := toolcb.Wrap(cl, &reporting{name: "weather", out: "sunny", cb: h})
	ctx, id := leanllm.StartTrace(t.Context(), "")
	_, err := runAgent(ctx, cl, h, []toolcb.Tool{tool}, "weather?")
	is.NoErr(err)
	is.Equal(shape(traceGraph(cl, id)), "llm\n  tool:weather\n  llm\n")
}

// A tool that starts but never reports its end (langchaingo's calculator
// on an evaluation error) is recorded when the next action arrives.
func TestUnreportedEnd(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, testprovider.New(), leanllm.WithAutoChain(true))
	h := toolcb.NewHandler(cl)
	ctx, _ := leanllm.StartTrace(t.Context(), "")
	h.HandleAgentAction(ctx, schema.AgentAction{Tool: "calculator", ToolInput: "1/0"})
	h.HandleToolStart(ctx, "1/0")
	is.Equal(cl.Stats().Events, int64(0))
	h.HandleAgentAction(ctx, schema.AgentAction{Tool: "calculator", ToolInput: "1+1"})
	ev := cl.LastEvent()
	is.Equal(ev.Model, "tool:calculator")
	is.Equal(ev.Metadata.Extra[toolcb.KeyToolEnd], "unreported")
	h.HandleToolStart(ctx, "1+1")
	h.HandleToolEnd(ctx, "2")
	is.Equal(cl.Stats().Events, int64(2))
	is.Equal(cl.LastEvent().Metadata.Extra[toolcb.KeyOutputBytes], 1)
}

func TestOptionsAndNames(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, testprovider.New())
	h := toolcb.NewHandler(cl, toolcb.WithMaxInputBytes(8), toolcb.WithRedact(func(s string) string {
		return strings.ReplaceAll(s, "secret", "[X]")
	}))
	ctx := t.Context() // outside a trace: no parent, no correlation id
	tool := h.ForTool("lookup")
	tool.HandleToolStart(ctx, "a secret and more text")
	tool.HandleToolError(ctx, errors.New("the secret leaked"))
	ev := cl.LastEvent()
	is.Equal(ev.Model, "tool:lookup")
	is.Equal(ev.ParentRequestID, "")
	is.Equal(ev.CorrelationID, "")
	is.Equal(ev.Metadata.Extra[toolcb.KeyToolInput], "a [X] an…[truncated 11 bytes]")
	is.Equal(ev.ErrorMessage, "the [X] leaked")

	h.HandleToolStart(ctx, "x") // unnamed, unannounced
	h.HandleToolEnd(ctx, "")
	is.Equal(cl.LastEvent().Model, "tool:unknown")

	h2 := toolcb.NewHandler(cl, toolcb.WithMaxInputBytes(0))
	h2.HandleToolStart(ctx, "x")
	h2.HandleToolEnd(ctx, "")
	_, ok := cl.LastEvent().Metadata.Extra[toolcb.KeyToolInput]
	is.True(!ok)

	// An end without a start records nothing.
	n := cl.Stats().Events
	h.HandleToolEnd(ctx, "stray")
	is.Equal(cl.Stats().Events, n)
}

// Agents running concurrently, each in its own trace, share one Handler:
// every tool step lands in its own trace, under its own LLM call.
func TestConcurrentAgents(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	fake.SetDefault(testprovider.Reply{ToolCalls: []llms.ToolCall{toolCall("c1", "weather", `{}`), toolCall("c2", "clock", `{}`)}})
	cl := newClient(t, fake, leanllm.WithAutoChain(true), leanllm.WithLastEventBuffer(1000))
	h := toolcb.NewHandler(cl)
	tools := []toolcb.Tool{&reporting{name: "weather", out: "sunny", cb: h}, toolcb.Wrap(cl, &silent{name: "clock"})}
	const agents = 16
	ids := make([]string, agents)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			ctx, id := leanllm.StartTrace(t.Context(), "")
			ids[i] = id
			_, _ = runAgent(ctx, cl, h, tools, "go") // never finishes: 5 rounds
		})
	}
	wg.Wait()
	for _, id := range ids {
		g := traceGraph(cl, id)
		is.Equal(len(g.Roots), 1)
		is.Equal(g.Totals.Calls, 5)
		is.Equal(g.Totals.Tools, 10)
		g.Walk(func(n *lineage.Node, _ int) bool {
			if n.Kind == lineage.KindTool {
				is.Equal(n.Parent.Kind, lineage.KindLLM) // under an LLM call of the same trace
				is.Equal(len(n.Children), 0)
			}
			return true
		})
	}
}

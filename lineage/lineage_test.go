package lineage_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/lineage"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// ev returns an LLM event starting at t0+at seconds.
func ev(id, parent string, at int, latencyMS int64, cost float64) *core.Event {
	return &core.Event{
		EventID: id, ParentRequestID: parent, CorrelationID: "trace",
		Timestamp: t0.Add(time.Duration(at) * time.Second), LatencyMS: latencyMS, Cost: cost,
		Model: "gpt-4o-mini", Provider: "openai",
		InputTokens: 10, OutputTokens: 5, TotalTokens: 15,
		Metadata: core.Metadata{CallKind: core.KindChat, SampleRate: 1},
	}
}

func tool(id, parent string, at int, latencyMS int64) *core.Event {
	return &core.Event{
		EventID: id, ParentRequestID: parent, CorrelationID: "trace",
		Timestamp: t0.Add(time.Duration(at) * time.Second), LatencyMS: latencyMS,
		Model: "tool:search", Provider: "tool",
		Metadata: core.Metadata{CallKind: "tool", SampleRate: 1},
	}
}

// shape renders the graph as indented ids, in Walk order.
func shape(g *lineage.Graph) string {
	var b strings.Builder
	g.Walk(func(n *lineage.Node, depth int) bool {
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", depth), n.EventID)
		return true
	})
	return b.String()
}

func TestBuildShapes(t *testing.T) {
	tests := []struct {
		name   string
		events []*core.Event
		want   string
		check  func(is *is.I, g *lineage.Graph)
	}{
		{
			name:   "empty",
			events: nil,
			want:   "",
			check: func(is *is.I, g *lineage.Graph) {
				is.Equal(g.Len(), 0)
				is.Equal(g.Totals, lineage.Totals{})
			},
		},
		{
			name: "tree sorted by timestamp whatever the input order",
			events: []*core.Event{
				ev("c", "a", 3, 100, 0), ev("b", "a", 2, 100, 0), ev("a", "", 1, 100, 0),
				ev("d", "b", 4, 100, 0), ev("e", "", 0, 100, 0),
			},
			want: "e\na\n  b\n    d\n  c\n",
			check: func(is *is.I, g *lineage.Graph) {
				is.Equal(g.MaxDepth, 2)
				is.Equal(g.Node("d").Depth, 2)
				is.Equal(g.Node("d").Parent.EventID, "b")
				is.Equal(g.Orphans, 0)
			},
		},
		{
			name: "same timestamp: by id",
			events: []*core.Event{
				ev("r", "", 0, 0, 0), ev("z", "r", 1, 0, 0), ev("m", "r", 1, 0, 0), ev("a", "r", 1, 0, 0),
			},
			want: "r\n  a\n  m\n  z\n",
		},
		{
			name: "orphans are kept as roots",
			events: []*core.Event{
				ev("a", "", 1, 0, 0), ev("o", "missing", 0, 0, 0), ev("oc", "o", 2, 0, 0),
			},
			want: "o\n  oc\na\n",
			check: func(is *is.I, g *lineage.Graph) {
				is.Equal(g.Orphans, 1)
				is.True(g.Node("o").Orphan)
				is.Equal(g.Node("o").ParentRequestID, "missing")
				is.True(!g.Node("a").Orphan)
			},
		},
		{
			name:   "self parent",
			events: []*core.Event{ev("a", "a", 0, 0, 0), ev("b", "a", 1, 0, 0)},
			want:   "a\n  b\n",
			check: func(is *is.I, g *lineage.Graph) {
				is.Equal(g.CyclesBroken, 1)
				is.True(g.Node("a").CycleBroken)
			},
		},
		{
			name: "cycle cut at its earliest event, hanging subtrees kept",
			events: []*core.Event{
				ev("x", "z", 5, 0, 0), ev("y", "x", 3, 0, 0), ev("z", "y", 4, 0, 0), // x→y→z→x
				ev("h", "z", 9, 0, 0), // hangs off the cycle
				ev("r", "", 0, 0, 0),
			},
			want: "r\ny\n  z\n    x\n    h\n",
			check: func(is *is.I, g *lineage.Graph) {
				is.Equal(g.CyclesBroken, 1)
				is.True(g.Node("y").CycleBroken)
				is.Equal(g.Len(), 5)
			},
		},
		{
			name: "two separate cycles",
			events: []*core.Event{
				ev("a", "b", 1, 0, 0), ev("b", "a", 2, 0, 0),
				ev("c", "d", 4, 0, 0), ev("d", "c", 3, 0, 0),
			},
			want:  "a\n  b\nd\n  c\n",
			check: func(is *is.I, g *lineage.Graph) { is.Equal(g.CyclesBroken, 2) },
		},
		{
			name:   "duplicates keep the first",
			events: []*core.Event{ev("a", "", 0, 10, 1), nil, ev("a", "", 5, 99, 99)},
			want:   "a\n",
			check: func(is *is.I, g *lineage.Graph) {
				is.Equal(g.Duplicates, 1)
				is.Equal(g.Node("a").LatencyMS, int64(10))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			g := lineage.Build("trace", tt.events)
			is.Equal(shape(g), tt.want)
			n := 0
			g.Walk(func(*lineage.Node, int) bool { n++; return true })
			is.Equal(n, g.Len()) // every node is visited exactly once
			if tt.check != nil {
				tt.check(is, g)
			}
		})
	}
}

func TestBuildTotals(t *testing.T) {
	is := is.New(t)
	a := ev("a", "", 0, 1000, 0.01) // 0s..1s
	a.ToolCalls = []llms.ToolCall{
		{ID: "1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "search", Arguments: `{"q":"go"}`}},
		{ID: "2", Type: "function", FunctionCall: &llms.FunctionCall{Name: "clock", Arguments: `{}`}},
	}
	ta := tool("ta", "a", 1, 200) // 1s..1.2s
	tb := tool("tb", "a", 1, 300)
	tb.ErrorKind = core.ErrorKindUnknown
	f := ev("f", "a", 2, 500, 0.02) // 2s..2.5s
	g := lineage.Build("trace", []*core.Event{f, tb, ta, a})

	is.Equal(shape(g), "a\n  ta\n  tb\n  f\n")
	root := g.Roots[0]
	is.Equal(root.Kind, lineage.KindLLM)
	is.Equal(g.Node("ta").Kind, lineage.KindTool)
	is.Equal(root.ToolCalls, []lineage.ToolCall{{ID: "1", Name: "search", Arguments: `{"q":"go"}`}, {ID: "2", Name: "clock", Arguments: `{}`}})

	self := root.Self()
	is.Equal(self.Events, 1)
	is.Equal(self.Calls, 1)
	is.Equal(self.ToolCalls, 2)
	is.Equal(self.Cost, 0.01)

	s := root.Subtree
	is.Equal(s.Events, 4)
	is.Equal(s.Calls, 2)
	is.Equal(s.Tools, 2)
	is.Equal(s.ToolCalls, 2)
	is.Equal(s.Errors, 1)
	is.True(s.Cost > 0.0299 && s.Cost < 0.0301)
	is.Equal(s.LatencyMS, int64(2000))
	is.Equal(s.WallMS, int64(2500)) // 0s .. 2.5s
	is.Equal(s.InputTokens, 20)     // tool steps have no tokens
	is.Equal(s.OutputTokens, 10)
	is.Equal(s.TotalTokens, 30)
	is.Equal(g.Totals, s)
	is.Equal(g.Node("tb").Subtree.Errors, 1)
	is.Equal(g.Node("f").Subtree.Events, 1)
}

// Tool calls stored by other writers in the flat shape, or by OpenAI in
// the nested one, are both listed.
func TestBuildToolCallShapesFromJSON(t *testing.T) {
	is := is.New(t)
	docs := []string{
		`{"event_id":"a","timestamp":"2025-01-02T03:04:05Z","model":"gpt-4o","tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":\"go\"}"}}],"metadata":{"sample_rate":1}}`,
		`{"event_id":"b","parent_request_id":"a","timestamp":"2025-01-02T03:04:06+00:00","model":"gpt-4o","tool_calls":[{"id":"c2","name":"clock","arguments":{"tz":"UTC"}}],"metadata":{"sample_rate":1}}`,
		`{"event_id":"t","parent_request_id":"a","timestamp":"2025-01-02T03:04:05.5Z","model":"tool:search","provider":"tool","metadata":{"call_kind":"tool","sample_rate":1}}`,
	}
	var events []*core.Event
	for _, d := range docs {
		var e core.Event
		is.NoErr(json.Unmarshal([]byte(d), &e))
		events = append(events, &e)
	}
	g := lineage.Build("x", events)
	is.Equal(shape(g), "a\n  t\n  b\n")
	is.Equal(g.Node("a").ToolCalls, []lineage.ToolCall{{ID: "c1", Name: "search", Arguments: `{"q":"go"}`}})
	is.Equal(g.Node("b").ToolCalls, []lineage.ToolCall{{ID: "c2", Name: "clock", Arguments: `{"tz":"UTC"}`}})
	is.Equal(g.Node("t").Kind, "tool")
	is.Equal(g.Totals.ToolCalls, 2)
	is.Equal(g.Totals.Tools, 1)
}

func TestGraphJSON(t *testing.T) {
	is := is.New(t)
	a := ev("a", "", 0, 1000, 0.5)
	a.ToolCalls = []llms.ToolCall{{ID: "1", FunctionCall: &llms.FunctionCall{Name: "search", Arguments: "{}"}}}
	b := tool("b", "a", 1, 10)
	b.ErrorKind = "unknown"
	g := lineage.Build("trace", []*core.Event{a, b})
	raw, err := json.Marshal(g)
	is.NoErr(err)

	var doc map[string]any
	is.NoErr(json.Unmarshal(raw, &doc))
	is.Equal(doc["correlation_id"], "trace")
	roots := doc["roots"].([]any)
	is.Equal(len(roots), 1)
	root := roots[0].(map[string]any)
	for _, k := range []string{"event_id", "model", "provider", "timestamp", "latency_ms", "cost", "tokens", "kind", "tool_calls", "children", "subtree"} {
		_, ok := root[k]
		is.True(ok) // key present
	}
	is.Equal(root["kind"], "llm")
	is.Equal(root["timestamp"], "2025-01-02T03:04:05Z")
	is.Equal(root["tool_calls"], []any{map[string]any{"id": "1", "name": "search", "arguments": "{}"}})
	is.Equal(root["tokens"], map[string]any{"input": 10.0, "output": 5.0, "total": 15.0})
	child := root["children"].([]any)[0].(map[string]any)
	is.Equal(child["kind"], "tool")
	is.Equal(child["error_kind"], "unknown")
	is.Equal(child["parent_request_id"], "a")
	is.Equal(root["subtree"].(map[string]any)["events"], 2.0)

	// The document round-trips into the same types.
	var back lineage.Graph
	is.NoErr(json.Unmarshal(raw, &back))
	is.Equal(back.Roots[0].Children[0].EventID, "b")
	is.Equal(back.Totals, g.Totals)
}

func TestWalkSkipsChildren(t *testing.T) {
	is := is.New(t)
	g := lineage.Build("t", []*core.Event{ev("a", "", 0, 0, 0), ev("b", "a", 1, 0, 0), ev("c", "b", 2, 0, 0), ev("d", "", 3, 0, 0)})
	var seen []string
	g.Walk(func(n *lineage.Node, depth int) bool {
		seen = append(seen, n.EventID)
		return n.EventID != "b"
	})
	is.Equal(seen, []string{"a", "b", "d"})
}

// randomEvents returns n events of one trace: random trees, with a few
// orphans and cycles.
func randomEvents(n int, seed uint64) []*core.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*core.Event, n)
	for i := range out {
		parent := ""
		switch x := r.IntN(100); {
		case i > 0 && x < 90:
			parent = fmt.Sprintf("e%06d", r.IntN(i))
		case x < 93:
			parent = fmt.Sprintf("missing%d", i)
		case x < 95 && i+1 < n:
			parent = fmt.Sprintf("e%06d", i+1+r.IntN(n-i-1)) // may close a cycle
		}
		out[i] = ev(fmt.Sprintf("e%06d", i), parent, r.IntN(3600), int64(r.IntN(2000)), 0.001)
	}
	r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestBuildRandomKeepsEveryEventOnce(t *testing.T) {
	for seed := range uint64(20) {
		is := is.New(t)
		events := randomEvents(2000, seed)
		g := lineage.Build("t", events)
		seen := map[string]int{}
		g.Walk(func(n *lineage.Node, depth int) bool {
			seen[n.EventID]++
			is.Equal(n.Depth, depth)
			if n.Parent != nil {
				is.Equal(n.Parent.EventID, n.ParentRequestID)
				is.True(slices.IsSortedFunc(n.Parent.Children, func(a, b *lineage.Node) int { return a.Timestamp.Compare(b.Timestamp) }))
			}
			return true
		})
		is.Equal(len(seen), 2000)
		for _, c := range seen {
			is.Equal(c, 1)
		}
		is.Equal(g.Totals.Events, 2000)
	}
}

func TestBuild10kUnderASecond(t *testing.T) {
	events := randomEvents(10000, 7)
	// A deep chain too: 10,000 levels, no recursion.
	chain := make([]*core.Event, 10000)
	for i := range chain {
		p := ""
		if i > 0 {
			p = fmt.Sprintf("c%d", i-1)
		}
		chain[i] = ev(fmt.Sprintf("c%d", i), p, i, 1, 0)
	}
	for _, set := range [][]*core.Event{events, chain} {
		start := time.Now()
		g := lineage.Build("t", set)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Build(10k) took %v", d)
		}
		if g.Totals.Events != 10000 {
			t.Fatalf("Totals.Events = %d", g.Totals.Events)
		}
	}
}

func BenchmarkBuild10k(b *testing.B) {
	events := randomEvents(10000, 7)
	b.ReportAllocs()
	for b.Loop() {
		lineage.Build("t", events)
	}
}

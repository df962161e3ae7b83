package lineage_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/lineage"
	"github.com/tmc/langchaingo/llms"
)

// An agent run: the first LLM call asks for two tools, both run, and the
// follow-up call answers. Tools and the follow-up are children of the call
// that asked for the tools.
func ExampleBuild() {
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	plan := &core.Event{EventID: "plan", Timestamp: at(0), LatencyMS: 800, Cost: 0.002, Model: "gpt-4o-mini",
		ToolCalls: []llms.ToolCall{
			{FunctionCall: &llms.FunctionCall{Name: "weather", Arguments: `{"city":"Paris"}`}},
			{FunctionCall: &llms.FunctionCall{Name: "clock", Arguments: `{}`}},
		}}
	weather := &core.Event{EventID: "weather", ParentRequestID: "plan", Timestamp: at(810), LatencyMS: 120,
		Model: "tool:weather", Metadata: core.Metadata{CallKind: "tool"}}
	clock := &core.Event{EventID: "clock", ParentRequestID: "plan", Timestamp: at(815), LatencyMS: 1,
		Model: "tool:clock", Metadata: core.Metadata{CallKind: "tool"}}
	answer := &core.Event{EventID: "answer", ParentRequestID: "plan", Timestamp: at(940), LatencyMS: 600, Cost: 0.001,
		Model: "gpt-4o-mini"}

	g := lineage.Build("run-1", []*core.Event{answer, clock, weather, plan})
	g.Walk(func(n *lineage.Node, depth int) bool {
		fmt.Printf("%s%s [%s %s] %dms $%.3f", strings.Repeat("  ", depth), n.EventID, n.Kind, n.Model, n.LatencyMS, n.Subtree.Cost)
		for _, tc := range n.ToolCalls {
			fmt.Printf(" →%s", tc.Name)
		}
		fmt.Println()
		return true
	})
	fmt.Printf("calls=%d tools=%d cost=$%.3f wall=%dms\n", g.Totals.Calls, g.Totals.Tools, g.Totals.Cost, g.Totals.WallMS)
	// Output:
	// plan [llm gpt-4o-mini] 800ms $0.003 →weather →clock
	//   weather [tool tool:weather] 120ms $0.000
	//   clock [tool tool:clock] 1ms $0.000
	//   answer [llm gpt-4o-mini] 600ms $0.001
	// calls=2 tools=2 cost=$0.003 wall=1540ms
}

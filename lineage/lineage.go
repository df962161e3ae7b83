package lineage

import (
	"cmp"
	"slices"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// Node kinds.
const (
	// KindLLM is an LLM call.
	KindLLM = "llm"
	// KindTool is a tool step: an event with metadata.call_kind "tool".
	KindTool = "tool"
)

// callKindTool is the metadata.call_kind of tool steps.
const callKindTool = "tool"

// Tokens are a node's token counts.
type Tokens struct {
	Input  int `json:"input"`
	Output int `json:"output"`
	Total  int `json:"total"`
}

// ToolCall is a tool call an LLM call asked for.
type ToolCall struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Totals are the figures of a node or of a subtree.
type Totals struct {
	// Events counts the nodes: Calls + Tools.
	Events int `json:"events"`
	// Calls counts LLM calls (Kind "llm").
	Calls int `json:"calls"`
	// Tools counts tool steps (Kind "tool").
	Tools int `json:"tools"`
	// ToolCalls counts the tool calls LLM calls asked for.
	ToolCalls int `json:"tool_calls"`
	// Errors counts events with an error_kind.
	Errors int `json:"errors"`
	// Cost is in USD.
	Cost float64 `json:"cost"`
	// LatencyMS sums the latencies: the time spent in calls.
	LatencyMS int64 `json:"latency_ms"`
	// WallMS is the span from the first start to the last end.
	WallMS       int64 `json:"wall_ms"`
	InputTokens  int   `json:"input_tokens"`
	OutputTokens int   `json:"output_tokens"`
	TotalTokens  int   `json:"total_tokens"`
}

func (t *Totals) add(o *Totals) {
	t.Events += o.Events
	t.Calls += o.Calls
	t.Tools += o.Tools
	t.ToolCalls += o.ToolCalls
	t.Errors += o.Errors
	t.Cost += o.Cost
	t.LatencyMS += o.LatencyMS
	t.InputTokens += o.InputTokens
	t.OutputTokens += o.OutputTokens
	t.TotalTokens += o.TotalTokens
}

// Node is one event of the graph.
type Node struct {
	EventID string `json:"event_id"`
	// ParentRequestID is the event's parent_request_id as stored (also for
	// an orphan, whose parent is missing from the graph).
	ParentRequestID string     `json:"parent_request_id,omitempty"`
	Kind            string     `json:"kind"` // KindLLM or KindTool
	Model           string     `json:"model"`
	Provider        string     `json:"provider"`
	Timestamp       time.Time  `json:"timestamp"`
	LatencyMS       int64      `json:"latency_ms"`
	Cost            float64    `json:"cost"`
	Tokens          Tokens     `json:"tokens"`
	ErrorKind       string     `json:"error_kind,omitempty"`
	ErrorMessage    string     `json:"error_message,omitempty"`
	ToolCalls       []ToolCall `json:"tool_calls,omitempty"`
	// Depth is 0 for roots.
	Depth int `json:"depth"`
	// Orphan is set on a root whose parent is not in the graph.
	Orphan bool `json:"orphan,omitempty"`
	// CycleBroken is set on a root whose parent link closed a cycle and
	// was ignored.
	CycleBroken bool    `json:"cycle_broken,omitempty"`
	Children    []*Node `json:"children,omitempty"`
	// Subtree totals this node and its descendants.
	Subtree Totals `json:"subtree"`

	// Parent is nil for roots.
	Parent *Node `json:"-"`
	// Event is the event the node was built from (shared, not copied: do
	// not change it).
	Event *core.Event `json:"-"`

	start, end int64 // subtree span, unix ns
	pos        int   // index in Build's node slice
}

// Self returns the node's own figures.
func (n *Node) Self() Totals {
	t := Totals{
		Events:       1,
		ToolCalls:    len(n.ToolCalls),
		Cost:         n.Cost,
		LatencyMS:    n.LatencyMS,
		WallMS:       n.LatencyMS,
		InputTokens:  n.Tokens.Input,
		OutputTokens: n.Tokens.Output,
		TotalTokens:  n.Tokens.Total,
	}
	if n.Kind == KindTool {
		t.Tools = 1
	} else {
		t.Calls = 1
	}
	if n.ErrorKind != "" {
		t.Errors = 1
	}
	return t
}

// Graph is the execution graph of one correlation id: a forest whose roots
// are the trace's first calls (and its orphans).
type Graph struct {
	CorrelationID string  `json:"correlation_id"`
	Roots         []*Node `json:"roots"`
	// Totals cover every node.
	Totals Totals `json:"totals"`
	// MaxDepth is the depth of the deepest node (0 when every node is a root).
	MaxDepth int `json:"max_depth"`
	// Orphans counts roots whose parent is missing.
	Orphans int `json:"orphans,omitempty"`
	// CyclesBroken counts the parent cycles that were cut.
	CyclesBroken int `json:"cycles_broken,omitempty"`
	// Duplicates counts events ignored because their id was already seen.
	Duplicates int `json:"duplicates,omitempty"`

	index map[string]*Node
}

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.index) }

// Node returns the node of event id, or nil.
func (g *Graph) Node(id string) *Node { return g.index[id] }

// Walk visits the nodes depth first, in order (roots and children by
// timestamp), calling fn with each node and its depth (0 for roots). When fn
// returns false, the node's children are skipped. Walk uses no recursion.
func (g *Graph) Walk(fn func(n *Node, depth int) bool) {
	type item struct {
		n     *Node
		depth int
	}
	stack := make([]item, 0, 64)
	for i := len(g.Roots) - 1; i >= 0; i-- {
		stack = append(stack, item{g.Roots[i], 0})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(it.n, it.depth) {
			continue
		}
		for i := len(it.n.Children) - 1; i >= 0; i-- {
			stack = append(stack, item{it.n.Children[i], it.depth + 1})
		}
	}
}

// Build returns the execution graph of correlationID from events (in any
// order; nil events are skipped). Events are linked by parent_request_id;
// see the package documentation for roots, orphans and cycles. The events
// are referenced by the nodes, not copied.
func Build(correlationID string, events []*core.Event) *Graph {
	g := &Graph{CorrelationID: correlationID, Roots: []*Node{}, index: make(map[string]*Node, len(events))}
	nodes := make([]Node, 0, len(events))
	for _, e := range events {
		if e == nil {
			continue
		}
		if _, dup := g.index[e.EventID]; dup {
			g.Duplicates++
			continue
		}
		nodes = append(nodes, newNode(e))
		nodes[len(nodes)-1].pos = len(nodes) - 1
		g.index[e.EventID] = &nodes[len(nodes)-1]
	}
	if len(nodes) == 0 {
		return g
	}

	// Link children to parents.
	for i := range nodes {
		n := &nodes[i]
		p := n.ParentRequestID
		switch {
		case p == "":
			g.Roots = append(g.Roots, n)
		case p == n.EventID: // a cycle of one
			n.CycleBroken = true
			g.CyclesBroken++
			g.Roots = append(g.Roots, n)
		default:
			parent, ok := g.index[p]
			if !ok {
				n.Orphan = true
				g.Orphans++
				g.Roots = append(g.Roots, n)
				continue
			}
			n.Parent = parent
			parent.Children = append(parent.Children, n)
		}
	}

	// Every node not reachable from a root sits on, or hangs off, a cycle
	// of parent links: each such component holds exactly one cycle.
	visited := make([]bool, len(nodes))
	stack := make([]*Node, 0, 64)
	mark := func(from *Node) {
		stack = append(stack[:0], from)
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			visited[n.pos] = true
			stack = append(stack, n.Children...)
		}
	}
	for _, r := range g.Roots {
		mark(r)
	}
	if reached := countTrue(visited); reached < len(nodes) {
		g.breakCycles(nodes, visited, mark)
	}

	// Sort roots and children: by timestamp, then id.
	slices.SortFunc(g.Roots, byTime)
	for i := range nodes {
		if len(nodes[i].Children) > 1 {
			slices.SortFunc(nodes[i].Children, byTime)
		}
	}

	// Depths in pre-order, then subtree totals in reverse pre-order.
	order := make([]*Node, 0, len(nodes))
	g.Walk(func(n *Node, depth int) bool {
		n.Depth = depth
		if depth > g.MaxDepth {
			g.MaxDepth = depth
		}
		order = append(order, n)
		return true
	})
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		self := n.Self()
		n.Subtree.add(&self)
		n.Subtree.WallMS = (n.end - n.start) / int64(time.Millisecond)
		if p := n.Parent; p != nil {
			p.Subtree.add(&n.Subtree)
			p.start = min(p.start, n.start)
			p.end = max(p.end, n.end)
		}
	}
	var start, end int64
	for i, r := range g.Roots {
		g.Totals.add(&r.Subtree)
		if i == 0 || r.start < start {
			start = r.start
		}
		if i == 0 || r.end > end {
			end = r.end
		}
	}
	g.Totals.WallMS = (end - start) / int64(time.Millisecond)
	return g
}

// breakCycles cuts one parent link in each cycle of unvisited nodes: at the
// cycle's earliest event (timestamp, then id), which becomes a root.
func (g *Graph) breakCycles(nodes []Node, visited []bool, mark func(*Node)) {
	// onPath[i] = walk number that reached node i (0 = none).
	onPath := make([]int, len(nodes))
	walk := 0
	for i := range nodes {
		if visited[i] {
			continue
		}
		walk++
		// Follow parents until a node of this walk repeats: that node is on
		// the cycle. A node reached by an earlier walk cannot be unvisited
		// here, since each earlier walk ended by marking its component.
		n := &nodes[i]
		for onPath[n.pos] != walk {
			onPath[n.pos] = walk
			n = n.Parent
		}
		// n is on the cycle: find its earliest member.
		cut := n
		for m := n.Parent; m != n; m = m.Parent {
			if byTime(m, cut) < 0 {
				cut = m
			}
		}
		p := cut.Parent
		p.Children = slices.DeleteFunc(p.Children, func(c *Node) bool { return c == cut })
		cut.Parent = nil
		cut.CycleBroken = true
		g.CyclesBroken++
		g.Roots = append(g.Roots, cut)
		mark(cut)
	}
}

func newNode(e *core.Event) Node {
	n := Node{
		EventID:         e.EventID,
		ParentRequestID: e.ParentRequestID,
		Kind:            KindLLM,
		Model:           e.Model,
		Provider:        e.Provider,
		Timestamp:       e.Timestamp,
		LatencyMS:       e.LatencyMS,
		Cost:            e.Cost,
		Tokens:          Tokens{Input: e.InputTokens, Output: e.OutputTokens, Total: e.TotalTokens},
		ErrorKind:       e.ErrorKind,
		ErrorMessage:    e.ErrorMessage,
		Event:           e,
	}
	if e.Metadata.CallKind == callKindTool {
		n.Kind = KindTool
	}
	if len(e.ToolCalls) > 0 {
		n.ToolCalls = make([]ToolCall, 0, len(e.ToolCalls))
		for _, tc := range e.ToolCalls {
			t := ToolCall{ID: tc.ID}
			if tc.FunctionCall != nil {
				t.Name, t.Arguments = tc.FunctionCall.Name, tc.FunctionCall.Arguments
			}
			n.ToolCalls = append(n.ToolCalls, t)
		}
	}
	n.start = e.Timestamp.UnixNano()
	n.end = n.start + e.LatencyMS*int64(time.Millisecond)
	return n
}

func byTime(a, b *Node) int {
	if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
		return c
	}
	return cmp.Compare(a.EventID, b.EventID)
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

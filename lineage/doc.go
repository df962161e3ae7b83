// Package lineage builds the execution graph of one trace (one correlation
// id) from its stored events: which call led to which, and what each
// subtree cost.
//
// # Sections
//
//   - Building: [Build]
//   - The graph: [Graph], [Node], [Totals], [ToolCall]
//   - Traversal: [Graph.Walk], [Graph.Node]
//
// # Building
//
// [Build] links events by parent_request_id. An event without a parent is a
// root; so is an orphan, whose parent is not among the events given (a
// parent that was sampled out, or belongs to another trace) — it is kept,
// flagged with Orphan, never dropped. Parent links that form a cycle (bad
// data: ids given by hand) are broken at the cycle's earliest event, which
// becomes a root flagged with CycleBroken; no event is lost or visited twice.
// Duplicate event ids keep their first occurrence. Roots and children are
// sorted by timestamp, then event id, so the output is deterministic.
// Build runs in O(n log n) and never recurses, so deep chains are safe.
//
// # Node kinds
//
// An event whose metadata.call_kind is "tool" is a tool step (recorded by
// package toolcb): its Kind is "tool". Every other event is an LLM call, Kind
// "llm". The tool calls an LLM call asked for are listed in its ToolCalls,
// whatever shape the store held them in (OpenAI's
// {"id","type","function":{"name","arguments"}} or the flat
// {"id","name","arguments"}: core.Event's JSON decoding normalises both).
//
// # Totals
//
// Every node has its own figures (Self) and those of its subtree (Subtree,
// the node included): cost, latency, tokens, LLM calls, tool steps, tool
// calls asked for, and errors. LatencyMS sums the latencies (time spent in
// calls); WallMS is the span from the subtree's first start to its last end.
// The graph's Totals cover every node.
//
// # JSON
//
// A Graph marshals to the document the `leanllm trace` command and the
// dashboard render: {"correlation_id", "roots": [node…], "totals", …} where
// each node carries event_id, parent_request_id, model, provider,
// timestamp, latency_ms, cost, tokens, error_kind, kind, tool_calls,
// children and subtree.
package lineage

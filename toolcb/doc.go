// Package toolcb records the tool steps of langchaingo agents as leanllm
// events, so that a trace shows which LLM call asked for which tool, how
// long the tool ran, and whether it failed.
//
// # Sections
//
//   - Callbacks: [Handler], [NewHandler]
//   - Wrapping a tool: [Wrap]
//   - Options: [WithMaxInputBytes], [WithRedact], [WithToolName]
//
// # Tool steps
//
// A tool step is an event with metadata.call_kind "tool", model
// "tool:<name>", provider "tool", its duration in latency_ms, no tokens and
// no cost. Metadata holds tool_name, tool_input (cut to
// DefaultMaxInputBytes, masked by WithRedact), tool_input_bytes,
// tool_output_bytes, tool_call_id (from OpenAI-style agents) and, for a
// failed tool, error_kind, error_message and metadata.error_detail as for
// LLM calls. Steps are recorded through the client's Record, so they reach
// the in-memory buffer and the store like any event, with sample_rate 1.
//
// # Lineage
//
// Inside a trace (leanllm.StartTrace), a step's parent_request_id is the
// trace's most recent LLM call — the call that asked for the tool — and its
// correlation_id the trace's. Recording a step does not move the trace's
// chain, so with auto_chain the agent's next LLM call is also a child of
// that call: an agent run reads as
//
//	plan (LLM)
//	├── tool:weather
//	├── tool:clock
//	└── answer (LLM)
//	    └── … its own tools and follow-up
//
// See docs/lineage.md. Outside a trace, steps have no parent (unless the
// context's settings give one).
//
// # Handler or Wrap
//
// [Handler] follows langchaingo's callbacks: the agent executor announces
// each tool with HandleAgentAction, and tools that report (the calculator,
// search tools…) call HandleToolStart and HandleToolEnd or HandleToolError.
// Tools that report nothing are recorded by wrapping them with [Wrap]
// before handing them to the agent. A wrapped tool that also reports to a
// Handler is recorded once.
package toolcb

// Package capture builds the event of a call: the request side when the call
// starts (id, timestamp, model, labels, parameters, tools, the prompt when
// content is captured) and the response side when it returns (tokens, cost,
// latency, stream timings, finish reason, tool calls, the response, the
// error's classification).
//
// # Cost of capture
//
// With content off, building an event is a handful of field copies and one
// id. Content capture copies the prompt and response (so later changes by
// the caller cannot reach a queued event), masks it with the call's
// redaction function and cuts it to max_content_bytes with a visible marker.
//
// # Usage and cost
//
// Token counts come from the provider's GenerationInfo through
// Config.Usage; when the provider reports none, Config.Estimate estimates
// them and metadata.tokens_estimated is set. Config.Price prices the call;
// an unknown model costs 0 with metadata.cost_unknown.
package capture

// Package otelexport exports LeanLLM events to OpenTelemetry: one span per
// event following the GenAI semantic conventions, and the GenAI client
// metrics. It is optional: the core packages (core, leanllm, persist) do
// not import OpenTelemetry.
//
// # Sections
//
//   - The exporter: [Exporter], [New], [FromEnv], [WithContent]
//   - Parenting spans to the caller's: [Middleware], [Parenting], [SpanContextOf]
//   - Names: [OpChat], [KeyGenAISystem], [KeyEventID], [MetricTokenUsage], …
//
// # Where the work happens
//
// The [Exporter] is a persist.Store. The client's worker goroutine hands it
// batches of finished events, and it starts and ends the spans there, with
// the event's own times (start = timestamp, end = timestamp + latency_ms).
// Nothing runs on a call's goroutine except [Middleware], which copies the
// caller's span context into the event. Use the Exporter as the store, or
// beside a database:
//
//	exp, err := otelexport.New(tracerProvider, meterProvider)
//	cl, err := leanllm.New(
//		leanllm.WithStore(leanllm.Tee(sqlStore, exp)), // or WithStore(exp) alone
//		otelexport.Parenting(),                        // spans join the caller's trace
//	)
//
// With the standard OTEL_* variables and LEANLLM_OTEL_EXPORT=true,
// [FromEnv] builds an OTLP/HTTP exporter and a provider it owns.
//
// # Spans
//
// Name "{gen_ai.operation.name} {gen_ai.request.model}" ("chat gpt-4o-mini";
// "text_completion …" for Completion; "execute_tool {tool}" for tool steps
// recorded by package toolcb), kind CLIENT (INTERNAL for tools).
// Attributes: gen_ai.operation.name, gen_ai.provider.name and gen_ai.system
// (both, for new and old backends), gen_ai.request.model,
// gen_ai.request.temperature / max_tokens / top_p / top_k / seed /
// stop_sequences / frequency_penalty / presence_penalty / choice.count (only
// when set), gen_ai.output.type ("json" in JSON mode),
// gen_ai.usage.input_tokens / output_tokens,
// gen_ai.usage.cache_read.input_tokens, gen_ai.response.finish_reasons;
// error.type (= error_kind) with status Error and the (scrubbed) error
// message; and leanllm.event_id, leanllm.correlation_id,
// leanllm.parent_request_id, leanllm.cost_usd, leanllm.labels.<key>,
// leanllm.time_to_first_token_ms, leanllm.total_stream_time_ms,
// leanllm.stream_end, leanllm.error_detail, leanllm.http_status,
// leanllm.environment, leanllm.sample_rate (below 1),
// leanllm.tokens_estimated, leanllm.cost_unknown. gen_ai.response.model and
// gen_ai.response.id are not set: langchaingo does not report them.
//
// With [WithContent], the prompt and response the client captured (after
// its redaction and cut) become gen_ai.input.messages and
// gen_ai.output.messages: JSON in the conventions' message shape, the
// prompt as one user text part (LeanLLM stores it rendered). Without
// capture_content the event holds no content and nothing is added.
//
// # Parenting
//
// A span's parent is, in order: the caller's span recorded by [Middleware]
// (it must sit just inside the capture stage; [Parenting] puts it there);
// else the span of the event's parent_request_id if this Exporter exported
// it recently (a tool step under the LLM call that asked for it); else
// none (a root span). The caller's trace flags are kept, so a caller that
// is not sampled gets no LLM spans under a parent-based sampler.
//
// # Metrics
//
// Through the MeterProvider: gen_ai.client.token.usage (histogram,
// {token}, gen_ai.token.type=input|output), gen_ai.client.operation.duration
// (histogram, s, error.type on failures) and, for streams,
// gen_ai.server.time_to_first_token and
// gen_ai.client.operation.time_to_first_chunk (s). Attributes:
// gen_ai.operation.name, gen_ai.provider.name, gen_ai.system,
// gen_ai.request.model. Tool steps have spans but no metrics.
//
// # Delivery
//
// Write counts an event as stored once its span is ended: the SDK's span
// processor then owns it (batching, export, retries); its export errors go
// to OpenTelemetry's error handler, not to the client's Stats. Close, which
// the client's Close calls, flushes the providers, and shuts down those
// FromEnv created.
package otelexport

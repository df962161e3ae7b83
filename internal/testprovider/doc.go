// Package testprovider holds test fakes (not mocks) of LLM providers for the
// leanllm SDK: an in-process langchaingo model and an OpenAI-compatible HTTP
// server. Both are scripted with the same [Reply] type, record what they
// receive, and are safe for concurrent use.
//
// # Sections
//
//   - In-process model: [Model]
//   - HTTP server: [Server]
//   - Scripting: [Reply], [Usage]
//   - Wiring the real openai client: [OpenAIModel], [Server.OpenAIOptions]
//
// # In-process model
//
// [Model] implements llms.Model without any I/O. It is the zero-latency
// baseline for benchmarks and the quickest way to exercise code that wraps an
// llms.Model:
//
//	m := testprovider.New()                        // default: "ok", 10+5 tokens
//	m.Push(testprovider.Reply{Text: "hi", Usage: testprovider.UsageOf(3, 1)})
//	resp, err := m.GenerateContent(ctx, msgs)     // "hi", then "ok" forever
//
// GenerationInfo mirrors the openai provider ("PromptTokens",
// "CompletionTokens", "TotalTokens", "PromptCachedTokens", "ReasoningTokens",
// all ints); set [Reply.GenerationInfo] to mimic other providers (e.g.
// anthropic's "InputTokens"/"OutputTokens"). With llms.WithStreamingFunc the
// text arrives in chunks ([Reply.Chunks], or Text split into three pieces);
// tool calls follow as one chunk holding their JSON array, like langchaingo's
// openai client. [Reply.StreamErrAfter] fails a stream midway; an error from
// the streaming func stops the stream and is returned wrapped.
//
// # HTTP server
//
// [Server] speaks the OpenAI chat completions wire protocol on 127.0.0.1 so
// that langchaingo's real openai client (HTTP, JSON, SSE parsing, error
// mapping) is exercised end to end:
//
//	srv := testprovider.NewServer(t)              // closed by t.Cleanup
//	llm := testprovider.OpenAIModel(t, srv)       // *openai.LLM -> srv.URL()
//	srv.Push(testprovider.Reply{Status: 429})     // "API returned unexpected status code: 429: ..."
//
// Streams are sent as "data: {chunk}" events: content deltas, tool-call
// deltas (header with id/type/name, then argument pieces), a finish_reason
// chunk, a usage chunk with empty choices when the request asked for
// stream_options.include_usage (langchaingo always does when streaming), and
// "data: [DONE]". Note that the openai client invokes the streaming func with
// an empty chunk for the finish_reason event.
//
// Outside tests (e.g. an offline demo provider) use [NewUnstarted] and
// [Server.Start], then [Server.Close]; nothing there needs a testing.TB.
//
// # Timing and cancellation
//
// [Reply.Delay] is waited before anything is produced (before the response
// headers for the server); [Reply.FirstChunkDelay] before the first streamed
// chunk and [Reply.ChunkDelay] before each later one. All waits end early when
// the caller's context ends (model) or the client disconnects or the server
// is closed (server), so nothing leaks.
//
// Note that langchaingo's openai client turns context errors into the
// strings "request cancelled" / "request timeout: ..." for errors that happen
// before the response headers arrive, so errors.Is(err, context.Canceled) does
// not hold for those; the in-process Model returns ctx.Err() itself.
package testprovider

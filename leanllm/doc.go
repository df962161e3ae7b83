// Package leanllm records every LLM call a Go program makes as a structured
// event — tokens, cost, latency, time to first token, errors, labels,
// lineage and, optionally, redacted content — without blocking the call, and
// persists the events through a background worker to SQLite, Postgres or a
// remote collector. It is the Go counterpart of the Python LeanLLM library:
// same configuration names, event schema and wire format.
//
// # Getting started
//
//	client, err := leanllm.New(leanllm.WithAPIKey(os.Getenv("OPENAI_API_KEY")))
//	if err != nil { … }
//	defer client.Close(context.Background())
//	resp, err := client.Chat(ctx, "gpt-4o-mini", messages, leanllm.WithLabels(map[string]string{"feature": "demo"}))
//
// A *Client is an llms.Model, so it drops into any langchaingo chain or
// agent; the model string given with llms.WithModel routes the call.
//
// # Configuration
//
// New reads every LEANLLM_* variable (LEANLLM_DATABASE_URL,
// LEANLLM_SAMPLING_RATE, …); options override them. An invalid value is an
// error naming the variable and what it accepts (see ErrConfig).
//
// # The chain
//
// Each call runs through a chain of Middleware built once by New: context →
// sampling → redaction → hooks → timing → capture → enqueue → model. Insert
// your own with WithMiddleware(Before(stage)/After(stage), mw), or replace it
// with WithChain. The chain's types (Handler, Middleware, Call, Event) live
// in package core and are re-exported here.
//
// # Per-call settings
//
// Chat, Completion and Stream take CallOptions (WithLabels, WithRequestID,
// WithCorrelationID, WithParentRequestID, WithLeanContext, WithLog,
// WithSample, WithCallRedactionMode, WithLLMOptions). Code that only sees an
// llms.Model carries them on the context: WithContext, StartTrace.
//
// # Delivery
//
// Events go to a bounded in-memory queue that never blocks (overflow drops
// the oldest, counted in Stats) and are written in batches by one worker
// goroutine, with retries, an optional spool and exact accounting. Flush
// waits for what was enqueued; Close drains and stops the worker. Without a
// destination, events stay in memory: LastEvent, RecentEvents.
//
// # Reading back
//
// GetEvent, ListEvents, CountEvents, Aggregate and Lineage query the store;
// Replay re-runs a stored call with overrides.
package leanllm

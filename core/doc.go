// Package core holds the types of LeanLLM's call chain: Event (and its wire
// format), Call, Handler, HandlerFunc, Middleware, Chain, Sink, the per-call
// Settings carried on a context, trace Scopes, and error classification.
//
// # Why a separate package
//
// Each stage of the chain lives in its own package (sampling, redaction,
// capture, middleware) and the default chain is built by leanllm.New, so the
// types they share cannot live in package leanllm. Package leanllm re-exports
// them as aliases: users import leanllm; authors of stage packages import
// core.
//
// # Concurrency
//
// A Handler is called concurrently. A Call belongs to one call and is not
// shared. An Event is immutable once handed to a Sink: use Clone.
package core

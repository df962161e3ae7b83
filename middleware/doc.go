// Package middleware holds the generic stages of LeanLLM's call chain —
// context, hooks, timing and enqueue — and helpers for writing your own.
//
// # The chain
//
// A leanllm.Client runs every call through a chain of [core.Middleware]
// built once when the client is created. Outermost first:
//
//	context → sampling → redaction → hooks → timing → capture → enqueue → model
//
// On the way in, each stage prepares the call (settings, sampling decision,
// capture policy, pre-call hook, start time, the event's request side). The
// enqueue stage is the first code to run when the model returns: it stamps
// the end time, lets the capture stage's Finisher fill the response side of
// the event, and hands the finished event to the sink. Stages outside it (the
// hooks, your own middleware) then see the finished, immutable event in
// c.Event on the way out.
//
// # Writing a middleware
//
// A middleware is a func(next core.Handler) core.Handler. Read c.Settings,
// add labels with c.SetLabel before calling next, and read c.Event after it
// returns (never change it: it is already queued). Never change c.Messages or
// c.Options in place; use c.AddOptions.
package middleware

// Package collector is the server side of LeanLLM's remote protocol:
// POST /v1/events with "Authorization: Bearer KEY" and a body
// {"events":[<event>,…]}, answered with {"accepted":n,"dropped":m}. Events
// are decoded with core.Event's wire format (which also reads batches
// written by Python LeanLLM), validated, and handed to a persist.Writer —
// the same worker and store the SDK uses — so writes are batched, retried
// and idempotent on event_id.
//
// # Answers
//
//   - 200 {"accepted":n,"dropped":m}: the events were handed to the writer
//     and flushed to the store (m counts events whose event_id repeats an
//     earlier one of the same batch).
//   - 202 with the same body: handed to the writer, but not yet stored when
//     the acknowledgement timeout ended; they are written in the background.
//   - 400 {"error":…}: malformed JSON, a missing "events" array, or an event
//     without event_id or with a bad timestamp; nothing of the batch is kept.
//   - 401: no or wrong Bearer key. 405: not a POST. 413: body over the limit.
//   - 503: the collector is shutting down.
//
// The package also holds the Bearer key set (constant-time comparison), the
// Prometheus metrics and a store wrapper that times writes.
package collector

package leanllm

import (
	"context"
)

// The read API is served by the store (SQLite or Postgres), never on a call's
// goroutine. It returns ErrNoStore when the client has no readable store.

// GetEvent returns the stored event with id (persist.ErrNotFound, wrapped,
// for an unknown id). Events still queued are not visible until written:
// call Flush first to read your own writes.
func (cl *Client) GetEvent(ctx context.Context, id string) (*Event, error) {
	if cl.reader == nil {
		return nil, ErrNoStore
	}
	return cl.reader.GetEvent(ctx, id)
}

// ListEvents returns stored events matching f, newest first.
func (cl *Client) ListEvents(ctx context.Context, f Filter) ([]*Event, error) {
	if cl.reader == nil {
		return nil, ErrNoStore
	}
	return cl.reader.ListEvents(ctx, f)
}

// CountEvents counts stored events matching f.
func (cl *Client) CountEvents(ctx context.Context, f Filter) (int64, error) {
	if cl.reader == nil {
		return 0, ErrNoStore
	}
	return cl.reader.CountEvents(ctx, f)
}

// Aggregate groups stored events by model, provider, day or label:KEY with
// count, sample-rate-scaled count, errors, tokens, cost and latency p50/p95.
func (cl *Client) Aggregate(ctx context.Context, q AggregateQuery) ([]AggregateRow, error) {
	if cl.reader == nil {
		return nil, ErrNoStore
	}
	return cl.reader.Aggregate(ctx, q)
}

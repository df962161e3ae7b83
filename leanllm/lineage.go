package leanllm

import (
	"context"
	"errors"
	"fmt"

	"github.com/leanllm/leanllm-go/lineage"
	"github.com/leanllm/leanllm-go/persist"
)

// Lineage returns the execution graph of a trace: every stored event with
// correlationID, linked by parent_request_id, with subtree cost, latency,
// tokens and tool calls (see package lineage). Events still queued are not
// visible until written: call Flush first to read your own writes. It
// returns an error wrapping persist.ErrNotFound when no event has the id,
// and ErrNoStore without a readable store.
func (cl *Client) Lineage(ctx context.Context, correlationID string) (*lineage.Graph, error) {
	if correlationID == "" {
		return nil, errors.New("leanllm: Lineage: empty correlation id")
	}
	events, err := cl.ListEvents(ctx, Filter{CorrelationID: correlationID})
	if err != nil {
		return nil, fmt.Errorf("leanllm: lineage of %q: %w", correlationID, err)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("leanllm: lineage of %q: no stored event has this correlation id: %w", correlationID, persist.ErrNotFound)
	}
	return lineage.Build(correlationID, events), nil
}

package persist

import (
	"context"
	"errors"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// Store writes batches of events. Only the Writer's worker goroutine calls a
// Store, one call at a time.
//
// Write stores events idempotently: an event whose event_id is already stored
// is skipped (ON CONFLICT (event_id) DO NOTHING), so a retried batch never
// duplicates a row. Write must honour ctx (each attempt gets its own timeout)
// and must not keep the slice or change the events after it returns.
// It returns an error wrapping ErrPermanent when retrying cannot help (bad
// credentials, a rejected body), and an error wrapping ErrData when one or
// more events of the batch cannot be stored as they are (the Writer then
// splits the batch to isolate them).
type Store interface {
	Write(ctx context.Context, events []*core.Event) error
	Close() error
}

// Migrator is implemented by stores with a schema. Migrate applies pending
// migrations; it is called by the worker at start when auto_migrate is on.
type Migrator interface {
	Migrate(ctx context.Context) error
}

// Reader is implemented by stores that can be queried (SQLite, Postgres).
// Its methods may be called from any goroutine, concurrently with Write.
type Reader interface {
	GetEvent(ctx context.Context, id string) (*core.Event, error)
	ListEvents(ctx context.Context, f Filter) ([]*core.Event, error)
	CountEvents(ctx context.Context, f Filter) (int64, error)
	Aggregate(ctx context.Context, q AggregateQuery) ([]AggregateRow, error)
}

// Filter selects events. Zero fields do not filter. Results are newest first.
type Filter struct {
	CorrelationID   string
	ParentRequestID string
	Model           string
	Provider        string
	Since, Until    time.Time // Since inclusive, Until exclusive
	ErrorsOnly      bool
	Labels          map[string]string // every key=value must match
	Limit, Offset   int               // Limit 0 = no limit
}

// AggregateQuery groups events.
type AggregateQuery struct {
	// By is "model", "provider", "day" or "label:KEY".
	By     string
	Filter Filter
}

// AggregateRow is one group of an aggregate. Count is the number of stored
// events; ScaledCount sums 1/sample_rate over them, estimating how many calls
// were made before sampling.
type AggregateRow struct {
	Key          string  `json:"key"`
	Count        int64   `json:"count"`
	ScaledCount  float64 `json:"scaled_count"`
	Errors       int64   `json:"errors"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	TotalTokens  int64   `json:"total_tokens"`
	Cost         float64 `json:"cost"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
}

// Errors. Test them with errors.Is.
var (
	// ErrPermanent marks a write error that retrying cannot fix.
	ErrPermanent = errors.New("persist: permanent error")
	// ErrData marks a write error caused by the content of some event.
	ErrData = errors.New("persist: event data rejected")
	// ErrNotFound is returned by GetEvent for an unknown id.
	ErrNotFound = errors.New("persist: event not found")
	// ErrClosed is returned by a closed Writer or Store.
	ErrClosed = errors.New("persist: closed")
)

// Drop reasons, as counted in Stats.Dropped and passed to the on-dropped hook.
const (
	DropQueueFull       = "queue_full"
	DropRetryExhausted  = "retry_exhausted"
	DropPermanentError  = "permanent_error"
	DropShutdownTimeout = "shutdown_timeout"
	DropTooLarge        = "too_large"
	DropClosed          = "closed"
	DropSpoolCorrupt    = "spool_corrupt"
)

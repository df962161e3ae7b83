package persist_test

import (
	"context"
	"fmt"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

// Open a store from a database URL, migrate it, write a batch and read it
// back.
func ExampleOpenSQL() {
	ctx := context.Background()
	s, err := persist.OpenSQL(ctx, "sqlite://:memory:") // or LEANLLM_DATABASE_URL
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil { // Open never migrates
		panic(err)
	}
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	batch := []*core.Event{
		{EventID: "a", Timestamp: at, Model: "gpt-4o-mini", Cost: 0.002, LatencyMS: 300, Labels: map[string]string{"team": "search"}},
		{EventID: "b", Timestamp: at.Add(time.Second), Model: "gpt-4o-mini", Cost: 0.001, LatencyMS: 100, ErrorKind: core.ErrorKindTimeout},
		{EventID: "c\x00", Timestamp: at.Add(2 * time.Second), Model: "claude-3-haiku", LatencyMS: 200},
	}
	if err := s.Write(ctx, batch); err != nil {
		panic(err)
	}
	if err := s.Write(ctx, batch); err != nil { // a retried batch adds nothing
		panic(err)
	}

	n, _ := s.CountEvents(ctx, persist.Filter{})
	fmt.Println("stored:", n)
	errs, _ := s.ListEvents(ctx, persist.Filter{ErrorsOnly: true})
	fmt.Println("errors:", errs[0].EventID, errs[0].ErrorKind)
	c, _ := s.GetEvent(ctx, "c\x00")
	fmt.Printf("sanitized: %+q %v\n", c.EventID, c.Metadata.Sanitized)
	rows, _ := s.Aggregate(ctx, persist.AggregateQuery{By: "model"})
	for _, r := range rows {
		fmt.Printf("%s: count=%d errors=%d cost=%.3f p50=%.0fms\n", r.Key, r.Count, r.Errors, r.Cost, r.LatencyP50MS)
	}
	// Output:
	// stored: 3
	// errors: b timeout
	// sanitized: "c\ufffd" true
	// claude-3-haiku: count=1 errors=0 cost=0.000 p50=200ms
	// gpt-4o-mini: count=2 errors=1 cost=0.003 p50=200ms
}

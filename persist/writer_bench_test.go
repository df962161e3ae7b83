package persist

import (
	"context"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// plDiscard is a Store that accepts everything and keeps nothing.
type plDiscard struct{}

func (plDiscard) Write(context.Context, []*core.Event) error { return nil }
func (plDiscard) Close() error                               { return nil }

func plBenchClose(b *testing.B, w *Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// plBenchEvents: a bare event measures the queue itself; Event.SizeBytes
// walks the labels map, which costs about as much again.
var plBenchEvents = []struct {
	name string
	e    *core.Event
}{
	{"bare", &core.Event{EventID: "bench", Model: "gpt-4o-mini", Provider: "openai"}},
	{"labels", plEvent("bench")},
}

func BenchmarkEnqueue(b *testing.B) {
	for _, bc := range plBenchEvents {
		b.Run(bc.name, func(b *testing.B) {
			w := NewWriter(plDiscard{}, WriterConfig{})
			defer plBenchClose(b, w)
			b.ReportAllocs()
			for b.Loop() {
				w.Enqueue(bc.e)
			}
		})
	}
}

func BenchmarkEnqueueParallel(b *testing.B) {
	for _, bc := range plBenchEvents {
		b.Run(bc.name, func(b *testing.B) {
			w := NewWriter(plDiscard{}, WriterConfig{})
			defer plBenchClose(b, w)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w.Enqueue(bc.e)
				}
			})
		})
	}
}

// BenchmarkWriterEndToEnd enqueues b.N distinct events and flushes them into
// a MemStore with batches of 100.
func BenchmarkWriterEndToEnd(b *testing.B) {
	events := make([]*core.Event, b.N)
	for i := range events {
		events[i] = plEvent(plID(i))
	}
	st := NewMemStore()
	w := NewWriter(st, WriterConfig{BatchSize: 100, QueueMaxSize: max(b.N, 1), QueueMaxBytes: 1 << 40})
	defer plBenchClose(b, w)
	b.ReportAllocs()
	b.ResetTimer()
	for _, e := range events {
		w.Enqueue(e)
	}
	if err := w.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st.Len() != b.N {
		b.Fatalf("stored %d of %d", st.Len(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

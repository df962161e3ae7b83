package bench_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/tmc/langchaingo/llms"
)

// BenchmarkScalePrompt: a logged call capturing content (redaction_mode
// redacted, max_content_bytes at its default of 32 KiB) as the prompt
// grows from 1 KiB to 1 MiB, beside the raw model with the same prompt.
func BenchmarkScalePrompt(b *testing.B) {
	ctx := context.Background()
	m := harness.NewStatic()
	for _, size := range []int{1 << 10, 16 << 10, 128 << 10, 1 << 20} {
		name := sizeName(size)
		msgs := harness.Prompt(size)
		b.Run("raw/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = m.GenerateContent(ctx, msgs)
			}
		})
		b.Run("leanllm/"+name, func(b *testing.B) {
			cl := newClient(b, m, leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("redacted"))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = cl.GenerateContent(ctx, msgs)
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + "MiB"
	}
	return strconv.Itoa(n>>10) + "KiB"
}

// BenchmarkScaleLabels: a logged call (content off) whose context carries
// 0, 3 or 30 labels.
func BenchmarkScaleLabels(b *testing.B) {
	m := harness.NewStatic()
	for _, n := range []int{0, 3, 30} {
		b.Run(fmt.Sprintf("leanllm/labels=%d", n), func(b *testing.B) {
			cl := newClient(b, m)
			ctx := context.Background()
			if n > 0 {
				labels := make(map[string]string, n)
				for i := range n {
					labels["key"+strconv.Itoa(i)] = "value-" + strconv.Itoa(i)
				}
				ctx = leanllm.WithContext(ctx, leanllm.WithLabels(labels))
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = cl.GenerateContent(ctx, harness.ShortPrompt)
			}
		})
	}
}

// BenchmarkScaleGoroutines: logged calls (content off) from 1 to 64
// goroutines at once (b.SetParallelism × GOMAXPROCS), beside the raw model
// called the same way. ns/op is wall time per call across all goroutines.
func BenchmarkScaleGoroutines(b *testing.B) {
	m := harness.NewStatic()
	procs := runtime.GOMAXPROCS(0)
	run := func(b *testing.B, model llms.Model, g int) {
		b.ReportAllocs()
		if g == 1 {
			ctx := context.Background()
			for b.Loop() {
				_, _ = model.GenerateContent(ctx, harness.ShortPrompt)
			}
			return
		}
		b.SetParallelism(max(1, g/procs))
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				_, _ = model.GenerateContent(ctx, harness.ShortPrompt)
			}
		})
	}
	for _, g := range []int{1, 2, 8, 32, 64} {
		if g > 1 && g < procs {
			continue
		}
		g := max(g, 1)
		if g > 1 {
			g = max(1, g/procs) * procs
		}
		b.Run(fmt.Sprintf("raw/goroutines=%d", g), func(b *testing.B) { run(b, m, g) })
		b.Run(fmt.Sprintf("leanllm/goroutines=%d", g), func(b *testing.B) { run(b, newClient(b, m), g) })
	}
}

// BenchmarkScaleQueueMemory fills the default queue (10,000 events) with
// events carrying 2 KiB of captured content each (redaction_mode full),
// while the store blocks, and reports the live heap the full queue holds:
// heap after the calls minus heap before, both after GC. Each call gets a
// prompt string of its own that the caller drops, as a real program would,
// so content the events share with the caller is counted.
func BenchmarkScaleQueueMemory(b *testing.B) {
	const queued = persist.DefaultQueueMaxSize
	const contentSize = 2 << 10
	for b.Loop() {
		store := persist.NewMemStore()
		store.SetBlocking(true)
		m := harness.NewStatic()
		cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(m), leanllm.WithStore(store),
			leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("full"), leanllm.WithLastEventBuffer(0))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		// The worker takes one batch (100) and blocks in Write; the next
		// 10,000 fill the queue.
		for i := range 100 {
			_, _ = cl.GenerateContent(ctx, promptN(i, contentSize))
		}
		waitInFlight(b, cl)
		before := harness.HeapInUse()
		for i := range queued {
			_, _ = cl.GenerateContent(ctx, promptN(100+i, contentSize))
		}
		after := harness.HeapInUse()
		st := cl.Stats()
		if st.QueueLen != queued || st.DroppedTotal != 0 {
			b.Fatalf("queue %d (want %d), dropped %v", st.QueueLen, queued, st.Dropped)
		}
		held := float64(after) - float64(before)
		b.ReportMetric(held, "heap-bytes")
		b.ReportMetric(held/queued, "heap-B/event")
		b.ReportMetric(float64(st.QueueBytes), "queue-bytes-counted")
		store.SetBlocking(false)
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := cl.Close(cctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		runtime.KeepAlive(m)
	}
}

func promptN(i, size int) []llms.MessageContent {
	s := []byte(harness.PromptText(size))
	copy(s, strconv.Itoa(i)) // a distinct string per call
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, string(s))}
}

func waitInFlight(b *testing.B, cl *leanllm.Client) {
	deadline := time.Now().Add(10 * time.Second)
	for cl.Stats().InFlight == 0 {
		if time.Now().After(deadline) {
			b.Fatal("the worker never took a batch")
		}
		time.Sleep(time.Millisecond)
	}
}

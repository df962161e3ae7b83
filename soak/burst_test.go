package soak_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
)

// TestBurst: 15,000 calls within one second against a queue of 1,000.
// Drops are exactly accounted (queue_full, in Stats and through the
// on-dropped hook) and the callers never block. "sqlite" writes to a real
// file; "slow_store" makes every write take 2 s during the burst, so most
// of the burst must be dropped.
func TestBurst(t *testing.T) {
	const total, queue = 15000, 1000
	for _, name := range []string{"sqlite", "slow_store"} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			var hookMu sync.Mutex
			hooked := map[string]int64{}
			opts := []leanllm.Option{
				leanllm.WithQueueMaxSize(queue),
				leanllm.WithOnDroppedEvents(func(n int, reason string) {
					hookMu.Lock()
					hooked[reason] += int64(n)
					hookMu.Unlock()
				}),
			}
			var mem *persist.MemStore
			var path string
			if name == "sqlite" {
				var u string
				path, u = sqliteFile(t)
				opts = append(opts, leanllm.WithDatabaseURL(u))
			} else {
				mem = persist.NewMemStore()
				opts = append(opts, leanllm.WithStore(mem))
			}
			cl := newClient(t, opts...)
			// One call first, so that the store is migrated and warm.
			_, _ = cl.GenerateContent(t.Context(), harness.ShortPrompt)
			is.NoErr(cl.Flush(t.Context()))
			if mem != nil {
				mem.SetDelay(2 * time.Second)
			}
			// 4 goroutines, paced to finish the 15,000 calls in one second.
			start := time.Now()
			calls, durs := runBurst(cl, total, 4, time.Second)
			took := time.Since(start)
			if mem != nil {
				mem.SetDelay(0)
			}
			is.NoErr(closeClient(cl))
			st := cl.Stats()
			checkAtRest(t, st)
			is.Equal(calls, int64(total))
			is.Equal(st.Enqueued, int64(total+1))
			is.Equal(st.Stored+st.Dropped[persist.DropQueueFull], int64(total+1)) // the only loss: queue_full
			is.Equal(st.DroppedTotal, st.Dropped[persist.DropQueueFull])
			hookMu.Lock()
			is.Equal(hooked[persist.DropQueueFull], st.Dropped[persist.DropQueueFull]) // the hook saw every drop
			hookMu.Unlock()
			var stored int64
			if mem != nil {
				stored = int64(mem.Len())
				is.Equal(mem.Duplicates(), 0)
				is.True(st.Dropped[persist.DropQueueFull] > 0)
			} else {
				rows, distinct := sqliteCounts(t, path)
				is.Equal(distinct, rows)
				stored = rows
			}
			is.Equal(stored, st.Stored) // the store holds exactly what Stats says
			lat := checkLatency(t, durs)
			result(t, "%d calls in %v, queue %d: stored %d, dropped queue_full %d (hook %d), total accounted %d; %s",
				calls, took.Round(time.Millisecond), queue, stored-1, st.Dropped[persist.DropQueueFull],
				hooked[persist.DropQueueFull], st.Stored+st.DroppedTotal, lat)
		})
	}
}

// runBurst makes exactly total calls from workers goroutines, each paced
// in 10 ms ticks to spread its share over d.
func runBurst(cl *leanllm.Client, total, workers int, d time.Duration) (int64, latencies) {
	var (
		mu    sync.Mutex
		all   latencies
		calls atomic.Int64
		wg    sync.WaitGroup
	)
	const tick = 10 * time.Millisecond
	ticks := int(d / tick)
	for w := range workers {
		share := total / workers
		if w < total%workers {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat latencies
			start := time.Now()
			made := 0
			for k := 1; made < share; k++ {
				time.Sleep(time.Until(start.Add(time.Duration(k) * tick)))
				due := min(share, share*k/ticks+1)
				for i := 0; made < due; made, i = made+1, i+1 {
					t0 := time.Now()
					_, _ = cl.GenerateContent(context.Background(), harness.ShortPrompt)
					if x := time.Since(t0); i == 0 {
						lat.cold = append(lat.cold, x)
					} else {
						lat.warm = append(lat.warm, x)
					}
					calls.Add(1)
				}
			}
			mu.Lock()
			all.add(lat)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return calls.Load(), all
}

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
	"go.uber.org/goleak"
)

// TestFlushCloseWhileCalling: 64 goroutines call while others Flush in a
// loop and two Close at once; the calls go on after Close. Race-free
// (under -race), both Close calls return the same result, calls after
// Close are counted dropped as closed, every event is accounted (the
// unpaced callers also overflow the queue: queue_full), nothing is stored
// twice, Flush after Close returns nil, and no goroutine is
// left behind.
func TestFlushCloseWhileCalling(t *testing.T) {
	defer goleak.VerifyNone(t, append(leakOptions, goleak.IgnoreCurrent())...)
	is := is.New(t)
	mem := persist.NewMemStore()
	mem.SetDelay(2 * time.Millisecond) // flushes overlap writes
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(harness.NewStatic()), leanllm.WithStore(mem),
		leanllm.WithBatchSize(50))
	is.NoErr(err)

	stop := make(chan struct{})
	var calls, flushes, flushErrs atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := cl.GenerateContent(context.Background(), harness.ShortPrompt); err != nil {
					t.Error(err)
					return
				}
				calls.Add(1)
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if err := cl.Flush(ctx); err != nil {
					flushErrs.Add(1)
				}
				cancel()
				flushes.Add(1)
			}
		}()
	}
	time.Sleep(pick(500*time.Millisecond, 5*time.Second))
	closeErrs := make([]error, 2)
	var cw sync.WaitGroup
	for i := range closeErrs {
		cw.Add(1)
		go func() {
			defer cw.Done()
			closeErrs[i] = closeClient(cl)
		}()
	}
	cw.Wait()
	atClose := cl.Stats()
	time.Sleep(200 * time.Millisecond) // calls go on after Close
	close(stop)
	wg.Wait()

	is.NoErr(closeErrs[0])
	is.NoErr(closeErrs[1])
	is.NoErr(cl.Flush(t.Context())) // a no-op after Close
	is.Equal(flushErrs.Load(), int64(0))
	st := cl.Stats()
	checkAtRest(t, st)
	n := calls.Load()
	is.Equal(st.Enqueued, n)
	closed := st.Dropped[persist.DropClosed]
	is.True(closed > atClose.Dropped[persist.DropClosed]) // calls after Close were counted closed
	full := st.Dropped[persist.DropQueueFull]             // 64 unpaced callers outrun a 2 ms store
	is.Equal(st.DroppedTotal, closed+full)                // no other loss
	is.Equal(st.Stored+st.DroppedTotal, n)
	is.Equal(int64(mem.Len()), st.Stored)
	is.Equal(mem.Duplicates(), 0)
	is.True(mem.Closed())
	result(t, "64 unpaced callers, 4 flushers (%d flushes, 0 errors), 2 concurrent Close: %d calls = %d stored + %d queue_full + %d closed (calls after Close); 0 duplicates; no goroutine leak",
		flushes.Load(), n, st.Stored, full, closed)
}

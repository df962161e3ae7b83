package persist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
)

// Helpers of the pipeline tests are prefixed pl.

func plEvent(id string) *core.Event {
	return &core.Event{
		EventID:   id,
		Timestamp: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Model:     "gpt-4o-mini",
		Provider:  "openai",
		Labels:    map[string]string{"team": "a"},
	}
}

func plID(i int) string { return fmt.Sprintf("e%05d", i) }

func plIDs(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, plID(i))
	}
	return ids
}

func plEnqueue(w *Writer, from, to int) {
	for i := from; i < to; i++ {
		w.Enqueue(plEvent(plID(i)))
	}
}

// plEventually polls cond until it holds or 5 s pass.
func plEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// plFast is a config with short durations.
func plFast(c WriterConfig) WriterConfig {
	if c.FlushInterval == 0 {
		c.FlushInterval = time.Hour
	}
	if c.RetryInitialBackoff == 0 {
		c.RetryInitialBackoff = 5 * time.Millisecond
	}
	if c.RetryTotalBudget == 0 {
		c.RetryTotalBudget = 200 * time.Millisecond
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 2 * time.Second
	}
	return c
}

// plClose closes w with a generous deadline and checks the invariant.
func plClose(t *testing.T, w *Writer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.Close(ctx)
	plBalanced(t, w)
	return err
}

func plBalanced(t *testing.T, w *Writer) {
	t.Helper()
	if s := w.Stats(); s.Unaccounted() != 0 {
		t.Fatalf("accounting invariant broken: %+v (unaccounted %d)", s, s.Unaccounted())
	}
}

func plCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestWriterBatchesBySize(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	w := NewWriter(st, plFast(WriterConfig{BatchSize: 10}))
	defer plClose(t, w)

	plEnqueue(w, 0, 25)
	plEventually(t, "two full batches", func() bool { return st.Len() == 20 })
	time.Sleep(30 * time.Millisecond)
	is.Equal(st.Len(), 20)          // a partial batch waits for the interval
	is.Equal(w.Stats().QueueLen, 5) // the rest is queued
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.Equal(st.IDs(), plIDs(0, 25))
	is.Equal(st.BatchSizes(), []int{10, 10, 5})
	s := w.Stats()
	is.Equal(s.Stored, int64(25))
	is.Equal(s.Batches, int64(3))
	plBalanced(t, w)
}

func TestWriterDrainsFullBatchesBackToBack(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	w := NewWriter(st, plFast(WriterConfig{BatchSize: 10, QueueMaxSize: 5000}))
	defer plClose(t, w)
	plEnqueue(w, 0, 1000)
	// The interval is an hour: only "write again while a batch is full"
	// can store all of them.
	plEventually(t, "1000 stored", func() bool { return st.Len() == 1000 })
	is.Equal(st.Duplicates(), 0)
}

func TestWriterBatchesByInterval(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	w := NewWriter(st, plFast(WriterConfig{BatchSize: 100, FlushInterval: 20 * time.Millisecond}))
	defer plClose(t, w)
	start := time.Now()
	plEnqueue(w, 0, 3)
	plEventually(t, "interval write", func() bool { return st.Len() == 3 })
	is.True(time.Since(start) < 2*time.Second)
	is.Equal(st.BatchSizes(), []int{3})
}

func TestWriterFlush(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{}))
		defer plClose(t, w)
		is.NoErr(w.Flush(plCtx(t, time.Second)))
		is.Equal(st.Writes(), 0)
	})
	t.Run("waits for the events enqueued before", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.SetDelay(20 * time.Millisecond)
		w := NewWriter(st, plFast(WriterConfig{BatchSize: 4}))
		defer plClose(t, w)
		plEnqueue(w, 0, 10) // two batches start, two events wait
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.IDs(), plIDs(0, 10))
		s := w.Stats()
		is.Equal(s.QueueLen, 0)
		is.Equal(s.InFlight, 0)
		plBalanced(t, w)
	})
	t.Run("deadline", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.SetBlocking(true)
		w := NewWriter(st, plFast(WriterConfig{WriteTimeout: 10 * time.Second}))
		defer plClose(t, w)
		plEnqueue(w, 0, 3)
		err := w.Flush(plCtx(t, 50*time.Millisecond))
		is.True(errors.Is(err, context.DeadlineExceeded))
		is.True(strings.Contains(err.Error(), "3 events pending"))
		st.SetBlocking(false)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.Len(), 3)
	})
	t.Run("concurrent flushes", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{BatchSize: 7}))
		defer plClose(t, w)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				plEnqueue(w, g*100, g*100+50)
				if err := w.Flush(plCtx(t, 5*time.Second)); err != nil {
					t.Error(err)
				}
				for i := g * 100; i < g*100+50; i++ {
					if !st.Has(plID(i)) {
						t.Errorf("%s not stored after Flush", plID(i))
						return
					}
				}
			})
		}
		wg.Wait()
		is.Equal(st.Len(), 400)
	})
}

func TestWriterClose(t *testing.T) {
	t.Run("drains and closes the store", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{BatchSize: 100}))
		plEnqueue(w, 0, 250)
		is.NoErr(plClose(t, w))
		is.Equal(st.Len(), 250)
		is.True(st.Closed())
	})
	t.Run("twice", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{}))
		plEnqueue(w, 0, 5)
		is.NoErr(plClose(t, w))
		is.NoErr(plClose(t, w))
		is.Equal(st.Closes(), 1)
		is.NoErr(w.Flush(plCtx(t, time.Second))) // no-op after Close
		is.Equal(st.Len(), 5)
	})
	t.Run("concurrent", func(t *testing.T) {
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{}))
		plEnqueue(w, 0, 5)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if err := w.Close(plCtx(t, 5*time.Second)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		is.New(t).Equal(st.Closes(), 1)
	})
	t.Run("enqueue after close is dropped as closed", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{}))
		is.NoErr(plClose(t, w))
		w.Enqueue(plEvent("late"))
		s := w.Stats()
		is.Equal(s.Enqueued, int64(1))
		is.Equal(s.Dropped[DropClosed], int64(1))
		is.Equal(st.Len(), 0)
		plBalanced(t, w)
	})
}

func TestWriterCloseDeadStore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*MemStore)
	}{
		{"failing", func(st *MemStore) { st.SetDown(true) }},
		{"hanging", func(st *MemStore) { st.SetBlocking(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			st := NewMemStore()
			tc.setup(st)
			w := NewWriter(st, plFast(WriterConfig{
				BatchSize:        10,
				RetryTotalBudget: 10 * time.Second,
				RetryMaxAttempts: 1000,
				WriteTimeout:     10 * time.Second,
			}))
			plEnqueue(w, 0, 37)
			start := time.Now()
			err := w.Close(plCtx(t, 150*time.Millisecond))
			elapsed := time.Since(start)
			is.True(elapsed < time.Second) // returned by its deadline
			is.True(errors.Is(err, context.DeadlineExceeded))
			is.True(strings.Contains(err.Error(), "persist: close: 37 events not delivered"))
			plBalanced(t, w)
			// The in-flight batch is accounted once the store returns.
			plEventually(t, "worker exit", func() bool { return w.Stats().InFlight == 0 })
			s := w.Stats()
			is.Equal(s.Dropped[DropShutdownTimeout], int64(37))
			is.Equal(s.DroppedTotal, int64(37))
			plBalanced(t, w)
			<-w.done
			is.True(st.Closed())
		})
	}
}

func TestWriterQueueOverflowDropsOldest(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	st.SetBlocking(true)
	w := NewWriter(st, plFast(WriterConfig{QueueMaxSize: 4, BatchSize: 4, WriteTimeout: 10 * time.Second}))
	defer plClose(t, w)

	plEnqueue(w, 0, 4) // the first batch goes in flight and blocks
	plEventually(t, "first batch in flight", func() bool { return w.Stats().InFlight == 4 })
	plEnqueue(w, 4, 14) // 10 more into a queue of 4: 6 dropped, the oldest
	s := w.Stats()
	is.Equal(s.QueueLen, 4)
	is.Equal(s.Dropped[DropQueueFull], int64(6))
	plBalanced(t, w)

	st.SetBlocking(false)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.Equal(st.IDs(), append(plIDs(0, 4), plIDs(10, 14)...))
	plBalanced(t, w)
}

func TestWriterQueueByteCap(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	st.SetBlocking(true)
	size := plEvent(plID(0)).SizeBytes()
	w := NewWriter(st, plFast(WriterConfig{QueueMaxBytes: 3*size + size/2, BatchSize: 1, WriteTimeout: 10 * time.Second}))
	defer plClose(t, w)

	plEnqueue(w, 0, 1)
	plEventually(t, "first event in flight", func() bool { return w.Stats().InFlight == 1 })
	plEnqueue(w, 1, 9) // 8 events, room for 3
	s := w.Stats()
	is.Equal(s.QueueLen, 3)
	is.Equal(s.QueueBytes, int64(3*size))
	is.Equal(s.Dropped[DropQueueFull], int64(5))

	st.SetBlocking(false)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.Equal(st.IDs(), append(plIDs(0, 1), plIDs(6, 9)...))
	plBalanced(t, w)
}

func TestEnqueueTooLarge(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	w := NewWriter(st, plFast(WriterConfig{QueueMaxBytes: 64 << 10}))
	big := plEvent("big")
	p := strings.Repeat("x", 100<<10)
	big.Prompt = &p
	w.Enqueue(big)
	w.Enqueue(plEvent("small"))
	is.NoErr(plClose(t, w))
	s := w.Stats()
	is.Equal(s.Dropped[DropTooLarge], int64(1))
	is.Equal(st.IDs(), []string{"small"})
}

func TestWriterRetries(t *testing.T) {
	t.Run("backoff then success", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.FailNext(2, nil)
		w := NewWriter(st, plFast(WriterConfig{RetryInitialBackoff: 30 * time.Millisecond, RetryTotalBudget: 5 * time.Second}))
		defer plClose(t, w)
		plEnqueue(w, 0, 3)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.IDs(), plIDs(0, 3))
		at := st.Attempts()
		is.Equal(len(at), 3)
		g1, g2 := at[1].Sub(at[0]), at[2].Sub(at[1])
		is.True(g1 >= 24*time.Millisecond) // 30 ms -20 %
		is.True(g2 >= 48*time.Millisecond) // 60 ms -20 %
		is.True(g2 < 2*time.Second)
		s := w.Stats()
		is.Equal(s.Retries, int64(2))
		is.Equal(s.DroppedTotal, int64(0))
		is.True(strings.Contains(s.LastError, "store down"))
	})
	t.Run("max attempts", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.SetDown(true)
		w := NewWriter(st, plFast(WriterConfig{RetryMaxAttempts: 3, RetryTotalBudget: 5 * time.Second}))
		defer plClose(t, w)
		plEnqueue(w, 0, 4)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.Writes(), 3)
		is.Equal(w.Stats().Dropped[DropRetryExhausted], int64(4))
	})
	t.Run("total budget", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.SetDown(true)
		budget := 150 * time.Millisecond
		w := NewWriter(st, plFast(WriterConfig{RetryMaxAttempts: 1000, RetryInitialBackoff: 10 * time.Millisecond, RetryTotalBudget: budget}))
		defer plClose(t, w)
		plEnqueue(w, 0, 2)
		start := time.Now()
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.True(time.Since(start) < time.Second)
		at := st.Attempts()
		is.True(len(at) >= 3)
		is.True(at[len(at)-1].Sub(at[0]) <= budget+50*time.Millisecond) // no retry starts past the budget
		is.Equal(w.Stats().Dropped[DropRetryExhausted], int64(2))
	})
	t.Run("permanent error: one attempt", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.FailNext(1, fmt.Errorf("bad credentials: %w", ErrPermanent))
		w := NewWriter(st, plFast(WriterConfig{}))
		defer plClose(t, w)
		plEnqueue(w, 0, 5)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.Writes(), 1)
		s := w.Stats()
		is.Equal(s.Dropped[DropPermanentError], int64(5))
		is.Equal(s.Retries, int64(0))
		plEnqueue(w, 5, 6) // the next batch is written
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.IDs(), []string{plID(5)})
	})
	t.Run("store panics", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		var once atomic.Bool
		st.OnWrite(func([]*core.Event) {
			if once.CompareAndSwap(false, true) {
				panic("boom")
			}
		})
		w := NewWriter(st, plFast(WriterConfig{}))
		defer plClose(t, w)
		plEnqueue(w, 0, 2)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		plEnqueue(w, 2, 3)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(w.Stats().Dropped[DropPermanentError], int64(2))
		is.Equal(st.IDs(), []string{plID(2)})
	})
}

type plRetryAfterErr struct{ d time.Duration }

func (e plRetryAfterErr) Error() string             { return "slow down" }
func (e plRetryAfterErr) RetryAfter() time.Duration { return e.d }

func TestWriterRetryAfter(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.FailNext(1, plRetryAfterErr{120 * time.Millisecond})
		w := NewWriter(st, plFast(WriterConfig{RetryInitialBackoff: time.Millisecond, RetryTotalBudget: 5 * time.Second}))
		defer plClose(t, w)
		plEnqueue(w, 0, 1)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		at := st.Attempts()
		is.Equal(len(at), 2)
		is.True(at[1].Sub(at[0]) >= 120*time.Millisecond)
	})
	t.Run("clamped to the budget", func(t *testing.T) {
		is := is.New(t)
		st := NewMemStore()
		st.FailNext(100, plRetryAfterErr{time.Hour})
		w := NewWriter(st, plFast(WriterConfig{RetryInitialBackoff: time.Millisecond, RetryTotalBudget: 100 * time.Millisecond}))
		defer plClose(t, w)
		plEnqueue(w, 0, 1)
		start := time.Now()
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.True(time.Since(start) < time.Second)
		is.Equal(st.Writes(), 2) // one retry, at the end of the budget
		is.Equal(w.Stats().Dropped[DropRetryExhausted], int64(1))
	})
}

func TestWriterDataErrorSplit(t *testing.T) {
	for _, bad := range [][]string{{plID(7)}, {plID(0), plID(15)}, {plID(3), plID(4), plID(9)}} {
		t.Run(strings.Join(bad, ","), func(t *testing.T) {
			is := is.New(t)
			st := NewMemStore()
			st.Reject(bad...)
			w := NewWriter(st, plFast(WriterConfig{BatchSize: 16}))
			defer plClose(t, w)
			plEnqueue(w, 0, 16)
			is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
			want := slices.DeleteFunc(plIDs(0, 16), func(id string) bool { return slices.Contains(bad, id) })
			is.Equal(st.IDs(), want)
			s := w.Stats()
			is.Equal(s.Dropped[DropPermanentError], int64(len(bad)))
			is.Equal(s.Retries, int64(0)) // never retried as transient
			is.Equal(st.Duplicates(), 0)
			plBalanced(t, w)
		})
	}
}

func TestWriterStoreDownAtStart(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	st.SetDown(true)
	w := NewWriter(st, plFast(WriterConfig{AutoMigrate: true, RetryInitialBackoff: 5 * time.Millisecond, RetryTotalBudget: 50 * time.Millisecond}))
	defer plClose(t, w)
	plEnqueue(w, 0, 50)
	time.Sleep(40 * time.Millisecond)
	is.Equal(st.Migrations(), 0)
	is.Equal(w.Stats().QueueLen, 50) // waiting, nothing lost
	st.SetDown(false)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.Equal(st.IDs(), plIDs(0, 50))
	is.Equal(st.Migrations(), 1)
	is.Equal(w.Stats().DroppedTotal, int64(0))
}

func TestWriterMigratesOnce(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	w := NewWriter(st, plFast(WriterConfig{AutoMigrate: true}))
	plEnqueue(w, 0, 1)
	is.NoErr(plClose(t, w))
	is.Equal(st.Migrations(), 1)

	st2 := NewMemStore()
	w2 := NewWriter(st2, plFast(WriterConfig{})) // AutoMigrate off
	is.NoErr(plClose(t, w2))
	is.Equal(st2.Migrations(), 0)
}

func TestWriterOnDropped(t *testing.T) {
	t.Run("runs on the worker", func(t *testing.T) {
		is := is.New(t)
		type call struct {
			n      int
			reason string
		}
		calls := make(chan call, 10)
		release := make(chan struct{})
		w := NewWriter(NewMemStore(), plFast(WriterConfig{
			QueueMaxBytes: 4 << 10,
			OnDropped: func(n int, reason string) {
				calls <- call{n, reason}
				<-release
			},
		}))
		big := plEvent("big")
		p := strings.Repeat("x", 8<<10)
		big.Prompt = &p
		done := make(chan struct{})
		go func() {
			w.Enqueue(big) // must not wait for the blocked hook
			w.Enqueue(big)
			close(done)
		}()
		c := <-calls
		is.Equal(c.reason, DropTooLarge)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("Enqueue blocked on the on-dropped hook")
		}
		close(release)
		is.NoErr(plClose(t, w))
		total := c.n
		for len(calls) > 0 {
			total += (<-calls).n
		}
		is.Equal(total, 2)
	})
	t.Run("counts sum to the drops", func(t *testing.T) {
		is := is.New(t)
		var mu sync.Mutex
		got := map[string]int64{}
		st := NewMemStore()
		st.SetBlocking(true)
		w := NewWriter(st, plFast(WriterConfig{
			QueueMaxSize:  8,
			BatchSize:     8,
			QueueMaxBytes: 8 << 10,
			WriteTimeout:  10 * time.Second,
			OnDropped: func(n int, reason string) {
				mu.Lock()
				got[reason] += int64(n)
				mu.Unlock()
			},
		}))
		big := plEvent("big")
		p := strings.Repeat("x", 16<<10)
		big.Prompt = &p
		for i := range 200 {
			w.Enqueue(plEvent(plID(i)))
			if i%10 == 0 {
				w.Enqueue(big)
			}
		}
		st.SetBlocking(false)
		is.NoErr(plClose(t, w))
		s := w.Stats()
		is.True(s.Dropped[DropQueueFull] > 0)
		is.Equal(s.Dropped[DropTooLarge], int64(20))
		mu.Lock()
		defer mu.Unlock()
		is.Equal(got, s.Dropped)
	})
	t.Run("panicking hook is recovered", func(t *testing.T) {
		is := is.New(t)
		var calls atomic.Int64
		st := NewMemStore()
		w := NewWriter(st, plFast(WriterConfig{
			QueueMaxBytes: 4 << 10,
			OnDropped: func(int, string) {
				calls.Add(1)
				panic("hook")
			},
		}))
		big := plEvent("big")
		p := strings.Repeat("x", 8<<10)
		big.Prompt = &p
		w.Enqueue(big)
		plEventually(t, "hook called", func() bool { return calls.Load() == 1 })
		plEnqueue(w, 0, 3)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.Equal(st.Len(), 3) // the worker survived
		w.Enqueue(big)
		plEventually(t, "hook called again", func() bool { return calls.Load() == 2 })
		is.NoErr(plClose(t, w))
	})
}

func TestWriterConcurrentSafe(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	w := NewWriter(st, plFast(WriterConfig{QueueMaxSize: 20000, BatchSize: 100}))
	const goroutines, each = 16, 1000

	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Go(func() { // the invariant holds in every snapshot
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := w.Stats(); s.Unaccounted() != 0 {
				t.Errorf("unaccounted %d in %+v", s.Unaccounted(), s)
				return
			}
		}
	})
	checker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := w.Flush(plCtx(t, 5*time.Second)); err != nil {
				t.Error(err)
				return
			}
		}
	})

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() { plEnqueue(w, g*each, (g+1)*each) })
	}
	wg.Wait()
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	close(stop)
	checker.Wait()

	is.Equal(st.Len(), goroutines*each)
	is.Equal(st.Duplicates(), 0)
	s := w.Stats()
	is.Equal(s.Enqueued, int64(goroutines*each))
	is.Equal(s.Stored, int64(goroutines*each))
	is.Equal(s.DroppedTotal, int64(0))
	is.NoErr(plClose(t, w))
}

func TestWriterConcurrentWithDrops(t *testing.T) {
	is := is.New(t)
	st := NewMemStore()
	st.SetDelay(time.Millisecond)
	w := NewWriter(st, plFast(WriterConfig{QueueMaxSize: 300, BatchSize: 50}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				w.Enqueue(plEvent(plID(g*1000 + i)))
				if i%100 == 0 {
					plBalanced(t, w)
				}
			}
		})
	}
	wg.Wait()
	is.NoErr(plClose(t, w))
	s := w.Stats()
	is.Equal(s.Enqueued, s.Stored+s.DroppedTotal)
	is.Equal(s.Stored, int64(st.Len()))
	is.Equal(st.Duplicates(), 0)
}

func TestEnqueueAllocs(t *testing.T) {
	if plRaceEnabled {
		t.Skip("the race detector allocates")
	}
	w := NewWriter(NewMemStore(), plFast(WriterConfig{QueueMaxSize: 2048, BatchSize: 2048}))
	defer plClose(t, w)
	e := plEvent("x")
	for range 1100 { // grow the ring once
		w.Enqueue(e)
	}
	if n := testing.AllocsPerRun(500, func() { w.Enqueue(e) }); n != 0 {
		t.Fatalf("Enqueue allocates %v times", n)
	}
}

func TestWriterConfigDefaults(t *testing.T) {
	is := is.New(t)
	c := WriterConfig{}.withDefaults()
	is.Equal(c.QueueMaxSize, 10000)
	is.Equal(c.QueueMaxBytes, 64<<20)
	is.Equal(c.BatchSize, 100)
	is.Equal(c.FlushInterval, 180*time.Second)
	is.Equal(c.RetryMaxAttempts, 5)
	is.Equal(c.RetryInitialBackoff, 500*time.Millisecond)
	is.Equal(c.RetryTotalBudget, 30*time.Second)
	is.Equal(WriterConfig{QueueMaxSize: 10, BatchSize: 100}.withDefaults().BatchSize, 10)
}

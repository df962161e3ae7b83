package soak_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
)

const rate = 500 // calls/s of the load in every outage scenario

// outage runs the load, takes the store down after pre for down, and
// returns the calls made, their durations, and how long after recovery
// every event enqueued before it was stored or dropped (0 when drain is
// false: the scenario waits for it itself).
func outage(t *testing.T, cl *leanllm.Client, setDown func(bool), pre, down, post time.Duration, drain bool) (int64, latencies, time.Duration) {
	t.Helper()
	l := startLoad(cl, rate, 1)
	time.Sleep(pre)
	setDown(true)
	time.Sleep(down)
	before := cl.Stats().Enqueued
	setDown(false)
	recovered := time.Now()
	var took time.Duration
	if drain {
		took = waitFor(t, 60*time.Second, "backlog stored after recovery", func() bool {
			st := cl.Stats()
			return st.Stored+st.DroppedTotal >= before
		})
	}
	time.Sleep(max(post-time.Since(recovered), 0))
	calls, durs := l.stop()
	return calls, durs, took
}

// outageRetry is retry policy sized for the outage: the last attempt of a
// batch comes soon after the store is back (short: 3 s outage, attempts at
// ≈ 0, 0.25, 0.75, 1.75, 3.75 s…; soak: 20 s outage, the attempt after
// ≈ 15.75 s is cut to the 22 s budget), and the queue holds the backlog.
func outageRetry() []leanllm.Option {
	return []leanllm.Option{
		pick(leanllm.WithRetry(8, 250*time.Millisecond, 10*time.Second), leanllm.WithRetry(20, 250*time.Millisecond, 22*time.Second)),
		leanllm.WithQueueMaxSize(pick(10000, 20000)),
	}
}

// TestStoreDown: the store is down for 3 s (soak: 20 s) under 500 calls/s:
// a MemStore, Postgres behind a loopback proxy that refuses connections,
// and the remote collector answering 503. Nothing is lost, nothing is
// stored twice, the backlog is stored within 10 s of recovery and the
// calls are not slowed.
func TestStoreDown(t *testing.T) {
	down := pick(3*time.Second, 20*time.Second)
	type dest struct {
		opts    func(t *testing.T) []leanllm.Option
		setDown func(bool)
		stored  func(t *testing.T) (rows, distinct int64)
	}
	cases := map[string]func(t *testing.T) dest{
		"memstore": func(t *testing.T) dest {
			mem := persist.NewMemStore()
			return dest{
				opts:    func(*testing.T) []leanllm.Option { return []leanllm.Option{leanllm.WithStore(mem)} },
				setDown: mem.SetDown,
				stored: func(*testing.T) (int64, int64) {
					return int64(mem.Len() + mem.Duplicates()), int64(mem.Len())
				},
			}
		},
		"postgres_proxy": func(t *testing.T) dest {
			direct := pgURL(t)
			proxied, proxy := viaProxy(t, direct)
			return dest{
				opts:    func(*testing.T) []leanllm.Option { return []leanllm.Option{leanllm.WithDatabaseURL(proxied)} },
				setDown: proxy.SetDown,
				stored:  func(t *testing.T) (int64, int64) { return rowCounts(t, "pgx", direct) },
			}
		},
		"collector_503": func(t *testing.T) dest {
			col := harness.NewCollector()
			t.Cleanup(col.Close)
			var isDown atomic.Bool
			col.Script(func(harness.Request) harness.Action {
				if isDown.Load() {
					return harness.Action{Status: 503}
				}
				return harness.Action{}
			})
			return dest{
				opts: func(*testing.T) []leanllm.Option {
					return []leanllm.Option{leanllm.WithEndpoint(col.URL()), leanllm.WithLeanLLMAPIKey(harness.CollectorKey)}
				},
				setDown: isDown.Store,
				stored: func(*testing.T) (int64, int64) {
					return int64(col.Stored() + col.Duplicates()), int64(col.Stored())
				},
			}
		},
	}
	for _, name := range []string{"memstore", "postgres_proxy", "collector_503"} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			d := cases[name](t)
			cl := newClient(t, append(d.opts(t), outageRetry()...)...)
			_, _ = cl.GenerateContent(t.Context(), harness.ShortPrompt) // migrate first
			is.NoErr(cl.Flush(t.Context()))
			calls, durs, drain := outage(t, cl, d.setDown, time.Second, down, 2*time.Second, true)
			is.NoErr(cl.Flush(t.Context()))
			st := cl.Stats()
			is.NoErr(closeClient(cl))
			checkAtRest(t, st)
			is.Equal(st.DroppedTotal, int64(0)) // nothing lost
			is.Equal(st.Stored, calls+1)
			rows, distinct := d.stored(t)
			is.Equal(rows, calls+1)  // every call stored
			is.Equal(distinct, rows) // once
			if drain > 10*time.Second {
				t.Errorf("backlog stored %v after recovery; want within 10 s", drain)
			}
			lat := checkLatency(t, durs)
			result(t, "down %v under %d calls/s: %d calls, stored %d, dropped 0, duplicates 0, retries %d; backlog stored %v after recovery; %s",
				down, rate, calls, rows-1, st.Retries, drain.Round(time.Millisecond), lat)
		})
	}
}

// dropHook counts the on-dropped hook's reports by reason.
type dropHook struct {
	mu sync.Mutex
	m  map[string]int64
}

func (h *dropHook) option() leanllm.Option {
	h.m = map[string]int64{}
	return leanllm.WithOnDroppedEvents(func(n int, reason string) {
		h.mu.Lock()
		h.m[reason] += int64(n)
		h.mu.Unlock()
	})
}

func (h *dropHook) get(reason string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[reason]
}

// TestStoreDownPastBudget: the store is down for 3 s (soak: 20 s) with a
// 1 s retry budget and no spool. Events are lost, and every loss is
// accounted as retry_exhausted, in Stats and through the hook.
func TestStoreDownPastBudget(t *testing.T) {
	is := is.New(t)
	down := pick(3*time.Second, 20*time.Second)
	mem := persist.NewMemStore()
	var hook dropHook
	cl := newClient(t, leanllm.WithStore(mem), leanllm.WithRetry(3, 100*time.Millisecond, time.Second), hook.option())
	calls, durs, _ := outage(t, cl, mem.SetDown, 500*time.Millisecond, down, time.Second, true)
	is.NoErr(closeClient(cl))
	st := cl.Stats()
	checkAtRest(t, st)
	lost := st.Dropped[persist.DropRetryExhausted]
	is.True(lost > 0)
	is.Equal(st.DroppedTotal, lost) // the only reason
	is.Equal(st.Enqueued, calls)
	is.Equal(st.Stored+lost, calls)
	is.Equal(int64(mem.Len()), st.Stored)
	is.Equal(mem.Duplicates(), 0)
	is.Equal(hook.get(persist.DropRetryExhausted), lost)
	lat := checkLatency(t, durs)
	result(t, "down %v, budget 1 s, no spool: %d calls, stored %d, dropped retry_exhausted %d (hook %d), unaccounted 0; %s",
		down, calls, st.Stored, lost, hook.get(persist.DropRetryExhausted), lat)
}

// TestStoreDownWithSpool: the same outage, past the budget, with a spool
// directory: nothing is lost; what the store refused is replayed from the
// spool once it is back. (Whether the replay starts while the load goes on
// is TestSpoolRecoversUnderLoad.)
func TestStoreDownWithSpool(t *testing.T) {
	is := is.New(t)
	down := pick(3*time.Second, 20*time.Second)
	mem := persist.NewMemStore()
	cl := newClient(t, leanllm.WithStore(mem), leanllm.WithRetry(3, 100*time.Millisecond, time.Second),
		leanllm.WithSpoolDir(t.TempDir()))
	calls, durs, _ := outage(t, cl, mem.SetDown, 500*time.Millisecond, down, time.Second, false)
	underLoad := cl.Stats().Replayed
	is.NoErr(cl.Flush(t.Context()))
	replay := waitFor(t, 60*time.Second, "spool replayed", func() bool {
		st := cl.Stats()
		return st.SpoolPending == 0 && st.Stored == calls
	})
	is.NoErr(closeClient(cl))
	st := cl.Stats()
	checkAtRest(t, st)
	is.Equal(st.DroppedTotal, int64(0))
	is.Equal(st.Stored, calls)
	is.True(st.Spooled > 0)
	is.Equal(st.Replayed, st.Spooled)
	is.Equal(int64(mem.Len()), calls)
	is.Equal(mem.Duplicates(), 0)
	lat := checkLatency(t, durs)
	result(t, "down %v, budget 1 s, spool: %d calls, stored %d, spooled %d, replayed %d (%d of them while the load went on), dropped 0, duplicates 0; spool empty %v after the load stopped; %s",
		down, calls, st.Stored, st.Spooled, st.Replayed, underLoad, replay.Round(time.Millisecond), lat)
}

// TestSpoolRecoversUnderLoad: after an outage that sent batches to the
// spool, the store is back while the load goes on (500 calls/s, 5 batches
// a second). The Writer must probe the store and replay the spool within
// the retry budget (1 s here) plus a margin, without waiting for the load
// to stop.
//
// Known bug (persist/writer_worker.go): while degraded, every fresh batch
// sent straight to the spool calls markDegraded again, which pushes the
// next probe a whole probe delay (≈ the retry budget) into the future. With
// batches arriving more often than that (more than ~4 events/s at the
// default 30 s budget) the probe never comes, the spool only grows, and it
// is replayed only once the load pauses. Skipped in short runs until fixed;
// it runs (and fails) in `make soak`.
func TestSpoolRecoversUnderLoad(t *testing.T) {
	// Regression test: a degraded Writer used to push its next probe out with
	// every spooled batch, so under steady load it never saw the store again.
	is := is.New(t)
	mem := persist.NewMemStore()
	cl := newClient(t, leanllm.WithStore(mem), leanllm.WithRetry(3, 100*time.Millisecond, time.Second),
		leanllm.WithSpoolDir(t.TempDir()))
	l := startLoad(cl, rate, 1)
	defer l.stop()
	time.Sleep(500 * time.Millisecond)
	mem.SetDown(true)
	time.Sleep(3 * time.Second)
	mem.SetDown(false)
	took := waitFor(t, 15*time.Second, "spool replay under load", func() bool { return cl.Stats().Replayed > 0 })
	is.True(took < 5*time.Second)
	result(t, "replay started %v after recovery under %d calls/s", took.Round(time.Millisecond), rate)
}

// TestFlappingStore: the store goes down and up every 100–500 ms for 5 s
// (soak: 60 s) under load; without a spool (retries outlast each outage)
// and with one (a short budget sends batches to the spool and back).
// Nothing is lost or stored twice.
func TestFlappingStore(t *testing.T) {
	dur := pick(5*time.Second, 60*time.Second)
	for _, spool := range []bool{false, true} {
		name := "no_spool"
		if spool {
			name = "spool"
		}
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			mem := persist.NewMemStore()
			opts := []leanllm.Option{leanllm.WithStore(mem), leanllm.WithRetry(10, 50*time.Millisecond, 10*time.Second)}
			if spool {
				opts = []leanllm.Option{leanllm.WithStore(mem), leanllm.WithRetry(3, 50*time.Millisecond, 200*time.Millisecond),
					leanllm.WithSpoolDir(t.TempDir())}
			}
			cl := newClient(t, opts...)
			ctx, cancel := context.WithCancel(context.Background())
			flips := 0
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				down := false
				for ctx.Err() == nil {
					down = !down
					mem.SetDown(down)
					flips++
					select {
					case <-ctx.Done():
					case <-time.After(time.Duration(100+rand.IntN(400)) * time.Millisecond):
					}
				}
				mem.SetDown(false)
			}()
			calls, durs := runLoad(cl, rate, 1, dur)
			cancel()
			wg.Wait()
			waitFor(t, 60*time.Second, "everything stored", func() bool {
				st := cl.Stats()
				return st.SpoolPending == 0 && st.Stored == calls
			})
			is.NoErr(closeClient(cl))
			st := cl.Stats()
			checkAtRest(t, st)
			is.Equal(st.DroppedTotal, int64(0))
			is.Equal(int64(mem.Len()), calls)
			is.Equal(mem.Duplicates(), 0)
			lat := checkLatency(t, durs)
			result(t, "%d flips in %v: %d calls, stored %d, dropped 0, duplicates 0, retries %d, spooled %d; %s",
				flips, dur, calls, mem.Len(), st.Retries, st.Spooled, lat)
		})
	}
}

// TestSlowStore: every write takes 300 ms (soak: 3 s, batches of 1,000).
// The calls are not slowed and nothing is dropped.
func TestSlowStore(t *testing.T) {
	is := is.New(t)
	delay := pick(300*time.Millisecond, 3*time.Second)
	dur := pick(3*time.Second, 20*time.Second)
	mem := persist.NewMemStore()
	mem.SetDelay(delay)
	cl := newClient(t, leanllm.WithStore(mem), leanllm.WithBatchSize(pick(100, 1000)))
	calls, durs := runLoad(cl, rate, 1, dur)
	is.NoErr(closeClient(cl))
	st := cl.Stats()
	checkAtRest(t, st)
	is.Equal(st.DroppedTotal, int64(0))
	is.Equal(int64(mem.Len()), calls)
	is.Equal(mem.Duplicates(), 0)
	lat := checkLatency(t, durs)
	result(t, "writes take %v, %d calls in %v: stored %d, dropped 0; %s",
		delay, calls, dur, mem.Len(), lat)
}

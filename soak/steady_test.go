package soak_test

import (
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
)

// TestSteadyRate: 500 calls/s for 5 s (soak: 60 s) into SQLite and
// Postgres. Nothing is dropped, every call is stored once, the call's p99
// stays small (see checkLatency) and the heap stays flat.
func TestSteadyRate(t *testing.T) {
	const rate = 500
	dur := pick(5*time.Second, 60*time.Second)
	dests := map[string]func(t *testing.T) (url, driver, dsn string){
		"sqlite": func(t *testing.T) (string, string, string) {
			path, u := sqliteFile(t)
			return u, "sqlite", "file:" + path + "?_busy_timeout=10000"
		},
		"postgres": func(t *testing.T) (string, string, string) {
			u := pgURL(t)
			return u, "pgx", u
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			dbURL, driver, dsn := dests[name](t)
			cl := newClient(t, leanllm.WithDatabaseURL(dbURL))
			heap := harness.StartHeapSampler(100 * time.Millisecond)
			calls, durs := runLoad(cl, rate, 1, dur)
			samples := heap.Stop()
			is.NoErr(cl.Flush(t.Context()))
			st := cl.Stats()
			checkAtRest(t, st)
			is.Equal(st.DroppedTotal, int64(0))
			is.Equal(st.Enqueued, calls)
			is.Equal(st.Stored, calls)
			is.NoErr(closeClient(cl))
			rows, distinct := rowCounts(t, driver, dsn)
			is.Equal(rows, calls)    // every call stored
			is.Equal(distinct, rows) // once
			lat := checkLatency(t, durs)
			growth, early, late := harness.HeapGrowth(samples)
			bound := max(int64(8<<20), int64(early)/2)
			if growth > bound {
				t.Errorf("heap grew by %d B in the last third (max %d → %d), bound %d", growth, early, late, bound)
			}
			result(t, "%d calls in %v (%.0f/s), stored %d, dropped 0, duplicates 0; %s; heap max first 2/3 %.1f MiB, last 1/3 %.1f MiB",
				calls, dur, float64(calls)/dur.Seconds(), rows, lat, mib(early), mib(late))
		})
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// Command child is the process the soak tests signal and kill: it makes
// LeanLLM calls against a zero-latency model at a steady rate, prints the
// client's delivery counters as JSON lines on stdout every -stats interval,
// and on SIGTERM or SIGINT stops calling, closes the client (draining the
// queue) and prints a final line before exiting 0.
//
//	child -db sqlite:////tmp/x.db -rate 500 -stats 25ms
//	child -endpoint http://127.0.0.1:8080 -key K -spool /tmp/spool -rate 500
//
// Lines: {"t":"ready"}, then {"t":"stats",...} periodically, then
// {"t":"final",...,"close_err":"..."}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
)

// Line is one line of output.
type Line struct {
	T            string           `json:"t"`
	Calls        int64            `json:"calls"`
	Enqueued     int64            `json:"enqueued"`
	Recovered    int64            `json:"recovered"`
	Stored       int64            `json:"stored"`
	Dropped      map[string]int64 `json:"dropped,omitempty"`
	DroppedTotal int64            `json:"dropped_total"`
	InFlight     int              `json:"inflight"`
	Queue        int              `json:"queue"`
	Spooled      int64            `json:"spooled"`
	SpoolPending int64            `json:"spool_pending"`
	Replayed     int64            `json:"replayed"`
	LastError    string           `json:"last_error,omitempty"`
	CloseErr     string           `json:"close_err,omitempty"`
}

func main() {
	db := flag.String("db", "", "database URL (LEANLLM_DATABASE_URL)")
	endpoint := flag.String("endpoint", "", "collector base URL")
	key := flag.String("key", "", "collector API key")
	spool := flag.String("spool", "", "spool directory")
	rate := flag.Int("rate", 500, "calls per second (0: none)")
	statsEvery := flag.Duration("stats", 25*time.Millisecond, "stats line interval")
	batch := flag.Int("batch", 100, "batch_size")
	flush := flag.Duration("flush", 200*time.Millisecond, "flush_interval")
	queue := flag.Int("queue", 10000, "queue_max_size")
	attempts := flag.Int("retry-attempts", 5, "retry_max_attempts")
	backoff := flag.Duration("retry-backoff", 100*time.Millisecond, "retry_initial_backoff")
	budget := flag.Duration("retry-budget", 5*time.Second, "retry_total_budget")
	closeTimeout := flag.Duration("close-timeout", 30*time.Second, "Close deadline")
	flag.Parse()

	opts := []leanllm.Option{
		leanllm.WithoutEnv(), leanllm.WithModel(harness.NewStatic()),
		leanllm.WithBatchSize(*batch), leanllm.WithFlushInterval(*flush), leanllm.WithQueueMaxSize(*queue),
		leanllm.WithRetry(*attempts, *backoff, *budget),
	}
	switch {
	case *db != "":
		opts = append(opts, leanllm.WithDatabaseURL(*db))
	case *endpoint != "":
		opts = append(opts, leanllm.WithEndpoint(*endpoint), leanllm.WithLeanLLMAPIKey(*key))
	default:
		fmt.Fprintln(os.Stderr, "child: -db or -endpoint is required")
		os.Exit(2)
	}
	if *spool != "" {
		opts = append(opts, leanllm.WithSpoolDir(*spool))
	}
	cl, err := leanllm.New(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}

	var mu sync.Mutex // one line at a time
	enc := json.NewEncoder(os.Stdout)
	var calls atomic.Int64
	emit := func(t string, closeErr error) {
		// calls is read before the stats so that calls <= enqueued holds.
		n := calls.Load()
		s := cl.Stats()
		l := Line{T: t, Calls: n, Enqueued: s.Enqueued, Recovered: s.Recovered, Stored: s.Stored,
			Dropped: s.Dropped, DroppedTotal: s.DroppedTotal, InFlight: s.InFlight, Queue: s.QueueLen,
			Spooled: s.Spooled, SpoolPending: s.SpoolPending, Replayed: s.Replayed, LastError: s.LastError}
		if closeErr != nil {
			l.CloseErr = closeErr.Error()
		}
		mu.Lock()
		_ = enc.Encode(l)
		mu.Unlock()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	mu.Lock()
	_ = enc.Encode(Line{T: "ready"})
	mu.Unlock()

	var wg sync.WaitGroup
	if *rate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			drive(ctx, cl, *rate, &calls)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(*statsEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				emit("stats", nil)
			}
		}
	}()
	<-ctx.Done()
	wg.Wait()
	emit("stats", nil)
	cctx, cancel := context.WithTimeout(context.Background(), *closeTimeout)
	defer cancel()
	err = cl.Close(cctx)
	emit("final", err)
}

// drive calls cl at rate calls/s, in ticks of 10 ms, until ctx ends.
func drive(ctx context.Context, cl *leanllm.Client, rate int, calls *atomic.Int64) {
	const tick = 10 * time.Millisecond
	per := float64(rate) * tick.Seconds()
	start := time.Now()
	due := 0.0
	made := 0
	for k := 1; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(time.Duration(k) * tick))):
		}
		due += per
		for ; float64(made) < due; made++ {
			if ctx.Err() != nil {
				return
			}
			_, _ = cl.GenerateContent(context.Background(), harness.ShortPrompt)
			calls.Add(1)
		}
	}
}

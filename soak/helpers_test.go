package soak_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Latency bounds on the calling goroutine. Under -race every call costs
// several times more, so the bounds are relaxed there.
//
// The load makes its calls in ticks of 10 ms (5 calls a tick at 500/s).
// The first call after the goroutine slept runs with cold CPU caches and
// costs about ten times a back-to-back call (measured here: ~25–30 µs
// against ~2.5 µs at the median), so the p99 of all calls is dominated by
// those first calls. The 50 µs goal is checked on the back-to-back calls
// (warm); all calls, cold ones included, must stay within twice that.
var (
	p99Bound = func() time.Duration {
		if raceEnabled {
			return time.Millisecond
		}
		return 50 * time.Microsecond
	}()
	// maxCallBound: a call that waited for a store write (hundreds of ms
	// to seconds in these scenarios) would exceed it; scheduling noise on
	// a shared 2-core machine does not.
	maxCallBound = 250 * time.Millisecond
)

// result logs a scenario's measured figures on one greppable line
// (go test -v ./soak/ | grep RESULT).
func result(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("RESULT %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// newClient returns a Client around a zero-latency model, closed at cleanup
// if the test did not close it.
func newClient(t *testing.T, opts ...leanllm.Option) *leanllm.Client {
	t.Helper()
	base := []leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(harness.NewStatic())}
	cl, err := leanllm.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = cl.Close(ctx)
	})
	return cl
}

// closeClient closes cl within a minute and returns Close's error.
func closeClient(cl *leanllm.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cl.Close(ctx)
}

// checkAtRest checks the accounting invariant of a client at rest (after
// Flush or Close): nothing in flight or queued, and enqueued + recovered ==
// stored + Σ dropped + spool pending.
func checkAtRest(t *testing.T, st leanllm.Stats) {
	t.Helper()
	is := is.NewRelaxed(t)
	is.Equal(st.Unaccounted(), int64(0)) // invariant in every snapshot
	is.Equal(st.InFlight, 0)
	is.Equal(st.QueueLen, 0)
	var sum int64
	for _, n := range st.Dropped {
		sum += n
	}
	is.Equal(sum, st.DroppedTotal)
	is.Equal(st.Enqueued+st.Recovered, st.Stored+st.DroppedTotal+st.SpoolPending)
}

// latencies are per-call durations: warm (a call right after another) and
// cold (the first call after the caller slept).
type latencies struct {
	warm, cold harness.Durations
}

func (l latencies) all() harness.Durations { return harness.Merge(l.warm, l.cold) }

func (l *latencies) add(o latencies) {
	l.warm = append(l.warm, o.warm...)
	l.cold = append(l.cold, o.cold...)
}

// load makes calls at a steady rate and records each call's duration.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	calls  atomic.Int64
	mu     sync.Mutex
	lat    latencies
}

// startLoad calls cl at rate calls/s from workers goroutines (each paced
// in 10 ms ticks) until stop.
func startLoad(cl *leanllm.Client, rate, workers int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	for w := range workers {
		share := rate / workers
		if w < rate%workers {
			share++
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var d latencies
			defer func() {
				l.mu.Lock()
				l.lat.add(d)
				l.mu.Unlock()
			}()
			const tick = 10 * time.Millisecond
			per := float64(share) * tick.Seconds()
			start := time.Now()
			due, made := 0.0, 0
			t := time.NewTimer(0)
			defer t.Stop()
			for k := 1; ; k++ {
				t.Reset(time.Until(start.Add(time.Duration(k) * tick)))
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				due += per
				for i := 0; float64(made) < due; made, i = made+1, i+1 {
					t0 := time.Now()
					_, _ = cl.GenerateContent(context.Background(), harness.ShortPrompt)
					if x := time.Since(t0); i == 0 {
						d.cold = append(d.cold, x)
					} else {
						d.warm = append(d.warm, x)
					}
					l.calls.Add(1)
				}
			}
		}()
	}
	return l
}

// stop ends the load and returns the number of calls and their durations.
func (l *load) stop() (int64, latencies) {
	l.cancel()
	l.wg.Wait()
	return l.calls.Load(), l.lat
}

// runLoad runs a load for d.
func runLoad(cl *leanllm.Client, rate, workers int, d time.Duration) (int64, latencies) {
	l := startLoad(cl, rate, workers)
	time.Sleep(d)
	return l.stop()
}

// checkLatency checks that calls were never slowed by the pipeline and
// returns a summary for the result line.
func checkLatency(t *testing.T, lat latencies) string {
	t.Helper()
	all := lat.all()
	p50, p99, mx := all.Quantile(0.5), all.Quantile(0.99), all.Max()
	warm99, cold99 := lat.warm.Quantile(0.99), lat.cold.Quantile(0.99)
	if len(lat.warm) > 100 && warm99 > p99Bound {
		t.Errorf("back-to-back call p99 %v > %v", warm99, p99Bound)
	}
	if p99 > 2*p99Bound {
		t.Errorf("call p99 %v > %v", p99, 2*p99Bound)
	}
	if mx > maxCallBound {
		t.Errorf("longest call %v > %v: a caller was blocked", mx, maxCallBound)
	}
	return fmt.Sprintf("call p50 %v, p99 %v (back-to-back %v, first after idle %v), max %v",
		round(p50), round(p99), round(warm99), round(cold99), round(mx))
}

// round keeps three significant digits of a duration.
func round(d time.Duration) time.Duration {
	for r := time.Duration(1); ; r *= 10 {
		if d < 1000*r {
			return d.Round(r)
		}
	}
}

// waitFor polls cond every 10 ms until it holds or timeout passes, and
// returns how long it took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// sqliteFile returns a fresh SQLite file path and its database URL.
func sqliteFile(t *testing.T) (path, dbURL string) {
	path = filepath.Join(t.TempDir(), "events.db")
	return path, "sqlite:///" + path
}

// pgURL returns a Postgres URL with a schema of the test's own, or skips.
func pgURL(t *testing.T) string {
	base := harness.PostgresURL()
	if base == "" {
		t.Skip("LEANLLM_TEST_POSTGRES_URL is not set")
	}
	u, drop, err := harness.PGSchema(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return u
}

// rowCounts returns COUNT(*) and COUNT(DISTINCT event_id) of llm_events.
func rowCounts(t *testing.T, driver, dsn string) (rows, distinct int64) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM llm_events").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

func sqliteCounts(t *testing.T, path string) (rows, distinct int64) {
	return rowCounts(t, "sqlite", "file:"+path+"?_busy_timeout=10000")
}

// sqliteIntegrity returns the result of PRAGMA integrity_check ("ok").
func sqliteIntegrity(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// tcpProxy forwards a loopback port to a target; SetDown closes every
// connection and stops listening (connections are refused), SetDown(false)
// listens on the same port again.
type tcpProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.SetDown(true); p.wg.Wait() })
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.pipe(c)
			}()
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// SetDown takes the proxy down (true) or up again (false).
func (p *tcpProxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if down {
		if p.ln != nil {
			_ = p.ln.Close()
			p.ln = nil
		}
		for c := range p.conns {
			_ = c.Close()
		}
		return
	}
	if p.ln != nil {
		return
	}
	for i := 0; ; i++ {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(ln)
			return
		}
		if i == 100 {
			panic("tcpProxy: cannot listen again on " + p.addr + ": " + err.Error())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// viaProxy returns dbURL with its host replaced by the proxy's address.
func viaProxy(t *testing.T, dbURL string) (string, *tcpProxy) {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := newTCPProxy(t, u.Host)
	u.Host = p.addr
	return u.String(), p
}

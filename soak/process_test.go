package soak_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
)

// childLine is a line printed by soak/cmd/child.
type childLine struct {
	T            string           `json:"t"`
	Calls        int64            `json:"calls"`
	Enqueued     int64            `json:"enqueued"`
	Recovered    int64            `json:"recovered"`
	Stored       int64            `json:"stored"`
	Dropped      map[string]int64 `json:"dropped"`
	DroppedTotal int64            `json:"dropped_total"`
	InFlight     int              `json:"inflight"`
	Queue        int              `json:"queue"`
	Spooled      int64            `json:"spooled"`
	SpoolPending int64            `json:"spool_pending"`
	Replayed     int64            `json:"replayed"`
	LastError    string           `json:"last_error"`
	CloseErr     string           `json:"close_err"`
}

var (
	childOnce sync.Once
	childDir  string
	childBin  string
	childErr  error
)

// childBinary builds soak/cmd/child once per test binary (CGO_ENABLED=0,
// as the project ships, which also reuses CI's `go build ./...` cache).
func childBinary(t *testing.T) string {
	t.Helper()
	childOnce.Do(func() {
		childDir, childErr = os.MkdirTemp("", "leanllm-soak-child-")
		if childErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		childBin = filepath.Join(childDir, "child")
		cmd := exec.Command(goTool, "build", "-o", childBin, "github.com/leanllm/leanllm-go/soak/cmd/child")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			childErr = err
			childBin = string(out)
		}
	})
	if childErr != nil {
		t.Fatalf("building soak/cmd/child: %v\n%s", childErr, childBin)
	}
	return childBin
}

// child is a running soak/cmd/child.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []childLine
	ready  chan struct{}
	done   chan struct{}
	stderr bytes.Buffer
	err    error
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{t: t, ready: make(chan struct{}), done: make(chan struct{})}
	c.cmd = exec.Command(childBinary(t), args...)
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var once sync.Once
		for sc.Scan() {
			var l childLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue // a line torn by kill -9
			}
			if l.T == "ready" {
				once.Do(func() { close(c.ready) })
				continue
			}
			c.mu.Lock()
			c.lines = append(c.lines, l)
			c.mu.Unlock()
		}
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	select {
	case <-c.ready:
	case <-c.done:
		t.Fatalf("child exited before ready: %v\n%s", c.err, c.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("child not ready within 30 s")
	}
	return c
}

// last returns the last complete line (zero if none).
func (c *child) last() childLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) == 0 {
		return childLine{}
	}
	return c.lines[len(c.lines)-1]
}

// stop sends sig and waits for the exit; it returns the exit error.
func (c *child) stop(sig os.Signal) error {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		c.t.Fatal("child did not exit within 60 s of the signal")
	}
	return c.err
}

// waitLine waits until the last line satisfies cond.
func (c *child) waitLine(timeout time.Duration, what string, cond func(childLine) bool) childLine {
	c.t.Helper()
	var l childLine
	waitFor(c.t, timeout, what, func() bool {
		l = c.last()
		return cond(l)
	})
	return l
}

// TestSIGTERM: a child process making 500 calls/s is sent SIGTERM; it
// stops calling and closes the client: every call is stored.
func TestSIGTERM(t *testing.T) {
	run := pick(2*time.Second, 10*time.Second)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			var dbURL, driver, dsn, path string
			if name == "sqlite" {
				path, dbURL = sqliteFile(t)
				driver, dsn = "sqlite", "file:"+path+"?_busy_timeout=10000"
			} else {
				dbURL = pgURL(t)
				driver, dsn = "pgx", dbURL
			}
			c := startChild(t, "-db", dbURL, "-rate", "500", "-stats", "50ms")
			time.Sleep(run)
			is.NoErr(c.stop(syscall.SIGTERM)) // exit 0
			f := c.last()
			is.Equal(f.T, "final")
			is.Equal(f.CloseErr, "")
			is.True(f.Calls > 0)
			is.Equal(f.Enqueued, f.Calls)
			is.Equal(f.Stored, f.Calls)
			is.Equal(f.DroppedTotal, int64(0))
			rows, distinct := rowCounts(t, driver, dsn)
			is.Equal(rows, f.Calls)
			is.Equal(distinct, rows)
			if path != "" {
				is.Equal(sqliteIntegrity(t, path), "ok")
			}
			result(t, "SIGTERM after %v at 500 calls/s: %d calls, %d stored, 0 dropped, exit 0", run, f.Calls, rows)
		})
	}
}

// TestKill9: a child making 500 calls/s into SQLite is killed (SIGKILL) at
// a random moment, 3 times (soak: 20). What it had reported stored is
// there, what is lost is never more than the queue depth (queued + in
// flight) of its last report, the file passes integrity_check, and a
// restart on the same file runs clean.
func TestKill9(t *testing.T) {
	is := is.New(t)
	runs := pick(3, 20)
	path, dbURL := sqliteFile(t)
	var prev int64
	maxLoss, maxDepth := int64(0), int64(0)
	for run := range runs {
		c := startChild(t, "-db", dbURL, "-rate", "500", "-stats", "20ms", "-flush", "200ms")
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		_ = c.stop(syscall.SIGKILL)
		l := c.last()
		rows, distinct := sqliteCounts(t, path)
		is.Equal(distinct, rows)
		is.Equal(sqliteIntegrity(t, path), "ok")
		got := rows - prev
		depth := int64(l.Queue + l.InFlight)
		loss := l.Enqueued - got
		if got < l.Stored {
			t.Errorf("run %d: reported %d stored, found %d", run, l.Stored, got)
		}
		if loss > depth+l.DroppedTotal {
			t.Errorf("run %d: lost %d events, more than the reported queue depth %d", run, loss, depth)
		}
		maxLoss, maxDepth = max(maxLoss, loss), max(maxDepth, depth)
		prev = rows
	}
	// Restart clean on the same file.
	c := startChild(t, "-db", dbURL, "-rate", "500", "-stats", "50ms")
	time.Sleep(time.Second)
	is.NoErr(c.stop(syscall.SIGTERM))
	f := c.last()
	is.Equal(f.CloseErr, "")
	is.Equal(f.Stored, f.Calls)
	rows, distinct := sqliteCounts(t, path)
	is.Equal(rows, prev+f.Calls)
	is.Equal(distinct, rows)
	is.Equal(sqliteIntegrity(t, path), "ok")
	result(t, "%d kill -9 runs: largest loss %d events vs largest last-reported queue depth %d (loss never above the depth); integrity ok after each; restart stored %d/%d",
		runs, maxLoss, maxDepth, f.Stored, f.Calls)
}

// spoolArgs point a child at col with a spool and a short retry budget.
func spoolArgs(col *harness.Collector, spool string, rate string) []string {
	return []string{"-endpoint", col.URL(), "-key", harness.CollectorKey, "-spool", spool, "-rate", rate,
		"-stats", "20ms", "-batch", "50", "-flush", "100ms",
		"-retry-attempts", "2", "-retry-backoff", "50ms", "-retry-budget", "200ms"}
}

// downCollector returns a collector answering 503 while down is set.
func downCollector(t *testing.T) (*harness.Collector, *atomic.Bool) {
	col := newCollector(t)
	var down atomic.Bool
	down.Store(true)
	col.Script(func(harness.Request) harness.Action {
		if down.Load() {
			return harness.Action{Status: 503}
		}
		return harness.Action{}
	})
	return col, &down
}

// TestSIGTERMSpool: the collector is down; a child with a spool gets
// SIGTERM: Close puts everything in the spool. A second child started on
// the spool once the collector is back delivers every event, once.
func TestSIGTERMSpool(t *testing.T) {
	is := is.New(t)
	col, down := downCollector(t)
	spool := t.TempDir()
	c := startChild(t, spoolArgs(col, spool, "500")...)
	time.Sleep(pick(1500*time.Millisecond, 10*time.Second))
	is.NoErr(c.stop(syscall.SIGTERM))
	f1 := c.last()
	is.Equal(f1.T, "final")
	is.Equal(f1.DroppedTotal, int64(0))
	is.Equal(f1.Spooled, f1.Calls) // everything went to the spool
	is.Equal(f1.SpoolPending, f1.Calls)
	is.Equal(col.Stored(), 0)

	down.Store(false)
	c2 := startChild(t, spoolArgs(col, spool, "0")...)
	c2.waitLine(30*time.Second, "spool replayed", func(l childLine) bool { return l.Recovered > 0 && l.SpoolPending == 0 })
	is.NoErr(c2.stop(syscall.SIGTERM))
	f2 := c2.last()
	is.Equal(f2.Recovered, f1.Calls)
	is.Equal(f2.Replayed, f1.Calls)
	is.Equal(f2.DroppedTotal, int64(0))
	is.Equal(int64(col.Stored()), f1.Calls) // nothing lost
	is.Equal(col.Duplicates(), 0)
	result(t, "collector down, SIGTERM: %d calls all spooled (close: %q); restart with the collector up: %d recovered, %d delivered, 0 lost, 0 duplicates",
		f1.Calls, shorten(f1.CloseErr), f2.Recovered, col.Stored())
}

// TestKill9Spool: the collector is down and a child with a spool is killed
// (SIGKILL) once it has spooled at least 500 events; the spool's last
// segment then gets a torn frame appended (a crash in the middle of an
// append). A second child started on the spool with the collector back
// recovers every intact frame, counts the torn one as spool_corrupt, and
// delivers; the loss is bounded by the first child's last reported queue
// depth.
func TestKill9Spool(t *testing.T) {
	is := is.New(t)
	col, down := downCollector(t)
	spool := t.TempDir()
	c := startChild(t, spoolArgs(col, spool, "500")...)
	c.waitLine(30*time.Second, "500 events spooled", func(l childLine) bool { return l.Spooled >= 500 })
	time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
	_ = c.stop(syscall.SIGKILL)
	l1 := c.last()

	const torn = 7
	segs, err := filepath.Glob(filepath.Join(spool, "*.spool"))
	is.NoErr(err)
	is.True(len(segs) > 0)
	slices.Sort(segs)
	appendTornFrame(t, segs[len(segs)-1], torn)

	down.Store(false)
	c2 := startChild(t, spoolArgs(col, spool, "0")...)
	c2.waitLine(30*time.Second, "spool replayed", func(l childLine) bool { return l.Recovered > 0 && l.SpoolPending == 0 })
	is.NoErr(c2.stop(syscall.SIGTERM))
	f2 := c2.last()
	is.Equal(f2.Dropped[persist.DropSpoolCorrupt], int64(torn)) // the torn frame, counted
	is.Equal(f2.Recovered, f2.Replayed+torn)                    // every intact frame delivered
	is.True(f2.Replayed >= l1.Spooled)                          // all that was reported spooled
	is.Equal(int64(col.Stored()), f2.Replayed)
	is.Equal(col.Duplicates(), 0)
	loss := l1.Enqueued - f2.Replayed
	depth := int64(l1.Queue + l1.InFlight)
	if loss > depth {
		t.Errorf("lost %d events, more than the reported queue depth %d", loss, depth)
	}
	result(t, "kill -9 after %d spooled (last report: %d enqueued, depth %d); torn frame of %d appended; restart: %d recovered, %d delivered, %d counted spool_corrupt, loss %d ≤ depth, 0 duplicates",
		l1.Spooled, l1.Enqueued, depth, torn, f2.Recovered, col.Stored(), f2.Dropped[persist.DropSpoolCorrupt], loss)
}

// appendTornFrame appends a spool frame whose header (magic, length,
// count) is intact but whose payload stops short, as a crash in the middle
// of an append leaves it.
func appendTornFrame(t *testing.T, path string, count uint32) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [16]byte
	copy(h[:4], "LLS\x01")
	binary.BigEndian.PutUint32(h[4:], 4096)
	binary.BigEndian.PutUint32(h[8:], count)
	binary.BigEndian.PutUint32(h[12:], 0xdeadbeef)
	if _, err := f.Write(append(h[:], []byte(`[{"event_id":"torn-`+strings.Repeat("x", 100))...)); err != nil {
		t.Fatal(err)
	}
}

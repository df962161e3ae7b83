package soak_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"modernc.org/sqlite"
)

// TestSQLiteLocked: another connection holds the database's write lock
// (BEGIN EXCLUSIVE) for 3 s (soak: 20 s, past the 5 s busy timeout) under
// load. Writes wait or fail and are retried; nothing is lost and the file
// is intact.
func TestSQLiteLocked(t *testing.T) {
	is := is.New(t)
	hold := pick(3*time.Second, 20*time.Second)
	path, u := sqliteFile(t)
	cl := newClient(t, append(outageRetry(), leanllm.WithDatabaseURL(u), leanllm.WithWriteTimeout(time.Second))...)
	_, _ = cl.GenerateContent(t.Context(), harness.ShortPrompt)
	is.NoErr(cl.Flush(t.Context()))

	other, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000")
	is.NoErr(err)
	defer other.Close()
	conn, err := other.Conn(t.Context())
	is.NoErr(err)
	defer conn.Close()

	l := startLoad(cl, rate, 1)
	time.Sleep(500 * time.Millisecond)
	_, err = conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE")
	is.NoErr(err)
	_, err = conn.ExecContext(t.Context(), "INSERT INTO llm_events (event_id, timestamp, model, provider) VALUES ('other-writer', '2026-01-01T00:00:00.000000Z', 'm', 'p')")
	is.NoErr(err)
	time.Sleep(hold)
	during := cl.Stats()
	_, err = conn.ExecContext(t.Context(), "COMMIT")
	is.NoErr(err)
	time.Sleep(time.Second)
	calls, durs := l.stop()
	is.NoErr(cl.Flush(t.Context()))
	is.NoErr(closeClient(cl))
	st := cl.Stats()
	checkAtRest(t, st)
	is.Equal(st.DroppedTotal, int64(0))
	rows, distinct := sqliteCounts(t, path)
	is.Equal(rows, calls+2) // the warm-up call and the other writer's row
	is.Equal(distinct, rows)
	is.Equal(sqliteIntegrity(t, path), "ok")
	lat := checkLatency(t, durs)
	result(t, "write lock held %v under %d calls/s: %d calls, stored all, dropped 0, retries %d (last error while locked: %q); integrity ok; %s",
		hold, rate, calls, st.Retries, shorten(during.LastError), lat)
}

// shorten keeps the start and the end of an error message.
func shorten(s string) string {
	if len(s) > 100 {
		return s[:40] + "…" + s[len(s)-55:]
	}
	return s
}

// writerConns maps a database path to the store's writer connection, as
// handed to the driver's connection hook.
var (
	hookOnce    sync.Once
	writerConns sync.Map // path → *atomic.Pointer[sqlite.ExecQuerierContext]
)

func watchWriterConn(path string) *atomic.Pointer[sqlite.ExecQuerierContext] {
	hookOnce.Do(func() {
		sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
			if !strings.Contains(dsn, "_txlock=immediate") { // the store's writer
				return nil
			}
			writerConns.Range(func(k, v any) bool {
				if strings.Contains(dsn, k.(string)) {
					v.(*atomic.Pointer[sqlite.ExecQuerierContext]).Store(&conn)
				}
				return true
			})
			return nil
		})
	})
	p := new(atomic.Pointer[sqlite.ExecQuerierContext])
	writerConns.Store(path, p)
	return p
}

// fullStore wraps the SQLite store and, on the worker goroutine before a
// Write (when the store's writer connection is idle), runs a pending
// PRAGMA max_page_count on that connection: the database is "full" once
// it cannot grow, and "freed" when the limit is raised.
type fullStore struct {
	*persist.SQLStore
	conn    *atomic.Pointer[sqlite.ExecQuerierContext]
	pending atomic.Int32 // 1: fill, 2: free
}

const (
	fillDisk = 1
	freeDisk = 2
)

func (f *fullStore) Write(ctx context.Context, events []*core.Event) error {
	if op := f.pending.Swap(0); op != 0 {
		c := f.conn.Load()
		if c == nil {
			return errors.New("soak: writer connection not seen by the hook")
		}
		limit := int64(1 << 30)
		if op == fillDisk {
			n, err := pragmaInt(ctx, *c, "PRAGMA page_count")
			if err != nil {
				return err
			}
			limit = n
		}
		if _, err := (*c).ExecContext(ctx, "PRAGMA max_page_count = "+itoa(limit), nil); err != nil {
			return err
		}
	}
	return f.SQLStore.Write(ctx, events)
}

func pragmaInt(ctx context.Context, c sqlite.ExecQuerierContext, q string) (int64, error) {
	rows, err := c.QueryContext(ctx, q, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil && err != io.EOF {
		return 0, err
	}
	n, _ := dest[0].(int64)
	return n, nil
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestSQLiteDiskFull: the database cannot grow (PRAGMA max_page_count set
// to its size) for 2 s (soak: 20 s) under load, then may grow again. Writes
// fail with SQLITE_FULL and are retried within the budget; nothing is lost
// and the file is intact.
func TestSQLiteDiskFull(t *testing.T) {
	is := is.New(t)
	full := pick(2*time.Second, 20*time.Second)
	path, u := sqliteFile(t)
	conn := watchWriterConn(path)
	st0, err := persist.OpenSQL(t.Context(), u)
	is.NoErr(err)
	store := &fullStore{SQLStore: st0, conn: conn}
	cl := newClient(t, append(outageRetry(), leanllm.WithStore(store))...)
	_, _ = cl.GenerateContent(t.Context(), harness.ShortPrompt)
	is.NoErr(cl.Flush(t.Context()))

	l := startLoad(cl, rate, 1)
	time.Sleep(300 * time.Millisecond)
	store.pending.Store(fillDisk)
	waitFor(t, 5*time.Second, "disk full", func() bool { return strings.Contains(cl.Stats().LastError, "full") })
	time.Sleep(full)
	during := cl.Stats()
	store.pending.Store(freeDisk)
	time.Sleep(time.Second)
	calls, durs := l.stop()
	is.NoErr(cl.Flush(t.Context()))
	is.NoErr(closeClient(cl))
	st := cl.Stats()
	checkAtRest(t, st)
	is.Equal(st.DroppedTotal, int64(0))
	rows, distinct := sqliteCounts(t, path)
	is.Equal(rows, calls+1)
	is.Equal(distinct, rows)
	is.Equal(sqliteIntegrity(t, path), "ok")
	lat := checkLatency(t, durs)
	result(t, "database full for %v under %d calls/s: %d calls, stored all, dropped 0, retries %d (error: %q); integrity ok; %s",
		full, rate, calls, during.Retries, shorten(during.LastError), lat)
}

package leanllm_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

func sqliteURL(t *testing.T) string {
	return "sqlite:///" + filepath.Join(t.TempDir(), "events.db")
}

// destinations returns the database URLs the persistence tests run on:
// SQLite file and memory always, Postgres when LEANLLM_TEST_POSTGRES_URL
// is set (CI sets it).
func destinations(t *testing.T) map[string]func(t *testing.T) string {
	d := map[string]func(t *testing.T) string{
		"sqlite_file": sqliteURL,
	}
	if pg := os.Getenv("LEANLLM_TEST_POSTGRES_URL"); pg != "" {
		d["postgres"] = func(t *testing.T) string { return pgSchemaURL(t, pg) }
	} else {
		t.Log("LEANLLM_TEST_POSTGRES_URL is not set: Postgres variants skipped")
	}
	return d
}

func TestEventsPersistAndReadBack(t *testing.T) {
	for name, mkURL := range destinations(t) {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			url := mkURL(t)
			fake := testprovider.New()
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithDatabaseURL(url),
				leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("redacted"))
			is.NoErr(err)
			ctx, trace := leanllm.StartTrace(t.Context(), "")
			_, err = cl.Chat(ctx, "gpt-4o-mini", human("mail me at jane@example.com"), leanllm.WithLabel("feature", "persist"))
			is.NoErr(err)
			fake.Push(testprovider.Reply{Err: errors.New("upstream 500")})
			_, err = cl.Chat(ctx, "gpt-4o-mini", human("x"))
			is.True(err != nil)
			is.NoErr(cl.Flush(t.Context()))

			list, err := cl.ListEvents(t.Context(), leanllm.Filter{CorrelationID: trace})
			is.NoErr(err)
			is.Equal(len(list), 2)
			is.Equal(list[0].ErrorKind, "unknown") // newest first
			got, err := cl.GetEvent(t.Context(), list[1].EventID)
			is.NoErr(err)
			is.Equal(got.Labels["feature"], "persist")
			is.True(got.Prompt != nil)
			is.True(!strings.Contains(*got.Prompt, "jane@example.com")) // masked before it was stored
			is.True(strings.Contains(*got.Prompt, "[EMAIL]"))
			n, err := cl.CountEvents(t.Context(), leanllm.Filter{ErrorsOnly: true, CorrelationID: trace})
			is.NoErr(err)
			is.Equal(n, int64(1))
			rows, err := cl.Aggregate(t.Context(), leanllm.AggregateQuery{By: "model", Filter: leanllm.Filter{CorrelationID: trace}})
			is.NoErr(err)
			is.Equal(len(rows), 1)
			is.Equal(rows[0].Count, int64(2))
			is.Equal(rows[0].Errors, int64(1))
			_, err = cl.GetEvent(t.Context(), "no-such-id")
			is.True(errors.Is(err, persist.ErrNotFound))

			is.NoErr(cl.Close(t.Context()))
			st := cl.Stats()
			is.Equal(st.Enqueued, int64(2))
			is.Equal(st.Stored, int64(2))
			is.Equal(st.DroppedTotal, int64(0))
		})
	}
}

// 16 goroutines × 1,000 calls: every event stored exactly once.
func TestConcurrentCallsStoredExactlyOnce(t *testing.T) {
	for name, mkURL := range destinations(t) {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			url := mkURL(t)
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(newStatic()), leanllm.WithDatabaseURL(url),
				leanllm.WithBatchSize(500), leanllm.WithFlushInterval(50*time.Millisecond),
				// Calls to an instant model outrun any database: size the queue
				// for the burst so that nothing is dropped (overflow is tested
				// in persist).
				leanllm.WithQueueMaxSize(16000))
			is.NoErr(err)
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					ctx := leanllm.WithContext(context.Background(), leanllm.WithLabel("g", string(rune('a'+g))))
					for range 1000 {
						if _, err := cl.GenerateContent(ctx, benchMsgs); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			is.NoErr(cl.Close(t.Context()))
			st := cl.Stats()
			is.Equal(st.Enqueued, int64(16000))
			is.Equal(st.Stored, int64(16000))
			is.Equal(st.DroppedTotal, int64(0))

			// Read back with a fresh client on the same database.
			rd, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithDatabaseURL(url))
			is.NoErr(err)
			defer rd.Close(context.Background())
			n, err := rd.CountEvents(t.Context(), leanllm.Filter{})
			is.NoErr(err)
			is.Equal(n, int64(16000))
			n, err = rd.CountEvents(t.Context(), leanllm.Filter{Labels: map[string]string{"g": "c"}})
			is.NoErr(err)
			is.Equal(n, int64(1000))
		})
	}
}

// Odd text is stored safely on every dialect.
func TestOddTextIsStored(t *testing.T) {
	for name, mkURL := range destinations(t) {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			huge := strings.Repeat("a", 1<<20)
			fake := testprovider.New()
			fake.Push(testprovider.Reply{Text: "nul\x00byte and bad utf8 \xff\xfe '; DROP TABLE llm_events; --"})
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithDatabaseURL(mkURL(t)),
				leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("full"), leanllm.WithMaxContentBytes(0))
			is.NoErr(err)
			defer cl.Close(context.Background())
			_, err = cl.Chat(t.Context(), "gpt-4o-mini", human(huge+"\x00"), leanllm.WithLabel("k\x00\xff", "v\x00"),
				leanllm.WithLLMOptions(llms.WithTemperature(math.Inf(1))))
			is.NoErr(err)
			is.NoErr(cl.Flush(t.Context()))
			list, err := cl.ListEvents(t.Context(), leanllm.Filter{})
			is.NoErr(err)
			is.Equal(len(list), 1)
			ev := list[0]
			is.True(ev.Metadata.Sanitized)
			is.True(len(*ev.Prompt) >= 1<<20)
			is.True(!strings.Contains(*ev.Response, "\x00"))
			is.True(strings.Contains(*ev.Response, "DROP TABLE"))
			is.Equal(cl.Stats().DroppedTotal, int64(0))
		})
	}
}

func TestReadAPIWithoutStore(t *testing.T) {
	is := is.New(t)
	cl := newClient(t, leanllm.WithModel(newStatic()))
	_, err := cl.ListEvents(t.Context(), leanllm.Filter{})
	is.True(errors.Is(err, leanllm.ErrNoStore))
	is.NoErr(cl.Flush(t.Context()))
}

func TestStoreDownAtStartThenUp(t *testing.T) {
	is := is.New(t)
	store := persist.NewMemStore()
	store.SetDown(true)
	cl := newClient(t, leanllm.WithModel(newStatic()), leanllm.WithStore(store),
		leanllm.WithRetry(100, 5*time.Millisecond, 10*time.Second), leanllm.WithBatchSize(10), leanllm.WithFlushInterval(10*time.Millisecond))
	for range 50 {
		_, err := cl.GenerateContent(t.Context(), benchMsgs) // calls unaffected
		is.NoErr(err)
	}
	time.Sleep(30 * time.Millisecond)
	store.SetDown(false)
	is.NoErr(cl.Flush(t.Context()))
	is.Equal(store.Len(), 50)
	is.Equal(cl.Stats().DroppedTotal, int64(0))
}

func TestCloseWithDeadStoreReturnsByDeadline(t *testing.T) {
	is := is.New(t)
	store := persist.NewMemStore()
	store.SetDown(true)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(newStatic()), leanllm.WithStore(store),
		leanllm.WithRetry(1000, 10*time.Millisecond, time.Minute))
	is.NoErr(err)
	for range 20 {
		_, _ = cl.GenerateContent(t.Context(), benchMsgs)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = cl.Close(ctx)
	is.True(err != nil)
	is.True(time.Since(start) < 2*time.Second)
	is.True(strings.Contains(err.Error(), "20 events not delivered"))
	is.True(errors.Is(err, context.DeadlineExceeded))
	is.Equal(cl.Close(ctx), err) // safe twice
	// After Close, calls still work; their events are counted as closed.
	_, err = cl.GenerateContent(t.Context(), benchMsgs)
	is.NoErr(err)
	is.Equal(cl.Stats().Dropped["closed"], int64(1))
}

package soak_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
)

// collectorClient returns a Client sending to col, and col's cleanup.
func collectorClient(t *testing.T, col *harness.Collector, opts ...leanllm.Option) *leanllm.Client {
	t.Helper()
	base := []leanllm.Option{leanllm.WithEndpoint(col.URL()), leanllm.WithLeanLLMAPIKey(harness.CollectorKey)}
	return newClient(t, append(base, opts...)...)
}

func newCollector(t *testing.T) *harness.Collector {
	col := harness.NewCollector()
	t.Cleanup(col.Close)
	return col
}

// callN makes n calls and flushes.
func callN(t *testing.T, cl *leanllm.Client, n int) {
	t.Helper()
	for range n {
		if _, err := cl.GenerateContent(t.Context(), harness.ShortPrompt); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// firstThen answers the first request with a, the others normally.
func firstThen(a harness.Action) func(harness.Request) harness.Action {
	return func(r harness.Request) harness.Action {
		if r.N == 1 {
			return a
		}
		return harness.Action{}
	}
}

// TestCollectorRetried: 408, 425, 429 and 5xx are retried, after the
// answer's Retry-After (1 s here, against a 20 ms backoff).
func TestCollectorRetried(t *testing.T) {
	for _, code := range []int{408, 425, 429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			is := is.New(t)
			col := newCollector(t)
			col.Script(firstThen(harness.Action{Status: code, RetryAfter: "1"}))
			cl := collectorClient(t, col, leanllm.WithRetry(5, 20*time.Millisecond, 5*time.Second))
			callN(t, cl, 10)
			st := cl.Stats()
			checkAtRest(t, st)
			is.Equal(st.Stored, int64(10))
			is.Equal(col.Stored(), 10)
			at := col.Attempts()
			is.Equal(len(at), 2)
			gap := at[1].Time.Sub(at[0].Time)
			is.True(gap >= 950*time.Millisecond) // Retry-After honoured over the 20 ms backoff
			is.True(gap < 2*time.Second)
			result(t, "%d with Retry-After: 1 → retried after %v, 10/10 stored", code, gap.Round(time.Millisecond))
		})
	}
}

// TestCollectorRetryAfterClamped: a Retry-After of an hour (seconds or an
// HTTP date) is clamped to what is left of the retry budget (1.5 s).
func TestCollectorRetryAfterClamped(t *testing.T) {
	for name, ra := range map[string]string{
		"seconds":   "3600",
		"http_date": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			is := is.New(t)
			col := newCollector(t)
			col.Script(firstThen(harness.Action{Status: 429, RetryAfter: ra}))
			cl := collectorClient(t, col, leanllm.WithRetry(5, 20*time.Millisecond, 1500*time.Millisecond))
			callN(t, cl, 10)
			st := cl.Stats()
			checkAtRest(t, st)
			is.Equal(col.Stored(), 10)
			at := col.Attempts()
			is.Equal(len(at), 2)
			gap := at[1].Time.Sub(at[0].Time)
			is.True(gap >= 1200*time.Millisecond)
			is.True(gap < 3*time.Second)
			result(t, "429 with Retry-After %s (1 h) and a 1.5 s budget → retried after %v, 10/10 stored", name, gap.Round(time.Millisecond))
		})
	}
}

// TestCollectorNotRetried: other 4xx answers are permanent: one attempt,
// the batch dropped as permanent_error.
func TestCollectorNotRetried(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 409, 422} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			is := is.New(t)
			col := newCollector(t)
			col.Script(func(harness.Request) harness.Action { return harness.Action{Status: code} })
			var hook dropHook
			cl := collectorClient(t, col, leanllm.WithRetry(5, 20*time.Millisecond, 5*time.Second), hook.option())
			callN(t, cl, 10)
			st := cl.Stats()
			checkAtRest(t, st)
			is.Equal(len(col.Attempts()), 1)
			is.Equal(st.Dropped[persist.DropPermanentError], int64(10))
			is.Equal(st.Stored, int64(0))
			_ = closeClient(cl)
			is.Equal(hook.get(persist.DropPermanentError), int64(10))
			result(t, "%d → 1 attempt, 10 dropped permanent_error (hook 10)", code)
		})
	}
}

// TestCollector413Splits: a collector refusing batches of more than 8
// events with 413 gets them split until they fit; all stored once.
func TestCollector413Splits(t *testing.T) {
	is := is.New(t)
	col := newCollector(t)
	col.Script(func(r harness.Request) harness.Action {
		if r.Events > 8 {
			return harness.Action{Status: 413}
		}
		return harness.Action{}
	})
	cl := collectorClient(t, col)
	callN(t, cl, 50)
	st := cl.Stats()
	checkAtRest(t, st)
	is.Equal(st.DroppedTotal, int64(0))
	is.Equal(st.Stored, int64(50))
	is.Equal(col.Stored(), 50)
	is.Equal(col.Duplicates(), 0)
	var sizes []int
	for _, a := range col.Attempts() {
		sizes = append(sizes, a.Events)
	}
	result(t, "50 events, limit 8 per request → %d requests (sizes %v), 50 stored, 0 duplicates", len(sizes), sizes)
}

// TestCollectorHangs: a collector that never answers is cut by the
// attempt's timeout (the Writer's WriteTimeout, and the remote store's own
// HTTP timeout), and the retry delivers.
func TestCollectorHangs(t *testing.T) {
	t.Run("write_timeout", func(t *testing.T) {
		t.Parallel()
		is := is.New(t)
		col := newCollector(t)
		col.Script(firstThen(harness.Action{Hang: true}))
		cl := collectorClient(t, col, leanllm.WithWriteTimeout(500*time.Millisecond), leanllm.WithRetry(3, 20*time.Millisecond, 5*time.Second))
		callN(t, cl, 10)
		is.Equal(col.Stored(), 10)
		at := col.Attempts()
		is.Equal(len(at), 2)
		gap := at[1].Time.Sub(at[0].Time)
		is.True(gap >= 450*time.Millisecond && gap < 2*time.Second)
		checkAtRest(t, cl.Stats())
		result(t, "hanging answer cut by WriteTimeout 500 ms; retried after %v; 10/10 stored", gap.Round(time.Millisecond))
	})
	t.Run("remote_timeout", func(t *testing.T) {
		t.Parallel()
		is := is.New(t)
		col := newCollector(t)
		col.Script(firstThen(harness.Action{Hang: true}))
		store, err := persist.NewRemote(col.URL(), harness.CollectorKey, persist.WithRemoteTimeout(300*time.Millisecond))
		is.NoErr(err)
		w := persist.NewWriter(store, persist.WriterConfig{RetryMaxAttempts: 3, RetryInitialBackoff: 20 * time.Millisecond})
		for _, e := range harness.TypicalEvents("hang-", 10) {
			w.Enqueue(e)
		}
		is.NoErr(w.Flush(t.Context()))
		is.NoErr(w.Close(t.Context()))
		is.Equal(col.Stored(), 10)
		at := col.Attempts()
		is.Equal(len(at), 2)
		gap := at[1].Time.Sub(at[0].Time)
		is.True(gap >= 250*time.Millisecond && gap < 2*time.Second)
		result(t, "hanging answer cut by the remote store's 300 ms HTTP timeout; retried after %v; 10/10 stored", gap.Round(time.Millisecond))
	})
}

// TestCollectorHugeAnswer: a 100 MiB answer (to an accepted batch, and to
// a failed one) is read only up to the limit; the write returns promptly.
func TestCollectorHugeAnswer(t *testing.T) {
	for _, c := range []struct {
		name     string
		act      harness.Action
		attempts int
	}{
		{"accepted_200", harness.Action{BodyBytes: 100 << 20}, 1},
		{"failed_500", harness.Action{Status: 500, BodyBytes: 100 << 20}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			is := is.New(t)
			col := newCollector(t)
			col.Script(firstThen(c.act))
			cl := collectorClient(t, col, leanllm.WithRetry(3, 20*time.Millisecond, 5*time.Second))
			start := time.Now()
			callN(t, cl, 10)
			took := time.Since(start)
			is.Equal(col.Stored(), 10)
			is.Equal(len(col.Attempts()), c.attempts)
			sent := col.BodyBytesWritten()
			is.True(sent < 32<<20) // far from 100 MiB: the client stopped reading
			is.True(took < 10*time.Second)
			checkAtRest(t, cl.Stats())
			result(t, "100 MiB answer: server could write %.1f MiB before the client closed; flush took %v; 10/10 stored",
				float64(sent)/(1<<20), took.Round(time.Millisecond))
		})
	}
}

// TestCollectorLostAcks: every third request is stored by the collector,
// which then resets the connection instead of answering. The batch is
// sent again with the same Idempotency-Key, so nothing is stored twice and
// nothing is lost.
func TestCollectorLostAcks(t *testing.T) {
	is := is.New(t)
	col := newCollector(t)
	col.Script(func(r harness.Request) harness.Action {
		if r.N%3 == 1 {
			return harness.Action{Reset: true}
		}
		return harness.Action{}
	})
	const n = 500
	cl := collectorClient(t, col, leanllm.WithBatchSize(50), leanllm.WithRetry(5, 20*time.Millisecond, 5*time.Second))
	callN(t, cl, n)
	is.NoErr(closeClient(cl))
	st := cl.Stats()
	checkAtRest(t, st)
	is.Equal(st.DroppedTotal, int64(0))
	is.Equal(st.Stored, int64(n))
	is.Equal(col.Stored(), n)
	is.Equal(col.Duplicates(), 0)
	at := col.Attempts()
	resets, resentSameKey := 0, 0
	for i, a := range at {
		if a.Status != 0 {
			continue
		}
		resets++
		for _, b := range at[i+1:] {
			if b.IdempotencyKey == a.IdempotencyKey {
				resentSameKey++
				break
			}
		}
	}
	is.True(resets > 0)
	is.Equal(resentSameKey, resets) // every lost ack was followed by the same batch, same key
	redelivered := 0
	for _, k := range col.Received() {
		if k > 1 {
			redelivered++
		}
	}
	result(t, "%d requests, %d acks lost, each batch resent with the same Idempotency-Key; %d events received twice, %d stored once each, 0 duplicates",
		len(at), resets, redelivered, col.Stored())
}

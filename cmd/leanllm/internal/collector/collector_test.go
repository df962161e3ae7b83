package collector

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKeys(t *testing.T) {
	is := is.New(t)
	k := NewKeys("alpha", " ", "beta ", "")
	is.Equal(k.Len(), 2)
	is.True(k.Valid("alpha"))
	is.True(k.Valid("beta"))
	for _, bad := range []string{"", "alph", "alphaa", "ALPHA", "gamma"} {
		is.True(!k.Valid(bad))
	}
	var none *Keys
	is.True(!none.Valid("alpha"))
	is.Equal(SplitKeys(" a, b,,c ,"), []string{"a", "b", "c"})

	tok := k.SessionToken("alpha")
	is.True(tok != "" && !strings.Contains(tok, "alpha"))
	is.True(k.ValidSession(tok))
	flipped := "0"
	if tok[len(tok)-1] == '0' {
		flipped = "1" // a different last digit, whatever the token ends with
	}
	is.True(!k.ValidSession(tok[:len(tok)-1] + flipped))
	is.Equal(k.SessionToken("wrong"), "")
	is.True(!NewKeys("alpha").ValidSession(tok)) // another process, another secret

	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "bearer  alpha ")
	is.True(k.ValidRequest(r))
	r.Header.Set("Authorization", "Basic alpha")
	is.True(!k.ValidRequest(r))
}

// sink records events; Flush blocks while hold is set.
type sink struct {
	mu     sync.Mutex
	events []*core.Event
	hold   bool
}

func (s *sink) Enqueue(e *core.Event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func (s *sink) Flush(ctx context.Context) error {
	if s.hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func TestCollectorAnswers(t *testing.T) {
	is := is.New(t)
	sk := &sink{}
	m := &Metrics{}
	c := New(Config{Keys: NewKeys("k"), Sink: sk, AckTimeout: 20 * time.Millisecond, Metrics: m, MaxBodyBytes: 1 << 10})
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer k")
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w
	}
	ok := `{"events":[{"event_id":"a","timestamp":"2026-11-28T10:00:00+00:00"},{"event_id":"b","timestamp":"2026-11-28T10:00:00Z","schema_version":1}]}`
	w := post(ok)
	is.Equal(w.Code, http.StatusOK)
	is.Equal(strings.TrimSpace(w.Body.String()), `{"accepted":2,"dropped":0}`)
	is.Equal(len(sk.events), 2)
	is.Equal(sk.events[0].SchemaVersion, core.SchemaVersion) // filled when absent
	is.Equal(sk.events[1].SchemaVersion, 1)                  // kept when given

	sk.hold = true // not stored within the ack timeout: 202
	w = post(ok)
	is.Equal(w.Code, http.StatusAccepted)
	sk.hold = false

	w = post(`{"events":[]}`)
	is.Equal(w.Code, http.StatusOK)
	is.Equal(strings.TrimSpace(w.Body.String()), `{"accepted":0,"dropped":0}`)

	w = post(`{"events":[` + strings.Repeat(`{"event_id":"x","timestamp":"2026-11-28T10:00:00Z"},`, 40) + `{}]}`)
	is.Equal(w.Code, http.StatusRequestEntityTooLarge)

	c.Shutdown()
	w = post(ok)
	is.Equal(w.Code, http.StatusServiceUnavailable)
	is.Equal(w.Header().Get("Retry-After"), "5")
	is.Equal(m.Requests()[http.StatusOK], int64(2))
	is.Equal(m.Received(), int64(4))
}

func TestDecodeBatch(t *testing.T) {
	for body, want := range map[string]string{
		`not json`:        "malformed JSON",
		`{"events":{}}`:   "malformed JSON",
		`{"events":null}`: `want {"events":[…]}`,
		`{"events":[1]}`:  "events[0]: ",
		`{"events":[{"event_id":"` + strings.Repeat("x", 300) + `","timestamp":"2026-11-28T10:00:00Z"}]}`: "longer than 256",
		`{"events":[{"event_id":" ","timestamp":"2026-11-28T10:00:00Z"}]}`:                                "missing event_id",
		`{"events":[{"event_id":"a","timestamp":12}]}`:                                                    "events[0]: ",
		`{"events":[{"event_id":"a","timestamp":"2026-11-28 10:00"}]}`:                                    "bad timestamp",
	} {
		_, err := decodeBatch([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeBatch(%.60s) = %v, want an error containing %q", body, err, want)
		}
	}
}

func TestHistogramAndMetrics(t *testing.T) {
	is := is.New(t)
	var h Histogram
	is.True(math.IsNaN(h.Snapshot().Quantile(0.5)))
	for range 90 {
		h.Observe(2 * time.Millisecond)
	}
	for range 10 {
		h.Observe(200 * time.Millisecond)
	}
	s := h.Snapshot()
	is.Equal(s.Count, int64(100))
	is.True(s.Quantile(0.5) > 0.001 && s.Quantile(0.5) <= 0.0025)
	is.True(s.Quantile(0.95) > 0.1 && s.Quantile(0.95) <= 0.25)
	h.Observe(time.Minute) // past the last bucket
	is.Equal(h.Snapshot().Cumulative[len(latencyBuckets)], int64(101))

	var b strings.Builder
	m := &Metrics{}
	m.request(http.StatusOK)
	is.NoErr(WriteMetrics(&b, m, persist.WriterStats{Stored: 7, QueueLen: 3, Dropped: map[string]int64{"queue_full": 2, `we"ird`: 1}}))
	out := b.String()
	for _, want := range []string{
		"# TYPE leanllm_collector_requests_total counter\n", `leanllm_collector_requests_total{code="200"} 1`,
		"leanllm_collector_events_stored_total 7\n", "leanllm_collector_queue_depth 3\n",
		`leanllm_collector_events_dropped_total{reason="queue_full"} 2`, `leanllm_collector_events_dropped_total{reason="we\"ird"} 1`,
		`leanllm_collector_store_write_duration_seconds_bucket{le="0.001"} 0`,
	} {
		is.True(strings.Contains(out, want))
	}
	// Every sample line is "name{labels} value".
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "#") {
			is.Equal(len(strings.Fields(line)), 2)
		}
	}
}

package persist

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matryer/is"
)

const plKey = "sk-test-secret-key-0123456789"

// plCollector is a loopback collector. answer decides each response; the
// default accepts everything. It records the requests.
type plCollector struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []plRequest
	answer func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool
}

type plRequest struct {
	auth, idemKey, contentType, path string
	ids                              []string
}

func newPLCollector(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool) *plCollector {
	c := &plCollector{answer: answer}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Events []struct {
				EventID string `json:"event_id"`
			} `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
			return
		}
		var ids []string
		for _, e := range body.Events {
			ids = append(ids, e.EventID)
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, plRequest{r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type"), r.URL.Path, ids})
		n := len(c.reqs)
		c.mu.Unlock()
		if c.answer != nil && c.answer(w, r, n, ids) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accepted":%d,"dropped":0}`, len(ids))
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *plCollector) requests() []plRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]plRequest(nil), c.reqs...)
}

func plRemote(t *testing.T, endpoint string, opts ...RemoteOption) *RemoteStore {
	t.Helper()
	rs, err := NewRemote(endpoint, plKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return rs
}

func TestRemoteValidation(t *testing.T) {
	for _, ep := range []string{"", "ftp://h", "http://", "https://user:pw@h", "http://h/?x=1", "http://h/#f", "::bad", "h:80"} {
		t.Run(ep, func(t *testing.T) {
			is := is.New(t)
			_, err := NewRemote(ep, plKey)
			is.True(err != nil)
			is.True(strings.Contains(err.Error(), "LEANLLM_ENDPOINT"))
			is.True(!strings.Contains(err.Error(), "pw"))
		})
	}
	t.Run("key", func(t *testing.T) {
		is := is.New(t)
		_, err := NewRemote("https://h", " ")
		is.True(strings.Contains(err.Error(), "LEANLLM_API_KEY"))
		_, err = NewRemote("https://h", "sk-abc\r\nX-Evil: 1")
		is.True(strings.Contains(err.Error(), "LEANLLM_API_KEY"))
		is.True(!strings.Contains(err.Error(), "sk-abc"))
	})
	t.Run("url", func(t *testing.T) {
		is := is.New(t)
		for ep, want := range map[string]string{
			"https://api.leanllm.dev":       "https://api.leanllm.dev/v1/events",
			"https://api.leanllm.dev/":      "https://api.leanllm.dev/v1/events",
			"HTTP://h:8080/base/":           "http://h:8080/base/v1/events",
			" http://127.0.0.1:9/collector": "http://127.0.0.1:9/collector/v1/events",
		} {
			rs, err := NewRemote(ep, plKey)
			is.NoErr(err)
			is.Equal(rs.url, want)
			rs.Close()
		}
	})
}

func TestRemoteWrite(t *testing.T) {
	is := is.New(t)
	c := newPLCollector(t, nil)
	rs := plRemote(t, c.URL)
	is.NoErr(rs.Write(t.Context(), plEvents(0, 3)))
	is.NoErr(rs.Write(t.Context(), plEvents(0, 3)))
	reqs := c.requests()
	is.Equal(len(reqs), 2)
	r := reqs[0]
	is.Equal(r.auth, "Bearer "+plKey)
	is.Equal(r.contentType, "application/json")
	is.Equal(r.path, "/v1/events")
	is.Equal(r.ids, plIDs(0, 3))
	is.Equal(len(r.idemKey), 64)
	is.Equal(reqs[1].idemKey, r.idemKey) // same batch, same key
	is.True(idempotencyKey(plEvents(0, 2)) != r.idemKey)
	is.Equal(rs.Accepted(), int64(6))
	is.NoErr(rs.Write(t.Context(), nil))

	is.NoErr(rs.Close())
	is.True(errors.Is(rs.Write(t.Context(), plEvents(0, 1)), ErrClosed))
}

func TestRemoteTransientThenOK(t *testing.T) {
	is := is.New(t)
	var ok atomic.Int64
	c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
		if n <= 2 {
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
			return true
		}
		ok.Add(1)
		return false
	})
	rs := plRemote(t, c.URL)
	w := NewWriter(rs, plFast(WriterConfig{}))
	plEnqueue(w, 0, 5)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.NoErr(plClose(t, w))
	reqs := c.requests()
	is.Equal(len(reqs), 3)
	is.Equal(ok.Load(), int64(1)) // delivered once
	is.Equal(reqs[0].idemKey, reqs[2].idemKey)
	s := w.Stats()
	is.Equal(s.Stored, int64(5))
	is.Equal(s.Retries, int64(2))
}

func TestRemoteUnauthorized(t *testing.T) {
	is := is.New(t)
	c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
		// A careless collector echoing the credentials.
		http.Error(w, `{"error":"invalid key: `+r.Header.Get("Authorization")+`"}`, http.StatusUnauthorized)
		return true
	})
	rs := plRemote(t, c.URL)
	err := rs.Write(t.Context(), plEvents(0, 1))
	is.True(errors.Is(err, ErrPermanent))
	is.True(strings.Contains(err.Error(), "401"))
	is.True(!strings.Contains(err.Error(), plKey))

	w := NewWriter(rs, plFast(WriterConfig{}))
	plEnqueue(w, 0, 4)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.NoErr(plClose(t, w))
	is.Equal(len(c.requests()), 2) // one attempt through the Writer
	s := w.Stats()
	is.Equal(s.Dropped[DropPermanentError], int64(4))
	is.True(strings.Contains(s.LastError, "401"))
	is.True(!strings.Contains(s.LastError, plKey))
}

func TestRemoteRetryAfter(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		is := is.New(t)
		c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		})
		rs := plRemote(t, c.URL)
		err := rs.Write(t.Context(), plEvents(0, 1))
		var rae RetryAfterError
		is.True(errors.As(err, &rae))
		is.Equal(rae.RetryAfter(), time.Second)
		is.True(!errors.Is(err, ErrPermanent))

		w := NewWriter(rs, plFast(WriterConfig{RetryInitialBackoff: time.Millisecond, RetryTotalBudget: 5 * time.Second}))
		start := time.Now()
		plEnqueue(w, 0, 1)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.True(time.Since(start) < 500*time.Millisecond) // n=2 is accepted at once
		is.NoErr(plClose(t, w))
	})
	t.Run("honoured by the Writer", func(t *testing.T) {
		is := is.New(t)
		var first, second time.Time
		c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
			if n == 1 {
				first = time.Now()
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			second = time.Now()
			return false
		})
		rs := plRemote(t, c.URL)
		w := NewWriter(rs, plFast(WriterConfig{RetryInitialBackoff: time.Millisecond, RetryTotalBudget: 5 * time.Second}))
		plEnqueue(w, 0, 1)
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.NoErr(plClose(t, w))
		is.True(second.Sub(first) >= 900*time.Millisecond)
	})
	t.Run("clamped to the budget", func(t *testing.T) {
		is := is.New(t)
		c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		})
		rs := plRemote(t, c.URL)
		w := NewWriter(rs, plFast(WriterConfig{RetryInitialBackoff: time.Millisecond, RetryTotalBudget: 150 * time.Millisecond}))
		plEnqueue(w, 0, 2)
		start := time.Now()
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.True(time.Since(start) < 2*time.Second)
		is.NoErr(nil)
		_ = plClose(t, w)
		is.Equal(len(c.requests()), 2)
		is.Equal(w.Stats().Dropped[DropRetryExhausted], int64(2))
	})
	t.Run("parse", func(t *testing.T) {
		is := is.New(t)
		now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		for v, want := range map[string]time.Duration{
			"0":                             0,
			"7":                             7 * time.Second,
			"999999999999":                  24 * time.Hour,
			"Thu, 02 Jan 2025 03:04:35 GMT": 30 * time.Second,
			"Thu, 02 Jan 2025 03:00:00 GMT": 0,
		} {
			d, ok := parseRetryAfter(v, now)
			is.True(ok)
			is.Equal(d, want)
		}
		for _, v := range []string{"", "-1", "soon"} {
			_, ok := parseRetryAfter(v, now)
			is.True(!ok)
		}
	})
}

func TestRemoteTooLargeSplits(t *testing.T) {
	is := is.New(t)
	var mu sync.Mutex
	accepted := map[string]int{}
	c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
		if len(ids) > 3 || slices.Contains(ids, plID(7)) { // e00007 is too large even alone
			http.Error(w, `{"error":"body too large"}`, http.StatusRequestEntityTooLarge)
			return true
		}
		mu.Lock()
		for _, id := range ids {
			accepted[id]++
		}
		mu.Unlock()
		return false
	})
	rs := plRemote(t, c.URL)
	err := rs.Write(t.Context(), plEvents(0, 10))
	is.True(errors.Is(err, ErrData))

	w := NewWriter(rs, plFast(WriterConfig{BatchSize: 10}))
	plEnqueue(w, 0, 10)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.NoErr(plClose(t, w))
	mu.Lock()
	defer mu.Unlock()
	is.Equal(len(accepted), 9) // all but the one too large alone
	for id, n := range accepted {
		is.Equal(n, 1) // each once
		is.True(id != plID(7))
	}
	is.Equal(w.Stats().Dropped[DropPermanentError], int64(1))
}

func TestRemoteHugeAnswer(t *testing.T) {
	const huge = 100 << 20
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			is := is.New(t)
			var written atomic.Int64
			c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
				w.WriteHeader(status)
				io.WriteString(w, `{"accepted":1,"dropped":0,"pad":"`)
				chunk := []byte(strings.Repeat("a", 64<<10))
				for written.Load() < huge {
					k, err := w.Write(chunk)
					written.Add(int64(k))
					if err != nil {
						return true
					}
				}
				return true
			})
			rs := plRemote(t, c.URL)
			start := time.Now()
			err := rs.Write(t.Context(), plEvents(0, 1))
			is.True(time.Since(start) < 5*time.Second)
			if status == http.StatusOK {
				is.NoErr(err)
			} else {
				is.True(err != nil)
				is.True(len(err.Error()) < 400) // message cut
			}
			rs.Close()
			c.Close() // waits for the handler, which fails once the client is gone
			is.True(written.Load() < huge/2)
		})
	}
}

func TestRemoteRedirect(t *testing.T) {
	t.Run("cross-host is refused", func(t *testing.T) {
		is := is.New(t)
		var otherAuth atomic.Value
		var otherHits atomic.Int64
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otherHits.Add(1)
			otherAuth.Store(r.Header.Get("Authorization"))
			io.WriteString(w, `{"accepted":1,"dropped":0}`)
		}))
		defer other.Close()
		c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
			http.Redirect(w, r, other.URL+"/v1/events", http.StatusTemporaryRedirect)
			return true
		})
		rs := plRemote(t, c.URL)
		err := rs.Write(t.Context(), plEvents(0, 1))
		is.True(errors.Is(err, ErrPermanent))
		is.Equal(otherHits.Load(), int64(0)) // neither the key nor the events went there
		is.Equal(otherAuth.Load(), nil)
	})
	t.Run("same host is followed", func(t *testing.T) {
		is := is.New(t)
		c := newPLCollector(t, func(w http.ResponseWriter, r *http.Request, n int, ids []string) bool {
			if r.URL.Path == "/v1/events" {
				http.Redirect(w, r, "/v2/events", http.StatusPermanentRedirect)
				return true
			}
			return false
		})
		rs := plRemote(t, c.URL)
		is.NoErr(rs.Write(t.Context(), plEvents(0, 2)))
		reqs := c.requests()
		is.Equal(len(reqs), 2)
		is.Equal(reqs[1].path, "/v2/events")
		is.Equal(reqs[1].auth, "Bearer "+plKey)
		is.Equal(reqs[1].ids, plIDs(0, 2))
	})
}

func TestRemoteHangingServer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	t.Run("client timeout", func(t *testing.T) {
		is := is.New(t)
		rs := plRemote(t, srv.URL, WithRemoteTimeout(100*time.Millisecond))
		start := time.Now()
		err := rs.Write(t.Context(), plEvents(0, 1))
		is.True(time.Since(start) < 2*time.Second)
		is.True(err != nil)
		is.True(!errors.Is(err, ErrPermanent)) // transient
		is.True(!strings.Contains(err.Error(), plKey))
	})
	t.Run("write timeout", func(t *testing.T) {
		is := is.New(t)
		rs := plRemote(t, srv.URL)
		w := NewWriter(rs, plFast(WriterConfig{WriteTimeout: 50 * time.Millisecond, RetryMaxAttempts: 2}))
		plEnqueue(w, 0, 1)
		start := time.Now()
		is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
		is.True(time.Since(start) < 2*time.Second)
		is.NoErr(plClose(t, w))
		is.Equal(w.Stats().Dropped[DropRetryExhausted], int64(1))
	})
}

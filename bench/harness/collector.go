package harness

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// CollectorKey is the API key the Collector accepts.
const CollectorKey = "llk-harness-key"

// Action is how the Collector answers one request. The zero Action stores
// the batch and answers 200 {"accepted":n,"dropped":0}.
type Action struct {
	// Status, if not 0 or 2xx, is answered without storing anything, with
	// Body (default a JSON error) and RetryAfter as the Retry-After header.
	Status     int
	RetryAfter string
	Body       string
	// BodyBytes pads the answer's body (after Body) with spaces up to this
	// size, written in 64 KiB pieces for as long as the client reads.
	BodyBytes int64
	// Hang never answers: the handler waits until the client goes away or
	// the Collector is closed.
	Hang bool
	// Reset stores the batch, then resets the connection without
	// answering: a lost acknowledgement.
	Reset bool
}

// Request describes a request to the Collector, for its script.
type Request struct {
	N              int // 1-based request number
	Events         int
	IdempotencyKey string
}

// Attempt is a request the Collector received.
type Attempt struct {
	Time           time.Time
	Events         int
	IdempotencyKey string
	Status         int // answered status; 0 for Hang and Reset
}

// Collector is an httptest LeanLLM collector (POST /v1/events, Bearer
// CollectorKey) that decodes each batch into core.Events and stores their
// ids. Like a real collector it deduplicates: a batch whose
// Idempotency-Key it has already stored is answered again without storing
// (a retry after a lost acknowledgement), and an event id already stored is
// not stored twice but counted in Duplicates. A script can make it fail,
// hang, answer huge bodies or lose acknowledgements. It is safe for
// concurrent use.
type Collector struct {
	srv     *httptest.Server
	closing chan struct{}
	once    sync.Once

	mu       sync.Mutex
	script   func(Request) Action
	n        int
	stored   map[string]int // event id → times stored (1, or more: a duplicate)
	received map[string]int // event id → times received in any request
	keys     map[string]int // idempotency key → events stored under it
	attempts []Attempt
	dups     int
	bodyOut  atomic.Int64
	decoded  atomic.Int64
}

// NewCollector starts a Collector on 127.0.0.1.
func NewCollector() *Collector {
	c := &Collector{
		closing:  make(chan struct{}),
		stored:   map[string]int{},
		received: map[string]int{},
		keys:     map[string]int{},
	}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	return c
}

// URL is the endpoint base URL (LEANLLM_ENDPOINT).
func (c *Collector) URL() string { return c.srv.URL }

// Close stops the server, releasing hanging handlers first.
func (c *Collector) Close() {
	c.once.Do(func() { close(c.closing) })
	c.srv.CloseClientConnections()
	c.srv.Close()
}

// Script sets the function choosing each request's Action (nil: always the
// zero Action).
func (c *Collector) Script(f func(Request) Action) {
	c.mu.Lock()
	c.script = f
	c.mu.Unlock()
}

// Stored returns the number of distinct events stored.
func (c *Collector) Stored() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stored)
}

// Duplicates returns how many times an event already stored was stored
// again under another Idempotency-Key.
func (c *Collector) Duplicates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dups
}

// Received returns how many times each event id arrived, in any request.
func (c *Collector) Received() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.received))
	for k, v := range c.received {
		out[k] = v
	}
	return out
}

// Has reports whether id is stored.
func (c *Collector) Has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stored[id] > 0
}

// Attempts returns every request received, in order.
func (c *Collector) Attempts() []Attempt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Attempt(nil), c.attempts...)
}

// BodyBytesWritten returns the bytes of padded answers the server managed
// to write (see Action.BodyBytes).
func (c *Collector) BodyBytesWritten() int64 { return c.bodyOut.Load() }

// Decoded returns the number of events decoded, in all requests.
func (c *Collector) Decoded() int64 { return c.decoded.Load() }

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+CollectorKey {
		http.Error(w, `{"error":"bad key"}`, http.StatusUnauthorized)
		return
	}
	var body struct {
		Events []*core.Event `json:"events"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	c.decoded.Add(int64(len(body.Events)))
	key := r.Header.Get("Idempotency-Key")

	c.mu.Lock()
	c.n++
	for _, e := range body.Events {
		c.received[e.EventID]++
	}
	req := Request{N: c.n, Events: len(body.Events), IdempotencyKey: key}
	var act Action
	if c.script != nil {
		act = c.script(req)
	}
	at := Attempt{Time: time.Now(), Events: len(body.Events), IdempotencyKey: key}
	ok := act.Status == 0 || (act.Status >= 200 && act.Status < 300)
	if ok && !act.Hang {
		if _, seen := c.keys[key]; !seen || key == "" {
			c.keys[key] = len(body.Events)
			for _, e := range body.Events {
				if c.stored[e.EventID] > 0 {
					c.dups++
				}
				c.stored[e.EventID]++
			}
		}
	}
	if !act.Hang && !act.Reset {
		at.Status = max(act.Status, http.StatusOK)
	}
	c.attempts = append(c.attempts, at)
	c.mu.Unlock()

	switch {
	case act.Hang:
		select {
		case <-r.Context().Done():
		case <-c.closing:
		}
		return
	case act.Reset:
		resetConn(w)
		return
	}
	if act.RetryAfter != "" {
		w.Header().Set("Retry-After", act.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	text := act.Body
	status := http.StatusOK
	if !ok {
		status = act.Status
		if text == "" {
			text = fmt.Sprintf(`{"error":"scripted %d"}`, act.Status)
		}
	} else if text == "" {
		text = fmt.Sprintf(`{"accepted":%d,"dropped":0}`, len(body.Events))
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
	if act.BodyBytes > int64(len(text)) {
		pad := []byte(strings.Repeat(" ", 64<<10))
		left := act.BodyBytes - int64(len(text))
		for left > 0 {
			n := min(left, int64(len(pad)))
			m, err := w.Write(pad[:n])
			c.bodyOut.Add(int64(m))
			if err != nil {
				return
			}
			left -= n
		}
	}
}

// resetConn closes the request's connection with a TCP reset.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("harness: collector: cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

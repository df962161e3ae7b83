package persist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// ErrStoreDown is the transient error a MemStore returns while it is down or
// scripted to fail.
var ErrStoreDown = errors.New("persist: memstore: store down")

// MemStore is an in-memory Store for tests (a fake, not a mock). It keeps
// events by event_id, idempotently like the SQL stores, and can be scripted
// to fail, reject events, block or be slow. It implements Migrator (Migrate
// fails while the store is down). All methods are safe for concurrent use.
type MemStore struct {
	mu         sync.Mutex
	rows       map[string]*core.Event
	order      []string
	dups       int
	writes     int
	batchSizes []int
	attempts   []time.Time
	migrations int
	failNext   int
	failErr    error
	rejected   map[string]bool
	down       bool
	delay      time.Duration
	block      chan struct{} // non-nil while blocking
	closed     bool
	closes     int
	writeHook  func(events []*core.Event)
}

// NewMemStore returns an empty, working MemStore.
func NewMemStore() *MemStore {
	return &MemStore{rows: make(map[string]*core.Event), rejected: make(map[string]bool)}
}

var (
	_ Store    = (*MemStore)(nil)
	_ Migrator = (*MemStore)(nil)
)

// Write stores events. In order, it: records the attempt; waits while
// blocking or for the delay (returning ctx's error if ctx ends first);
// fails with ErrStoreDown while down or for the scripted number of
// failures; fails with an error wrapping ErrData, storing nothing, if the
// batch holds a rejected id; then stores the events whose id is new and
// counts the others as duplicates.
func (m *MemStore) Write(ctx context.Context, events []*core.Event) error {
	m.mu.Lock()
	m.writes++
	m.attempts = append(m.attempts, time.Now())
	block, delay, hook := m.block, m.delay, m.writeHook
	m.mu.Unlock()
	if hook != nil {
		hook(events)
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.down {
		return ErrStoreDown
	}
	if m.failNext > 0 {
		m.failNext--
		return m.failErr
	}
	for _, e := range events {
		if m.rejected[e.EventID] {
			return fmt.Errorf("persist: memstore: event %s rejected: %w", e.EventID, ErrData)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range events {
		if _, ok := m.rows[e.EventID]; ok {
			m.dups++
			continue
		}
		m.rows[e.EventID] = e
		m.order = append(m.order, e.EventID)
	}
	m.batchSizes = append(m.batchSizes, len(events))
	return nil
}

// Migrate counts migrations; it fails with ErrStoreDown while down.
func (m *MemStore) Migrate(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return ErrStoreDown
	}
	m.migrations++
	return ctx.Err()
}

// Close marks the store closed; later writes fail with ErrClosed.
func (m *MemStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.closes++
	return nil
}

// FailNext makes the next n writes fail with err (ErrStoreDown if nil).
func (m *MemStore) FailNext(n int, err error) {
	if err == nil {
		err = ErrStoreDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failNext, m.failErr = n, err
}

// Reject makes every batch holding one of ids fail with ErrData.
func (m *MemStore) Reject(ids ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.rejected[id] = true
	}
}

// SetDown makes writes and migrations fail with ErrStoreDown while down.
func (m *MemStore) SetDown(down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = down
}

// SetBlocking makes writes wait, while on, until their ctx ends (they then
// return its error). Turning it off releases the waiting writes.
func (m *MemStore) SetBlocking(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case on && m.block == nil:
		m.block = make(chan struct{})
	case !on && m.block != nil:
		close(m.block)
		m.block = nil
	}
}

// SetDelay makes every write take d (or until its ctx ends).
func (m *MemStore) SetDelay(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delay = d
}

// OnWrite sets a function called at the start of every Write, on the
// writer's goroutine, with the batch (which it must not keep).
func (m *MemStore) OnWrite(f func(events []*core.Event)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writeHook = f
}

// Len returns the number of stored events.
func (m *MemStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.order)
}

// IDs returns the stored event ids in the order they were first stored.
func (m *MemStore) IDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.order)
}

// Has reports whether an event with id is stored.
func (m *MemStore) Has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.rows[id]
	return ok
}

// Event returns the stored event with id, or nil.
func (m *MemStore) Event(id string) *core.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[id]
}

// Duplicates returns how many events were written again after being stored.
func (m *MemStore) Duplicates() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dups
}

// Writes returns the number of Write calls (attempts), failed or not.
func (m *MemStore) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}

// Attempts returns the start time of every Write call.
func (m *MemStore) Attempts() []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.attempts)
}

// BatchSizes returns the size of every successful Write, in order.
func (m *MemStore) BatchSizes() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.batchSizes)
}

// Migrations returns the number of successful Migrate calls.
func (m *MemStore) Migrations() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.migrations
}

// Closed reports whether Close was called.
func (m *MemStore) Closed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Reopen undoes Close, so a test can hand the store to a new Writer.
func (m *MemStore) Reopen() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = false
}

// Closes returns how many times Close was called.
func (m *MemStore) Closes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closes
}

package leanllm

import "sync"

// ring keeps the last n events for LastEvent and RecentEvents.
type ring struct {
	mu   sync.Mutex
	buf  []*Event
	next int
	full bool
}

func newRing(n int) *ring {
	if n <= 0 {
		return nil
	}
	return &ring{buf: make([]*Event, n)}
}

func (r *ring) add(e *Event) {
	r.mu.Lock()
	r.buf[r.next] = e
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// recent returns up to n events, newest first.
func (r *ring) recent(n int) []*Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := r.next
	if r.full {
		size = len(r.buf)
	}
	if n <= 0 || n > size {
		n = size
	}
	out := make([]*Event, 0, n)
	for i := 0; i < n; i++ {
		j := (r.next - 1 - i + len(r.buf)) % len(r.buf)
		out = append(out, r.buf[j])
	}
	return out
}

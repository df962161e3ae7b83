package persist

import "github.com/leanllm/leanllm-go/core"

// eventRing is the Writer's bounded FIFO of events. It is not safe for
// concurrent use: the Writer guards it with its mutex.
//
// Every event pushed gets a sequence number (tail before the push); head is
// the sequence number of the oldest event still queued. Events leave the ring
// only from the front (taken by the worker, or dropped as the oldest), so
// "every event pushed before sequence T has left the ring" is head >= T.
// Flush is built on that.
//
// The ring grows by doubling up to maxLen and never shrinks, so in steady
// state push and pop do not allocate.
type eventRing struct {
	slots    []ringSlot
	start    int // index of the oldest event in slots
	n        int // events queued
	bytes    int64
	maxLen   int
	maxBytes int64
	head     uint64 // sequence number of the oldest queued event
	tail     uint64 // sequence number the next pushed event gets
}

type ringSlot struct {
	e    *core.Event
	size int64
}

// ringInitialCap is the ring's first allocation (smaller when maxLen is).
const ringInitialCap = 256

func newEventRing(maxLen int, maxBytes int64) eventRing {
	return eventRing{
		slots:    make([]ringSlot, min(maxLen, ringInitialCap)),
		maxLen:   maxLen,
		maxBytes: maxBytes,
	}
}

// push appends e (of the given size, which must be <= maxBytes) and drops the
// oldest events while the ring is over its count or byte cap. It returns how
// many events were dropped.
func (r *eventRing) push(e *core.Event, size int64) (dropped int) {
	if r.n == len(r.slots) {
		if len(r.slots) < r.maxLen {
			r.grow()
		} else {
			r.popFront()
			dropped++
		}
	}
	i := r.start + r.n
	if i >= len(r.slots) {
		i -= len(r.slots)
	}
	r.slots[i] = ringSlot{e: e, size: size}
	r.n++
	r.bytes += size
	r.tail++
	for r.bytes > r.maxBytes && r.n > 1 {
		r.popFront()
		dropped++
	}
	return dropped
}

func (r *eventRing) grow() {
	c := min(max(2*len(r.slots), 1), r.maxLen)
	s := make([]ringSlot, c)
	k := copy(s, r.slots[r.start:])
	copy(s[k:], r.slots[:r.start])
	r.slots = s
	r.start = 0
}

// popFront removes the oldest event and returns it.
func (r *eventRing) popFront() *core.Event {
	sl := &r.slots[r.start]
	e := sl.e
	r.bytes -= sl.size
	*sl = ringSlot{}
	r.start++
	if r.start == len(r.slots) {
		r.start = 0
	}
	r.n--
	r.head++
	return e
}

// popInto moves up to len(dst) of the oldest events into dst and returns how
// many it moved and their total size.
func (r *eventRing) popInto(dst []*core.Event) (n int, size int64) {
	n = min(len(dst), r.n)
	for i := range n {
		size += r.slots[r.start].size
		dst[i] = r.popFront()
	}
	return n, size
}

// popAll removes and returns every queued event (nil when empty).
func (r *eventRing) popAll() []*core.Event {
	if r.n == 0 {
		return nil
	}
	out := make([]*core.Event, r.n)
	r.popInto(out)
	return out
}

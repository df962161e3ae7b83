package persist

import (
	"testing"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
)

func plRingIDs(r *eventRing) []string {
	var ids []string
	for i := range r.n {
		ids = append(ids, r.slots[(r.start+i)%len(r.slots)].e.EventID)
	}
	return ids
}

func TestQueueRingDropsOldest(t *testing.T) {
	is := is.New(t)
	r := newEventRing(4, 1<<20)
	dropped := 0
	for i := range 10 {
		dropped += r.push(plEvent(plID(i)), 100)
	}
	is.Equal(dropped, 6)
	is.Equal(plRingIDs(&r), plIDs(6, 10))
	is.Equal(r.bytes, int64(400))
	is.Equal(r.head, uint64(6))
	is.Equal(r.tail, uint64(10))

	dst := make([]*core.Event, 3)
	n, size := r.popInto(dst)
	is.Equal(n, 3)
	is.Equal(size, int64(300))
	is.Equal(dst[0].EventID, plID(6))
	is.Equal(plRingIDs(&r), []string{plID(9)})
	is.Equal(len(r.popAll()), 1)
	is.Equal(r.n, 0)
	is.Equal(r.bytes, int64(0))
	is.Equal(r.popAll(), nil)
}

func TestQueueRingByteCap(t *testing.T) {
	is := is.New(t)
	r := newEventRing(100, 1000)
	for i := range 5 {
		r.push(plEvent(plID(i)), 300)
	}
	is.Equal(plRingIDs(&r), plIDs(2, 5)) // 900 bytes
	is.Equal(r.push(plEvent("big"), 1000), 3)
	is.Equal(plRingIDs(&r), []string{"big"})
}

func TestQueueRingGrows(t *testing.T) {
	is := is.New(t)
	r := newEventRing(1000, 1<<30)
	is.Equal(len(r.slots), ringInitialCap)
	dst := make([]*core.Event, 100)
	for i := range 300 { // wrap around before growing
		r.push(plEvent(plID(i)), 1)
		if i == 200 {
			r.popInto(dst)
		}
	}
	is.Equal(r.n, 200)
	is.Equal(plRingIDs(&r), plIDs(100, 300))
	for i := 300; i < 2000; i++ {
		r.push(plEvent(plID(i)), 1)
	}
	is.Equal(len(r.slots), 1000)
	is.Equal(plRingIDs(&r), plIDs(1000, 2000))
}

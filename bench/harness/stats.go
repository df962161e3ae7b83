package harness

import (
	"runtime"
	"slices"
	"sync"
	"time"
)

// Durations collects per-call durations. It is not safe for concurrent use:
// give each goroutine its own and Merge them.
type Durations []time.Duration

// Quantile returns the q-quantile (0..1, nearest rank) of d, 0 if empty.
// It sorts d.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// Max returns the longest duration, 0 if empty.
func (d Durations) Max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

// Merge concatenates several collections.
func Merge(ds ...Durations) Durations {
	var out Durations
	for _, d := range ds {
		out = append(out, d...)
	}
	return out
}

// HeapInUse runs the garbage collector twice and returns HeapAlloc: the live
// heap in bytes.
func HeapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// HeapSampler samples runtime.MemStats.HeapAlloc at a fixed interval until
// Stop.
type HeapSampler struct {
	mu      sync.Mutex
	samples []uint64
	stop    chan struct{}
	done    chan struct{}
}

// StartHeapSampler starts sampling every interval.
func StartHeapSampler(interval time.Duration) *HeapSampler {
	h := &HeapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				h.mu.Lock()
				h.samples = append(h.samples, ms.HeapAlloc)
				h.mu.Unlock()
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the samples.
func (h *HeapSampler) Stop() []uint64 {
	close(h.stop)
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.samples)
}

// HeapGrowth splits samples in thirds and returns the highest sample of the
// last third minus the highest of the first two (negative when it shrank).
// A steady workload whose memory is flat keeps it within a GC cycle's
// worth of garbage.
func HeapGrowth(samples []uint64) (growth int64, early, late uint64) {
	if len(samples) < 3 {
		return 0, 0, 0
	}
	cut := len(samples) * 2 / 3
	early = slices.Max(samples[:cut])
	late = slices.Max(samples[cut:])
	return int64(late) - int64(early), early, late
}

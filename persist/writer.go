package persist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// Defaults of WriterConfig, used for zero (or negative) fields.
const (
	DefaultQueueMaxSize        = 10000
	DefaultQueueMaxBytes       = 64 << 20
	DefaultBatchSize           = 100
	DefaultFlushInterval       = 180 * time.Second
	DefaultRetryMaxAttempts    = 5
	DefaultRetryInitialBackoff = 500 * time.Millisecond
	DefaultRetryTotalBudget    = 30 * time.Second
	DefaultWriteTimeout        = 10 * time.Second
	DefaultMigrateTimeout      = 60 * time.Second
	DefaultSpoolMaxBytes       = 1 << 30
	DefaultSpoolSegmentBytes   = 8 << 20
)

// DropSpoolFull is the drop reason of events deleted from a full spool (the
// oldest segments go first) or refused by it.
const DropSpoolFull = "spool_full"

// WriterConfig configures a Writer. Zero fields take the Default* values.
type WriterConfig struct {
	// QueueMaxSize and QueueMaxBytes cap the queue (events, and the sum of
	// their Event.SizeBytes). When either is exceeded the oldest events are
	// dropped (queue_full). An event larger than QueueMaxBytes on its own is
	// dropped (too_large).
	QueueMaxSize  int
	QueueMaxBytes int
	// BatchSize is the largest batch handed to Store.Write, and the queue
	// length that wakes the worker. Capped at QueueMaxSize.
	BatchSize int
	// FlushInterval bounds how long an event waits in the queue: at least
	// this often the worker writes whatever is queued.
	FlushInterval time.Duration
	// AutoMigrate runs Migrator.Migrate on the worker at start when the store
	// implements it. While it fails (store down) it is retried with backoff
	// and events keep queueing.
	AutoMigrate bool
	// RetryMaxAttempts is the number of Write attempts per batch (1 = no
	// retry). RetryInitialBackoff is the wait before the first retry; it
	// doubles at every retry, with ±20 % jitter. No retry starts after
	// RetryTotalBudget has passed since the batch's first attempt.
	RetryMaxAttempts    int
	RetryInitialBackoff time.Duration
	RetryTotalBudget    time.Duration
	// WriteTimeout bounds each Write attempt (its ctx deadline).
	WriteTimeout time.Duration
	// MigrateTimeout bounds each Migrate attempt.
	MigrateTimeout time.Duration
	// SpoolDir, if set, is a directory where batches the store refused past
	// the retry budget, and what Close could not deliver, are kept, to be
	// replayed in order when the store answers again, by this Writer or the
	// next one started on the directory (one Writer per directory at a
	// time). The format is described in spool.go.
	SpoolDir string
	// SpoolMaxBytes caps the spool's size; the oldest segments are dropped
	// (spool_full) to make room. SpoolSegmentBytes is the size at which a new
	// segment file is started.
	SpoolMaxBytes     int64
	SpoolSegmentBytes int64
	// OnDropped is called on the worker goroutine, never on the goroutine
	// that enqueued, with the number of events dropped for a reason since the
	// previous call. A panic in it is recovered and logged. Drops that happen
	// after the worker has exited (Enqueue after Close) are counted in Stats
	// but not reported to OnDropped.
	OnDropped func(count int, reason string)
	// Logger receives warnings (drops, retries, spool problems). nil
	// discards. Log records never contain event content or credentials.
	Logger *slog.Logger
}

func (c WriterConfig) withDefaults() WriterConfig {
	if c.QueueMaxSize <= 0 {
		c.QueueMaxSize = DefaultQueueMaxSize
	}
	if c.QueueMaxBytes <= 0 {
		c.QueueMaxBytes = DefaultQueueMaxBytes
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	c.BatchSize = min(c.BatchSize, c.QueueMaxSize)
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.RetryMaxAttempts <= 0 {
		c.RetryMaxAttempts = DefaultRetryMaxAttempts
	}
	if c.RetryInitialBackoff <= 0 {
		c.RetryInitialBackoff = DefaultRetryInitialBackoff
	}
	if c.RetryTotalBudget <= 0 {
		c.RetryTotalBudget = DefaultRetryTotalBudget
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MigrateTimeout <= 0 {
		c.MigrateTimeout = DefaultMigrateTimeout
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if c.SpoolSegmentBytes <= 0 {
		c.SpoolSegmentBytes = DefaultSpoolSegmentBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// WriterStats are the Writer's delivery counters.
//
// Every event passed to Enqueue, and every event found in the spool at start,
// is in exactly one place at any time, so that
//
//	Enqueued + Recovered == Stored + DroppedTotal + InFlight + QueueLen + SpoolPending
//
// holds in every snapshot (Unaccounted returns the difference, always 0).
// At rest (after Flush, or after Close) InFlight and QueueLen are 0.
type WriterStats struct {
	// Enqueued counts Enqueue calls (with a non-nil event), including those
	// dropped at once (too_large, closed).
	Enqueued int64
	// Recovered counts events found in the spool when the Writer started
	// (left by an earlier Writer), including those found damaged.
	Recovered int64
	// Stored counts events the store accepted, directly or from the spool.
	Stored int64
	// Dropped counts dropped events by reason (the Drop* constants);
	// DroppedTotal is their sum.
	Dropped      map[string]int64
	DroppedTotal int64
	// InFlight counts events taken from the queue and not yet accounted for:
	// in a Write, waiting for a retry, or being spooled.
	InFlight int
	// QueueLen and QueueBytes describe the queue.
	QueueLen   int
	QueueBytes int64
	// Spooled counts events written to the spool by this Writer; Replayed
	// counts events from the spool the store accepted (also in Stored).
	// SpoolPending counts events in the spool not yet accepted, and
	// SpoolBytes the spool's size on disk.
	Spooled      int64
	Replayed     int64
	SpoolPending int64
	SpoolBytes   int64
	// Retries counts Write attempts after the first of a batch; Batches
	// counts successful Writes.
	Retries int64
	Batches int64
	// LastError is the text of the last store or spool error ("" if none).
	LastError string
}

// Unaccounted returns Enqueued + Recovered - (Stored + DroppedTotal +
// InFlight + QueueLen + SpoolPending). It is 0 in every snapshot.
func (s WriterStats) Unaccounted() int64 {
	return s.Enqueued + s.Recovered - (s.Stored + s.DroppedTotal + int64(s.InFlight) + int64(s.QueueLen) + s.SpoolPending)
}

// RetryAfterError is implemented by store errors that say how long to wait
// before retrying (an HTTP Retry-After). The Writer waits at least that long,
// clamped to what is left of the batch's retry budget.
type RetryAfterError interface {
	RetryAfter() time.Duration
}

// RetryAdvisor is an optional Store interface: it reads a retry delay out of
// the store's own errors. It is consulted before RetryAfterError.
type RetryAdvisor interface {
	RetryAfter(err error) (time.Duration, bool)
}

// drop reasons, indexes into the Writer's counters.
type dropReason int

const (
	reasonQueueFull dropReason = iota
	reasonRetryExhausted
	reasonPermanentError
	reasonShutdownTimeout
	reasonTooLarge
	reasonClosed
	reasonSpoolCorrupt
	reasonSpoolFull
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	reasonQueueFull:       DropQueueFull,
	reasonRetryExhausted:  DropRetryExhausted,
	reasonPermanentError:  DropPermanentError,
	reasonShutdownTimeout: DropShutdownTimeout,
	reasonTooLarge:        DropTooLarge,
	reasonClosed:          DropClosed,
	reasonSpoolCorrupt:    DropSpoolCorrupt,
	reasonSpoolFull:       DropSpoolFull,
}

// eventSource says where events being accounted for come from.
type eventSource int

const (
	fromWorker eventSource = iota // the worker's in-flight batch
	fromSeize                     // taken from the queue by Close at its deadline
	fromSpool                     // read back from the spool
)

// maxLastError bounds WriterStats.LastError.
const maxLastError = 512

// Writer is the delivery pipeline between the calls and a Store: a bounded
// in-memory queue and one worker goroutine, which alone calls the Store. It
// batches events by size and by interval, retries with backoff, spools what
// the store refuses (if configured), and accounts for every event (see
// WriterStats).
//
// Enqueue never blocks; the other methods may be called from any goroutine.
type Writer struct {
	store Store
	cfg   WriterConfig
	log   *slog.Logger
	spool *spool // nil without SpoolDir, or if it could not be opened

	mu               sync.Mutex
	q                eventRing
	closed           bool
	exited           bool
	enqueued         int64
	recovered        int64
	stored           int64
	dropped          [numDropReasons]int64
	unreported       [numDropReasons]int64
	dropsPending     bool // unreported holds counts
	retries          int64
	batches          int64
	spooled          int64
	replayed         int64
	spoolPending     int64
	inflight         int // worker's batch
	seizing          int // Close's, at its deadline
	drainTo          uint64
	waiters          []flushWaiter
	lastErr          string
	closeUndelivered int64
	closeSpooled     int64

	wake      chan struct{}
	closing   chan struct{}
	done      chan struct{}
	abortCtx  context.Context // cancelled at Close's deadline
	abort     context.CancelFunc
	closeCtx  context.Context // Close's ctx, set before closing is closed
	closeOnce atomic.Bool
	closeDone chan struct{}
	closeErr  error
	result    error // the worker's close result, set before done is closed

	// Worker-only state.
	batch          []*core.Event
	migrated       bool
	migrateAttempt int
	nextMigrate    time.Time
	degraded       bool // store down and spool on: batches go to the spool
	probeAttempt   int
	nextProbe      time.Time
	lastWriteErr   error
}

type flushWaiter struct {
	target uint64
	ch     chan struct{}
}

var _ core.Sink = (*Writer)(nil)

// NewWriter starts a Writer delivering to store, with one worker goroutine.
// The Writer owns store from now on: only its worker calls it, and Close
// closes it. If cfg.SpoolDir cannot be opened the error is logged and kept in
// Stats().LastError, and the Writer runs without a spool. NewWriter panics if
// store is nil.
func NewWriter(store Store, cfg WriterConfig) *Writer {
	if store == nil {
		panic("persist: NewWriter: nil Store")
	}
	cfg = cfg.withDefaults()
	w := &Writer{
		store:     store,
		cfg:       cfg,
		log:       cfg.Logger,
		q:         newEventRing(cfg.QueueMaxSize, int64(cfg.QueueMaxBytes)),
		wake:      make(chan struct{}, 1),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
		closeDone: make(chan struct{}),
		batch:     make([]*core.Event, cfg.BatchSize),
	}
	w.abortCtx, w.abort = context.WithCancel(context.Background())
	if cfg.SpoolDir != "" {
		sp, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes, cfg.SpoolSegmentBytes)
		if err != nil {
			w.log.Error("persist: spool disabled", "err", err)
			w.lastErr = truncateError(err.Error())
		} else {
			w.spool = sp
		}
	}
	_, isMigrator := store.(Migrator)
	w.migrated = !(cfg.AutoMigrate && isMigrator)
	go w.run()
	return w
}

// Enqueue queues e for writing. It never blocks and does not allocate. When
// the queue is full the oldest events are dropped (queue_full); an event
// larger than QueueMaxBytes is dropped (too_large); after Close has started
// every event is dropped (closed). A nil e is ignored. The event must not be
// changed afterwards.
func (w *Writer) Enqueue(e *core.Event) {
	if e == nil {
		return
	}
	size := int64(e.SizeBytes())
	w.mu.Lock()
	w.enqueued++
	// The worker is woken only on transitions: the queue reaching a full
	// batch (it re-checks the queue after every write, so a busy worker
	// needs no signal) and the first drop since it last reported drops.
	wake := !w.dropsPending
	switch {
	case w.closed:
		w.dropLocked(reasonClosed, 1)
	case size > w.q.maxBytes:
		w.dropLocked(reasonTooLarge, 1)
	default:
		if d := w.q.push(e, size); d > 0 {
			w.dropLocked(reasonQueueFull, int64(d))
		} else {
			wake = w.q.n == w.cfg.BatchSize
		}
	}
	w.mu.Unlock()
	if wake {
		w.signal()
	}
}

// signal wakes the worker without blocking.
func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Flush returns once every event enqueued before the call has been stored or
// accounted for (dropped or spooled). It makes the worker write what is
// queued now rather than at the next interval. While the store is down
// without a spool that takes as long as the retries (or, before a pending
// migration succeeds, until it does). If ctx ends first it returns an error
// wrapping ctx.Err(); the events stay queued. Flush does not wait for the
// spool's replay. After Close, Flush returns nil.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.q.tail
	if w.exited || (w.q.head >= target && w.inflight == 0 && w.seizing == 0) {
		w.mu.Unlock()
		return nil
	}
	fw := flushWaiter{target: target, ch: make(chan struct{})}
	w.waiters = append(w.waiters, fw)
	w.drainTo = max(w.drainTo, target)
	w.mu.Unlock()
	w.signal()

	select {
	case <-fw.ch:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, x := range w.waiters {
		if x.ch == fw.ch {
			w.waiters = append(w.waiters[:i], w.waiters[i+1:]...)
			pending := int64(w.inflight)
			if target > w.q.head {
				pending += int64(target - w.q.head)
			}
			return fmt.Errorf("persist: flush: %d events pending: %w", pending, ctx.Err())
		}
	}
	return nil // satisfied just as ctx ended
}

// Close stops intake (later Enqueue calls drop with reason closed), writes
// everything queued, closes the store and stops the worker.
//
// Close returns by ctx's deadline. Then the Write in progress gets its ctx
// cancelled, and every event not delivered is spooled (with SpoolDir) or
// dropped as shutdown_timeout. The error then says how many events were not
// delivered and wraps ctx.Err(), e.g. "persist: close: 37 events not
// delivered: context deadline exceeded". Events of the Write in progress are
// counted as not delivered in that message; Stats tells what became of them.
// In that case the worker goroutine exits, and the store is closed, as soon
// as the store's Write returns: a Store must honour ctx.
//
// Close also returns an error when events could not be delivered during the
// drain for other reasons (store down past the retry budget), or when
// closing the store fails. Calling Close again returns the first call's
// result.
func (w *Writer) Close(ctx context.Context) error {
	if !w.closeOnce.CompareAndSwap(false, true) {
		select {
		case <-w.closeDone:
			return w.closeErr
		case <-ctx.Done():
			return fmt.Errorf("persist: close: %w", ctx.Err())
		}
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.closeCtx = ctx
	stop := context.AfterFunc(ctx, w.abort)
	close(w.closing)

	var err error
	select {
	case <-w.done:
		err = w.result
	case <-ctx.Done():
		select {
		case <-w.done:
			err = w.result
		default:
			w.abort() // AfterFunc may not have run yet, and stop would cancel it
			err = w.seize(ctx.Err())
		}
	}
	stop()
	w.closeErr = err
	close(w.closeDone)
	return err
}

// seize runs on Close's goroutine at its deadline while the worker is still
// busy: it takes what is queued and spools it or drops it.
func (w *Writer) seize(cause error) error {
	w.mu.Lock()
	events := w.q.popAll()
	w.seizing += len(events)
	w.mu.Unlock()
	if len(events) > 0 {
		w.abandon(events, fromSeize)
	}
	w.mu.Lock()
	n := w.closeUndelivered + int64(w.inflight) + int64(w.seizing)
	spooled := w.closeSpooled
	w.mu.Unlock()
	w.signal()
	return closeError(n, spooled, cause)
}

func closeError(n, spooled int64, cause error) error {
	if cause == nil {
		cause = errors.New("store unavailable")
	}
	if spooled > 0 {
		return fmt.Errorf("persist: close: %d events not delivered (%d spooled): %w", n, spooled, cause)
	}
	return fmt.Errorf("persist: close: %d events not delivered: %w", n, cause)
}

// Stats returns a consistent snapshot of the counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	s := WriterStats{
		Enqueued:     w.enqueued,
		Recovered:    w.recovered,
		Stored:       w.stored,
		Dropped:      make(map[string]int64),
		InFlight:     w.inflight + w.seizing,
		QueueLen:     w.q.n,
		QueueBytes:   w.q.bytes,
		Spooled:      w.spooled,
		Replayed:     w.replayed,
		SpoolPending: w.spoolPending,
		Retries:      w.retries,
		Batches:      w.batches,
		LastError:    w.lastErr,
	}
	for i, n := range w.dropped {
		if n > 0 {
			s.Dropped[dropReasonNames[i]] = n
			s.DroppedTotal += n
		}
	}
	w.mu.Unlock()
	if w.spool != nil {
		s.SpoolBytes = w.spool.bytes.Load()
	}
	return s
}

// Dropped returns the number of events dropped so far, all reasons.
func (w *Writer) Dropped() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var n int64
	for _, d := range w.dropped {
		n += d
	}
	return n
}

func (w *Writer) dropLocked(r dropReason, n int64) {
	w.dropped[r] += n
	w.unreported[r] += n
	w.dropsPending = true
}

// settleLocked moves n events out of src: into stored (when reason < 0 and
// !spooled), into the spool, or into the dropped counters.
func (w *Writer) settleLocked(src eventSource, n int64, stored, spooled bool, reason dropReason) {
	switch src {
	case fromWorker:
		w.inflight -= int(n)
	case fromSeize:
		w.seizing -= int(n)
	case fromSpool:
		if !spooled {
			w.spoolPending -= n
		}
	}
	switch {
	case stored:
		w.stored += n
		if src == fromSpool {
			w.replayed += n
		}
	case spooled:
		if src != fromSpool {
			w.spooled += n
			w.spoolPending += n
		}
	default:
		w.dropLocked(reason, n)
	}
	if src != fromSpool && w.closed && !stored {
		w.closeUndelivered += n
		if spooled {
			w.closeSpooled += n
		}
	}
}

func (w *Writer) settle(src eventSource, n int, stored, spooled bool, reason dropReason) {
	if n == 0 {
		return
	}
	w.mu.Lock()
	w.settleLocked(src, int64(n), stored, spooled, reason)
	w.mu.Unlock()
}

func (w *Writer) drop(src eventSource, n int, reason dropReason) {
	w.settle(src, n, false, false, reason)
}

func (w *Writer) noteError(err error) {
	w.mu.Lock()
	w.lastErr = truncateError(err.Error())
	w.mu.Unlock()
}

func truncateError(s string) string {
	if len(s) > maxLastError {
		return s[:maxLastError] + "…"
	}
	return s
}

// reportDrops hands the drops counted since the last call to OnDropped and
// the logger. Worker only.
func (w *Writer) reportDrops() {
	w.mu.Lock()
	pending := w.unreported
	w.unreported = [numDropReasons]int64{}
	w.dropsPending = false
	w.mu.Unlock()
	for i, n := range pending {
		if n == 0 {
			continue
		}
		reason := dropReasonNames[i]
		w.log.Warn("persist: events dropped", "count", n, "reason", reason)
		w.callOnDropped(int(n), reason)
	}
}

func (w *Writer) callOnDropped(n int, reason string) {
	if w.cfg.OnDropped == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("persist: on-dropped hook panicked", "panic", fmt.Sprint(r))
		}
	}()
	w.cfg.OnDropped(n, reason)
}

// notifyFlushers releases the Flush calls whose events have all left the
// queue (the worker calls it between batches, when nothing is in flight).
func (w *Writer) notifyFlushers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := w.waiters[:0]
	for _, fw := range w.waiters {
		if fw.target <= w.q.head || w.exited {
			close(fw.ch)
		} else {
			keep = append(keep, fw)
		}
	}
	clear(w.waiters[len(keep):])
	w.waiters = keep
}

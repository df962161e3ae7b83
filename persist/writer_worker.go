package persist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// run is the worker goroutine.
func (w *Writer) run() {
	defer close(w.done)
	defer w.abort()

	w.openSpool()
	if !w.migrated {
		w.tryMigrate()
	}
	ticker := time.NewTicker(w.cfg.FlushInterval)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		w.reportDrops()
		w.notifyFlushers()
		select {
		case <-w.closing:
			w.shutdown()
			return
		default:
		}
		now := time.Now()
		if !w.migrated && !now.Before(w.nextMigrate) {
			w.tryMigrate()
		}
		worked := false
		if w.replayDue(now) {
			w.replayOne()
			worked = true
		}
		if w.freshDue() {
			w.processFresh(w.takeBatch())
			worked = true
		}
		if worked {
			continue
		}

		var timerC <-chan time.Time
		if d, ok := w.nextWakeup(now); ok {
			timer.Reset(d)
			timerC = timer.C
		}
		select {
		case <-w.wake:
		case <-ticker.C:
			w.mu.Lock()
			w.drainTo = max(w.drainTo, w.q.tail)
			w.mu.Unlock()
		case <-timerC:
		case <-w.closing:
		}
		timer.Stop()
	}
}

// openSpool scans the spool left by an earlier Writer.
func (w *Writer) openSpool() {
	if w.spool == nil {
		return
	}
	valid, corrupt, err := w.spool.scan()
	if err != nil {
		w.log.Error("persist: spool scan", "err", err)
		w.noteError(err)
	}
	if valid+corrupt == 0 {
		return
	}
	w.log.Info("persist: spool recovered", "events", valid, "corrupt", corrupt)
	w.mu.Lock()
	w.recovered += valid + corrupt
	w.spoolPending += valid
	w.dropLocked(reasonSpoolCorrupt, corrupt)
	w.mu.Unlock()
}

// nextWakeup returns when the worker has something scheduled: a migration
// retry or a probe of a store that is down.
func (w *Writer) nextWakeup(now time.Time) (time.Duration, bool) {
	var at time.Time
	if !w.migrated {
		at = w.nextMigrate
	} else if w.degraded && w.spool != nil && w.spool.hasPending() {
		at = w.nextProbe
	} else {
		return 0, false
	}
	return max(at.Sub(now), time.Millisecond), true
}

// freshDue reports whether queued events should be written now: a full
// batch, a Flush or a tick waiting for them.
func (w *Writer) freshDue() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.q.n == 0 || (!w.migrated && w.spool == nil) {
		return false
	}
	return w.q.n >= w.cfg.BatchSize || w.q.head < w.drainTo
}

func (w *Writer) replayDue(now time.Time) bool {
	return w.spool != nil && w.migrated && w.spool.hasPending() &&
		(!w.degraded || !now.Before(w.nextProbe))
}

// takeBatch moves up to BatchSize events from the queue to the worker.
func (w *Writer) takeBatch() []*core.Event {
	w.mu.Lock()
	n, _ := w.q.popInto(w.batch)
	w.inflight += n
	w.mu.Unlock()
	return w.batch[:n]
}

// processFresh delivers a batch taken from the queue and accounts for it.
func (w *Writer) processFresh(batch []*core.Event) {
	if len(batch) == 0 {
		return
	}
	switch {
	case !w.migrated, w.degraded && time.Now().Before(w.nextProbe):
		// The store is known to be down: straight to the spool (or, at
		// Close without a spool, counted as not delivered).
		w.undelivered(batch, fromWorker)
	case w.degraded:
		// A probe: one attempt.
		w.deliver(batch, &writeBudget{attempts: 1}, fromWorker, nil)
	default:
		w.deliver(batch, w.newBudget(), fromWorker, nil)
	}
	clear(batch)
}

type writeBudget struct {
	attempts int       // attempts per (sub-)batch
	deadline time.Time // no retry starts after it
}

func (w *Writer) newBudget() *writeBudget {
	return &writeBudget{attempts: w.cfg.RetryMaxAttempts, deadline: time.Now().Add(w.cfg.RetryTotalBudget)}
}

// deliver writes events with retries and accounts for every one of them.
// An ErrData answer splits the batch in halves, recursively, until the bad
// events are isolated and dropped (permanent_error); the others are stored in
// the same cycle. Events from the spool that the store did not take because
// it is down go to leftover instead of being accounted for.
func (w *Writer) deliver(events []*core.Event, bud *writeBudget, src eventSource, leftover *[]*core.Event) {
	if w.degraded && src != fromSpool && bud.attempts > 1 {
		// A sibling sub-batch found the store down.
		w.undelivered(events, src)
		return
	}
	err := w.writeRetrying(events, bud)
	switch {
	case err == nil:
		w.markHealthy()
		w.settle(src, len(events), true, false, 0)
	case errors.Is(err, ErrData) && w.abortCtx.Err() == nil:
		w.markHealthy()
		if len(events) == 1 {
			w.log.Warn("persist: event rejected by the store", "event_id", events[0].EventID, "err", err)
			w.drop(src, 1, reasonPermanentError)
			return
		}
		h := len(events) / 2
		w.deliver(events[:h], bud, src, leftover)
		w.deliver(events[h:], bud, src, leftover)
	case errors.Is(err, ErrPermanent):
		w.log.Error("persist: batch rejected by the store", "events", len(events), "err", err)
		w.drop(src, len(events), reasonPermanentError)
	case src == fromSpool:
		*leftover = append(*leftover, events...)
	default:
		w.log.Warn("persist: batch not delivered", "events", len(events), "err", err)
		w.undelivered(events, src)
	}
}

// undelivered handles events the store did not take: spooled when there is
// a spool (the store is then treated as down), else dropped as
// retry_exhausted, or shutdown_timeout past Close's deadline.
func (w *Writer) undelivered(events []*core.Event, src eventSource) {
	reason := reasonRetryExhausted
	if w.abortCtx.Err() != nil {
		reason = reasonShutdownTimeout
	}
	if w.spool == nil {
		w.drop(src, len(events), reason)
		return
	}
	// Re-arm the probe only when it is due (or on the first failure): if
	// every spooled batch pushed the next probe out, a steady stream of
	// calls would keep the store from ever being checked again.
	if w.spoolEvents(events, src, reason) && src == fromWorker && (!w.degraded || !time.Now().Before(w.nextProbe)) {
		w.markDegraded()
	}
}

// abandon handles events left when Close's deadline has passed.
func (w *Writer) abandon(events []*core.Event, src eventSource) {
	if w.spool == nil {
		w.drop(src, len(events), reasonShutdownTimeout)
		return
	}
	w.spoolEvents(events, src, reasonShutdownTimeout)
}

// spoolEvents appends events to the spool and accounts for every one of
// them: spooled; dropped as spool_full when the spool has no room; dropped
// as permanent_error if they cannot be encoded; dropped for failReason if the
// spool fails otherwise (it then returns false).
func (w *Writer) spoolEvents(events []*core.Event, src eventSource, failReason dropReason) bool {
	frame, count, bad := encodeSpoolFrame(events)
	if len(bad) > 0 {
		w.log.Error("persist: events cannot be encoded", "events", len(bad))
		w.drop(src, len(bad), reasonPermanentError)
	}
	if count == 0 {
		return true
	}
	evicted, err := w.spool.append(frame, count)
	w.mu.Lock()
	defer w.mu.Unlock()
	if evicted > 0 {
		w.spoolPending -= evicted
		w.dropLocked(reasonSpoolFull, evicted)
	}
	switch {
	case err == nil:
		w.settleLocked(src, int64(count), false, true, 0)
		return true
	case errors.Is(err, errSpoolFull):
		w.settleLocked(src, int64(count), false, false, reasonSpoolFull)
		return true
	default:
		w.lastErr = truncateError(err.Error())
		w.log.Error("persist: spool append failed", "err", err)
		w.settleLocked(src, int64(count), false, false, failReason)
		return false
	}
}

// replayOne writes the oldest spooled frame, with one attempt.
func (w *Writer) replayOne() {
	events, ref, corrupt, ok := w.spool.next()
	if corrupt > 0 {
		w.mu.Lock()
		w.spoolPending -= corrupt
		w.dropLocked(reasonSpoolCorrupt, corrupt)
		w.mu.Unlock()
	}
	if !ok {
		return
	}
	var leftover []*core.Event
	w.deliver(events, &writeBudget{attempts: 1}, fromSpool, &leftover)
	switch {
	case len(leftover) == 0:
		w.spool.ack(ref)
	case len(leftover) == len(events):
		w.spool.release(ref)
		w.markDegraded()
	default:
		// Part of the frame was accounted for (split after an ErrData):
		// the rest goes back to the spool as a new frame.
		frame, count, bad := encodeSpoolFrame(leftover)
		evicted, err := w.spool.append(frame, count)
		w.spool.ack(ref)
		w.mu.Lock()
		if evicted > 0 {
			w.spoolPending -= evicted
			w.dropLocked(reasonSpoolFull, evicted)
		}
		if len(bad) > 0 {
			w.settleLocked(fromSpool, int64(len(bad)), false, false, reasonPermanentError)
		}
		if err != nil {
			w.settleLocked(fromSpool, int64(count), false, false, reasonRetryExhausted)
		}
		w.mu.Unlock()
		w.markDegraded()
	}
}

// markDegraded records that the store is down. With a spool, batches then go
// to the spool directly and the store is probed (a replay or a batch, one
// attempt) with growing delays until it answers.
func (w *Writer) markDegraded() {
	if w.spool == nil {
		return
	}
	if w.degraded {
		w.probeAttempt++
	} else {
		w.degraded = true
		w.probeAttempt = 1
	}
	w.nextProbe = time.Now().Add(w.probeDelay(w.probeAttempt))
}

func (w *Writer) markHealthy() {
	if w.degraded {
		w.log.Info("persist: store available again")
	}
	w.degraded = false
	w.probeAttempt = 0
}

// backoff returns the wait before retry number attempt (1-based): the
// initial backoff doubled attempt-1 times, ±20 % jitter.
func (w *Writer) backoff(attempt int) time.Duration {
	d := w.cfg.RetryInitialBackoff
	for i := 1; i < attempt && d < w.cfg.RetryTotalBudget; i++ {
		d *= 2
	}
	return jitter(d)
}

// probeDelay is backoff capped at the retry budget.
func (w *Writer) probeDelay(attempt int) time.Duration {
	return min(w.backoff(attempt), jitter(w.cfg.RetryTotalBudget))
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// writeRetrying calls the store until it succeeds, returns ErrData or
// ErrPermanent, the attempts or the budget run out, or Close's deadline
// passes. It returns the last error.
func (w *Writer) writeRetrying(events []*core.Event, bud *writeBudget) error {
	for attempt := 1; ; attempt++ {
		err := w.writeOnce(events)
		if err == nil {
			w.mu.Lock()
			w.batches++
			w.mu.Unlock()
			return nil
		}
		w.lastWriteErr = err
		w.noteError(err)
		if errors.Is(err, ErrData) || errors.Is(err, ErrPermanent) || w.abortCtx.Err() != nil {
			return err
		}
		if attempt >= bud.attempts {
			return err
		}
		remaining := time.Until(bud.deadline)
		if remaining <= 0 {
			return err
		}
		delay := w.backoff(attempt)
		if ra, ok := w.retryAfter(err); ok && ra > delay {
			delay = ra
		}
		delay = min(delay, remaining)
		w.log.Debug("persist: write failed, retrying", "attempt", attempt, "in", delay, "err", err)
		if !w.sleep(delay) {
			return err
		}
		w.mu.Lock()
		w.retries++
		w.mu.Unlock()
	}
}

func (w *Writer) writeOnce(events []*core.Event) (err error) {
	ctx, cancel := context.WithTimeout(w.abortCtx, w.cfg.WriteTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("persist: store Write panicked: %v: %w", r, ErrPermanent)
		}
	}()
	return w.store.Write(ctx, events)
}

func (w *Writer) retryAfter(err error) (time.Duration, bool) {
	if ra, ok := w.store.(RetryAdvisor); ok {
		if d, ok := ra.RetryAfter(err); ok && d > 0 {
			return d, true
		}
	}
	var rae RetryAfterError
	if errors.As(err, &rae) {
		if d := rae.RetryAfter(); d > 0 {
			return d, true
		}
	}
	return 0, false
}

// sleep waits for d, reporting drops meanwhile. It returns false if Close's
// deadline passed.
func (w *Writer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-w.abortCtx.Done():
			return false
		case <-w.wake:
			w.reportDrops()
		}
	}
}

// tryMigrate runs one Migrate attempt and schedules the next on failure.
// A permanent migration error is logged and writing starts anyway.
func (w *Writer) tryMigrate() {
	m := w.store.(Migrator)
	ctx, cancel := context.WithTimeout(w.abortCtx, w.cfg.MigrateTimeout)
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("persist: store Migrate panicked: %v: %w", r, ErrPermanent)
			}
		}()
		return m.Migrate(ctx)
	}()
	cancel()
	if err == nil {
		w.migrated = true
		w.markHealthy()
		if w.migrateAttempt > 0 {
			w.log.Info("persist: store migrated", "attempts", w.migrateAttempt+1)
		}
		return
	}
	w.lastWriteErr = err
	w.noteError(err)
	if errors.Is(err, ErrPermanent) {
		w.log.Error("persist: migration failed; writing anyway", "err", err)
		w.migrated = true
		return
	}
	w.migrateAttempt++
	d := w.probeDelay(w.migrateAttempt)
	w.nextMigrate = time.Now().Add(d)
	w.log.Warn("persist: migration failed, retrying", "in", d, "err", err)
}

// shutdown drains the queue on Close, then closes the store. Worker only.
func (w *Writer) shutdown() {
	if !w.migrated && w.abortCtx.Err() == nil {
		// Last chance for a store that was down at start: retry within the
		// budget (or Close's deadline).
		deadline := time.Now().Add(w.cfg.RetryTotalBudget)
		for !w.migrated && w.abortCtx.Err() == nil {
			w.tryMigrate()
			if w.migrated {
				break
			}
			rem := time.Until(deadline)
			if rem <= 0 || !w.sleep(min(time.Until(w.nextMigrate), rem)) {
				break
			}
		}
	}
	for {
		w.reportDrops()
		batch := w.takeBatch()
		if len(batch) == 0 {
			break
		}
		if w.abortCtx.Err() != nil {
			w.abandon(batch, fromWorker)
			clear(batch)
			continue
		}
		w.processFresh(batch)
	}
	w.reportDrops()

	var closeErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				closeErr = fmt.Errorf("store Close panicked: %v", r)
			}
		}()
		closeErr = w.store.Close()
	}()
	if w.spool != nil {
		w.spool.close()
	}

	w.mu.Lock()
	n, spooled := w.closeUndelivered, w.closeSpooled
	w.exited = true
	w.mu.Unlock()
	w.notifyFlushers()

	var res error
	if n > 0 {
		cause := w.lastWriteErr
		if w.abortCtx.Err() != nil {
			cause = w.closeCtx.Err()
		}
		res = closeError(n, spooled, cause)
	}
	if closeErr != nil {
		res = errors.Join(res, fmt.Errorf("persist: close store: %w", closeErr))
	}
	w.result = res
}

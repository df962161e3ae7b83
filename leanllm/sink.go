package leanllm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

// Tee returns a Store that writes every batch to each of stores, in order,
// so that events can go to a database and somewhere else (an OpenTelemetry
// exporter, a metrics store) at once:
//
//	leanllm.New(leanllm.WithStore(leanllm.Tee(sqlStore, otelExporter)))
//
// Nil stores are skipped; Tee of a single store returns that store.
//
// Write attempts every store even when one fails, and returns the first
// error (later ones are logged nowhere: return them from the first store's
// side if they matter). The Writer then retries the whole batch, so every
// store sees it again: the stores must be idempotent, as the Store contract
// requires (a store that already has an event_id skips it). A store that
// panics fails the batch with an error wrapping persist.ErrPermanent; the
// other stores are still written.
//
// Close closes every store and joins their errors.
//
// The result implements persist.Reader when the first store does (reads go
// to it alone, so put the database first), persist.Migrator when any store
// does (Migrate migrates each of those, in order, and stops at the first
// error), and persist.RetryAdvisor (it asks each store that advises).
func Tee(stores ...Store) Store {
	var ss []Store
	for _, s := range stores {
		if s != nil {
			ss = append(ss, s)
		}
	}
	switch len(ss) {
	case 0:
		return &tee{}
	case 1:
		return ss[0]
	}
	t := &tee{stores: ss}
	var migrates bool
	for _, s := range ss {
		if _, ok := s.(persist.Migrator); ok {
			migrates = true
		}
	}
	r, reads := ss[0].(persist.Reader)
	switch {
	case reads && migrates:
		return &teeReaderMigrator{teeReader{t, r}}
	case reads:
		return &teeReader{t, r}
	case migrates:
		return &teeMigrator{t}
	default:
		return t
	}
}

// tee is the Store of Tee.
type tee struct {
	stores []Store
}

var (
	_ persist.RetryAdvisor = (*tee)(nil)
	_ persist.Reader       = (*teeReader)(nil)
	_ persist.Migrator     = (*teeMigrator)(nil)
	_ persist.Migrator     = (*teeReaderMigrator)(nil)
	_ persist.Reader       = (*teeReaderMigrator)(nil)
)

// Write writes events to every store and returns the first error.
func (t *tee) Write(ctx context.Context, events []*core.Event) error {
	var first error
	for i, s := range t.stores {
		if err := writeOne(ctx, s, events); err != nil && first == nil {
			first = fmt.Errorf("leanllm: tee store %d (%T): %w", i, s, err)
		}
	}
	return first
}

func writeOne(ctx context.Context, s Store, events []*core.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store Write panicked: %v: %w", r, persist.ErrPermanent)
		}
	}()
	return s.Write(ctx, events)
}

// Close closes every store.
func (t *tee) Close() error {
	var errs []error
	for i, s := range t.stores {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("leanllm: tee store %d (%T): %w", i, s, err))
		}
	}
	return errors.Join(errs...)
}

// RetryAfter asks each store that advises on retries.
func (t *tee) RetryAfter(err error) (time.Duration, bool) {
	for _, s := range t.stores {
		if ra, ok := s.(persist.RetryAdvisor); ok {
			if d, ok := ra.RetryAfter(err); ok {
				return d, true
			}
		}
	}
	return 0, false
}

func (t *tee) migrate(ctx context.Context) error {
	for i, s := range t.stores {
		if m, ok := s.(persist.Migrator); ok {
			if err := m.Migrate(ctx); err != nil {
				return fmt.Errorf("leanllm: tee store %d (%T): %w", i, s, err)
			}
		}
	}
	return nil
}

type teeMigrator struct{ *tee }

// Migrate migrates every store that has a schema.
func (t *teeMigrator) Migrate(ctx context.Context) error { return t.migrate(ctx) }

type teeReader struct {
	*tee
	persist.Reader
}

type teeReaderMigrator struct{ teeReader }

// Migrate migrates every store that has a schema.
func (t *teeReaderMigrator) Migrate(ctx context.Context) error { return t.migrate(ctx) }

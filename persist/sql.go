package persist

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/migrate"
	"github.com/uptrace/bun"
)

// Dialect names returned by SQLStore.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// SQLStore is the SQLite or PostgreSQL event store. It implements Store,
// Migrator and Reader. Build one with Open, OpenSQL, OpenSQLite or
// OpenPostgres.
//
// Write is meant for one goroutine at a time (the Writer's worker) but is
// safe to call concurrently; the Reader methods, Ping and MigrationStatus may
// run from any goroutine, concurrently with Write.
type SQLStore struct {
	dialect  string
	read     *bun.DB // reads
	migrator *bun.DB // migrations (SQLite: the single writer connection)
	w        batchWriter
	redact   func(error) error

	mu      sync.Mutex // serialises Write and Close
	closed  atomic.Bool
	closers []func() error
}

// batchWriter is a dialect's write path.
type batchWriter interface {
	// write stores events (sanitized) in one transaction, skipping known ids.
	write(ctx context.Context, events []*core.Event) error
	ping(ctx context.Context) error
}

var (
	_ Store    = (*SQLStore)(nil)
	_ Migrator = (*SQLStore)(nil)
	_ Reader   = (*SQLStore)(nil)
)

// Dialect reports "sqlite" or "postgres".
func (s *SQLStore) Dialect() string { return s.dialect }

// Write stores events in one transaction. Each event is passed through
// Sanitize first (the caller's events are never changed). An event whose
// event_id is already stored is skipped (INSERT … ON CONFLICT (event_id) DO
// NOTHING), so writing a batch again never duplicates a row.
//
// Errors: one wrapping ErrData when the database rejects the content of an
// event (split the batch to find it); one wrapping ErrPermanent for bad
// credentials, a missing database, table or privilege (retrying cannot help
// until an operator acts); ErrClosed after Close; any other error (database
// down, timeout, lock contention) is transient.
func (s *SQLStore) Write(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		if s.closed.Load() {
			return ErrClosed
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.w.write(ctx, sanitizeBatch(events)); err != nil {
		return s.redact(err)
	}
	return nil
}

// Migrate applies pending schema migrations (see package migrate). Opening a
// store never migrates: the worker calls Migrate at start when auto_migrate
// is on, and `leanllm migrate up` calls it on demand.
func (s *SQLStore) Migrate(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.redact(migrate.Up(ctx, s.migrator))
}

// MigrationStatus lists the schema migrations and whether each is applied
// (the `leanllm migrate status` output).
func (s *SQLStore) MigrationStatus(ctx context.Context) ([]migrate.MigrationStatus, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	st, err := migrate.Status(ctx, s.migrator)
	return st, s.redact(err)
}

// Ping checks that the database answers.
func (s *SQLStore) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.redact(s.w.ping(ctx))
}

// Close releases the connections. Later calls return nil; every other
// method then returns ErrClosed.
func (s *SQLStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return s.redact(errors.Join(errs...))
}

// GetEvent returns the event with id, or an error wrapping ErrNotFound.
func (s *SQLStore) GetEvent(ctx context.Context, id string) (*core.Event, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var row eventRow
	err := s.read.NewSelect().Model(&row).Where("e.event_id = ?", fixStr(id)).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, s.readErr(err)
	}
	return row.decode()
}

// ListEvents returns the events f selects, newest first (timestamp, then
// event_id, descending), honouring f.Limit and f.Offset.
func (s *SQLStore) ListEvents(ctx context.Context, f Filter) ([]*core.Event, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var rows []eventRow
	q := s.read.NewSelect().Model(&rows)
	q = s.where(q, f).OrderExpr("e.timestamp DESC, e.event_id DESC")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if f.Offset > 0 {
		if f.Limit <= 0 && s.dialect == DialectSQLite {
			q = q.Limit(math.MaxInt64) // SQLite needs a LIMIT before OFFSET
		}
		q = q.Offset(int64(f.Offset))
	}
	if err := q.Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, s.readErr(err)
	}
	out := make([]*core.Event, 0, len(rows))
	var errs []error
	for i := range rows {
		e, err := rows[i].decode()
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, e)
	}
	return out, errors.Join(errs...)
}

// CountEvents counts the events f selects (f.Limit and f.Offset ignored).
func (s *SQLStore) CountEvents(ctx context.Context, f Filter) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var n int64
	q := s.read.NewSelect().TableExpr("llm_events AS e").ColumnExpr("count(*)")
	if err := s.where(q, f).Scan(ctx, &n); err != nil {
		return 0, s.readErr(err)
	}
	return n, nil
}

func (s *SQLStore) readErr(err error) error {
	return s.redact(fmt.Errorf("persist: %s read: %w", s.dialect, err))
}

// where adds f's conditions (all but Limit and Offset) to q.
func (s *SQLStore) where(q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	if f.CorrelationID != "" {
		q = q.Where("e.correlation_id = ?", fixStr(f.CorrelationID))
	}
	if f.ParentRequestID != "" {
		q = q.Where("e.parent_request_id = ?", fixStr(f.ParentRequestID))
	}
	if f.Model != "" {
		q = q.Where("e.model = ?", fixStr(f.Model))
	}
	if f.Provider != "" {
		q = q.Where("e.provider = ?", fixStr(f.Provider))
	}
	if !f.Since.IsZero() {
		q = q.Where("e.timestamp >= ?", s.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("e.timestamp < ?", s.timeArg(f.Until))
	}
	if f.ErrorsOnly {
		q = q.Where("e.error_kind IS NOT NULL")
	}
	if len(f.Labels) > 0 {
		labels := fixLabels(f.Labels)
		if s.dialect == DialectPostgres {
			b, _ := json.Marshal(labels)
			q = q.Where("e.labels @> ?::jsonb", string(b))
		} else {
			for k, v := range labels {
				expr, arg := sqliteLabel(k)
				q = q.Where(expr+" = ?", arg, v)
			}
		}
	}
	return q
}

// timeArg is t as the timestamp column compares it.
func (s *SQLStore) timeArg(t time.Time) any {
	if s.dialect == DialectSQLite {
		return sqliteTime(t)
	}
	return t.UTC()
}

// sqliteLabel returns an SQLite expression for the value of label key in
// e.labels, and its argument. json_extract is used when the key can be
// written as a quoted JSON path label, json_each otherwise.
func sqliteLabel(key string) (string, any) {
	if !strings.ContainsAny(key, "\"\\") {
		return "json_extract(e.labels, ?)", `$."` + key + `"`
	}
	return "(SELECT je.value FROM json_each(e.labels) AS je WHERE je.key = ?)", key
}

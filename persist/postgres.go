package persist

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/leanllm/leanllm-go/core"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// pgWriteConns is the write pool's size unless the URL sets pool_max_conns:
// one worker writes, plus room for Ping.
const pgWriteConns = 2

// pgStage is the per-connection temporary table a batch is copied into.
const pgStage = "leanllm_stage"

// pgStageDDL creates pgStage when a session first needs it. Its column
// types are spelled out (not LIKE llm_events) so it does not depend on the
// table's migration state; ON COMMIT DELETE ROWS empties it at the end of
// every batch's transaction.
var pgStageDDL = `CREATE TEMP TABLE IF NOT EXISTS ` + pgStage + ` (
	event_id text, correlation_id text, parent_request_id text, "timestamp" timestamptz,
	model text, provider text, input_tokens int4, output_tokens int4, total_tokens int4,
	cost float8, latency_ms int8, time_to_first_token_ms int8, total_stream_time_ms int8,
	parameters jsonb, tools jsonb, tool_calls jsonb, error_kind text, error_message text,
	labels jsonb, prompt text, response text, normalized_input jsonb, normalized_output jsonb,
	metadata jsonb, schema_version int4, cached_input_tokens int4, reasoning_tokens int4
) ON COMMIT DELETE ROWS`

// pgInsert moves a staged batch into llm_events, skipping known event ids.
var pgInsert = "INSERT INTO llm_events (" + quotedColumns() + ") SELECT " + quotedColumns() +
	" FROM pg_temp." + pgStage + " ON CONFLICT (event_id) DO NOTHING"

func quotedColumns() string {
	q := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		q[i] = `"` + c + `"`
	}
	return strings.Join(q, ", ")
}

// OpenPostgres opens the PostgreSQL database named by rawURL
// (postgres://user:pass@host:5432/db?sslmode=… or postgresql://…; libpq
// parameters such as sslmode, search_path and application_name, and pgxpool's
// pool_* parameters are accepted).
//
// Writes go through a pgx pool (pgxpool, 2 connections unless pool_max_conns
// says otherwise). A batch is copied (COPY, binary) straight into
// llm_events, atomically; if that fails because an event_id is already
// stored (a retried batch), the batch is copied into a per-connection
// temporary table instead and inserted from there with ON CONFLICT
// (event_id) DO NOTHING, in one transaction. Reads and migrations use bun with its pg
// dialect over pgx's database/sql driver. Connections are made lazily:
// OpenPostgres succeeds while the server is down (the worker retries); call
// Ping to check. It does not migrate: call Migrate (the worker does so at
// start when auto_migrate is on).
//
// A transaction-mode connection pooler (PgBouncer pool_mode=transaction) is
// not supported: the staging table lives in the session.
func OpenPostgres(ctx context.Context, rawURL string) (*SQLStore, error) {
	redact := newRedactor(rawURL)
	pcfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, redact(fmt.Errorf("persist: postgres URL: %w", err))
	}
	redact = newRedactor(rawURL, pcfg.ConnConfig.Password)
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != pcfg.ConnConfig.Password {
			// net/url splits user info at the last '@', pgx at the first: an
			// unescaped '@' in the password would send part of it as the host.
			return nil, fmt.Errorf("persist: postgres URL: the password contains an unescaped '@' (percent-encode it as %%40)")
		}
	}
	if !urlHasParam(rawURL, "pool_max_conns") {
		pcfg.MaxConns = pgWriteConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, redact(fmt.Errorf("persist: postgres: %w", err))
	}
	sqldb := stdlib.OpenDB(*pcfg.ConnConfig.Copy())
	n := max(4, runtime.GOMAXPROCS(0))
	sqldb.SetMaxOpenConns(n) // ≥ 2: migrate holds one for its advisory lock
	sqldb.SetMaxIdleConns(2)
	bdb := bun.NewDB(sqldb, pgdialect.New())
	return &SQLStore{
		dialect:  DialectPostgres,
		read:     bdb,
		migrator: bdb,
		w:        &pgWriter{pool: pool, enc: rowEncoder{jsonBytes: true}},
		redact:   redact,
		closers:  []func() error{func() error { pool.Close(); return nil }, bdb.Close},
	}, nil
}

func urlHasParam(rawURL, key string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return strings.Contains(rawURL, key+"=")
	}
	return u.Query().Has(key)
}

// pgWriter writes a batch with COPY.
type pgWriter struct {
	pool *pgxpool.Pool
	enc  rowEncoder
}

// write copies the batch straight into llm_events: one atomic statement,
// as fast as the driver goes. When an event_id of the batch is already
// stored (a retried batch) or repeats in it, that COPY fails as a whole with
// a unique violation and the batch goes through writeStaged instead.
func (w *pgWriter) write(ctx context.Context, events []*core.Event) error {
	_, err := w.pool.CopyFrom(ctx, pgx.Identifier{"llm_events"}, eventColumns, w.source(events))
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || pe.Code != pgUniqueViolation {
		return pgErr("copy", err)
	}
	return w.writeStaged(ctx, events)
}

const pgUniqueViolation = "23505"

// writeStaged copies the batch into the connection's temporary staging table
// and inserts it from there with ON CONFLICT (event_id) DO NOTHING, in one
// transaction.
func (w *pgWriter) writeStaged(ctx context.Context, events []*core.Event) error {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return pgErr("begin", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // no-op after Commit
	if _, err := tx.Exec(ctx, pgStageDDL); err != nil {
		return pgErr("create staging table", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", pgStage}, eventColumns, w.source(events)); err != nil {
		return pgErr("copy", err)
	}
	if _, err := tx.Exec(ctx, pgInsert); err != nil {
		return pgErr("insert", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return pgErr("commit", err)
	}
	return nil
}

// source encodes events row by row as COPY sends them.
func (w *pgWriter) source(events []*core.Event) pgx.CopyFromSource {
	return pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
		vals, err := w.enc.encode(events[i])
		if err != nil {
			return nil, fmt.Errorf("event %q: %w", events[i].EventID, err)
		}
		return vals, nil
	})
}

func (w *pgWriter) ping(ctx context.Context) error {
	if err := w.pool.Ping(ctx); err != nil {
		return pgErr("ping", err)
	}
	return nil
}

// Postgres error classes and codes that retrying cannot fix.
var pgPermanent = map[string]bool{
	"3D000": true, // invalid_catalog_name: the database does not exist
	"3F000": true, // invalid_schema_name
	"42P01": true, // undefined_table: not migrated (run `leanllm migrate up`)
	"42703": true, // undefined_column: not migrated to the latest version
	"42501": true, // insufficient_privilege
}

// pgErr wraps err: SQLSTATE classes 22 (data exception) and 23 (integrity
// constraint violation) wrap ErrData; authentication failures (class 28), a
// missing database, schema, table or column and missing privileges wrap
// ErrPermanent. Everything else — connection refused, timeouts, server
// shutdown, serialization failures, too many connections — is transient.
func pgErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23") && pe.Code != pgUniqueViolation:
			return fmt.Errorf("persist: postgres %s: %w: %w", op, ErrData, err)
		case strings.HasPrefix(pe.Code, "28"), pgPermanent[pe.Code]:
			return fmt.Errorf("persist: postgres %s: %w: %w", op, ErrPermanent, err)
		}
	}
	return fmt.Errorf("persist: postgres %s: %w", op, err)
}

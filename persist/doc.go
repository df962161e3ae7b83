// Package persist delivers events: a bounded queue and one worker goroutine
// (Writer), the Store interface, and stores for SQLite (pure Go,
// modernc.org/sqlite via bun), Postgres (pgx CopyFrom, bun for reads and
// migrations) and the remote collector protocol.
//
// # Writer
//
// NewWriter starts one goroutine that alone calls the Store. Enqueue never
// blocks and does not allocate: overflow drops the oldest event. The worker
// writes as soon as a batch is full and at the latest every flush interval,
// retries with exponential backoff and jitter within a budget, splits
// batches to isolate events the store rejects, spools what it cannot
// deliver when a spool directory is set, and accounts for every event (see
// WriterStats).
//
// # Stores
//
// Open dispatches on the URL scheme: sqlite:///relative.db,
// sqlite:////absolute.db, sqlite://:memory:, postgres://… and
// postgresql://…. Stores are opened lazily: Open does no network I/O and
// never migrates; the Writer migrates on its goroutine when auto_migrate is
// on. Writes are idempotent on event_id. Sanitize makes any event storable
// (NUL bytes, invalid UTF-8, non-finite numbers) and marks it.
//
// # Reading
//
// SQL stores implement Reader: GetEvent, ListEvents, CountEvents and
// Aggregate, safe to call concurrently with writes.
package persist

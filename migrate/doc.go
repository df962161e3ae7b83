// Package migrate holds LeanLLM's versioned schema migrations for SQLite and
// PostgreSQL and runs them with bun/migrate. It is the logic behind the
// `leanllm migrate up|status` command and the worker's auto_migrate step
// (persist's stores call Up from their Migrate method).
//
// # Migrations
//
// The SQL files are embedded (sqlite/ and postgres/, named
// YYYYMMDDhhmmss_name.tx.up.sql / .tx.down.sql, statements separated by
// --bun:split) and run in order, each in its own transaction:
//
//  1. create llm_events with its indexes (and a GIN index on labels on
//     Postgres);
//  2. add cached_input_tokens and reasoning_tokens (INTEGER NOT NULL
//     DEFAULT 0), upgrading a version-1 table in place.
//
// bun records applied migrations in leanllm_migrations and guards a run with
// a row in leanllm_migration_locks.
//
// # Concurrency
//
// Several processes may call Up on one database at once; each migration is
// applied exactly once. On Postgres Up holds a session advisory lock (one
// per schema) around creating the bookkeeping tables and migrating, so
// concurrent migrators queue, and a lock row left by a crashed migrator is
// cleared; on SQLite the database's own write lock and bun's lock row do the
// same, and a held lock row is waited for (bounded by ctx and a minute).
// When nothing is pending Up takes no lock at all.
package migrate

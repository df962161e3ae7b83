package migrate

import (
	"context"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	bunmigrate "github.com/uptrace/bun/migrate"
)

// Names of the bookkeeping tables bun/migrate keeps in the database.
const (
	TableName      = "leanllm_migrations"
	LocksTableName = "leanllm_migration_locks"
)

// LatestVersion is the number of migrations this build knows; Up migrates a
// database to it.
const LatestVersion = 2

// maxLockWait bounds how long Up waits for another process's migration lock
// (SQLite; on Postgres an advisory lock serialises migrators instead) when ctx
// has no earlier deadline.
const maxLockWait = 60 * time.Second

// advisoryLockKeySQL computes the pg_advisory_lock key held around Init and
// Migrate on Postgres: one per schema (the first of search_path), so that
// migrators of different schemas do not wait for each other.
const advisoryLockKeySQL = "SELECT hashtextextended('leanllm_migrate:' || coalesce(current_schema(), ''), 0)"

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// ErrUnsupportedDialect is returned for a *bun.DB whose dialect is neither
// SQLite nor PostgreSQL. Test it with errors.Is.
var ErrUnsupportedDialect = errors.New("migrate: unsupported dialect (want sqlite or pg)")

// MigrationStatus is one migration as reported by Status.
type MigrationStatus struct {
	// Version is the migration's 1-based position (1 = create llm_events);
	// 0 for a migration recorded in the database but unknown to this build
	// (the database was migrated by a newer release).
	Version int `json:"version"`
	// Name is the migration file name without its suffix, e.g.
	// "20250601000001_create_llm_events".
	Name      string    `json:"name"`
	Applied   bool      `json:"applied"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// Up applies every pending migration to db. It is safe to call from several
// processes at once: on Postgres a session advisory lock serialises the
// whole Init+Migrate (per schema), and bun's lock table guards the migration itself on
// both dialects; a held lock is waited for (until ctx is done, at most a
// minute), not reported as an error. Up returns nil when nothing is pending.
//
// On Postgres db's pool must allow at least two connections (one holds the
// advisory lock).
func Up(ctx context.Context, db *bun.DB) error {
	return UpTo(ctx, db, LatestVersion)
}

// UpTo applies pending migrations up to and including version (1-based, see
// MigrationStatus.Version). UpTo(ctx, db, LatestVersion) is Up.
func UpTo(ctx context.Context, db *bun.DB, version int) error {
	if version < 1 || version > LatestVersion {
		return fmt.Errorf("migrate: version %d out of range 1..%d", version, LatestVersion)
	}
	ms, err := migrations(db, version)
	if err != nil {
		return err
	}
	m := newMigrator(db, ms)
	if db.Dialect().Name() == dialect.PG {
		return withAdvisoryLock(ctx, db, func() error { return run(ctx, m, true) })
	}
	return run(ctx, m, false)
}

// Status lists this build's migrations in order with whether each is applied,
// followed by applied migrations this build does not know. It does not
// create the bookkeeping tables: on a fresh database every migration is
// reported pending.
func Status(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	ms, err := migrations(db, LatestVersion)
	if err != nil {
		return nil, err
	}
	sorted := ms.Sorted()
	exists, err := tableExists(ctx, db, TableName)
	if err != nil {
		return nil, fmt.Errorf("migrate: status: %w", err)
	}
	if exists {
		sorted, err = newMigrator(db, ms).MigrationsWithStatus(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: status: %w", err)
		}
	}
	out := make([]MigrationStatus, 0, len(sorted))
	for i, mg := range sorted {
		st := MigrationStatus{Version: i + 1, Name: mg.Name + "_" + mg.Comment, Applied: mg.IsApplied()}
		if st.Applied {
			st.AppliedAt = mg.MigratedAt.UTC()
		}
		out = append(out, st)
	}
	if exists {
		missing, err := newMigrator(db, ms).MissingMigrations(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: status: %w", err)
		}
		for i := len(missing) - 1; i >= 0; i-- { // ascending
			out = append(out, MigrationStatus{Name: missing[i].Name, Applied: true, AppliedAt: missing[i].MigratedAt.UTC()})
		}
	}
	return out, nil
}

// migrations returns the embedded migrations of db's dialect, up to version.
func migrations(db *bun.DB, version int) (*bunmigrate.Migrations, error) {
	dir, err := dialectDir(db)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, err
	}
	all := bunmigrate.NewMigrations()
	if err := all.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	sorted := all.Sorted()
	if len(sorted) != LatestVersion {
		return nil, fmt.Errorf("migrate: %s has %d migrations, want %d", dir, len(sorted), LatestVersion)
	}
	out := bunmigrate.NewMigrations()
	for _, mg := range sorted[:version] {
		out.Add(mg)
	}
	return out, nil
}

func dialectDir(db *bun.DB) (string, error) {
	switch db.Dialect().Name() {
	case dialect.SQLite:
		return "sqlite", nil
	case dialect.PG:
		return "postgres", nil
	}
	return "", fmt.Errorf("%w: %s", ErrUnsupportedDialect, db.Dialect().Name())
}

func newMigrator(db *bun.DB, ms *bunmigrate.Migrations) *bunmigrate.Migrator {
	return bunmigrate.NewMigrator(db, ms,
		bunmigrate.WithTableName(TableName),
		bunmigrate.WithLocksTableName(LocksTableName),
		bunmigrate.WithMarkAppliedOnSuccess(true),
	)
}

// run does Init → (nothing pending? done) → Lock → Migrate → Unlock.
// exclusive reports that the caller holds a lock no other migrator can hold
// at the same time (the Postgres advisory lock): a row in the locks table is
// then a leftover of a crashed migrator and is cleared.
func run(ctx context.Context, m *bunmigrate.Migrator, exclusive bool) (err error) {
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrate: init: %w", err)
	}
	if pending, err := hasPending(ctx, m); err != nil || !pending {
		return err
	}
	if err := lock(ctx, m, exclusive); err != nil {
		return err
	}
	defer func() {
		if uerr := m.Unlock(context.WithoutCancel(ctx)); uerr != nil {
			err = errors.Join(err, fmt.Errorf("migrate: unlock: %w", uerr))
		}
	}()
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func hasPending(ctx context.Context, m *bunmigrate.Migrator) (bool, error) {
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: status: %w", err)
	}
	return len(ms.Unapplied()) > 0, nil
}

// lock takes bun's migration lock, waiting while another process holds it.
func lock(ctx context.Context, m *bunmigrate.Migrator, exclusive bool) error {
	deadline := time.Now().Add(maxLockWait)
	backoff := 20 * time.Millisecond
	for {
		err := m.Lock(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("migrate: waiting for the migration lock: %w", ctx.Err())
		}
		if exclusive {
			// We hold the advisory lock, so nobody else is migrating: the
			// row was left by a migrator that died. Clear it once.
			if uerr := m.Unlock(ctx); uerr != nil {
				return fmt.Errorf("migrate: clearing a stale lock: %w", uerr)
			}
			if err := m.Lock(ctx); err != nil {
				return err
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w; if no other process is migrating this database, a crashed migrator left it: DELETE FROM %s", err, LocksTableName)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("migrate: waiting for the migration lock: %w", ctx.Err())
		case <-t.C:
		}
		backoff = min(backoff*2, time.Second)
	}
}

// withAdvisoryLock runs fn while holding a Postgres session advisory lock on
// a dedicated connection, so concurrent migrators (other processes, other
// pools) run Init and Migrate one at a time. The lock ends with the session
// if this process dies.
func withAdvisoryLock(ctx context.Context, db *bun.DB, fn func() error) (err error) {
	if db.DB.Stats().MaxOpenConnections == 1 {
		return errors.New("migrate: the Postgres pool must allow at least 2 connections")
	}
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var key int64
	if err := conn.QueryRowContext(ctx, advisoryLockKeySQL).Scan(&key); err != nil {
		_ = conn.Close()
		return fmt.Errorf("migrate: advisory lock key: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		_ = conn.Close()
		return fmt.Errorf("migrate: taking the advisory lock: %w", err)
	}
	defer func() {
		var unlocked bool
		uerr := conn.QueryRowContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked)
		if uerr != nil || !unlocked {
			// Never return a session that may still hold the lock to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	return fn()
}

func tableExists(ctx context.Context, db *bun.DB, name string) (bool, error) {
	var n int
	var err error
	switch db.Dialect().Name() {
	case dialect.SQLite:
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	case dialect.PG:
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(?)", name).Scan(&n)
	default:
		return false, fmt.Errorf("%w: %s", ErrUnsupportedDialect, db.Dialect().Name())
	}
	return n > 0, err
}

// WriteStatus writes st as the `leanllm migrate status` table: one line per
// migration with its version, name, state and UTC time applied.
func WriteStatus(w io.Writer, st []MigrationStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tMIGRATION\tSTATUS\tAPPLIED AT")
	for _, s := range st {
		version, state, at := strconv.Itoa(s.Version), "pending", "-"
		if s.Version == 0 {
			version = "?" // applied by a newer release
		}
		if s.Applied {
			state, at = "applied", s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", version, s.Name, state, at)
	}
	return tw.Flush()
}

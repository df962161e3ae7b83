package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/matryer/is"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"go.uber.org/goleak"
	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pgEnv names the Postgres server the Postgres tests use.
const pgEnv = "LEANLLM_TEST_POSTGRES_URL"

// openSQLiteFile opens a fresh SQLite file in t.TempDir().
func openSQLiteFile(t *testing.T) *bun.DB {
	return openSQLitePath(t, filepath.Join(t.TempDir(), "events.db"))
}

func openSQLitePath(t *testing.T, path string) *bun.DB {
	t.Helper()
	sqldb, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	sqldb.SetMaxOpenConns(1)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// pgSchema creates a schema of its own on the test server and returns a URL
// whose search_path selects it; the schema is dropped at cleanup. The test
// is skipped when LEANLLM_TEST_POSTGRES_URL is unset.
func pgSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv(pgEnv)
	if base == "" {
		t.Skip("set " + pgEnv + " (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the Postgres tests")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "leanllm_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func openPG(t *testing.T, url string) *bun.DB {
	t.Helper()
	sqldb, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	sqldb.SetMaxOpenConns(4)
	db := bun.NewDB(sqldb, pgdialect.New())
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" driver

type dialectCase struct {
	name string
	open func(t *testing.T) *bun.DB
}

var dialects = []dialectCase{
	{"sqlite", openSQLiteFile},
	{"postgres", func(t *testing.T) *bun.DB { return openPG(t, pgSchema(t)) }},
}

func columns(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var cols []string
	var err error
	if db.Dialect().Name().String() == "sqlite" {
		err = db.NewSelect().ColumnExpr("name").TableExpr("pragma_table_info('llm_events')").Scan(t.Context(), &cols)
	} else {
		err = db.NewSelect().ColumnExpr("column_name::text").TableExpr("information_schema.columns").
			Where("table_name = 'llm_events' AND table_schema = current_schema()").Scan(t.Context(), &cols)
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(cols)
	return cols
}

var wantColumns = func() []string {
	c := []string{"event_id", "correlation_id", "parent_request_id", "timestamp", "model", "provider",
		"input_tokens", "output_tokens", "total_tokens", "cost", "latency_ms", "time_to_first_token_ms",
		"total_stream_time_ms", "parameters", "tools", "tool_calls", "error_kind", "error_message", "labels",
		"prompt", "response", "normalized_input", "normalized_output", "metadata", "schema_version",
		"cached_input_tokens", "reasoning_tokens"}
	slices.Sort(c)
	return c
}()

func TestUpCreatesSchema(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			is := is.New(t)
			db := d.open(t)
			is.NoErr(Up(t.Context(), db))
			is.Equal(columns(t, db), wantColumns)
			is.NoErr(Up(t.Context(), db)) // nothing pending: no-op

			st, err := Status(t.Context(), db)
			is.NoErr(err)
			is.Equal(len(st), LatestVersion)
			is.Equal(st[0].Name, "20250601000001_create_llm_events")
			is.Equal(st[1].Name, "20250601000002_add_extra_tokens")
			for i, s := range st {
				is.Equal(s.Version, i+1)
				is.True(s.Applied)
				is.True(time.Since(s.AppliedAt) < time.Hour) // applied_at is set
			}
		})
	}
}

func TestStatusOnFreshDatabase(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			is := is.New(t)
			db := d.open(t)
			st, err := Status(t.Context(), db)
			is.NoErr(err)
			is.Equal(len(st), LatestVersion)
			for _, s := range st {
				is.True(!s.Applied)
				is.True(s.AppliedAt.IsZero())
			}
			exists, err := tableExists(t.Context(), db, TableName)
			is.NoErr(err)
			is.True(!exists) // Status creates nothing
		})
	}
}

func TestUpgradeFromVersion1KeepsRows(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			is := is.New(t)
			ctx := t.Context()
			db := d.open(t)
			is.NoErr(UpTo(ctx, db, 1))
			cols := columns(t, db)
			is.True(!slices.Contains(cols, "cached_input_tokens"))
			is.True(!slices.Contains(cols, "reasoning_tokens"))

			ts := "2025-06-01T12:00:00.000000Z"
			for _, id := range []string{"a", "b"} {
				_, err := db.ExecContext(ctx, "INSERT INTO llm_events (event_id, timestamp, model, input_tokens) VALUES (?, ?, ?, ?)",
					id, ts, "gpt-4o-mini", 7)
				is.NoErr(err)
			}
			st, err := Status(ctx, db)
			is.NoErr(err)
			is.True(st[0].Applied)
			is.True(!st[1].Applied)

			is.NoErr(Up(ctx, db))
			var rows []struct {
				EventID           string `bun:"event_id"`
				InputTokens       int    `bun:"input_tokens"`
				CachedInputTokens int    `bun:"cached_input_tokens"`
				ReasoningTokens   int    `bun:"reasoning_tokens"`
			}
			is.NoErr(db.NewSelect().TableExpr("llm_events").
				Column("event_id", "input_tokens", "cached_input_tokens", "reasoning_tokens").
				OrderExpr("event_id").Scan(ctx, &rows))
			is.Equal(len(rows), 2)
			for _, r := range rows {
				is.Equal(r.InputTokens, 7)
				is.Equal(r.CachedInputTokens, 0)
				is.Equal(r.ReasoningTokens, 0)
			}
		})
	}
}

func TestDownMigrations(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			is := is.New(t)
			ctx := t.Context()
			db := d.open(t)
			is.NoErr(UpTo(ctx, db, 1))
			is.NoErr(Up(ctx, db))
			ms, err := migrations(db, LatestVersion)
			is.NoErr(err)
			m := newMigrator(db, ms)
			_, err = m.Rollback(ctx) // group 2: migration 2
			is.NoErr(err)
			is.Equal(len(columns(t, db)), len(wantColumns)-2)
			_, err = m.Rollback(ctx) // group 1
			is.NoErr(err)
			is.Equal(len(columns(t, db)), 0)
			is.NoErr(Up(ctx, db))
			is.Equal(columns(t, db), wantColumns)
		})
	}
}

func TestUpToOutOfRange(t *testing.T) {
	is := is.New(t)
	db := openSQLiteFile(t)
	is.True(UpTo(t.Context(), db, 0) != nil)
	is.True(UpTo(t.Context(), db, LatestVersion+1) != nil)
}

// countApplied returns how many rows the migrations table holds.
func countApplied(t *testing.T, db *bun.DB) int {
	t.Helper()
	n, err := db.NewSelect().TableExpr(TableName).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestConcurrentMigratorsMigrateOnce(t *testing.T) {
	cases := []struct {
		name string
		pair func(t *testing.T) (*bun.DB, *bun.DB)
	}{
		{"postgres", func(t *testing.T) (*bun.DB, *bun.DB) {
			url := pgSchema(t)
			return openPG(t, url), openPG(t, url)
		}},
		{"sqlite", func(t *testing.T) (*bun.DB, *bun.DB) {
			path := filepath.Join(t.TempDir(), "events.db")
			return openSQLitePath(t, path), openSQLitePath(t, path)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			for range 3 { // fresh database each round
				a, b := c.pair(t)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, db := range []*bun.DB{a, b} {
					wg.Go(func() { errs[i] = Up(t.Context(), db) })
				}
				wg.Wait()
				is.NoErr(errs[0])
				is.NoErr(errs[1])
				is.Equal(countApplied(t, a), LatestVersion) // each migration recorded once
				is.Equal(columns(t, a), wantColumns)
			}
		})
	}
}

func TestStaleLockIsClearedOnPostgres(t *testing.T) {
	is := is.New(t)
	ctx := t.Context()
	db := openPG(t, pgSchema(t))
	ms, err := migrations(db, LatestVersion)
	is.NoErr(err)
	m := newMigrator(db, ms)
	is.NoErr(m.Init(ctx))
	is.NoErr(m.Lock(ctx)) // a migrator that died holding bun's lock
	is.NoErr(Up(ctx, db))
	is.Equal(countApplied(t, db), LatestVersion)
}

func TestHeldLockWaitsOnSQLite(t *testing.T) {
	is := is.New(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	db := openSQLitePath(t, path)
	ms, err := migrations(db, LatestVersion)
	is.NoErr(err)
	m := newMigrator(db, ms)
	is.NoErr(m.Init(ctx))
	is.NoErr(m.Lock(ctx)) // another process is migrating

	other := openSQLitePath(t, path)
	done := make(chan error, 1)
	go func() { done <- Up(ctx, other) }()
	select {
	case err := <-done:
		t.Fatalf("Up returned while the lock was held: %v", err)
	case <-time.After(150 * time.Millisecond):
	}
	is.NoErr(m.Unlock(ctx))
	is.NoErr(<-done)
	is.Equal(countApplied(t, db), LatestVersion)

	// A lock held past ctx's deadline is an error naming the lock table.
	fresh := openSQLiteFile(t)
	m2 := newMigrator(fresh, ms)
	is.NoErr(m2.Init(ctx))
	is.NoErr(m2.Lock(ctx))
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = Up(tctx, fresh)
	is.True(err != nil)
}

func TestWriteStatus(t *testing.T) {
	is := is.New(t)
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	is.NoErr(WriteStatus(&b, []MigrationStatus{
		{Version: 1, Name: "20250601000001_create_llm_events", Applied: true, AppliedAt: at},
		{Version: 2, Name: "20250601000002_add_extra_tokens"},
		{Name: "20990101000000", Applied: true, AppliedAt: at},
	}))
	is.Equal(b.String(), ""+
		"VERSION  MIGRATION                         STATUS   APPLIED AT\n"+
		"1        20250601000001_create_llm_events  applied  2025-06-01T12:00:00Z\n"+
		"2        20250601000002_add_extra_tokens   pending  -\n"+
		"?        20990101000000                    applied  2025-06-01T12:00:00Z\n")
}

func TestStatusListsMigrationsUnknownToThisBuild(t *testing.T) {
	is := is.New(t)
	ctx := t.Context()
	db := openSQLiteFile(t)
	is.NoErr(Up(ctx, db))
	_, err := db.ExecContext(ctx, "INSERT INTO "+TableName+" (name, group_id) VALUES ('20990101000000', 9)")
	is.NoErr(err)
	st, err := Status(ctx, db)
	is.NoErr(err)
	is.Equal(len(st), LatestVersion+1)
	is.Equal(st[LatestVersion].Name, "20990101000000")
	is.Equal(st[LatestVersion].Version, 0)
	is.True(st[LatestVersion].Applied)
}

// Both dialects carry the same migrations, each with an up and a down file.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	is := is.New(t)
	list := func(dir string) []string {
		entries, err := files.ReadDir(dir)
		is.NoErr(err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqliteFiles, pgFiles := list("sqlite"), list("postgres")
	is.Equal(sqliteFiles, pgFiles)
	is.Equal(len(sqliteFiles), 2*LatestVersion)
	for _, f := range sqliteFiles {
		is.True(strings.HasSuffix(f, ".tx.up.sql") || strings.HasSuffix(f, ".tx.down.sql"))
	}
}

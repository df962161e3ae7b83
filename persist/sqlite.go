package persist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/leanllm/leanllm-go/core"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite connection settings. busy_timeout makes a connection wait for a
// lock instead of failing at once; WAL lets readers run beside the writer;
// temp_store=MEMORY keeps the statement journal of multi-row inserts off
// disk.
const (
	sqliteWriterParams = "_busy_timeout=5000&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL&_pragma=temp_store(MEMORY)"
	sqliteReaderParams = "_busy_timeout=5000&_synchronous=NORMAL&_query_only=1"
	sqliteMemoryParams = "_busy_timeout=5000&_txlock=immediate&_pragma=temp_store(MEMORY)"
)

// OpenSQLite opens the SQLite database named by rawURL, creating the file
// (and its directory) when missing:
//
//	sqlite:///relative/path.db   relative to the working directory
//	sqlite:////abs/path.db       absolute path
//	sqlite://:memory:            a private in-memory database
//
// It uses the pure-Go modernc.org/sqlite driver (no cgo). A file database is
// put in WAL mode with synchronous=NORMAL and busy_timeout=5000 ms; writes
// and migrations go through one dedicated connection, reads through a pool
// of read-only connections. An in-memory database uses a single connection
// for everything, so every query sees the same data; it is gone at Close.
//
// OpenSQLite does not migrate: call Migrate (the worker does so at start
// when auto_migrate is on).
func OpenSQLite(ctx context.Context, rawURL string) (*SQLStore, error) {
	path, memory, err := parseSQLiteURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &SQLStore{dialect: DialectSQLite, redact: newRedactor(rawURL)}
	if memory {
		db, err := sql.Open("sqlite", ":memory:?"+sqliteMemoryParams)
		if err != nil {
			return nil, fmt.Errorf("persist: sqlite: %w", err)
		}
		// One connection that is never closed while the store lives: a new
		// connection would be a new, empty database.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		bdb := bun.NewDB(db, sqlitedialect.New())
		s.read, s.migrator = bdb, bdb
		w := newSQLiteWriter(db)
		s.w = w
		s.closers = []func() error{bdb.Close, w.close}
	} else {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("persist: sqlite: %w", err)
			}
		}
		name := "file:" + (&url.URL{Path: path}).EscapedPath()
		wdb, err := sql.Open("sqlite", name+"?"+sqliteWriterParams)
		if err != nil {
			return nil, fmt.Errorf("persist: sqlite: %w", err)
		}
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		wdb.SetConnMaxIdleTime(0)
		wbun := bun.NewDB(wdb, sqlitedialect.New())
		// The writer connects first, so the file exists and is in WAL mode
		// before any reader opens it.
		if err := wdb.PingContext(ctx); err != nil {
			_ = wbun.Close()
			return nil, fmt.Errorf("persist: sqlite: opening %s: %w", path, err)
		}
		rdb, err := sql.Open("sqlite", name+"?"+sqliteReaderParams)
		if err != nil {
			_ = wbun.Close()
			return nil, fmt.Errorf("persist: sqlite: %w", err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		rdb.SetMaxOpenConns(n)
		rdb.SetMaxIdleConns(n)
		rbun := bun.NewDB(rdb, sqlitedialect.New())
		s.read, s.migrator = rbun, wbun
		w := newSQLiteWriter(wdb)
		s.w = w
		s.closers = []func() error{rbun.Close, wbun.Close, w.close}
	}
	if err := s.w.ping(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("persist: sqlite: %w", err)
	}
	return s, nil
}

// parseSQLiteURL returns the file path of a sqlite:// URL, or memory.
func parseSQLiteURL(raw string) (path string, memory bool, err error) {
	bad := func(why string) (string, bool, error) {
		shown := raw
		if i := strings.IndexAny(shown, "?#"); i >= 0 {
			shown = shown[:i] + "?…" // query strings may hold secrets: never echo them
		}
		if strings.Contains(shown, "@") {
			shown = "sqlite://…"
		}
		return "", false, fmt.Errorf("persist: sqlite URL %q: %s (want sqlite:///relative.db, sqlite:////abs/path.db or sqlite://:memory:)", shown, why)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, "sqlite") {
		return bad("not a sqlite:// URL")
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		if rest[i+1:] != "" {
			return bad("query parameters are not supported")
		}
		rest = rest[:i]
	}
	if rest == ":memory:" || rest == "/:memory:" {
		return "", true, nil
	}
	p, ok := strings.CutPrefix(rest, "/")
	if !ok {
		return bad("the path must start after a third slash")
	}
	if p == "" {
		return bad("no file path")
	}
	if p, err = url.PathUnescape(p); err != nil {
		return bad(err.Error())
	}
	return filepath.FromSlash(p), false, nil
}

// sqliteWriter inserts a batch inside one transaction with multi-row
// INSERT statements of 64, 16, 4 and 1 rows (prepared once each), which
// SQLite runs faster than one execution per row.
type sqliteWriter struct {
	db    *sql.DB
	stmts map[int]*sql.Stmt // rows per statement → statement, prepared on first write
	enc   rowEncoder
	args  []any
}

// sqliteChunks are the statement sizes, largest first.
var sqliteChunks = []int{64, 16, 4, 1}

func newSQLiteWriter(db *sql.DB) *sqliteWriter {
	return &sqliteWriter{db: db, enc: rowEncoder{sqliteTS: true}}
}

// sqliteInsert is the insert statement for rows rows.
func sqliteInsert(rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(eventColumns)), ", ") + ")"
	return "INSERT INTO llm_events (" + strings.Join(eventColumns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ") + " ON CONFLICT (event_id) DO NOTHING"
}

func (w *sqliteWriter) prepare(ctx context.Context) error {
	if w.stmts != nil {
		return nil
	}
	stmts := make(map[int]*sql.Stmt, len(sqliteChunks))
	for _, n := range sqliteChunks {
		st, err := w.db.PrepareContext(ctx, sqliteInsert(n))
		if err != nil {
			for _, st := range stmts {
				_ = st.Close()
			}
			return sqliteErr("prepare", err)
		}
		stmts[n] = st
	}
	w.stmts = stmts
	return nil
}

func (w *sqliteWriter) write(ctx context.Context, events []*core.Event) (err error) {
	if err := w.prepare(ctx); err != nil {
		return err
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return sqliteErr("begin", err)
	}
	defer func() {
		clear(w.args[:cap(w.args)]) // keep no reference to the batch
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// The transaction is bound to ctx (database/sql rolls it back when ctx
	// ends); the statements run without ctx, because the driver watches a
	// cancellable context of each statement with a goroutine and a progress
	// callback, which costs more than the insert of a few rows. ctx is
	// checked between statements instead: cancellation takes effect within
	// one statement of at most 64 rows.
	execCtx := context.WithoutCancel(ctx)
	for len(events) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("persist: sqlite write: %w", err)
		}
		n := 1
		for _, c := range sqliteChunks {
			if len(events) >= c {
				n = c
				break
			}
		}
		chunk := events[:n]
		events = events[n:]
		w.args = w.args[:0]
		for _, e := range chunk {
			vals, err := w.enc.encode(e)
			if err != nil {
				return fmt.Errorf("persist: sqlite write: event %q: %w", e.EventID, err)
			}
			w.args = append(w.args, vals...)
		}
		if _, err := tx.StmtContext(execCtx, w.stmts[n]).ExecContext(execCtx, w.args...); err != nil {
			if n == 1 {
				return sqliteErr(fmt.Sprintf("insert event %q", chunk[0].EventID), err)
			}
			return sqliteErr(fmt.Sprintf("insert events %q…%q", chunk[0].EventID, chunk[n-1].EventID), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return sqliteErr("commit", err)
	}
	return nil
}

func (w *sqliteWriter) ping(ctx context.Context) error { return w.db.PingContext(ctx) }

func (w *sqliteWriter) close() error {
	var errs []error
	for _, st := range w.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// sqliteErr wraps err, marking data errors (ErrData) and errors that
// retrying cannot fix (ErrPermanent). Busy/locked, I/O, disk full and
// interrupted operations stay transient.
func sqliteErr(op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
			return fmt.Errorf("persist: sqlite %s: %w: %w", op, ErrData, err)
		case sqlite3.SQLITE_ERROR, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_AUTH:
			return fmt.Errorf("persist: sqlite %s: %w: %w", op, ErrPermanent, err)
		}
	}
	return fmt.Errorf("persist: sqlite %s: %w", op, err)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/leanllm/leanllm-go/persist"
)

// defaultDatabaseURL is where the demo writes and the read commands look
// when neither --db nor LEANLLM_DATABASE_URL is set.
const defaultDatabaseURL = "sqlite:///leanllm_events.db"

// readStore is a store the read commands can query.
type readStore interface {
	persist.Store
	persist.Reader
}

// sqlitePath returns the file of a sqlite:// URL: sqlite:///rel.db is
// rel.db, sqlite:////abs.db is /abs.db; memory is true for
// sqlite://:memory:. ok is false for other schemes.
func sqlitePath(u string) (path string, memory, ok bool) {
	rest, found := strings.CutPrefix(u, "sqlite://")
	if !found {
		return "", false, false
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	if rest == ":memory:" || rest == "/:memory:" || rest == "" {
		return "", true, true
	}
	rest = strings.TrimPrefix(rest, "/")
	if p, err := url.PathUnescape(rest); err == nil {
		rest = p
	}
	return rest, false, true
}

// redactURL hides a password in a database URL for messages.
func redactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.User == nil {
		return u
	}
	if _, has := pu.User.Password(); has {
		pu.User = url.UserPassword(pu.User.Username(), "xxxxx")
	}
	return pu.String()
}

// errNoDatabase says a SQLite file does not exist.
type errNoDatabase struct{ path string }

func (e *errNoDatabase) Error() string {
	return fmt.Sprintf("no database at %s: run `leanllm demo` or set --db", e.path)
}

// openRead opens the store at dbURL for reading. It never creates a missing
// SQLite file, and an in-memory database is refused (it holds nothing
// between runs).
func openRead(ctx context.Context, dbURL string) (readStore, error) {
	if path, memory, ok := sqlitePath(dbURL); ok {
		if memory {
			return nil, usageErr("%s holds nothing between runs: give a file (sqlite:///leanllm_events.db) or postgres:// URL with --db", dbURL)
		}
		st, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, &errNoDatabase{path: path}
		case err != nil:
			return nil, fmt.Errorf("database %s: %w", path, err)
		case st.IsDir():
			return nil, fmt.Errorf("database %s is a directory", path)
		}
	}
	s, err := openStore(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	rs, ok := s.(readStore)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("the store at %s cannot be queried", redactURL(dbURL))
	}
	return rs, nil
}

// openStore opens (and, for SQLite, creates) the store at dbURL.
func openStore(ctx context.Context, dbURL string) (persist.Store, error) {
	if !strings.HasPrefix(dbURL, "sqlite://") && !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return nil, usageErr("bad database URL %q: want sqlite:///rel.db, sqlite:////abs.db or postgres://…", redactURL(dbURL))
	}
	s, err := persist.Open(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", redactURL(dbURL), err)
	}
	return s, nil
}

// hintSchema adds a hint to errors from a database without the events table.
func hintSchema(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "no such table") || (strings.Contains(msg, "llm_events") && strings.Contains(msg, "does not exist")) {
		return fmt.Errorf("%w (the database has no events table yet: run `leanllm migrate up`, or write events with the SDK or `leanllm demo`)", err)
	}
	return err
}

// isNotFound reports whether err is an unknown id or correlation id.
func isNotFound(err error) bool { return errors.Is(err, persist.ErrNotFound) }

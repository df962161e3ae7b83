package persist

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrUnsupportedURL is returned by Open and OpenSQL for a database URL whose
// scheme is not sqlite, postgres or postgresql. Test it with errors.Is.
var ErrUnsupportedURL = errors.New("persist: unsupported database URL")

// Open opens the store named by a database URL (LEANLLM_DATABASE_URL):
// sqlite:///relative.db, sqlite:////abs/path.db, sqlite://:memory:,
// postgres://… or postgresql://…. The returned Store is a *SQLStore and also
// implements Migrator and Reader. See OpenSQLite and OpenPostgres.
//
// Open does not migrate: the worker calls Migrate at start when
// auto_migrate is on; `leanllm migrate up` runs it on demand.
func Open(ctx context.Context, rawURL string) (Store, error) {
	s, err := OpenSQL(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenSQL is Open returning the concrete *SQLStore.
func OpenSQL(ctx context.Context, rawURL string) (*SQLStore, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		scheme = ""
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		return OpenSQLite(ctx, rawURL)
	case "postgres", "postgresql":
		return OpenPostgres(ctx, rawURL)
	}
	if rawURL == "" {
		return nil, fmt.Errorf("%w: LEANLLM_DATABASE_URL is empty (accepted: sqlite:///relative.db, sqlite:////abs/path.db, sqlite://:memory:, postgres://…, postgresql://…)", ErrUnsupportedURL)
	}
	return nil, fmt.Errorf("%w: scheme %q in LEANLLM_DATABASE_URL (accepted: sqlite:///relative.db, sqlite:////abs/path.db, sqlite://:memory:, postgres://…, postgresql://…)", ErrUnsupportedURL, scheme)
}

// redactedError is an error whose message had credentials removed. It still
// unwraps to the original error, for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

var (
	urlPasswordRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s]*@`)
	kvPasswordRE  = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|[^\s&]+)`)
)

// newRedactor returns a function that removes the password of rawURL (and
// the given secrets: the parsed password, possibly from PGPASSWORD) from an
// error's message. Secrets shorter than 4 bytes are only removed where they
// appear as a URL or key=value password.
func newRedactor(rawURL string, secrets ...string) func(error) error {
	var words []string
	add := func(s string) {
		if len(s) >= 4 {
			words = append(words, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
	}
	for _, s := range secrets {
		add(s)
	}
	return func(err error) error {
		if err == nil {
			return nil
		}
		msg := redactString(err.Error(), words)
		if msg == err.Error() {
			return err
		}
		return &redactedError{msg: msg, err: err}
	}
}

func redactString(msg string, words []string) string {
	msg = urlPasswordRE.ReplaceAllString(msg, "${1}xxxxx@")
	msg = kvPasswordRE.ReplaceAllString(msg, "${1}xxxxx")
	for _, w := range words {
		msg = strings.ReplaceAll(msg, w, "xxxxx")
	}
	return msg
}

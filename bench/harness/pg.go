package harness

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresURL returns LEANLLM_TEST_POSTGRES_URL ("" when unset: the
// Postgres variants are skipped). `make test`, `make bench` and CI set it to
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
func PostgresURL() string { return os.Getenv("LEANLLM_TEST_POSTGRES_URL") }

// PGSchema creates a schema of its own on the server at base and returns a
// URL whose search_path points at it, and a function dropping it.
func PGSchema(ctx context.Context, base string) (string, func(), error) {
	schema := fmt.Sprintf("leanllm_b_%d", rand.Uint64()%1_000_000_000)
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("creating schema on LEANLLM_TEST_POSTGRES_URL: %w", err)
	}
	drop := func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

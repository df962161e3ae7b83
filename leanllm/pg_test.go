package leanllm_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// pgSchemaURL creates a schema of its own for the test on the server at
// base and returns a URL whose search_path points at it. The schema is
// dropped at cleanup.
func pgSchemaURL(t *testing.T, base string) string {
	t.Helper()
	schema := fmt.Sprintf("leanllm_t_%d", rand.Uint64()%1_000_000_000)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema on LEANLLM_TEST_POSTGRES_URL: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

package persist

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver for test setup
	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqlTestPGEnv names the Postgres server the Postgres tests use.
const sqlTestPGEnv = "LEANLLM_TEST_POSTGRES_URL"

// sqlTestPGURL creates a schema of its own on the test server and returns a
// URL whose search_path selects it; the schema is dropped at cleanup. The
// test is skipped when LEANLLM_TEST_POSTGRES_URL is unset.
func sqlTestPGURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(sqlTestPGEnv)
	if base == "" {
		t.Skip("set " + sqlTestPGEnv + " (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the Postgres tests")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "leanllm_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

type sqlTestCase struct {
	name string
	url  func(t testing.TB) string
}

var sqlTestCases = []sqlTestCase{
	{"sqlite-file", func(t testing.TB) string { return "sqlite:///" + filepath.Join(t.TempDir(), "events.db") }},
	{"sqlite-memory", func(testing.TB) string { return "sqlite://:memory:" }},
	{"postgres", sqlTestPGURL},
}

// sqlTestOpen opens a migrated store, closed at cleanup.
func sqlTestOpen(t testing.TB, url string) *SQLStore {
	t.Helper()
	s, err := OpenSQL(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// forEachStore runs fn on a fresh migrated store of every kind.
func forEachStore(t *testing.T, fn func(t *testing.T, s *SQLStore)) {
	for _, c := range sqlTestCases {
		t.Run(c.name, func(t *testing.T) { fn(t, sqlTestOpen(t, c.url(t))) })
	}
}

var sqlTestBase = time.Date(2025, 6, 1, 10, 0, 0, 123456000, time.UTC)

// sqlFullEvent sets every field.
func sqlFullEvent(id string, ts time.Time) *core.Event {
	prompt, resp := "What is the weather in Paris?", "Sunny, 24°C."
	return &core.Event{
		EventID: id, CorrelationID: "corr-1", ParentRequestID: "parent-0", Timestamp: ts,
		Model: "gpt-4o-mini", Provider: "openai",
		InputTokens: 10, OutputTokens: 20, TotalTokens: 30, Cost: 0.000123, LatencyMS: 250,
		TimeToFirstTokenMS: sql.NullInt64{Int64: 40, Valid: true},
		TotalStreamTimeMS:  sql.NullInt64{Int64: 240, Valid: true},
		Parameters: core.Parameters{Temperature: 0.7, MaxTokens: 256, TopP: 0.9, Stop: []string{"\n"}, Seed: 7,
			JSONMode: true, ToolChoice: "auto", Extra: map[string]any{"logit_bias": map[string]any{"50256": -100}, "user": "u-1"}},
		Tools: []llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{Name: "get_weather", Description: "Weather by city",
			Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, Strict: true}}},
		ToolCalls:        []llms.ToolCall{{ID: "call_1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
		ErrorKind:        "",
		Labels:           map[string]string{"team": "search", "feature": "qa", "emoji": "🚀"},
		Prompt:           &prompt,
		Response:         &resp,
		NormalizedInput:  map[string]any{"type": "chat", "length_bucket": "short", "semantic_hash": "abc"},
		NormalizedOutput: map[string]any{"type": "text", "length": 12},
		Metadata: core.Metadata{FinishReason: "stop", Stream: true, StreamEnd: core.StreamCompleted, Environment: "prod",
			SampleRate: 0.5, TokensEstimated: true, CallKind: "chat", SDK: "leanllm-go",
			Extra: map[string]any{"user_id": "u1", "big": 1e300, "nested": map[string]any{"a": []any{1, "x", true, nil, 2.5}}}},
		SchemaVersion:     2,
		CachedInputTokens: 3,
		ReasoningTokens:   4,
	}
}

func sqlEventJSON(t testing.TB, e *core.Event) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSQLRoundTrip(t *testing.T) {
	emptyP, emptyR := "", ""
	events := []*core.Event{
		sqlFullEvent("full", sqlTestBase),
		{EventID: "minimal", Timestamp: sqlTestBase.Add(time.Second)}, // nulls everywhere
		{EventID: "empty-content", Timestamp: sqlTestBase.Add(2 * time.Second), Prompt: &emptyP, Response: &emptyR,
			Tools: []llms.Tool{}, ToolCalls: []llms.ToolCall{}, Labels: map[string]string{},
			NormalizedInput: map[string]any{}, Metadata: core.Metadata{Extra: map[string]any{}}},
		{EventID: "error", Timestamp: sqlTestBase.Add(3 * time.Second), Model: "claude-3-haiku", Provider: "anthropic",
			ErrorKind: core.ErrorKindRateLimit, ErrorMessage: "429 Too Many Requests",
			Metadata: core.Metadata{ErrorDetail: "rate_limit", HTTPStatus: 429, ErrorClass: "*anthropic.Error", SampleRate: 1}},
		{EventID: "old-and-local", Timestamp: time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("X", 3600)),
			TimeToFirstTokenMS: sql.NullInt64{Valid: true}}, // a valid 0
	}
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		ctx := t.Context()
		is.NoErr(s.Write(ctx, events))
		for _, want := range events {
			got, err := s.GetEvent(ctx, want.EventID)
			is.NoErr(err)
			is.Equal(sqlEventJSON(t, got), sqlEventJSON(t, want))
			is.True(got.Timestamp.Equal(want.Timestamp))
		}
		full, _ := s.GetEvent(ctx, "full")
		is.True(full.Prompt != nil)
		empty, _ := s.GetEvent(ctx, "empty-content")
		is.True(empty.Prompt != nil && *empty.Prompt == "") // "" stays "", not null
		is.True(empty.Tools != nil)
		minimal, _ := s.GetEvent(ctx, "minimal")
		is.True(minimal.Prompt == nil) // null stays null
		is.True(minimal.Tools == nil && minimal.ToolCalls == nil && minimal.NormalizedInput == nil)
		is.True(!minimal.TimeToFirstTokenMS.Valid)

		list, err := s.ListEvents(ctx, Filter{})
		is.NoErr(err)
		ids := make([]string, len(list))
		for i, e := range list {
			ids[i] = e.EventID
		}
		is.Equal(ids, []string{"error", "empty-content", "minimal", "full", "old-and-local"})
	})
}

func TestSQLWriteIsIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		ctx := t.Context()
		batch := []*core.Event{sqlFullEvent("a", sqlTestBase), sqlFullEvent("b", sqlTestBase)}
		is.NoErr(s.Write(ctx, batch))
		is.NoErr(s.Write(ctx, batch)) // a retried batch
		changed := sqlFullEvent("a", sqlTestBase)
		changed.Model = "other"
		is.NoErr(s.Write(ctx, []*core.Event{changed, sqlFullEvent("c", sqlTestBase), sqlFullEvent("c", sqlTestBase)}))
		n, err := s.CountEvents(ctx, Filter{})
		is.NoErr(err)
		is.Equal(n, int64(3))
		got, err := s.GetEvent(ctx, "a")
		is.NoErr(err)
		is.Equal(got.Model, "gpt-4o-mini") // the first write wins
		is.NoErr(s.Write(ctx, nil))

		// A large batch (multi-row statements, COPY) holding repeats and
		// known ids, written twice.
		big := make([]*core.Event, 150)
		for i := range big {
			big[i] = sqlFullEvent(fmt.Sprintf("big-%d", i%100), sqlTestBase)
		}
		big[149] = sqlFullEvent("a", sqlTestBase)
		is.NoErr(s.Write(ctx, big))
		is.NoErr(s.Write(ctx, big))
		n, err = s.CountEvents(ctx, Filter{})
		is.NoErr(err)
		is.Equal(n, int64(103))
	})
}

func TestSQLHostileBatchIsStored(t *testing.T) {
	mk := func(id string, f func(e *core.Event)) *core.Event {
		e := sqlFullEvent(id, sqlTestBase)
		f(e)
		return e
	}
	big := strings.Repeat("é", 512*1024) // 1 MiB
	batch := []*core.Event{
		mk("nul", func(e *core.Event) {
			p := "before\x00after"
			e.Prompt = &p
			e.ErrorMessage = "boom\x00"
			e.Labels = map[string]string{"k\x00": "v\x00"}
			e.Metadata.Extra = map[string]any{"x\x00": []any{"\x00"}}
		}),
		mk("utf8\xff", func(e *core.Event) {
			r := "\xc3\x28\xed\xa0\x80"
			e.Response = &r
			e.Labels = map[string]string{"\xff\xfe": "\xe2\x82", "team": "ok"}
			e.ToolCalls[0].FunctionCall.Arguments = "{\"a\":\"\xff\"}"
			e.Parameters.Extra = map[string]any{"\xffk": "v\xff"}
			e.NormalizedOutput = map[string]any{"k": map[string]any{"\xc0": "\xc1"}}
		}),
		mk("big", func(e *core.Event) { e.Prompt = &big }),
		mk("'; DROP TABLE llm_events; --", func(e *core.Event) {
			e.Model = "x'); DELETE FROM llm_events; --"
			e.Labels = map[string]string{"'": "\"; --", "$1": "?"}
			e.ErrorMessage = `\'; SELECT pg_sleep(10); --`
		}),
		mk("nonfinite", func(e *core.Event) {
			e.Cost = math.NaN()
			e.Metadata.SampleRate = math.Inf(1)
			e.Parameters.Temperature = math.Inf(-1)
			e.Metadata.Extra = map[string]any{"nan": math.NaN(), "inf": math.Inf(1), "f32": float32(math.Inf(-1))}
			e.InputTokens = 1 << 40
		}),
	}
	before := make([]string, len(batch))
	for i, e := range batch {
		before[i] = sanDump(e)
	}
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		ctx := t.Context()
		is.NoErr(s.Write(ctx, batch))
		for i, e := range batch {
			is.Equal(sanDump(e), before[i]) // Write never changes its input
			want, changed := Sanitize(e)
			got, err := s.GetEvent(ctx, e.EventID) // GetEvent sanitizes the id it is given
			is.NoErr(err)
			is.Equal(sqlEventJSON(t, got), sqlEventJSON(t, want))
			is.Equal(got.Metadata.Sanitized, changed)
		}
		sqlEv, err := s.GetEvent(ctx, "'; DROP TABLE llm_events; --")
		is.NoErr(err)
		is.Equal(sqlEv.Model, "x'); DELETE FROM llm_events; --")
		is.True(!sqlEv.Metadata.Sanitized) // nothing to fix there
		bigEv, err := s.GetEvent(ctx, "big")
		is.NoErr(err)
		is.Equal(len(*bigEv.Prompt), len(big))
		list, err := s.ListEvents(ctx, Filter{Labels: map[string]string{"'": "\"; --"}})
		is.NoErr(err)
		is.Equal(len(list), 1)
		n, err := s.CountEvents(ctx, Filter{})
		is.NoErr(err)
		is.Equal(n, int64(len(batch)))
	})
}

// sqlFilterEvents is the data set of the filter and aggregate tests.
func sqlFilterEvents() []*core.Event {
	day := 24 * time.Hour
	mk := func(id, model, provider, corr, parent string, at time.Duration, labels map[string]string, errKind string, lat int64, rate float64) *core.Event {
		return &core.Event{EventID: id, Model: model, Provider: provider, CorrelationID: corr, ParentRequestID: parent,
			Timestamp: sqlTestBase.Add(at), Labels: labels, ErrorKind: errKind, LatencyMS: lat,
			InputTokens: int(lat / 10), OutputTokens: int(lat / 5), TotalTokens: int(lat/10 + lat/5), Cost: float64(lat) / 1000,
			Metadata: core.Metadata{SampleRate: rate}}
	}
	return []*core.Event{
		mk("e1", "a", "openai", "c1", "", time.Minute, map[string]string{"team": "x"}, "", 100, 1),
		mk("e2", "a", "openai", "c1", "e1", 2*time.Minute, map[string]string{"team": "y"}, core.ErrorKindTimeout, 200, 1),
		mk("e3", "b", "anthropic", "c2", "", day, map[string]string{"team": "x", "env": "prod"}, "", 300, 0.25),
		mk("e4", "b", "anthropic", "", "", day+time.Minute, nil, core.ErrorKindRateLimit, 400, 0),
		mk("e5", "c", "ollama", "", "", 2*day, map[string]string{`we.ird"key`: "v"}, "", 500, 0.5),
	}
}

func TestSQLListAndCountFilters(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all, newest first", Filter{}, []string{"e5", "e4", "e3", "e2", "e1"}},
		{"model", Filter{Model: "a"}, []string{"e2", "e1"}},
		{"provider", Filter{Provider: "anthropic"}, []string{"e4", "e3"}},
		{"correlation", Filter{CorrelationID: "c1"}, []string{"e2", "e1"}},
		{"parent", Filter{ParentRequestID: "e1"}, []string{"e2"}},
		{"since inclusive", Filter{Since: sqlTestBase.Add(day)}, []string{"e5", "e4", "e3"}},
		{"until exclusive", Filter{Until: sqlTestBase.Add(day)}, []string{"e2", "e1"}},
		{"window", Filter{Since: sqlTestBase.Add(2 * time.Minute), Until: sqlTestBase.Add(day + time.Second)}, []string{"e3", "e2"}},
		{"errors only", Filter{ErrorsOnly: true}, []string{"e4", "e2"}},
		{"label", Filter{Labels: map[string]string{"team": "x"}}, []string{"e3", "e1"}},
		{"two labels", Filter{Labels: map[string]string{"team": "x", "env": "prod"}}, []string{"e3"}},
		{"odd label key", Filter{Labels: map[string]string{`we.ird"key`: "v"}}, []string{"e5"}},
		{"label no match", Filter{Labels: map[string]string{"team": "z"}}, []string{}},
		{"limit", Filter{Limit: 2}, []string{"e5", "e4"}},
		{"limit offset", Filter{Limit: 2, Offset: 1}, []string{"e4", "e3"}},
		{"offset only", Filter{Offset: 3}, []string{"e2", "e1"}},
		{"combined", Filter{Model: "b", ErrorsOnly: true}, []string{"e4"}},
		{"metacharacters", Filter{Model: "a' OR '1'='1"}, []string{}},
	}
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		is.NoErr(s.Write(t.Context(), sqlFilterEvents()))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				is := is.New(t)
				got, err := s.ListEvents(t.Context(), tt.f)
				is.NoErr(err)
				ids := []string{}
				for _, e := range got {
					ids = append(ids, e.EventID)
				}
				is.Equal(ids, tt.want)
				n, err := s.CountEvents(t.Context(), tt.f)
				is.NoErr(err)
				if tt.f.Limit == 0 && tt.f.Offset == 0 {
					is.Equal(n, int64(len(tt.want)))
				}
			})
		}
	})
}

func TestSQLAggregate(t *testing.T) {
	row := func(key string, count int64, scaled float64, errs int64, lats ...float64) AggregateRow {
		var in, out int64
		var cost float64
		for _, l := range lats {
			in += int64(l) / 10
			out += int64(l) / 5
			cost += l / 1000
		}
		return AggregateRow{Key: key, Count: count, ScaledCount: scaled, Errors: errs, InputTokens: in, OutputTokens: out,
			TotalTokens: in + out, Cost: cost, LatencyP50MS: percentileCont(lats, 0.5), LatencyP95MS: percentileCont(lats, 0.95)}
	}
	tests := []struct {
		q    AggregateQuery
		want []AggregateRow
	}{
		{AggregateQuery{By: "model"}, []AggregateRow{row("a", 2, 2, 1, 100, 200), row("b", 2, 5, 1, 300, 400), row("c", 1, 2, 0, 500)}},
		{AggregateQuery{By: "provider"}, []AggregateRow{row("anthropic", 2, 5, 1, 300, 400), row("ollama", 1, 2, 0, 500), row("openai", 2, 2, 1, 100, 200)}},
		{AggregateQuery{By: "day"}, []AggregateRow{row("2025-06-01", 2, 2, 1, 100, 200), row("2025-06-02", 2, 5, 1, 300, 400), row("2025-06-03", 1, 2, 0, 500)}},
		{AggregateQuery{By: "label:team"}, []AggregateRow{row("", 2, 3, 1, 400, 500), row("x", 2, 5, 0, 100, 300), row("y", 1, 1, 1, 200)}},
		{AggregateQuery{By: `label:we.ird"key`}, []AggregateRow{row("", 4, 7, 2, 100, 200, 300, 400), row("v", 1, 2, 0, 500)}},
		{AggregateQuery{By: "model", Filter: Filter{ErrorsOnly: true}}, []AggregateRow{row("a", 1, 1, 1, 200), row("b", 1, 1, 1, 400)}},
		{AggregateQuery{By: "model", Filter: Filter{Model: "none"}}, nil},
	}
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		is.NoErr(s.Write(t.Context(), sqlFilterEvents()))
		for _, tt := range tests {
			t.Run(tt.q.By, func(t *testing.T) {
				is := is.New(t)
				got, err := s.Aggregate(t.Context(), tt.q)
				is.NoErr(err)
				is.Equal(len(got), len(tt.want))
				for i := range got {
					g, w := got[i], tt.want[i]
					for _, p := range [][2]*float64{{&g.Cost, &w.Cost}, {&g.ScaledCount, &w.ScaledCount},
						{&g.LatencyP50MS, &w.LatencyP50MS}, {&g.LatencyP95MS, &w.LatencyP95MS}} {
						is.True(math.Abs(*p[0]-*p[1]) < 1e-9)
						*p[0], *p[1] = 0, 0
					}
					is.Equal(g, w)
				}
			})
		}
		_, err := s.Aggregate(t.Context(), AggregateQuery{By: "colour"})
		is.True(err != nil)
		is.True(strings.Contains(err.Error(), "label:KEY"))
	})
}

func TestSQLGetEventNotFound(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		_, err := s.GetEvent(t.Context(), "nope")
		is.True(errors.Is(err, ErrNotFound))
	})
}

func TestSQLWriteBeforeMigrateIsPermanent(t *testing.T) {
	for _, c := range sqlTestCases {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			s, err := OpenSQL(t.Context(), c.url(t))
			is.NoErr(err)
			defer s.Close()
			err = s.Write(t.Context(), []*core.Event{sqlFullEvent("a", sqlTestBase)})
			is.True(errors.Is(err, ErrPermanent))
			is.True(!errors.Is(err, ErrData))
		})
	}
}

func TestSQLMigrationStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		st, err := s.MigrationStatus(t.Context())
		is.NoErr(err)
		is.Equal(len(st), 2)
		for _, m := range st {
			is.True(m.Applied)
		}
		is.NoErr(s.Migrate(t.Context())) // again: nothing to do
	})
}

func TestSQLClose(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		ctx := t.Context()
		is.NoErr(s.Ping(ctx))
		is.NoErr(s.Close())
		is.NoErr(s.Close()) // twice
		is.True(errors.Is(s.Write(ctx, []*core.Event{sqlFullEvent("a", sqlTestBase)}), ErrClosed))
		is.True(errors.Is(s.Write(ctx, nil), ErrClosed))
		_, err := s.GetEvent(ctx, "a")
		is.True(errors.Is(err, ErrClosed))
		_, err = s.ListEvents(ctx, Filter{})
		is.True(errors.Is(err, ErrClosed))
		is.True(errors.Is(s.Migrate(ctx), ErrClosed))
		is.True(errors.Is(s.Ping(ctx), ErrClosed))
	})
}

func TestSQLReadsDuringWritesConcurrentSafe(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *SQLStore) {
		is := is.New(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 20 {
				batch := make([]*core.Event, 10)
				for j := range batch {
					batch[j] = sqlFullEvent(fmt.Sprintf("w-%d-%d", i, j), sqlTestBase.Add(time.Duration(i*10+j)*time.Second))
				}
				if err := s.Write(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
		for range 3 {
			wg.Go(func() {
				for range 20 {
					if _, err := s.ListEvents(ctx, Filter{Limit: 5}); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.Aggregate(ctx, AggregateQuery{By: "model"}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		n, err := s.CountEvents(ctx, Filter{})
		is.NoErr(err)
		is.Equal(n, int64(200))
	})
}

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		url     string
		wantErr string // "" = opens
		is      error
	}{
		{"absolute file", "sqlite:///" + filepath.Join(dir, "abs.db"), "", nil},
		{"absolute file in a new directory", "sqlite:///" + filepath.Join(dir, "sub", "dir", "x.db"), "", nil},
		{"memory", "sqlite://:memory:", "", nil},
		{"memory, upper-case scheme", "SQLITE://:memory:", "", nil},
		{"postgres is lazy", "postgres://u@127.0.0.1:1/db?sslmode=disable", "", nil},
		{"postgresql", "postgresql://u@127.0.0.1:1/db?sslmode=disable", "", nil},
		{"unsupported scheme", "mysql://u:p@h/db", `scheme "mysql" in LEANLLM_DATABASE_URL`, ErrUnsupportedURL},
		{"no scheme", "events.db", "LEANLLM_DATABASE_URL", ErrUnsupportedURL},
		{"empty", "", "LEANLLM_DATABASE_URL is empty", ErrUnsupportedURL},
		{"sqlite without path", "sqlite:///", "no file path", nil},
		{"sqlite two slashes", "sqlite://events.db", "third slash", nil},
		{"sqlite query", "sqlite:///x.db?mode=ro", "query parameters", nil},
		{"bad postgres port", "postgres://u@h:notaport/db", "postgres URL", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			s, err := Open(t.Context(), tt.url)
			if tt.wantErr == "" {
				is.NoErr(err)
				is.NoErr(s.Close())
				return
			}
			is.True(err != nil)
			is.True(s == nil) // a nil interface, not a typed nil
			is.True(strings.Contains(err.Error(), tt.wantErr))
			if tt.is != nil {
				is.True(errors.Is(err, tt.is))
				is.True(strings.Contains(err.Error(), "sqlite://"))
				is.True(strings.Contains(err.Error(), "postgres://"))
			}
		})
	}
}

func TestOpenSQLiteRelativePath(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := OpenSQLite(t.Context(), "sqlite:///data/rel.db")
	is.NoErr(err)
	is.NoErr(s.Close())
	_, err = os.Stat(filepath.Join(dir, "data", "rel.db"))
	is.NoErr(err)
}

func TestSQLiteMemoryStoresAreSeparate(t *testing.T) {
	is := is.New(t)
	a := sqlTestOpen(t, "sqlite://:memory:")
	b := sqlTestOpen(t, "sqlite://:memory:")
	is.NoErr(a.Write(t.Context(), []*core.Event{sqlFullEvent("only-in-a", sqlTestBase)}))
	n, err := b.CountEvents(t.Context(), Filter{})
	is.NoErr(err)
	is.Equal(n, int64(0))
}

func TestPasswordNeverInErrors(t *testing.T) {
	const secret = "s3cretPassw0rd"
	tests := []struct {
		name string
		url  string
	}{
		{"connection refused", "postgres://leanllm:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"},
		{"unparsable URL", "postgres://leanllm:" + secret + "@127.0.0.1:notaport/db"},
		{"password parameter", "postgres://leanllm@127.0.0.1:1/db?sslmode=disable&password=" + secret},
		{"bad sslmode", "postgresql://leanllm:" + secret + "@127.0.0.1:1/db?sslmode=bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			ctx := t.Context()
			s, err := OpenSQL(ctx, tt.url)
			if err != nil {
				is.True(!strings.Contains(err.Error(), secret))
				return
			}
			defer s.Close()
			errs := []error{s.Ping(ctx), s.Migrate(ctx), s.Write(ctx, []*core.Event{sqlFullEvent("a", sqlTestBase)})}
			_, err = s.GetEvent(ctx, "a")
			errs = append(errs, err)
			for _, err := range errs {
				is.True(err != nil)
				is.True(!strings.Contains(err.Error(), secret))
				is.True(!errors.Is(err, ErrData)) // a down server is not a data error
				is.True(!errors.Is(err, ErrPermanent))
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	is := is.New(t)
	r := newRedactor("postgres://u:pa%40ss:w0rd@h/db", "pa@ss:w0rd")
	for _, msg := range []string{
		"cannot parse `postgres://u:pa%40ss:w0rd@h/db`",
		"failed: password=pa@ss:w0rd host=h",
		"raw pa@ss:w0rd here",
	} {
		err := r(errors.New(msg))
		is.True(!strings.Contains(err.Error(), "w0rd"))
	}
	base := errors.New("plain")
	is.Equal(r(base), base) // untouched errors are returned as is
	wrapped := r(fmt.Errorf("pa@ss:w0rd: %w", ErrPermanent))
	is.True(errors.Is(wrapped, ErrPermanent))
	is.Equal(r(nil), nil)
}

func TestPGErrClassification(t *testing.T) {
	tests := []struct {
		code      string
		data, per bool
	}{
		{"22021", true, false}, // invalid byte sequence
		{"22P05", true, false}, // untranslatable character (\u0000 in jsonb)
		{"22003", true, false}, // numeric value out of range
		{"22P02", true, false}, // invalid text representation (bad JSON)
		{"23502", true, false}, // not null violation
		{"23505", false, false},
		{"28P01", false, true}, // bad password
		{"28000", false, true},
		{"3D000", false, true}, // database does not exist
		{"42P01", false, true}, // table missing
		{"42501", false, true},
		{"57P01", false, false}, // admin shutdown
		{"53300", false, false}, // too many connections
		{"40001", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			is := is.New(t)
			err := pgErr("copy", &pgconn.PgError{Code: tt.code, Message: "m"})
			is.Equal(errors.Is(err, ErrData), tt.data)
			is.Equal(errors.Is(err, ErrPermanent), tt.per)
			var pe *pgconn.PgError
			is.True(errors.As(err, &pe))
		})
	}
	is.New(t).True(!errors.Is(pgErr("x", context.DeadlineExceeded), ErrPermanent))
}

func TestSQLiteErrClassification(t *testing.T) {
	is := is.New(t)
	// A real constraint error from the driver.
	db, err := sql.Open("sqlite", ":memory:")
	is.NoErr(err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (x TEXT NOT NULL)")
	is.NoErr(err)
	_, err = db.Exec("INSERT INTO t VALUES (NULL)")
	var se *sqlite.Error
	is.True(errors.As(err, &se))
	is.Equal(se.Code()&0xff, sqlite3.SQLITE_CONSTRAINT)
	is.True(errors.Is(sqliteErr("insert", err), ErrData))
	_, err = db.Exec("SELECT * FROM missing")
	is.True(errors.Is(sqliteErr("select", err), ErrPermanent))
	is.True(!errors.Is(sqliteErr("x", context.Canceled), ErrPermanent))
}

func TestPercentileCont(t *testing.T) {
	is := is.New(t)
	is.Equal(percentileCont(nil, 0.5), 0.0)
	is.Equal(percentileCont([]float64{7}, 0.95), 7.0)
	is.Equal(percentileCont([]float64{100, 200}, 0.5), 150.0)
	is.True(math.Abs(percentileCont([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.95)-9.55) < 1e-9)
	is.Equal(percentileCont([]float64{1, 2, 3}, 1), 3.0)
}

func TestPostgresConfigurationErrorsArePermanent(t *testing.T) {
	base := sqlTestPGURL(t) // skips without a server
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	noDB := *u
	noDB.Path = "/leanllm_no_such_database"
	noRole := *u
	noRole.User = neturl.UserPassword("leanllm_no_such_role", "Pw-12345678")
	for name, url := range map[string]string{"missing database": noDB.String(), "unknown role": noRole.String()} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			s, err := OpenSQL(t.Context(), url)
			is.NoErr(err) // lazy
			defer s.Close()
			err = s.Write(t.Context(), []*core.Event{sqlFullEvent("a", sqlTestBase)})
			is.True(errors.Is(err, ErrPermanent))
			is.True(!strings.Contains(err.Error(), "Pw-12345678"))
		})
	}
}

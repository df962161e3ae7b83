package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (and docs/img/dashboard.png)")

func TestMain(m *testing.M) {
	// The commands read LEANLLM_* variables: tests start from none.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LEANLLM_") || k == "OPENAI_API_KEY" {
			os.Unsetenv(k)
		}
	}
	goleak.VerifyTestMain(m,
		// signal.NotifyContext (run) starts the os/signal loop once per process.
		goleak.IgnoreAnyFunction("os/signal.loop"),
		goleak.IgnoreAnyFunction("os/signal.signal_recv"),
	)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the command with args and returns its exit code and outputs.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

var (
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	shortIDRE = regexp.MustCompile(`[0-9a-f]{8}…[0-9a-f]{4}`)
	msRE      = regexp.MustCompile(`\b\d+(\.\d+)?(ms|s)\b`)
	portRE    = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	tsRE      = regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?`)
)

// mask replaces what changes from run to run: ids, durations, ports,
// timestamps.
func mask(s string) string {
	s = uuidRE.ReplaceAllString(s, "<uuid>")
	s = shortIDRE.ReplaceAllString(s, "<id>")
	s = msRE.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasSuffix(m, "ms") {
			return "<ms>"
		}
		return "<s>"
	})
	s = portRE.ReplaceAllString(s, "127.0.0.1:<port>")
	return tsRE.ReplaceAllString(s, "<time>")
}

// Fixture ids.
const (
	idPlain  = "0192f0c4-1111-7000-8000-000000000001"
	idStream = "0192f0c4-1111-7000-8000-000000000002"
	idError  = "0192f0c4-1111-7000-8000-000000000003"
	idPlan   = "0192f0c4-2222-7000-8000-00000000000a"
	idTool   = "0192f0c4-2222-7000-8000-00000000000b"
	idAnswer = "0192f0c4-2222-7000-8000-00000000000c"
	idReview = "0192f0c4-2222-7000-8000-00000000000d"
	idSample = "0192f0c4-3333-7000-8000-000000000005"
	traceID  = "0192f0c4-9999-7000-8000-0000000000ff"
)

var fixtureStart = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func strp(s string) *string { return &s }

// fixtureEvents are stable events for the read commands' golden files.
func fixtureEvents() []*core.Event {
	at := func(sec int) time.Time { return fixtureStart.Add(time.Duration(sec) * time.Second) }
	meta := func(kind string) core.Metadata {
		return core.Metadata{SampleRate: 1, CallKind: kind, FinishReason: "stop", Environment: "test", PricingVersion: "builtin-test"}
	}
	plain := &core.Event{EventID: idPlain, Timestamp: at(0), Model: "gpt-4o-mini", Provider: "openai",
		InputTokens: 18, OutputTokens: 15, TotalTokens: 33, Cost: 0.0000117, LatencyMS: 420,
		Parameters: core.Parameters{Temperature: 0.2, MaxTokens: 256},
		Labels:     map[string]string{"feature": "summarise", "team": "growth", "user_id": "u-42"},
		Prompt:     strp("Summarise the plot of Hamlet in one sentence."),
		Response:   strp("A Danish prince avenges his father's murder, and nearly everyone dies."),
		Metadata:   meta("completion"), SchemaVersion: 2}
	plain.Metadata.RedactionMode = "full"
	stream := &core.Event{EventID: idStream, Timestamp: at(60), Model: "gpt-4o", Provider: "openai",
		InputTokens: 16, OutputTokens: 17, TotalTokens: 33, Cost: 0.00021, LatencyMS: 1250,
		TimeToFirstTokenMS: sql.NullInt64{Int64: 310, Valid: true}, TotalStreamTimeMS: sql.NullInt64{Int64: 1250, Valid: true},
		Labels: map[string]string{"feature": "haiku", "team": "growth"}, Metadata: meta("chat"), SchemaVersion: 2}
	stream.Metadata.Stream, stream.Metadata.StreamEnd = true, core.StreamCompleted
	failed := &core.Event{EventID: idError, Timestamp: at(120), Model: "gpt-4o-mini", Provider: "openai", LatencyMS: 95,
		ErrorKind: core.ErrorKindRateLimit, ErrorMessage: "API returned unexpected status code: 429: Rate limit reached",
		Labels: map[string]string{"feature": "summarise", "team": "support"}, Metadata: meta("completion"), SchemaVersion: 2}
	failed.Metadata.HTTPStatus, failed.Metadata.ErrorDetail, failed.Metadata.FinishReason = 429, "rate_limit", ""
	chain := func(id, parent string, sec int, model, provider string, in, out int, cost float64, lat int64, step string) *core.Event {
		e := &core.Event{EventID: id, CorrelationID: traceID, ParentRequestID: parent, Timestamp: at(sec), Model: model, Provider: provider,
			InputTokens: in, OutputTokens: out, TotalTokens: in + out, Cost: cost, LatencyMS: lat,
			Labels: map[string]string{"feature": "travel-agent", "step": step, "team": "growth"}, Metadata: meta("chat"), SchemaVersion: 2}
		return e
	}
	plan := chain(idPlan, "", 180, "gpt-4o-mini", "openai", 64, 18, 0.0000204, 640, "plan")
	plan.ToolCalls = []llms.ToolCall{{ID: "call_1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "get_weather", Arguments: `{"city":"Lisbon"}`}}}
	plan.Metadata.FinishReason = "tool_calls"
	tool := chain(idTool, idPlan, 181, "get_weather", "tool", 0, 0, 0, 12, "tool")
	tool.Metadata = core.Metadata{SampleRate: 1, CallKind: "tool"}
	answer := chain(idAnswer, idPlan, 182, "gpt-4o-mini", "openai", 97, 12, 0.0000218, 710, "answer")
	review := chain(idReview, idAnswer, 183, "anthropic/claude-3-5-haiku-latest", "anthropic", 41, 9, 0.0000688, 380, "review")
	sampled := &core.Event{EventID: idSample, Timestamp: at(240), Model: "gpt-4o-mini", Provider: "openai",
		InputTokens: 6, OutputTokens: 1, TotalTokens: 7, Cost: 0.0000015, LatencyMS: 40,
		Labels: map[string]string{"feature": "healthcheck", "team": "platform"}, Metadata: meta("completion"), SchemaVersion: 2}
	sampled.Metadata.SampleRate = 0.25
	return []*core.Event{plain, stream, failed, plan, tool, answer, review, sampled}
}

// fixtureDB writes the fixture events to a new SQLite file and returns its
// URL.
func fixtureDB(t *testing.T) string {
	t.Helper()
	is := is.New(t)
	path := filepath.Join(t.TempDir(), "events.db")
	u := "sqlite:///" + path // absolute: sqlite:////tmp/…
	ctx := t.Context()
	s, err := persist.Open(ctx, u)
	is.NoErr(err)
	is.NoErr(s.(persist.Migrator).Migrate(ctx))
	is.NoErr(s.Write(ctx, fixtureEvents()))
	is.NoErr(s.Close())
	return u
}

// writeEvents adds events to the database at u.
func writeEvents(ctx context.Context, t *testing.T, u string, events ...*core.Event) {
	t.Helper()
	s, err := persist.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, events); err != nil {
		t.Fatal(err)
	}
}

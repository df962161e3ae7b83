package canary_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", to dump stored rows
)

// The canaries. Each holds a marker (PROVCANARY, TOKCANARY, PWCANARY) that
// must never appear anywhere we look, so a partial leak is caught too, and
// characters that URL-encoding changes, so that the encoded forms differ
// from the plain one. None of them looks like a key the built-in redaction
// detectors know (no "sk-" prefix), so what is tested is the scrubbing of
// the configured secrets, not pattern detection.
const (
	providerKey    = "cnry+PROVCANARY/4f1e9a7b2c3d8e6f=0a1b"
	collectorToken = "llmk+TOKCANARY/5b8e2f7a9c1d0e3f=77"
	dbPassword     = "PWCANARY+9d/e7@c:2f#1"
)

// canary is one secret and everything that would reveal it.
type canary struct {
	name   string
	value  string
	marker string
}

var (
	provCanary = canary{"provider key", providerKey, "PROVCANARY"}
	tokCanary  = canary{"collector token", collectorToken, "TOKCANARY"}
	pwCanary   = canary{"database password", dbPassword, "PWCANARY"}
	allCanary  = []canary{provCanary, tokCanary, pwCanary}
)

// forms returns the revealing forms of c: the marker (which the plain,
// URL-, path- and userinfo-escaped forms all contain), the plain value, its
// URL encodings, and its base64 encodings (std and raw-url, padded or not).
func (c canary) forms() map[string]string {
	f := map[string]string{
		"marker":           c.marker,
		"plain":            c.value,
		"url-encoded":      url.QueryEscape(c.value),
		"path-escaped":     url.PathEscape(c.value),
		"userinfo-escaped": strings.TrimPrefix(url.UserPassword("", c.value).String(), ":"),
		"base64 std":       base64.StdEncoding.EncodeToString([]byte(c.value)),
		"base64 raw std":   base64.RawStdEncoding.EncodeToString([]byte(c.value)),
		"base64 url":       base64.URLEncoding.EncodeToString([]byte(c.value)),
		"base64 raw-url":   base64.RawURLEncoding.EncodeToString([]byte(c.value)),
	}
	return f
}

// echo is a text that repeats c in every form a server might echo it.
func (c canary) echo() string {
	return fmt.Sprintf("plain=%s url=%s b64=%s b64url=%s", c.value, url.QueryEscape(c.value),
		base64.StdEncoding.EncodeToString([]byte(c.value)), base64.RawURLEncoding.EncodeToString([]byte(c.value)))
}

// leaks returns a description of every form of every canary found in text.
func leaks(text string, cs ...canary) []string {
	var out []string
	for _, c := range cs {
		for form, s := range c.forms() {
			if i := strings.Index(text, s); i >= 0 {
				lo, hi := max(0, i-60), min(len(text), i+len(s)+60)
				out = append(out, fmt.Sprintf("%s (%s) at byte %d: …%s…", c.name, form, i, text[lo:hi]))
			}
		}
	}
	return out
}

// noLeak fails t for every canary form found in text. where says what the
// text is (log output, event JSON, row, error …).
func noLeak(t testing.TB, where, text string, cs ...canary) {
	t.Helper()
	if len(cs) == 0 {
		cs = allCanary
	}
	for _, l := range leaks(text, cs...) {
		t.Errorf("LEAK in %s: %s", where, l)
	}
}

// noLeakErr checks an error LeanLLM built (nil is fine).
func noLeakErr(t testing.TB, where string, err error) {
	t.Helper()
	if err != nil {
		noLeak(t, where+" error", err.Error())
	}
}

// syncBuffer is a goroutine-safe log sink (the worker logs too).
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

// debugLogger returns a Debug-level text logger into a fresh buffer.
func debugLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// hermetic clears every variable New reads, so the machine's environment
// cannot change a test. Tests that route "openai/…" to the fake server set
// OPENAI_BASE_URL afterwards (New reads it only from the environment).
func hermetic(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"LEANLLM_DATABASE_URL", "LEANLLM_API_KEY", "LEANLLM_ENDPOINT", "LEANLLM_ENABLE_PERSISTENCE",
		"LEANLLM_QUEUE_MAX_SIZE", "LEANLLM_QUEUE_MAX_BYTES", "LEANLLM_BATCH_SIZE", "LEANLLM_FLUSH_INTERVAL_MS",
		"LEANLLM_AUTO_MIGRATE", "LEANLLM_CAPTURE_CONTENT", "LEANLLM_REDACTION_MODE", "LEANLLM_MAX_CONTENT_BYTES",
		"LEANLLM_SAMPLING_RATE", "LEANLLM_ENVIRONMENT", "LEANLLM_AUTO_NORMALIZE", "LEANLLM_AUTO_CHAIN",
		"LEANLLM_LAST_EVENT_BUFFER", "LEANLLM_RETRY_MAX_ATTEMPTS", "LEANLLM_RETRY_INITIAL_BACKOFF_MS",
		"LEANLLM_RETRY_TOTAL_BUDGET_MS", "LEANLLM_SPOOL_DIR", "LEANLLM_PRICING_FILE", "LEANLLM_DEBUG",
		"OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "MISTRAL_API_KEY",
	} {
		t.Setenv(k, "")
	}
}

func human(s string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, s)}
}

// eventsJSON returns the JSON of every event the client's buffer holds.
func eventsJSON(t testing.TB, cl *leanllm.Client) string {
	t.Helper()
	var b strings.Builder
	if ev := cl.LastEvent(); ev != nil {
		j, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	for _, ev := range cl.RecentEvents(0) {
		j, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// sqliteURL returns a database_url for a fresh file in t's temp dir, and
// the file's path.
func sqliteURL(t testing.TB) (string, string) {
	p := filepath.Join(t.TempDir(), "events.db")
	return "sqlite:///" + p, p // an absolute path gives sqlite:////…
}

// dumpRows returns every row of llm_events, every column as text, one
// line per row, read straight from the file with database/sql.
func dumpRows(t testing.TB, path string) (rows []map[string]*string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.QueryContext(context.Background(), "SELECT * FROM llm_events")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols, err := r.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]*string{}
		for i, c := range cols {
			if vals[i] == nil {
				row[c] = nil
				continue
			}
			var s string
			switch v := vals[i].(type) {
			case []byte:
				s = string(v)
			default:
				s = fmt.Sprint(v)
			}
			row[c] = &s
		}
		rows = append(rows, row)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// rowsText renders rows as text for leak checks.
func rowsText(rows []map[string]*string) string {
	var b strings.Builder
	for _, row := range rows {
		for c, v := range row {
			if v != nil {
				fmt.Fprintf(&b, "%s=%s\t", c, *v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// collector is a loopback LeanLLM collector that records every request's
// headers and body and answers from a script of statuses (then 200).
type collector struct {
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []collected
	script []reply
}

type reply struct {
	status int
	body   string
}

type collected struct {
	header http.Header
	body   []byte
}

func newCollector(t testing.TB, script ...reply) *collector {
	c := &collector{script: script}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, collected{header: r.Header.Clone(), body: body})
	rep := reply{status: 200}
	if len(c.script) > 0 {
		rep, c.script = c.script[0], c.script[1:]
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if rep.status == 0 || rep.status == 200 {
		n := strings.Count(string(body), `"event_id"`)
		fmt.Fprintf(w, `{"accepted":%d,"dropped":0}`, n)
		return
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (c *collector) requests() []collected {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]collected(nil), c.reqs...)
}

// checkCollected asserts that the collector token is only ever in the
// Authorization header, exactly as "Bearer <token>", and that no canary is
// anywhere else in what the collector received.
func checkCollected(t *testing.T, c *collector) {
	t.Helper()
	reqs := c.requests()
	if len(reqs) == 0 {
		t.Fatal("the collector received nothing")
	}
	for i, r := range reqs {
		if got := r.header.Get("Authorization"); got != "Bearer "+collectorToken {
			t.Errorf("request %d: Authorization = %q, want the Bearer token", i, got)
		}
		for k, vs := range r.header {
			if k == "Authorization" {
				continue
			}
			noLeak(t, fmt.Sprintf("collector request %d header %s", i, k), strings.Join(vs, "\n"))
		}
		noLeak(t, fmt.Sprintf("collector request %d body", i), string(r.body))
	}
}

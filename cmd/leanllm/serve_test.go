package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// server is a `leanllm serve` running in-process on a loopback port.
type server struct {
	URL    string
	out    *syncBuffer
	errb   *syncBuffer
	cancel context.CancelFunc
	done   chan int
	client *http.Client
}

var listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startServe runs serve with args (plus --addr 127.0.0.1:0) until the test
// ends or stop is called.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	s := &server{out: &syncBuffer{}, errb: &syncBuffer{}, cancel: cancel, done: make(chan int, 1),
		client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}}
	go func() {
		s.done <- runContext(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), s.out, s.errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(s.out.String()); m != nil {
			s.URL = m[1]
			break
		}
		select {
		case code := <-s.done:
			t.Fatalf("serve exited with %d: %s%s", code, s.out, s.errb)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s%s", s.out, s.errb)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop sends the shutdown signal and waits for a clean exit.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	if s.cancel == nil {
		return exitOK
	}
	s.cancel()
	s.cancel = nil
	s.client.CloseIdleConnections()
	select {
	case code := <-s.done:
		if code != exitOK {
			t.Errorf("serve exited with %d: %s", code, s.errb)
		}
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	return -1
}

func (s *server) do(t *testing.T, method, path string, body io.Reader, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (s *server) post(t *testing.T, key, body string, header ...string) (int, string) {
	t.Helper()
	h := append([]string{"Content-Type", "application/json"}, header...)
	if key != "" {
		h = append(h, "Authorization", "Bearer "+key)
	}
	code, _, b := s.do(t, http.MethodPost, "/v1/events", strings.NewReader(body), h...)
	return code, b
}

func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %q", body)
	}
	return e.Error
}

const testKey = "lk-test-0123456789"

func TestServeEndToEnd(t *testing.T) {
	is := is.New(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "served.db")
	s := startServe(t, "--db", db, "--api-key", testKey, "--api-key", "second-key", "--max-body", "64KiB", "--flush-interval", "50ms")
	is.True(strings.Contains(s.out.String(), "collector  POST "+s.URL+"/v1/events: on, 2 key(s)"))

	// 1. The SDK's remote backend.
	model := testprovider.New()
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithLeanLLMAPIKey(testKey), leanllm.WithEndpoint(s.URL),
		leanllm.WithModel(model), leanllm.WithFlushInterval(time.Hour))
	is.NoErr(err)
	ctx := t.Context()
	var sdkIDs []string
	for i := range 3 {
		_, err := cl.Completion(ctx, "gpt-4o-mini", fmt.Sprintf("question %d", i), leanllm.WithLabel("feature", "e2e"))
		is.NoErr(err)
		sdkIDs = append(sdkIDs, cl.LastEvent().EventID)
	}
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	is.NoErr(cl.Close(closeCtx)) // flushes to the collector
	cancel()
	st := cl.Stats()
	is.Equal(st.Stored, int64(3))
	is.Equal(st.DroppedTotal, int64(0))

	// 2. A batch in Python LeanLLM's model_dump(mode="json") shape.
	py, err := os.ReadFile(filepath.Join("testdata", "python_batch.json"))
	is.NoErr(err)
	code, body := s.post(t, "second-key", string(py))
	is.Equal(code, http.StatusOK)
	is.Equal(strings.TrimSpace(body), `{"accepted":2,"dropped":0}`)
	// Idempotent on event_id: the same batch again stores nothing new.
	code, _ = s.post(t, testKey, string(py))
	is.Equal(code, http.StatusOK)
	// gzip bodies are accepted.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(py)
	is.NoErr(zw.Close())
	code, _, body = s.do(t, http.MethodPost, "/v1/events", &gz, "Authorization", "Bearer "+testKey, "Content-Encoding", "gzip")
	is.Equal(code, http.StatusOK)
	// Duplicates within a batch are dropped.
	dup := `{"events":[` + event("dup-1", "2026-11-28T11:00:00Z") + "," + event("dup-1", "2026-11-28T11:00:00Z") + `]}`
	code, body = s.post(t, testKey, dup)
	is.Equal(code, http.StatusOK)
	is.Equal(strings.TrimSpace(body), `{"accepted":1,"dropped":1}`)

	// 3. Refusals.
	for _, tc := range []struct {
		name, key, body string
		header          []string
		code            int
		err             string
	}{
		{"no key", "", `{"events":[]}`, nil, http.StatusUnauthorized, "missing API key"},
		{"wrong key", "lk-wrong", `{"events":[]}`, nil, http.StatusUnauthorized, "invalid API key"},
		{"prefix of a key", testKey[:5], `{"events":[]}`, nil, http.StatusUnauthorized, "invalid API key"},
		{"malformed JSON", testKey, `{"events":[{`, nil, http.StatusBadRequest, "malformed JSON"},
		{"not a batch", testKey, `[1,2]`, nil, http.StatusBadRequest, "malformed JSON"},
		{"no events key", testKey, `{"evts":[]}`, nil, http.StatusBadRequest, `want {"events":[…]}`},
		{"missing event_id", testKey, `{"events":[` + event("", "2026-11-28T11:00:00Z") + `]}`, nil, http.StatusBadRequest, "events[0]: missing event_id"},
		{"bad timestamp", testKey, `{"events":[` + event("ok-1", "2026-11-28T11:00:00Z") + "," + event("bad-ts", "yesterday at noon") + `]}`, nil, http.StatusBadRequest, `events[1]: bad timestamp "yesterday at noon"`},
		{"missing timestamp", testKey, `{"events":[{"event_id":"no-ts"}]}`, nil, http.StatusBadRequest, "events[0]: missing timestamp"},
		{"wrong type", testKey, `{"events":[{"event_id":"x","timestamp":"2026-11-28T11:00:00Z","input_tokens":"many"}]}`, nil, http.StatusBadRequest, "events[0]: "},
		{"too large", testKey, `{"events":[` + strings.Repeat(event("big", "2026-11-28T11:00:00Z")+",", 1000) + event("big", "2026-11-28T11:00:00Z") + `]}`, nil, http.StatusRequestEntityTooLarge, "exceeds the limit of 65536 bytes"},
		{"bad encoding", testKey, `{"events":[]}`, []string{"Content-Encoding", "br"}, http.StatusBadRequest, `unsupported Content-Encoding "br"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			code, body := s.post(t, tc.key, tc.body, tc.header...)
			is.Equal(code, tc.code)
			if msg := errorOf(t, body); !strings.Contains(msg, tc.err) {
				t.Errorf("error %q does not contain %q", msg, tc.err)
			}
		})
	}
	t.Run("gzip bomb", func(t *testing.T) {
		is := is.New(t)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write([]byte(`{"events":[` + strings.Repeat(" ", 1<<20) + `]}`))
		is.NoErr(zw.Close())
		is.True(gz.Len() < 64<<10)
		code, _, body := s.do(t, http.MethodPost, "/v1/events", &gz, "Authorization", "Bearer "+testKey, "Content-Encoding", "gzip")
		is.Equal(code, http.StatusRequestEntityTooLarge)
		errorOf(t, body)
	})
	t.Run("method", func(t *testing.T) {
		is := is.New(t)
		code, h, body := s.do(t, http.MethodGet, "/v1/events", nil)
		is.Equal(code, http.StatusMethodNotAllowed)
		is.Equal(h.Get("Allow"), "POST")
		errorOf(t, body)
	})

	// 4. Health and metrics.
	code, _, body = s.do(t, http.MethodGet, "/healthz", nil)
	is.Equal(code, http.StatusOK)
	is.True(strings.Contains(body, `"status":"ok"`))
	code, h, body := s.do(t, http.MethodGet, "/metrics", nil)
	is.Equal(code, http.StatusOK)
	is.True(strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4"))
	for _, want := range []string{
		`leanllm_collector_requests_total{code="200"} `, `leanllm_collector_requests_total{code="401"} 3`,
		"leanllm_collector_events_received_total 11", `leanllm_collector_events_dropped_total{reason="queue_full"} 0`,
		"leanllm_collector_queue_depth ", `leanllm_collector_store_write_duration_seconds_bucket{le="+Inf"} `,
		"leanllm_collector_store_write_duration_seconds_count ", "leanllm_collector_events_stored_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}

	// 5. The dashboard shows what was collected, escaped.
	code, body = s.post(t, testKey, `{"events":[{"event_id":"xss-1","timestamp":"2026-11-28T12:00:00Z","model":"<script>alert(1)</script>","labels":{"<b>k</b>":"\"><img src=x onerror=alert(2)>"},"prompt":"<iframe src=javascript:alert(3)>"}]}`)
	is.Equal(code, http.StatusOK)
	for _, page := range []string{"/", "/?range=all", "/?range=all&label=feature", "/events", "/events?errors=1", "/events?label=feature%3Dpy-search&limit=1&offset=1",
		"/events/xss-1", "/events/5b0e6f4e-8f4a-4c1e-9a43-0c2f7d1e9a02", "/traces", "/traces/py-trace-0001"} {
		code, h, body := s.do(t, http.MethodGet, page, nil)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", page, code, body)
			continue
		}
		is.True(strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'"))
		for _, bad := range []string{"<script>", "<img src=x", "<iframe", "<b>k</b>"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s renders %q unescaped", page, bad)
			}
		}
	}
	_, _, body = s.do(t, http.MethodGet, "/events/xss-1", nil)
	is.True(strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;"))
	_, _, body = s.do(t, http.MethodGet, "/traces/py-trace-0001", nil)
	is.True(strings.Contains(body, "5b0e6f4e…9a01")) // the root
	is.True(strings.Contains(body, "5b0e6f4e…9a02")) // its child
	code, _, _ = s.do(t, http.MethodGet, "/events/no-such-event-id-here", nil)
	is.Equal(code, http.StatusNotFound)
	code, _, _ = s.do(t, http.MethodGet, "/traces/no-such-trace", nil)
	is.Equal(code, http.StatusNotFound)
	code, _, _ = s.do(t, http.MethodGet, "/events?since=yesterday", nil)
	is.Equal(code, http.StatusBadRequest)
	code, _, _ = s.do(t, http.MethodGet, "/nowhere", nil)
	is.Equal(code, http.StatusNotFound)
	code, _, _ = s.do(t, http.MethodGet, "/static/app.css", nil)
	is.Equal(code, http.StatusOK)

	// 6. Shutdown flushes; then the events read back through logs --json.
	is.Equal(s.stop(t), exitOK)
	is.True(strings.Contains(s.out.String(), "shutting down"))
	code, out, stderr := cli(t, "logs", "--db", db, "--json", "--limit", "0")
	is.Equal(stderr, "")
	is.Equal(code, exitOK)
	byID := map[string]*core.Event{}
	for line := range strings.Lines(out) {
		var e core.Event
		is.NoErr(json.Unmarshal([]byte(line), &e))
		byID[e.EventID] = &e
	}
	is.Equal(len(byID), 3+2+1+1) // sdk, python, dup-1, xss-1
	for _, id := range sdkIDs {
		e := byID[id]
		is.True(e != nil)
		is.Equal(e.Labels["feature"], "e2e")
		is.Equal(e.InputTokens, testprovider.DefaultPromptTokens)
	}
	p1 := byID["5b0e6f4e-8f4a-4c1e-9a43-0c2f7d1e9a01"]
	is.Equal(p1.Timestamp, time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC))
	is.Equal(p1.CorrelationID, "py-trace-0001")
	is.Equal(p1.Parameters.Temperature, 0.7)
	is.Equal(p1.NormalizedInput["semantic_hash"], "9c1d2e")
	is.Equal(len(p1.NormalizedInput["messages"].([]any)), 2)
	is.Equal(p1.Metadata.SDK, "leanllm-python/0.4.2")
	is.Equal(p1.Metadata.Extra["litellm_call_id"], "c0ffee")
	p2 := byID["5b0e6f4e-8f4a-4c1e-9a43-0c2f7d1e9a02"]
	is.Equal(p2.ParentRequestID, p1.EventID)
	is.Equal(p2.ErrorKind, core.ErrorKindTimeout)
	is.Equal(p2.LatencyMS, int64(30012))
	is.Equal(p2.TimeToFirstTokenMS.Int64, int64(950))
	is.Equal(p2.Labels["attempt"], "2")
	is.Equal(*p2.Prompt, "Find <b>cheap</b> flights & hotels")
	is.True(byID["ok-1"] == nil) // a refused batch stores nothing
}

// event is a minimal wire event.
func event(id, ts string) string {
	b, _ := json.Marshal(map[string]any{"event_id": id, "timestamp": ts, "model": "gpt-4o-mini", "provider": "openai", "input_tokens": 5, "output_tokens": 7, "total_tokens": 12, "latency_ms": 100})
	return string(b)
}

func TestServeCollectorOffWithoutKeys(t *testing.T) {
	is := is.New(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "off.db")
	s := startServe(t, "--db", db)
	is.True(strings.Contains(s.errb.String(), "the collector is off"))
	code, body := s.post(t, "", `{"events":[]}`)
	is.Equal(code, http.StatusServiceUnavailable)
	is.True(strings.Contains(errorOf(t, body), "--insecure-no-auth"))
	code, _, _ = s.do(t, http.MethodGet, "/", nil) // the dashboard still works
	is.Equal(code, http.StatusOK)
}

func TestServeInsecureNoAuth(t *testing.T) {
	is := is.New(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "open.db")
	s := startServe(t, "--db", db, "--insecure-no-auth", "--ack-timeout", "0", "--no-dashboard")
	code, body := s.post(t, "", `{"events":[`+event("open-1", "2026-11-28T11:00:00Z")+`]}`)
	is.Equal(code, http.StatusOK)
	is.Equal(strings.TrimSpace(body), `{"accepted":1,"dropped":0}`)
	code, _, _ = s.do(t, http.MethodGet, "/", nil)
	is.Equal(code, http.StatusNotFound) // --no-dashboard
	is.Equal(s.stop(t), exitOK)
	code, out, _ := cli(t, "logs", "--db", db, "--json")
	is.Equal(code, exitOK)
	is.True(strings.Contains(out, `"event_id":"open-1"`)) // stored by the final flush
}

func TestServeProtectDashboard(t *testing.T) {
	is := is.New(t)
	db := fixtureDB(t)
	t.Setenv("LEANLLM_COLLECTOR_KEYS", " env-key-1 , "+testKey)
	s := startServe(t, "--db", db, "--protect-dashboard")
	is.True(strings.Contains(s.out.String(), "on, 2 key(s)"))

	code, h, body := s.do(t, http.MethodGet, "/events", nil)
	is.Equal(code, http.StatusUnauthorized)
	is.True(strings.Contains(body, `name="key"`)) // the login form
	is.True(h.Get("WWW-Authenticate") != "")
	code, _, _ = s.do(t, http.MethodGet, "/metrics", nil)
	is.Equal(code, http.StatusUnauthorized)
	code, _, _ = s.do(t, http.MethodGet, "/healthz", nil) // health stays open
	is.Equal(code, http.StatusOK)

	// A Bearer key.
	code, _, body = s.do(t, http.MethodGet, "/events", nil, "Authorization", "Bearer env-key-1")
	is.Equal(code, http.StatusOK)
	is.True(strings.Contains(body, "0192f0c4…000a"))
	code, _, _ = s.do(t, http.MethodGet, "/metrics", nil, "Authorization", "Bearer "+testKey)
	is.Equal(code, http.StatusOK)

	// ?key= logs in with a cookie and redirects to the URL without the key.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: &http.Transport{}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer browser.CloseIdleConnections()
	get := func(path string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
		resp, err := browser.Do(req)
		is.NoErr(err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("/events?model=gpt-4o&key=wrong")
	is.Equal(resp.StatusCode, http.StatusUnauthorized)
	resp = get("/events?model=gpt-4o&key=" + testKey)
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	is.Equal(resp.Header.Get("Location"), "/events?model=gpt-4o")
	c := resp.Cookies()
	is.Equal(len(c), 1)
	is.True(c[0].HttpOnly)
	is.Equal(c[0].SameSite, http.SameSiteStrictMode)
	is.True(!strings.Contains(c[0].Value, testKey))
	is.Equal(get("/events?model=gpt-4o").StatusCode, http.StatusOK)
	is.Equal(get("/metrics").StatusCode, http.StatusOK)
	// Log out.
	is.Equal(get("/logout").StatusCode, http.StatusSeeOther)
	is.Equal(get("/events").StatusCode, http.StatusUnauthorized)

	// The login form; next stays on this site.
	form := strings.NewReader("key=" + testKey + "&next=//evil.example/")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/login", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := browser.Do(req)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	is.Equal(resp.Header.Get("Location"), "/")
	is.Equal(get("/traces").StatusCode, http.StatusOK)

	// The collector takes the same keys.
	code, _ = s.post(t, "env-key-1", `{"events":[`+event("protected-1", "2026-11-28T11:00:00Z")+`]}`)
	is.Equal(code, http.StatusOK)
}

func TestServeBadStore(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	code, _, stderr := cli(t, "serve", "--addr", "127.0.0.1:0", "--db", "sqlite:///"+dir) // a directory
	is.Equal(code, exitError)
	is.True(stderr != "")
	code, _, stderr = cli(t, "serve", "--addr", "256.0.0.1:99999", "--db", "sqlite:///"+filepath.Join(dir, "x.db"))
	is.Equal(code, exitError)
	is.True(strings.Contains(stderr, "listen on"))
}

var _ = llms.TextParts

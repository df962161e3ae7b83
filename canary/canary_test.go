package canary_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
)

// providerScenarios drives cl (routed to srv with the canary provider key)
// through success, stream, 4xx and 5xx answers echoing the key, and a
// timeout. It returns how many calls it made.
func providerScenarios(t *testing.T, cl *leanllm.Client, srv *testprovider.Server) int {
	t.Helper()
	ctx := t.Context()
	const model = "openai/gpt-4o-mini"
	calls := 0

	// Success, blocking and streamed.
	srv.Push(testprovider.Reply{Text: "fine, thanks", Usage: testprovider.UsageOf(12, 3)})
	if _, err := cl.Chat(ctx, model, human("How are you?")); err != nil {
		t.Fatalf("success call: %v", err)
	}
	calls++
	srv.Push(testprovider.Reply{Text: "streamed answer", Usage: testprovider.UsageOf(8, 2)})
	for _, err := range cl.Stream(ctx, model, human("Stream please.")) {
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
	}
	calls++

	// 401 echoing the key in every form, as some gateways do.
	body401 := `{"error":{"message":"Incorrect API key provided: ` + provCanary.echo() + `","type":"invalid_request_error","code":"invalid_api_key"}}`
	srv.Push(testprovider.Reply{Status: 401, ErrorBody: body401})
	if _, err := cl.Chat(ctx, model, human("x")); err == nil {
		t.Fatal("401: no error")
	}
	calls++

	// 5xx echoing the key (blocking and streamed).
	body500 := `{"error":{"message":"upstream failed for key ` + provCanary.echo() + `","type":"server_error"}}`
	srv.Push(testprovider.Reply{Status: 500, ErrorBody: body500})
	if _, err := cl.Chat(ctx, model, human("x")); err == nil {
		t.Fatal("500: no error")
	}
	calls++
	srv.Push(testprovider.Reply{Status: 503, ErrorBody: body500})
	var streamErr error
	for _, err := range cl.Stream(ctx, model, human("x")) {
		if err != nil {
			streamErr = err
		}
	}
	if streamErr == nil {
		t.Fatal("stream 503: no error")
	}
	calls++

	// Timeout: the provider answers after the caller's deadline.
	srv.Push(testprovider.Reply{Delay: 5 * time.Second})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err := cl.Chat(tctx, model, human("x"))
	cancel()
	if err == nil {
		t.Fatal("timeout: no error")
	}
	calls++
	return calls
}

// newProviderServer starts the fake OpenAI server and points the openai
// route at it.
func newProviderServer(t *testing.T) *testprovider.Server {
	hermetic(t)
	srv := testprovider.NewServer(t)
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	return srv
}

// checkProviderRequests asserts the key did reach the provider, as it must,
// in the Authorization header only.
func checkProviderRequests(t *testing.T, srv *testprovider.Server) {
	t.Helper()
	for i, r := range srv.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer "+providerKey {
			t.Errorf("provider request %d: Authorization = %q", i, got)
		}
		noLeak(t, fmt.Sprintf("provider request %d body", i), string(r.Body), provCanary, tokCanary, pwCanary)
	}
}

// TestCanarySQLite: every provider path, in each redaction mode, with debug
// logging, into SQLite. Nothing written may hold the key.
func TestCanarySQLite(t *testing.T) {
	for _, mode := range []string{"metadata", "redacted", "hashed", "full"} {
		t.Run(mode, func(t *testing.T) {
			is := is.New(t)
			srv := newProviderServer(t)
			dbURL, dbPath := sqliteURL(t)
			log, logs := debugLogger()
			cl, err := leanllm.New(
				leanllm.WithAPIKey(providerKey),
				leanllm.WithDatabaseURL(dbURL),
				leanllm.WithCaptureContent(true),
				leanllm.WithRedactionMode(mode),
				leanllm.WithDebug(true),
				leanllm.WithLogger(log),
				leanllm.WithLastEventBuffer(64),
				leanllm.WithBatchSize(2),
			)
			is.NoErr(err)
			n := providerScenarios(t, cl, srv)
			is.NoErr(cl.Flush(t.Context()))
			st := cl.Stats()
			noLeak(t, "Stats().LastError", st.LastError)
			noLeak(t, "LastEvent/RecentEvents JSON", eventsJSON(t, cl))
			is.Equal(st.Stored, int64(n)) // every call stored
			noLeakErr(t, "Close", cl.Close(t.Context()))

			rows := dumpRows(t, dbPath)
			is.Equal(len(rows), n)
			errRows := 0
			for _, r := range rows {
				if r["error_message"] != nil {
					errRows++
				}
			}
			is.Equal(errRows, 4) // 401, 500, stream 503, timeout
			// The echoes reached the event and were scrubbed, not lost.
			is.True(strings.Count(rowsText(rows), "[REDACTED]") >= 3*4)
			noLeak(t, "llm_events rows", rowsText(rows))
			noLeak(t, "log output", logs.String())
			is.True(strings.Contains(logs.String(), "leanllm event")) // debug was on
			checkProviderRequests(t, srv)
		})
	}
}

// TestCanaryHookPanics: pre-call, post-call and error hooks that panic with
// the key in their message. The panics are recovered and logged; the log
// must not carry the key.
func TestCanaryHookPanics(t *testing.T) {
	is := is.New(t)
	srv := newProviderServer(t)
	log, logs := debugLogger()
	boom := func(where string) { panic(where + " hook failed with key " + providerKey) }
	cl, err := leanllm.New(
		leanllm.WithAPIKey(providerKey),
		leanllm.WithDebug(true),
		leanllm.WithLogger(log),
		leanllm.WithPreCallHook(func(leanllm.Snapshot) { boom("pre-call") }),
		leanllm.WithPostCallHook(func(*leanllm.Event) { boom("post-call") }),
		leanllm.WithErrorHook(func(error, leanllm.Snapshot) { boom("error") }),
	)
	is.NoErr(err)
	defer cl.Close(context.Background())
	_, err = cl.Chat(t.Context(), "openai/gpt-4o-mini", human("hi"))
	is.NoErr(err) // a panicking hook never breaks the call
	srv.Push(testprovider.Reply{Status: 500})
	_, err = cl.Chat(t.Context(), "openai/gpt-4o-mini", human("hi"))
	is.True(err != nil)
	is.True(strings.Count(logs.String(), "recovered panic") >= 3) // all three were recovered
	noLeak(t, "log output after hook panics", logs.String())
	noLeak(t, "events", eventsJSON(t, cl))
}

// TestCanaryRemoteRetry: the collector answers 503 (echoing the token, as
// a misbehaving proxy might) then 200. The batch is retried and delivered;
// the token is only ever in the Authorization header.
func TestCanaryRemoteRetry(t *testing.T) {
	is := is.New(t)
	srv := newProviderServer(t)
	col := newCollector(t,
		reply{503, `{"error":"overloaded, retry (token ` + collectorToken + `)"}`},
		reply{503, `{"error":"still overloaded"}`},
	)
	log, logs := debugLogger()
	cl, err := leanllm.New(
		leanllm.WithAPIKey(providerKey),
		leanllm.WithLeanLLMAPIKey(collectorToken),
		leanllm.WithEndpoint(col.srv.URL),
		leanllm.WithCaptureContent(true),
		leanllm.WithRedactionMode("full"),
		leanllm.WithDebug(true),
		leanllm.WithLogger(log),
		leanllm.WithRetry(5, 5*time.Millisecond, 5*time.Second),
		leanllm.WithBatchSize(100),
		leanllm.WithLastEventBuffer(64),
	)
	is.NoErr(err)
	n := providerScenarios(t, cl, srv)
	is.NoErr(cl.Flush(t.Context()))
	st := cl.Stats()
	is.Equal(st.Stored, int64(n))
	is.True(st.Retries >= 2)
	noLeak(t, "Stats().LastError", st.LastError)
	noLeakErr(t, "Close", cl.Close(t.Context()))
	reqs := col.requests()
	is.True(len(reqs) >= 3) // 503, 503, 200
	is.True(strings.Count(string(reqs[len(reqs)-1].body), `"event_id"`) == n)
	checkCollected(t, col)
	is.True(strings.Contains(string(reqs[len(reqs)-1].body), "[REDACTED]")) // the provider's echoes, scrubbed
	noLeak(t, "events", eventsJSON(t, cl))
	noLeak(t, "log output", logs.String())
	checkProviderRequests(t, srv)
}

// TestCanaryRemote401Echo: the collector refuses the token and echoes it
// back in every form. The batch is dropped (permanent error); neither the
// drop accounting, the logs, LastError nor Close's error may repeat it. An
// on-dropped hook that panics with the token is recovered without logging
// it.
func TestCanaryRemote401Echo(t *testing.T) {
	is := is.New(t)
	hermetic(t)
	echo := `{"error":"invalid API key: ` + tokCanary.echo() + `"}`
	col := newCollector(t, reply{401, echo}, reply{401, echo}, reply{401, echo})
	log, logs := debugLogger()
	fake := testprovider.New()
	cl, err := leanllm.New(
		leanllm.WithModel(fake),
		leanllm.WithLeanLLMAPIKey(collectorToken),
		leanllm.WithEndpoint(col.srv.URL),
		leanllm.WithDebug(true),
		leanllm.WithLogger(log),
		leanllm.WithRetry(3, time.Millisecond, time.Second),
		leanllm.WithOnDroppedEvents(func(n int, reason string) {
			panic(fmt.Sprintf("dropped %d (%s) with token %s", n, reason, collectorToken))
		}),
	)
	is.NoErr(err)
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("hi"))
	is.NoErr(err)
	is.NoErr(cl.Flush(t.Context()))
	st := cl.Stats()
	is.Equal(st.DroppedTotal, int64(1))
	is.True(st.LastError != "")
	noLeak(t, "Stats().LastError", st.LastError)
	noLeakErr(t, "Close", cl.Close(t.Context()))
	checkCollected(t, col)
	noLeak(t, "log output", logs.String())
	noLeak(t, "events", eventsJSON(t, cl))
}

// TestCanaryRemoteUnreachable: a collector that is gone. Flush and Close
// give up by their deadline; their errors, LastError and the logs must not
// carry the token.
func TestCanaryRemoteUnreachable(t *testing.T) {
	is := is.New(t)
	hermetic(t)
	col := newCollector(t)
	endpoint := col.srv.URL
	col.srv.Close() // nothing listens there any more
	log, logs := debugLogger()
	spool := t.TempDir()
	cl, err := leanllm.New(
		leanllm.WithModel(testprovider.New()),
		leanllm.WithLeanLLMAPIKey(collectorToken),
		leanllm.WithEndpoint(endpoint),
		leanllm.WithDebug(true),
		leanllm.WithLogger(log),
		leanllm.WithSpoolDir(spool),
		leanllm.WithRetry(100, 5*time.Millisecond, 10*time.Second),
	)
	is.NoErr(err)
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("hi"))
	is.NoErr(err)
	fctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	ferr := cl.Flush(fctx)
	cancel()
	is.True(ferr != nil) // nothing can be delivered
	noLeakErr(t, "Flush", ferr)
	st := cl.Stats()
	is.True(st.LastError != "")
	noLeak(t, "Stats().LastError", st.LastError)
	cctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	cerr := cl.Close(cctx)
	cancel()
	noLeakErr(t, "Close", cerr)
	noLeak(t, "log output", logs.String())
	// The Write in progress at Close's deadline is spooled when it returns.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st = cl.Stats(); st.InFlight == 0 {
			break
		}
	}
	is.True(st.Spooled > 0) // the undelivered event went to the spool
	spooled := spoolText(t, spool)
	is.True(strings.Contains(spooled, "gpt-4o-mini"))
	noLeak(t, "spool files", spooled)
}

// spoolText returns the content of every file under dir.
func spoolText(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCanaryBadCollectorConfig: collector settings that New refuses never
// echo the token.
func TestCanaryBadCollectorConfig(t *testing.T) {
	for name, opts := range map[string][]leanllm.Option{
		"token with a space":     {leanllm.WithLeanLLMAPIKey("Bearer " + collectorToken)},
		"token with a newline":   {leanllm.WithLeanLLMAPIKey(collectorToken + "\n")},
		"endpoint bad scheme":    {leanllm.WithLeanLLMAPIKey(collectorToken), leanllm.WithEndpoint("ftp://collector.example")},
		"endpoint with userinfo": {leanllm.WithLeanLLMAPIKey(collectorToken), leanllm.WithEndpoint("https://u:" + url.QueryEscape(collectorToken) + "@collector.example")},
		"endpoint with query":    {leanllm.WithLeanLLMAPIKey(collectorToken), leanllm.WithEndpoint("https://collector.example/?token=" + url.QueryEscape(collectorToken))},
	} {
		t.Run(name, func(t *testing.T) {
			hermetic(t)
			cl, err := leanllm.New(append([]leanllm.Option{leanllm.WithModel(testprovider.New())}, opts...)...)
			if err == nil {
				_ = cl.Close(t.Context())
				t.Fatal("New accepted a bad collector configuration")
			}
			t.Logf("New: %v", err)
			noLeakErr(t, "New", err)
		})
	}
}

// pgURL is a Postgres URL with the canary password, on a port where nothing
// listens.
func pgURL(scheme string) string {
	u := &url.URL{Scheme: scheme, User: url.UserPassword("app", dbPassword), Host: "127.0.0.1:1", Path: "/leanllm"}
	return u.String() + "?connect_timeout=1&sslmode=disable"
}

// TestCanaryPostgresUnreachable: New does no I/O, so it succeeds; the
// worker's migration and writes fail. Every error and log line must hide
// the password.
func TestCanaryPostgresUnreachable(t *testing.T) {
	is := is.New(t)
	hermetic(t)
	log, logs := debugLogger()
	cl, err := leanllm.New(
		leanllm.WithModel(testprovider.New()),
		leanllm.WithDatabaseURL(pgURL("postgres")),
		leanllm.WithDebug(true),
		leanllm.WithLogger(log),
		leanllm.WithRetry(100, 5*time.Millisecond, 10*time.Second),
	)
	is.NoErr(err)
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("hi"))
	is.NoErr(err)
	fctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	ferr := cl.Flush(fctx)
	cancel()
	noLeakErr(t, "Flush", ferr)
	st := cl.Stats()
	is.True(st.LastError != "") // the store failed
	noLeak(t, "Stats().LastError", st.LastError)
	_, rerr := cl.ListEvents(t.Context(), leanllm.Filter{Limit: 1})
	is.True(rerr != nil)
	noLeakErr(t, "ListEvents", rerr)
	cctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	cerr := cl.Close(cctx)
	cancel()
	is.True(cerr != nil)
	noLeakErr(t, "Close", cerr)
	noLeak(t, "log output", logs.String())
	noLeak(t, "events", eventsJSON(t, cl))
}

// TestCanaryBadDatabaseURL: configuration errors from New name the
// variable and never print the password, whatever is wrong with the URL
// (also when it comes from LEANLLM_DATABASE_URL).
func TestCanaryBadDatabaseURL(t *testing.T) {
	rawPW := dbPassword // unescaped, as people paste it
	cases := map[string]string{
		"typo scheme":        pgURL("postgress"),
		"mysql scheme":       pgURL("mysql"),
		"no scheme":          "app:" + url.QueryEscape(dbPassword) + "@tcp(127.0.0.1:3306)/db",
		"bad port":           "postgres://app:" + url.QueryEscape(dbPassword) + "@127.0.0.1:notaport/db",
		"raw password":       "postgres://app:" + rawPW + "@127.0.0.1:1/db",
		"raw password typo":  "postgresql+psycopg://app:" + rawPW + "@127.0.0.1:1/db",
		"keyword DSN":        "host=127.0.0.1 port=1 user=app password=" + url.QueryEscape(dbPassword) + " dbname=x",
		"sqlite query":       "sqlite:////tmp/leanllm-canary.db?password=" + url.QueryEscape(dbPassword),
		"sqlite userinfo":    "sqlite://app:" + url.QueryEscape(dbPassword) + "@/tmp/x.db",
		"both store and key": pgURL("postgres"),
	}
	// Passwords pasted unescaped, with the marker after a character that
	// ends the userinfo for a URL parser.
	for i, raw := range []string{"r4w/PWCANARY+9d", "r4w@PWCANARY+9d", "r4w#PWCANARY?9d", "r4w?PWCANARY9d"} {
		for _, scheme := range []string{"postgres", "postgress", "mysql"} {
			cases[fmt.Sprintf("raw password %d %s", i, scheme)] = scheme + "://app:" + raw + "@127.0.0.1:1/db"
		}
	}
	for name, dsn := range cases {
		t.Run(name, func(t *testing.T) {
			hermetic(t)
			log, logs := debugLogger()
			defer func() { noLeak(t, "log output", logs.String()) }()
			opts := []leanllm.Option{leanllm.WithModel(testprovider.New()), leanllm.WithDatabaseURL(dsn),
				leanllm.WithDebug(true), leanllm.WithLogger(log), leanllm.WithRetry(100, 5*time.Millisecond, 10*time.Second)}
			if name == "both store and key" {
				opts = append(opts, leanllm.WithLeanLLMAPIKey(collectorToken))
			}
			cl, err := leanllm.New(opts...)
			if err == nil {
				// Some shapes are only refused when the store opens; then
				// Close and the stats carry the error.
				_, _ = cl.Chat(t.Context(), "gpt-4o-mini", human("hi"))
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				noLeakErr(t, "Flush", cl.Flush(ctx))
				noLeak(t, "Stats().LastError", cl.Stats().LastError)
				noLeakErr(t, "Close", cl.Close(ctx))
				cancel()
				return
			}
			t.Logf("New: %v", err)
			noLeakErr(t, "New", err)
			// The same URL from the environment.
			t.Setenv("LEANLLM_DATABASE_URL", dsn)
			if name == "both store and key" {
				t.Setenv("LEANLLM_API_KEY", collectorToken)
			}
			cl, err = leanllm.New(leanllm.WithModel(testprovider.New()))
			if err == nil {
				_ = cl.Close(t.Context())
				t.Fatal("New accepted the URL from the environment but not from the option")
			}
			noLeakErr(t, "New (env)", err)
		})
	}
}

// TestCanaryErrorMessagesKeepTheirMeaning: scrubbing removes the key, not
// the provider's explanation, and the caller still gets the provider's own
// error (errors.As works); the event says what happened.
func TestCanaryErrorMessagesKeepTheirMeaning(t *testing.T) {
	is := is.New(t)
	srv := newProviderServer(t)
	cl, err := leanllm.New(leanllm.WithAPIKey(providerKey), leanllm.WithRedactionMode("full"))
	is.NoErr(err)
	defer cl.Close(context.Background())
	srv.Push(testprovider.Reply{Status: 401, ErrorBody: `{"error":{"message":"Incorrect API key provided: ` + provCanary.echo() + `","type":"invalid_request_error"}}`})
	_, err = cl.Chat(t.Context(), "openai/gpt-4o-mini", human("x"))
	is.True(err != nil)
	ev := cl.LastEvent()
	is.Equal(ev.ErrorKind, "provider_error")
	is.Equal(ev.Metadata.ErrorDetail, "auth")
	is.Equal(ev.Metadata.HTTPStatus, 401)
	is.True(strings.Contains(ev.ErrorMessage, "Incorrect API key provided"))
	is.True(strings.Contains(ev.ErrorMessage, "[REDACTED]"))
	noLeak(t, "error_message", ev.ErrorMessage)
	var target interface{ Error() string }
	is.True(errors.As(err, &target))
}

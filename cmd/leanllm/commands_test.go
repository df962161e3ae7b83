package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
)

func TestRunHelpAndUsage(t *testing.T) {
	is := is.New(t)
	var out, errb bytes.Buffer
	is.Equal(run([]string{"--help"}, &out, &errb), exitOK)
	is.True(strings.Contains(out.String(), "leanllm <command>"))
	for _, c := range commands() {
		is.True(strings.Contains(out.String(), "  "+c.name)) // every command listed
		code, stdout, stderr := cli(t, c.name, "--help")
		is.Equal(code, exitOK)
		is.True(strings.HasPrefix(stdout, "Usage:\n  leanllm "+c.name)) // usage on stdout
		is.Equal(stderr, "")
	}
	code, stdout, _ := cli(t, "help", "logs")
	is.Equal(code, exitOK)
	is.True(strings.Contains(stdout, "--follow"))
	golden(t, "help.txt", out.String())
}

func TestExitCodes(t *testing.T) {
	db := fixtureDB(t)
	missing := "sqlite:///" + filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		errText string
	}{
		{"no command", nil, exitUsage, "Commands:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"bad flag", []string{"logs", "--db", db, "--nope"}, exitUsage, "flag provided but not defined: -nope"},
		{"bad limit", []string{"logs", "--db", db, "--limit", "-1"}, exitUsage, "--limit must be >= 0"},
		{"bad since", []string{"logs", "--db", db, "--since", "yesterday"}, exitUsage, `bad time "yesterday"`},
		{"since after until", []string{"logs", "--db", db, "--since", "2026-11-29", "--until", "2026-11-28"}, exitUsage, "must be before"},
		{"bad label", []string{"logs", "--db", db, "--label", "novalue"}, exitUsage, "want key=value"},
		{"extra arg", []string{"logs", "--db", db, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"show without id", []string{"show", "--db", db}, exitUsage, "missing event ID"},
		{"show unknown id", []string{"show", "--db", db, "00000000-0000-0000-0000-000000000000"}, exitNotFound, "no event"},
		{"show ambiguous", []string{"show", "--db", db, "0192f0c4"}, exitUsage, "ambiguous"},
		{"trace unknown", []string{"trace", "--db", db, "no-such-trace"}, exitNotFound, "no events with correlation id"},
		{"stats bad group", []string{"stats", "--db", db, "--by", "color"}, exitUsage, "want model, provider, day or label:KEY"},
		{"migrate no action", []string{"migrate", "--db", db}, exitUsage, "missing action"},
		{"migrate bad action", []string{"migrate", "--db", db, "sideways"}, exitUsage, `unknown action "sideways"`},
		{"missing database", []string{"logs", "--db", missing}, exitError, "no database at " + strings.TrimPrefix(missing, "sqlite:///") + ": run `leanllm demo` or set --db"},
		{"missing default database", []string{"stats", "--db", "sqlite:///no/such/dir/leanllm_events.db"}, exitError, "no database at no/such/dir/leanllm_events.db"},
		{"memory database", []string{"logs", "--db", "sqlite://:memory:"}, exitUsage, "holds nothing between runs"},
		{"bad url", []string{"logs", "--db", "mysql://x"}, exitUsage, "bad database URL"},
		{"replay no content", []string{"replay", "--db", db, idStream}, exitError, "no replayable content"},
		{"replay unknown", []string{"replay", "--db", db, "0192f0c4-0000"}, exitNotFound, "no event"},
		{"replay bad temperature", []string{"replay", "--db", db, "--temperature", "9", idPlain}, exitUsage, "--temperature"},
		{"serve bad size", []string{"serve", "--max-body", "lots"}, exitUsage, "want a positive size"},
		{"serve protect without keys", []string{"serve", "--protect-dashboard"}, exitUsage, "needs at least one key"},
		{"demo live without key", []string{"demo", "--live", "--db", missing}, exitUsage, "--live needs OPENAI_API_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			code, _, stderr := cli(t, tc.args...)
			is.Equal(code, tc.code)
			if !strings.Contains(stderr, tc.errText) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.errText)
			}
		})
	}
	// The read commands never create a missing SQLite file.
	_, err := filepath.Glob(strings.TrimPrefix(missing, "sqlite:///"))
	is.New(t).NoErr(err)
	if m, _ := filepath.Glob(strings.TrimPrefix(missing, "sqlite:///") + "*"); len(m) != 0 {
		t.Errorf("a read command created %v", m)
	}
}

func TestDatabaseFromEnv(t *testing.T) {
	is := is.New(t)
	db := fixtureDB(t)
	t.Setenv("LEANLLM_DATABASE_URL", db)
	code, out, _ := cli(t, "logs", "--limit", "1")
	is.Equal(code, exitOK)
	is.True(strings.Contains(out, "0192f0c4…0005")) // the sampled event is the newest
	// --db wins over the environment.
	code, _, stderr := cli(t, "logs", "--db", "sqlite:///"+filepath.Join(t.TempDir(), "x.db"))
	is.Equal(code, exitError)
	is.True(strings.Contains(stderr, "no database at"))
}

func TestLogs(t *testing.T) {
	db := fixtureDB(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"logs.txt", nil},
		{"logs_model.txt", []string{"--model", "gpt-4o-mini"}},
		{"logs_errors.txt", []string{"--errors-only"}},
		{"logs_label.txt", []string{"--label", "feature=travel-agent", "--label", "team=growth"}},
		{"logs_trace.txt", []string{"--correlation-id", traceID}},
		{"logs_window.txt", []string{"--since", "2026-11-28T10:01:00Z", "--until", "2026-11-28T10:03:02Z"}},
		{"logs_page.txt", []string{"--limit", "2", "--offset", "1"}},
		{"logs_provider.txt", []string{"--provider", "anthropic"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			is := is.New(t)
			code, out, stderr := cli(t, append([]string{"logs", "--db", db}, tc.args...)...)
			is.Equal(stderr, "")
			is.Equal(code, exitOK)
			golden(t, tc.golden, out)
		})
	}
	t.Run("json", func(t *testing.T) {
		is := is.New(t)
		code, out, _ := cli(t, "logs", "--db", db, "--json", "--limit", "0")
		is.Equal(code, exitOK)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		is.Equal(len(lines), len(fixtureEvents()))
		var first core.Event
		is.NoErr(json.Unmarshal([]byte(lines[0]), &first))
		is.Equal(first.EventID, idPlain) // oldest first
		is.Equal(*first.Prompt, "Summarise the plot of Hamlet in one sentence.")
		golden(t, "logs.jsonl", out)
	})
	t.Run("durations", func(t *testing.T) {
		is := is.New(t)
		code, out, _ := cli(t, "logs", "--db", db, "--json", "--since", "100000h")
		is.Equal(code, exitOK)
		is.Equal(strings.Count(out, "\n"), len(fixtureEvents()))
		code, out, stderr := cli(t, "logs", "--db", db, "--since", "15m") // the fixture is older
		is.Equal(code, exitOK)
		is.Equal(out, "")
		is.Equal(stderr, "no events match\n")
	})
}

func TestLogsFollow(t *testing.T) {
	is := is.New(t)
	db := fixtureDB(t)
	ctx, cancel := contextWithCancel(t)
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"logs", "--db", db, "--follow", "--interval", "20ms", "--limit", "1"}, &out, &errb)
	}()
	waitFor(t, func() bool { return strings.Contains(out.String(), "0192f0c4…0005") })
	late := &core.Event{EventID: "0192f0c4-4444-7000-8000-000000000042", Timestamp: time.Now().UTC(), Model: "gpt-4o", Provider: "openai",
		InputTokens: 1, OutputTokens: 2, TotalTokens: 3, LatencyMS: 7, SchemaVersion: 2, Metadata: core.Metadata{SampleRate: 1}}
	writeEvents(ctx, t, db, late)
	waitFor(t, func() bool { return strings.Contains(out.String(), "0192f0c4…0042") })
	cancel()
	is.Equal(<-done, exitOK)
	is.Equal(strings.Count(out.String(), "TIME (UTC)"), 1)    // one header
	is.Equal(strings.Count(out.String(), "0192f0c4…0042"), 1) // printed once
	is.Equal(errb.String(), "")
}

func TestShow(t *testing.T) {
	db := fixtureDB(t)
	for _, tc := range []struct{ golden, ref string }{
		{"show_plain.txt", idPlain},
		{"show_stream.txt", "0192f0c4…0002"}, // the short form logs prints
		{"show_error.txt", "0192f0c4-1111-7000-8000-000000000003"},
		{"show_plan.txt", "0192f0c4-2222-7000-8000-00000000000a"},
		{"show_sampled.txt", "0192f0c4-3333"}, // a unique prefix
	} {
		t.Run(tc.golden, func(t *testing.T) {
			is := is.New(t)
			code, out, stderr := cli(t, "show", "--db", db, tc.ref)
			is.Equal(stderr, "")
			is.Equal(code, exitOK)
			golden(t, tc.golden, out)
		})
	}
	t.Run("json", func(t *testing.T) {
		is := is.New(t)
		code, out, _ := cli(t, "show", idError, "--json", "--db", db) // flags after the id
		is.Equal(code, exitOK)
		var e core.Event
		is.NoErr(json.Unmarshal([]byte(out), &e))
		is.Equal(e.ErrorKind, core.ErrorKindRateLimit)
		is.Equal(e.Metadata.HTTPStatus, 429)
	})
}

func TestTrace(t *testing.T) {
	is := is.New(t)
	db := fixtureDB(t)
	code, out, stderr := cli(t, "trace", "--db", db, traceID)
	is.Equal(stderr, "")
	is.Equal(code, exitOK)
	golden(t, "trace.txt", out)
	// The short form resolves to the same trace.
	code, out2, _ := cli(t, "trace", "--db", db, "0192f0c4…00ff")
	is.Equal(code, exitOK)
	is.Equal(out2, out)

	code, out, _ = cli(t, "trace", "--db", db, "--json", traceID)
	is.Equal(code, exitOK)
	var g struct {
		CorrelationID string `json:"correlation_id"`
		Roots         []struct {
			EventID  string `json:"event_id"`
			Children []struct {
				EventID string `json:"event_id"`
			} `json:"children"`
		} `json:"roots"`
		Totals struct {
			Calls, Tools, TotalTokens int
		} `json:"totals"`
	}
	is.NoErr(json.Unmarshal([]byte(out), &g))
	is.Equal(g.CorrelationID, traceID)
	is.Equal(len(g.Roots), 1)
	is.Equal(g.Roots[0].EventID, idPlan)
	is.Equal(len(g.Roots[0].Children), 2) // the tool step and the answer
}

func TestStats(t *testing.T) {
	db := fixtureDB(t)
	for _, by := range []string{"model", "provider", "label:feature", "day"} {
		t.Run(by, func(t *testing.T) {
			is := is.New(t)
			code, out, stderr := cli(t, "stats", "--db", db, "--by", by)
			is.Equal(stderr, "")
			is.Equal(code, exitOK)
			golden(t, "stats_"+strings.ReplaceAll(by, ":", "_")+".txt", out)
		})
	}
	t.Run("json", func(t *testing.T) {
		is := is.New(t)
		code, out, _ := cli(t, "stats", "--db", db, "--json", "--errors-only")
		is.Equal(code, exitOK)
		var rows []struct {
			Key    string `json:"key"`
			Count  int    `json:"count"`
			Errors int    `json:"errors"`
		}
		is.NoErr(json.Unmarshal([]byte(out), &rows))
		is.Equal(len(rows), 1)
		is.Equal(rows[0].Key, "gpt-4o-mini")
		is.Equal(rows[0].Errors, 1)
	})
	t.Run("scaled", func(t *testing.T) {
		is := is.New(t)
		code, out, _ := cli(t, "stats", "--db", db, "--json", "--label", "feature=healthcheck")
		is.Equal(code, exitOK)
		var rows []struct {
			Count       int     `json:"count"`
			ScaledCount float64 `json:"scaled_count"`
		}
		is.NoErr(json.Unmarshal([]byte(out), &rows))
		is.Equal(rows[0].Count, 1)
		is.Equal(rows[0].ScaledCount, 4.0) // sample_rate 0.25
	})
}

func TestMigrate(t *testing.T) {
	is := is.New(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "sub", "fresh.db")
	code, _, stderr := cli(t, "migrate", "--db", db, "status")
	is.Equal(code, exitError) // status does not create the file
	is.True(strings.Contains(stderr, "no database at"))

	code, out, stderr := cli(t, "migrate", "--db", db, "up")
	is.Equal(stderr, "")
	is.Equal(code, exitOK)
	golden(t, "migrate_up.txt", strings.ReplaceAll(out, db, "DB"))
	code, out, _ = cli(t, "migrate", "--db", db, "up")
	is.Equal(code, exitOK)
	is.Equal(strings.ReplaceAll(out, db, "DB"), "DB is up to date (2 migrations applied)\n")

	code, out, _ = cli(t, "migrate", "status", "--db", db)
	is.Equal(code, exitOK)
	golden(t, "migrate_status.txt", mask(out))
	code, out, _ = cli(t, "migrate", "status", "--json", "--db", db)
	is.Equal(code, exitOK)
	var st []struct {
		Version int  `json:"version"`
		Applied bool `json:"applied"`
	}
	is.NoErr(json.Unmarshal([]byte(out), &st))
	is.Equal(len(st), 2)
	is.True(st[0].Applied && st[1].Applied)

	// Reading an empty, unmigrated file says what to do.
	empty := filepath.Join(t.TempDir(), "empty.db")
	code, _, _ = cli(t, "migrate", "--db", "sqlite:///"+empty, "status")
	is.Equal(code, exitError)
	writeFile(t, empty, "")
	code, _, stderr = cli(t, "logs", "--db", "sqlite:///"+empty)
	is.Equal(code, exitError)
	is.True(strings.Contains(stderr, "leanllm migrate up"))
}

func TestReplay(t *testing.T) {
	is := is.New(t)
	db := fixtureDB(t)
	code, out, stderr := cli(t, "replay", "--db", db, "--model", "gpt-4o", "--temperature", "0.7", "--max-tokens", "64", idPlain)
	is.Equal(stderr, "")
	is.Equal(code, exitOK)
	// Latencies vary: mask them and the column padding they cause.
	golden(t, "replay.txt", regexp.MustCompile(` +`).ReplaceAllString(regexp.MustCompile(`[+-]?<ms>`).ReplaceAllString(mask(out), "<ms>"), " "))

	// The replay is stored, linked to the original.
	code, out, _ = cli(t, "logs", "--db", db, "--json", "--limit", "1")
	is.Equal(code, exitOK)
	var e core.Event
	is.NoErr(json.Unmarshal([]byte(out), &e))
	is.Equal(e.Metadata.ReplayOf, idPlain)
	is.Equal(e.Model, "gpt-4o")
	is.Equal(e.Parameters.Temperature, 0.7)
	is.Equal(e.Parameters.MaxTokens, 64)

	code, out, _ = cli(t, "replay", "--db", db, "--json", idPlain)
	is.Equal(code, exitOK)
	var res struct {
		OriginalID  string `json:"original_id"`
		ReplayID    string `json:"replay_id"`
		Diff        string `json:"diff"`
		TokensDelta int    `json:"tokens_delta"`
	}
	is.NoErr(json.Unmarshal([]byte(out), &res))
	is.Equal(res.OriginalID, idPlain)
	is.True(res.ReplayID != "")
	is.Equal(res.TokensDelta, 4)
	is.True(strings.Contains(res.Diff, "+[offline replay] A Danish prince"))
}

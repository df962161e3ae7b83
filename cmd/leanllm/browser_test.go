package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
)

// chromiumPath is the browser CI installs (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// TestDashboardInBrowser loads the dashboard on the demo's data in headless
// Chromium, opens an event and a trace, and saves screenshots (with
// -update, the overview also to docs/img/dashboard.png for the README).
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: %s not found (install it with: apt-get install -y chromium)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	is := is.New(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := cli(t, "demo", "--db", db)
	is.Equal(code, exitOK)
	is.Equal(stderr, "")
	backfill(t, db, 400)
	s := startServe(t, "--db", db, "--api-key", testKey)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1440, 1000),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	shots := t.TempDir()
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shot := func() []byte {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// The overview.
	run(chromedp.Navigate(s.URL+"/?range=24h"), chromedp.WaitVisible(chromedp.CSS(`section.cards`)))
	is.Equal(get(chromedp.Title()), "Overview · LeanLLM")
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart rect").length`))
	is.NoErr(err)
	is.True(bars > 24) // the backfilled day draws bars
	overview := shot()

	// The events list, then an event.
	run(chromedp.Navigate(s.URL+"/events?label=demo_step%3Dredaction"), chromedp.WaitVisible(chromedp.CSS(`table.events`)),
		chromedp.Click(chromedp.CSS(`table.events tbody tr td a.mono`)), chromedp.WaitVisible(chromedp.CSS(`pre.content`)))
	is.True(strings.HasPrefix(get(chromedp.Text(chromedp.CSS(`h1`))), "Event "))
	is.True(strings.Contains(get(chromedp.Text(chromedp.CSS(`pre.content`))), "[EMAIL]"))
	event := shot()

	// The traces list, then the trace.
	run(chromedp.Navigate(s.URL+"/traces"), chromedp.WaitVisible(chromedp.CSS(`table.data`)),
		chromedp.Click(chromedp.CSS(`table.data tbody tr td a.mono`)), chromedp.WaitVisible(chromedp.CSS(`ul.tree`)))
	is.True(strings.HasPrefix(get(chromedp.Text(chromedp.CSS(`h1`))), "Trace "))
	nodes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("ul.tree .node").length`))
	is.NoErr(err)
	is.Equal(nodes, 4) // plan, tool, answer, review
	trace := shot()

	for name, b := range map[string][]byte{"overview.png": overview, "event.png": event, "trace.png": trace} {
		is.True(len(b) > 10_000)
		is.NoErr(os.WriteFile(filepath.Join(shots, name), b, 0o644))
	}
	t.Logf("screenshots in %s", shots)
	if *update {
		is.NoErr(os.MkdirAll(filepath.Join("..", "..", "docs", "img"), 0o755))
		is.NoErr(os.WriteFile(filepath.Join("..", "..", "docs", "img", "dashboard.png"), overview, 0o644))
	}
}

// backfill writes n plausible events spread over the last 24 hours, so the
// overview's charts have a history to draw.
func backfill(t *testing.T, db string, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	models := []struct {
		model, provider string
		in, out         float64 // USD per token
		lat             float64 // typical latency, ms
	}{
		{"gpt-4o-mini", "openai", 0.15e-6, 0.6e-6, 700},
		{"gpt-4o", "openai", 2.5e-6, 10e-6, 1400},
		{"anthropic/claude-3-5-haiku-latest", "anthropic", 0.8e-6, 4e-6, 900},
		{"gemini/gemini-1.5-flash", "googleai", 0.075e-6, 0.3e-6, 600},
	}
	features := []string{"search", "summarise", "support-reply", "translate", "travel-agent"}
	kinds := []string{core.ErrorKindRateLimit, core.ErrorKindTimeout, core.ErrorKindProviderError}
	now := time.Now().UTC()
	events := make([]*core.Event, 0, n)
	for i := range n {
		m := models[min(r.IntN(len(models)+2), len(models)-1)%len(models)]
		// More traffic during the (UTC) day.
		ago := time.Duration(r.Float64()*r.Float64()*24*float64(time.Hour)) + time.Minute
		in, out := 50+r.IntN(1500), 20+r.IntN(600)
		e := &core.Event{
			EventID:   fmt.Sprintf("0192f0c4-bf00-7000-8000-%012d", i),
			Timestamp: now.Add(-ago), Model: m.model, Provider: m.provider,
			InputTokens: in, OutputTokens: out, TotalTokens: in + out,
			Cost:      float64(in)*m.in + float64(out)*m.out,
			LatencyMS: int64(m.lat * (0.4 + r.ExpFloat64())),
			Labels:    map[string]string{"feature": features[r.IntN(len(features))], "team": []string{"growth", "support", "platform"}[r.IntN(3)]},
			Metadata:  core.Metadata{SampleRate: 1, CallKind: "chat"}, SchemaVersion: 2,
		}
		if r.IntN(20) == 0 {
			e.ErrorKind = kinds[r.IntN(len(kinds))]
			e.ErrorMessage = "scripted failure"
			e.InputTokens, e.OutputTokens, e.TotalTokens, e.Cost = 0, 0, 0, 0
		}
		events = append(events, e)
	}
	writeEvents(t.Context(), t, db, events...)
}

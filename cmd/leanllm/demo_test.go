package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
)

var (
	spacesRE  = regexp.MustCompile(`  +`)
	sampledRE = regexp.MustCompile(`\b\d+ of 20 calls recorded|\+ \d+ sampled|Captured \d+ events \(\d+ stored`)
)

// maskDemo masks what varies between demo runs: ids, ports, latencies, how
// many sampled calls were kept, and the padding of the masked columns.
func maskDemo(s string) string {
	s = mask(s)
	s = sampledRE.ReplaceAllStringFunc(s, func(m string) string { return regexp.MustCompile(`\d+`).ReplaceAllString(m, "N") })
	s = strings.ReplaceAll(s, "of N calls", "of 20 calls")
	return spacesRE.ReplaceAllString(s, "  ")
}

func TestDemo(t *testing.T) {
	is := is.New(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "demo.db")
	code, out, stderr := cli(t, "demo", "--db", db)
	is.Equal(stderr, "")
	is.Equal(code, exitOK)
	golden(t, "demo.txt", maskDemo(strings.ReplaceAll(out, db, "DB")))

	// What the demo printed is what it stored.
	code, logs, _ := cli(t, "logs", "--db", db, "--json", "--limit", "0")
	is.Equal(code, exitOK)
	var events []core.Event
	for line := range strings.Lines(logs) {
		var e core.Event
		is.NoErr(json.Unmarshal([]byte(line), &e))
		events = append(events, e)
	}
	steps := map[string]int{}
	var trace []core.Event
	for _, e := range events {
		steps[e.Labels[demoStep]]++
		if e.CorrelationID != "" {
			trace = append(trace, e)
		}
	}
	is.Equal(steps["plain"], 3)
	is.Equal(steps["stream"], 1)
	is.Equal(steps["error"], 1)
	is.Equal(steps["chain"], 4) // three calls and the tool step
	is.Equal(steps["redaction"], 1)
	is.True(steps["sampling"] <= demoSamples)
	is.True(strings.Contains(out, "Captured "+itoa(len(events))+" events ("+itoa(len(events))+" stored, 0 dropped)"))

	// The chain: one correlation id, each call's parent the previous call,
	// the tool step a child of the call that asked for it.
	is.Equal(len(trace), 4)
	byStep := map[string]core.Event{}
	for _, e := range trace {
		is.Equal(e.CorrelationID, trace[0].CorrelationID)
		byStep[e.Labels["step"]] = e
	}
	is.Equal(byStep["plan"].ParentRequestID, "")
	is.Equal(byStep["tool"].ParentRequestID, byStep["plan"].EventID)
	is.Equal(byStep["tool"].Metadata.CallKind, "tool")
	is.Equal(byStep["answer"].ParentRequestID, byStep["plan"].EventID)
	is.Equal(byStep["review"].ParentRequestID, byStep["answer"].EventID)
	is.Equal(len(byStep["plan"].Tools), 1)

	for _, e := range events {
		switch e.Labels[demoStep] {
		case "stream":
			is.True(e.TimeToFirstTokenMS.Valid)
			is.True(e.Metadata.Stream)
		case "error":
			is.Equal(e.ErrorKind, core.ErrorKindRateLimit)
			is.Equal(e.Metadata.HTTPStatus, 429)
		case "sampling":
			is.Equal(e.Metadata.SampleRate, demoSampleRate)
		case "redaction":
			is.Equal(*e.Prompt, "Email [EMAIL] or call [PHONE] about the refund on card [CARD].")
			is.Equal(e.Metadata.RedactionMode, "redacted")
		}
	}

	// The hints it prints work.
	for _, hint := range regexp.MustCompile(`(?m)^  (leanllm (?:show|trace|replay) \S+)`).FindAllStringSubmatch(out, -1) {
		args := append(strings.Fields(hint[1])[1:], "--db", db)
		code, _, stderr := cli(t, args...)
		is.Equal(stderr, "")
		is.Equal(code, exitOK)
	}
	// A plain call replays offline.
	var plain string
	for _, e := range events {
		if e.Labels[demoStep] == "plain" {
			plain = e.EventID
			break
		}
	}
	code, _, stderr = cli(t, "replay", "--db", db, plain)
	is.Equal(stderr, "")
	is.Equal(code, exitOK)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

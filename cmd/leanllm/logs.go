package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

const logsAbout = `List stored events, oldest first: the most recent --limit events matching
the filters (skipping the --offset most recent ones). --json prints one event
per line in the wire format (the same JSON the collector accepts).
--follow keeps polling the store and prints new events as they land; stop
it with Ctrl-C.`

// followLookback is how far back --follow looks for events that land late
// (an event's timestamp is its call's start; a long call lands after
// shorter ones that started later).
const followLookback = 10 * time.Minute

func (a *app) logs(ctx context.Context, args []string) error {
	f := a.newFlags("logs", "leanllm logs [flags]", logsAbout).withDB()
	ff := f.filterFlags()
	asJSON := f.Bool("json", false, "one JSON event per line")
	limit := f.Int("limit", 50, "at most this many events (0 = all)")
	offset := f.Int("offset", 0, "skip this many of the most recent matching events")
	follow := f.Bool("follow", false, "keep printing new events as they are stored (poll)")
	interval := f.Duration("interval", time.Second, "poll interval of --follow")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	if err := checkNonNegative("limit", *limit); err != nil {
		return err
	}
	if err := checkNonNegative("offset", *offset); err != nil {
		return err
	}
	if *follow && *interval <= 0 {
		return usageErr("--interval must be > 0")
	}
	filter, err := ff.filter(a)
	if err != nil {
		return err
	}
	store, err := openRead(ctx, f.dbURL())
	if err != nil {
		return err
	}
	defer store.Close()

	filter.Limit, filter.Offset = *limit, *offset
	events, err := store.ListEvents(ctx, filter)
	if err != nil {
		return hintSchema(err)
	}
	slices.Reverse(events) // oldest first
	out := newEventPrinter(a.stdout, *asJSON)
	if !*asJSON && len(events) == 0 && !*follow {
		fmt.Fprintln(a.stderr, "no events match")
		return nil
	}
	if err := out.print(events); err != nil {
		return err
	}
	if !*follow {
		return nil
	}
	return a.followLogs(ctx, store, filter, events, out, *interval)
}

// followLogs polls for events newer than those printed.
func (a *app) followLogs(ctx context.Context, r persist.Reader, filter persist.Filter, printed []*core.Event, out *eventPrinter, interval time.Duration) error {
	seen := map[string]time.Time{}
	var newest time.Time
	for _, e := range printed {
		seen[e.EventID] = e.Timestamp
		if e.Timestamp.After(newest) {
			newest = e.Timestamp
		}
	}
	if newest.IsZero() {
		newest = a.now().UTC()
	}
	filter.Offset, filter.Limit = 0, 0
	until := filter.Until
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		from := newest.Add(-followLookback)
		if filter.Since.IsZero() || from.After(filter.Since) {
			filter.Since = from
		}
		filter.Until = until
		events, err := r.ListEvents(ctx, filter)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return hintSchema(err)
		}
		slices.Reverse(events)
		var fresh []*core.Event
		for _, e := range events {
			if _, ok := seen[e.EventID]; ok {
				continue
			}
			seen[e.EventID] = e.Timestamp
			fresh = append(fresh, e)
			if e.Timestamp.After(newest) {
				newest = e.Timestamp
			}
		}
		// Forget ids that fell out of the look-back window.
		for id, ts := range seen {
			if ts.Before(newest.Add(-2 * followLookback)) {
				delete(seen, id)
			}
		}
		if err := out.print(fresh); err != nil {
			return err
		}
	}
}

// eventPrinter prints events as a table (header once) or JSON lines.
type eventPrinter struct {
	w      io.Writer
	json   bool
	header bool
}

func newEventPrinter(w io.Writer, asJSON bool) *eventPrinter {
	return &eventPrinter{w: w, json: asJSON}
}

func (p *eventPrinter) print(events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	if p.json {
		enc := json.NewEncoder(p.w)
		enc.SetEscapeHTML(false)
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	if !p.header {
		p.header = true
		if _, err := fmt.Fprintln(p.w, strings.TrimRight(fmt.Sprintf(logsRow, "TIME (UTC)", "ID", "MODEL", "PROVIDER", "TOKENS", "COST", "LATENCY", "TTFT", "STATUS", "TRACE"), " ")); err != nil {
			return err
		}
	}
	for _, e := range events {
		trace := "-"
		if e.CorrelationID != "" {
			trace = view.ShortID(e.CorrelationID)
		}
		line := fmt.Sprintf(logsRow,
			view.Time(e.Timestamp), view.ShortID(e.EventID), view.Truncate(e.Model, 28), view.Truncate(orDash(e.Provider), 10),
			view.Tokens(e), view.Cost(e.Cost), view.MS(e.LatencyMS), view.TTFT(e), view.Truncate(view.Status(e), 14), trace)
		if _, err := fmt.Fprintln(p.w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

// logsRow has fixed column widths so that --follow stays aligned.
const logsRow = "%-19s  %-13s  %-28s  %-10s  %11s  %10s  %8s  %7s  %-14s  %s"

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

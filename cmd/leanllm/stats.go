package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/persist"
)

const statsAbout = `Aggregate stored events by model, provider, label:KEY or day: calls,
scaled calls (sampled events count 1/sample_rate), errors, tokens, cost and
p50/p95 latency. The filters are those of logs.`

func (a *app) stats(ctx context.Context, args []string) error {
	f := a.newFlags("stats", "leanllm stats [flags]", statsAbout).withDB()
	by := f.String("by", "model", "group by model, provider, day or label:KEY")
	ff := f.filterFlags()
	asJSON := f.Bool("json", false, "print the rows as a JSON array")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	if err := view.GroupBy(*by); err != nil {
		return usageErr("--by: %v", err)
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
	rows, err := store.Aggregate(ctx, persist.AggregateQuery{By: *by, Filter: filter})
	if err != nil {
		return hintSchema(err)
	}
	if *asJSON {
		if rows == nil {
			rows = []persist.AggregateRow{}
		}
		return writeJSON(a.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(a.stderr, "no events match")
		return nil
	}
	// Right-aligned numbers; the key column is padded to read left-aligned.
	keyW := len("TOTAL")
	for _, r := range rows {
		keyW = max(keyW, utf8.RuneCountInString(rowKey(r.Key)), utf8.RuneCountInString(groupTitle(*by)))
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tCALLS\tSCALED\tERRORS\tIN TOKENS\tOUT TOKENS\tCOST\tP50\tP95\t\n", keyW, groupTitle(*by))
	var total persist.AggregateRow
	for _, r := range rows {
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", keyW, rowKey(r.Key), view.Int(r.Count), view.Float(r.ScaledCount),
			view.Int(r.Errors), view.Int(r.InputTokens), view.Int(r.OutputTokens), view.Cost(r.Cost),
			view.MSf(r.LatencyP50MS), view.MSf(r.LatencyP95MS))
		total.Count += r.Count
		total.ScaledCount += r.ScaledCount
		total.Errors += r.Errors
		total.InputTokens += r.InputTokens
		total.OutputTokens += r.OutputTokens
		total.Cost += r.Cost
	}
	if len(rows) > 1 {
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t%s\t%s\t%s\t%s\t\t\t\n", keyW, "TOTAL", view.Int(total.Count), view.Float(total.ScaledCount),
			view.Int(total.Errors), view.Int(total.InputTokens), view.Int(total.OutputTokens), view.Cost(total.Cost))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// AlignRight pads every line on the left: drop that margin.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(a.stdout, strings.TrimRight(strings.TrimPrefix(line, "  "), " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func rowKey(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}

func groupTitle(by string) string {
	switch by {
	case "model":
		return "MODEL"
	case "provider":
		return "PROVIDER"
	case "day":
		return "DAY"
	}
	return "LABEL " + by[len("label:"):]
}

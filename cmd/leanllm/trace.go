package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/lineage"
	"github.com/leanllm/leanllm-go/persist"
)

const traceAbout = `Draw the execution tree of a trace: the events sharing CORRELATION_ID,
linked by parent_request_id, in start order. Each node shows its event id
(first 8 and last 4 characters), model, tokens (in+out), cost and latency;
a node with children also shows its subtree's totals (Σ). CORRELATION_ID
may be shortened as logs prints it. --json prints the graph.
Exit code 3 when no event has this correlation id.`

func (a *app) trace(ctx context.Context, args []string) error {
	f := a.newFlags("trace", "leanllm trace [flags] CORRELATION_ID", traceAbout).withDB()
	asJSON := f.Bool("json", false, "print the graph as JSON")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "correlation id"); err != nil {
		return err
	}
	store, err := openRead(ctx, f.dbURL())
	if err != nil {
		return err
	}
	defer store.Close()
	g, err := loadTrace(ctx, store, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, g)
	}
	return drawTrace(a.stdout, g)
}

// traceLimit bounds how many events of one trace are loaded.
const traceLimit = 100000

// loadTrace builds the graph of a correlation id (or of the unique recent
// one it abbreviates).
func loadTrace(ctx context.Context, r persist.Reader, ref string) (*lineage.Graph, error) {
	ref = strings.TrimSpace(ref)
	events, err := r.ListEvents(ctx, persist.Filter{CorrelationID: ref, Limit: traceLimit})
	if err != nil {
		return nil, hintSchema(err)
	}
	id := ref
	if len(events) == 0 && len(ref) >= 4 && len(ref) < 36 {
		id, err = resolveCorrelationID(ctx, r, ref)
		if err != nil {
			return nil, err
		}
		if events, err = r.ListEvents(ctx, persist.Filter{CorrelationID: id, Limit: traceLimit}); err != nil {
			return nil, hintSchema(err)
		}
	}
	if len(events) == 0 {
		return nil, notFound(fmt.Errorf("no events with correlation id %q (list traces with `leanllm logs`)", ref))
	}
	return lineage.Build(id, events), nil
}

func resolveCorrelationID(ctx context.Context, r persist.Reader, ref string) (string, error) {
	recent, err := r.ListEvents(ctx, persist.Filter{Limit: 20000})
	if err != nil {
		return "", hintSchema(err)
	}
	found := map[string]bool{}
	for _, e := range recent {
		if e.CorrelationID != "" && view.MatchID(e.CorrelationID, ref) {
			found[e.CorrelationID] = true
		}
	}
	switch len(found) {
	case 0:
		return "", notFound(fmt.Errorf("no events with correlation id %q (list traces with `leanllm logs`)", ref))
	case 1:
		for id := range found {
			return id, nil
		}
	}
	return "", usageErr("correlation id %q is ambiguous: %d traces match: give more characters", ref, len(found))
}

// drawTrace prints the tree with box-drawing characters.
func drawTrace(w io.Writer, g *lineage.Graph) error {
	t := g.Totals
	fmt.Fprintf(w, "trace %s\n", g.CorrelationID)
	fmt.Fprintf(w, "%s · %s tokens · %s · %s in calls · %s wall\n",
		countsText(t), view.Int(int64(t.TotalTokens)), view.Cost(t.Cost), view.MS(t.LatencyMS), view.MS(t.WallMS))
	if g.Orphans > 0 {
		fmt.Fprintf(w, "%d event(s) whose parent is not in this trace are shown as roots (marked orphan)\n", g.Orphans)
	}
	if g.CyclesBroken > 0 {
		fmt.Fprintf(w, "%d parent cycle(s) were cut (marked cycle)\n", g.CyclesBroken)
	}
	fmt.Fprintln(w)
	var b strings.Builder
	for i, r := range g.Roots {
		if i > 0 {
			b.WriteByte('\n')
		}
		drawNode(&b, r, "", "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// drawNode writes n and its children. prefix is the indentation of n's
// line; root nodes get no connector.
func drawNode(b *strings.Builder, n *lineage.Node, prefix, connector string) {
	b.WriteString(prefix)
	b.WriteString(connector)
	b.WriteString(nodeLine(n))
	b.WriteByte('\n')
	childPrefix := prefix
	switch connector {
	case "├─ ":
		childPrefix += "│  "
	case "└─ ":
		childPrefix += "   "
	}
	if len(n.Children) > 0 {
		s := n.Subtree
		b.WriteString(childPrefix)
		b.WriteString("│  ")
		fmt.Fprintf(b, "Σ %s · %s tok · %s · %s wall\n", countsText(s), view.Int(int64(s.TotalTokens)), view.Cost(s.Cost), view.MS(s.WallMS))
	}
	for i, c := range n.Children {
		conn := "├─ "
		if i == len(n.Children)-1 {
			conn = "└─ "
		}
		drawNode(b, c, childPrefix, conn)
	}
}

// nodeLine is one node: id, what it is, figures, status.
func nodeLine(n *lineage.Node) string {
	var b strings.Builder
	b.WriteString(view.ShortID(n.EventID))
	b.WriteString("  ")
	if n.Kind == lineage.KindTool {
		fmt.Fprintf(&b, "tool %s  %s", toolName(n), view.MS(n.LatencyMS))
	} else {
		model := n.Model
		if n.Provider != "" && !strings.HasPrefix(model, n.Provider+"/") {
			model += " (" + n.Provider + ")"
		}
		fmt.Fprintf(&b, "%s  %s+%s tok  %s  %s", model, view.Int(int64(n.Tokens.Input)), view.Int(int64(n.Tokens.Output)), view.Cost(n.Cost), view.MS(n.LatencyMS))
		if e := n.Event; e != nil && e.TimeToFirstTokenMS.Valid {
			fmt.Fprintf(&b, " (ttft %s)", view.MS(e.TimeToFirstTokenMS.Int64))
		}
	}
	if n.ErrorKind != "" {
		fmt.Fprintf(&b, "  ✗ %s", n.ErrorKind)
		if n.ErrorMessage != "" {
			fmt.Fprintf(&b, ": %s", view.Truncate(n.ErrorMessage, 60))
		}
	}
	if len(n.ToolCalls) > 0 {
		names := make([]string, len(n.ToolCalls))
		for i, tc := range n.ToolCalls {
			names[i] = cmp.Or(tc.Name, tc.ID, "a tool")
		}
		fmt.Fprintf(&b, "  → calls %s", strings.Join(names, ", "))
	}
	if n.Orphan {
		b.WriteString("  [orphan: parent " + view.ShortID(n.ParentRequestID) + " not in trace]")
	}
	if n.CycleBroken {
		b.WriteString("  [cycle]")
	}
	return b.String()
}

// toolName is the name of a tool step: its model field, else a "tool" label.
func toolName(n *lineage.Node) string {
	if e := n.Event; e != nil {
		if t := e.Labels["tool"]; t != "" && n.Model == "" {
			return t
		}
	}
	return orDash(n.Model)
}

func countsText(t lineage.Totals) string {
	s := plural(t.Calls, "call")
	if t.Tools > 0 {
		s += ", " + plural(t.Tools, "tool step")
	}
	if t.Errors > 0 {
		s += ", " + plural(t.Errors, "error")
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return view.Int(int64(n)) + " " + word + "s"
}

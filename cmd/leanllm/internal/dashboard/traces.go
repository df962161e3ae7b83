package dashboard

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/lineage"
	"github.com/leanllm/leanllm-go/persist"
)

// Bounds of the trace pages.
const (
	tracesScan    = 5000   // recent events grouped into the traces list
	tracesShown   = 100    // traces listed
	traceMaxNodes = 100000 // events loaded for one trace
)

// TraceSummary is one row of the traces list.
type TraceSummary struct {
	ID       string
	Start    time.Time
	End      time.Time
	Events   int
	Errors   int
	Tokens   int
	Cost     float64
	Models   string
	WallMS   int64
	Features string
}

type tracesData struct {
	Traces  []TraceSummary
	Scanned int
	Capped  bool
}

func (d *Dashboard) traces(w http.ResponseWriter, r *http.Request) {
	events, err := d.cfg.Reader.ListEvents(r.Context(), persist.Filter{Limit: tracesScan})
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	byID := map[string]*TraceSummary{}
	models := map[string]map[string]bool{}
	features := map[string]map[string]bool{}
	for _, e := range events {
		if e.CorrelationID == "" {
			continue
		}
		t := byID[e.CorrelationID]
		if t == nil {
			t = &TraceSummary{ID: e.CorrelationID, Start: e.Timestamp, End: e.Timestamp}
			byID[e.CorrelationID] = t
			models[e.CorrelationID] = map[string]bool{}
			features[e.CorrelationID] = map[string]bool{}
		}
		t.Events++
		if e.IsError() {
			t.Errors++
		}
		t.Tokens += e.TotalTokens
		t.Cost += e.Cost
		if e.Timestamp.Before(t.Start) {
			t.Start = e.Timestamp
		}
		if end := e.Timestamp.Add(time.Duration(e.LatencyMS) * time.Millisecond); end.After(t.End) {
			t.End = end
		}
		if e.Model != "" && e.Metadata.CallKind != lineage.KindTool {
			models[e.CorrelationID][e.Model] = true
		}
		if f := e.Labels["feature"]; f != "" {
			features[e.CorrelationID][f] = true
		}
	}
	list := make([]TraceSummary, 0, len(byID))
	for id, t := range byID {
		t.Models = strings.Join(slices.Sorted(maps.Keys(models[id])), ", ")
		t.Features = strings.Join(slices.Sorted(maps.Keys(features[id])), ", ")
		t.WallMS = t.End.Sub(t.Start).Milliseconds()
		list = append(list, *t)
	}
	slices.SortFunc(list, func(a, b TraceSummary) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	data := tracesData{Scanned: len(events), Capped: len(events) == tracesScan}
	data.Traces = list[:min(len(list), tracesShown)]
	d.render(w, r, http.StatusOK, "traces", "Traces", "traces", data)
}

// TreeNode is a lineage node with its waterfall bar.
type TreeNode struct {
	*lineage.Node
	Kids []*TreeNode
	// BarX and BarW place the node's span on the trace's time line, in
	// percent.
	BarX, BarW float64
	OffsetMS   int64
	Stream     bool
	TTFT       string
}

type traceData struct {
	G     *lineage.Graph
	Roots []*TreeNode
	Start time.Time
	Count int
}

func (d *Dashboard) trace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	events, err := d.cfg.Reader.ListEvents(r.Context(), persist.Filter{CorrelationID: id, Limit: traceMaxNodes})
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	if len(events) == 0 {
		d.fail(w, r, http.StatusNotFound, "No event has the correlation id "+strconv.Quote(id)+".")
		return
	}
	g := lineage.Build(id, events)
	start := events[0].Timestamp
	for _, e := range events {
		if e.Timestamp.Before(start) {
			start = e.Timestamp
		}
	}
	wall := max(g.Totals.WallMS, 1)
	var build func(n *lineage.Node) *TreeNode
	build = func(n *lineage.Node) *TreeNode {
		off := n.Timestamp.Sub(start).Milliseconds()
		t := &TreeNode{Node: n, OffsetMS: off}
		t.BarX = round1(100 * float64(off) / float64(wall))
		t.BarW = round1(max(0.6, 100*float64(n.LatencyMS)/float64(wall)))
		if t.BarX+t.BarW > 100 {
			t.BarX = max(0, 100-t.BarW)
		}
		if e := n.Event; e != nil && e.TimeToFirstTokenMS.Valid {
			t.Stream, t.TTFT = true, view.MS(e.TimeToFirstTokenMS.Int64)
		}
		for _, c := range n.Children {
			t.Kids = append(t.Kids, build(c))
		}
		return t
	}
	data := traceData{G: g, Start: start, Count: g.Len()}
	for _, root := range g.Roots {
		data.Roots = append(data.Roots, build(root))
	}
	d.render(w, r, http.StatusOK, "trace", "Trace "+view.ShortID(id), "traces", data)
}

package dashboard

import (
	"cmp"
	"context"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

// overviewLimit bounds the events read to draw the time series.
const overviewLimit = 50000

// Ranges are the overview's time ranges.
var ranges = []struct {
	Key   string
	Label string
	Span  time.Duration // 0 = all time
}{
	{"1h", "Last hour", time.Hour},
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
	{"all", "All time", 0},
}

// RangeLink is one range choice.
type RangeLink struct {
	Key, Label, Href string
	Active           bool
}

// Card is a headline figure.
type Card struct {
	Label, Value, Sub string
	Alert             bool
}

// GroupRow is an aggregate row with its bars.
type GroupRow struct {
	persist.AggregateRow
	Href    string
	CostPct float64
	CallPct float64
	ErrPct  string
}

// Health is the delivery health panel.
type Health struct {
	StoreOK     bool
	StoreErr    string
	HasWriter   bool
	Stats       persist.WriterStats
	Dropped     []KV
	HasMetrics  bool
	Received    int64
	Accepted    int64
	Rejected    int64
	Requests    []KV
	WriteP50    string
	WriteP95    string
	Collector   string
	Unaccounted int64
}

type overviewData struct {
	Ranges     []RangeLink
	Range      string
	Cards      []Card
	Calls      Chart
	Cost       Chart
	Tokens     Chart
	Models     []GroupRow
	LabelKey   string
	LabelKeys  []RangeLink
	LabelRows  []GroupRow
	ErrorKinds []HBar
	Latency    []KV
	Health     Health
	Capped     bool
	Scanned    int
	Empty      bool
	Bucket     string
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	rk := q.Get("range")
	idx := slices.IndexFunc(ranges, func(x struct {
		Key   string
		Label string
		Span  time.Duration
	}) bool {
		return x.Key == rk
	})
	if idx < 0 {
		idx, rk = 1, "24h"
	}
	rng := ranges[idx]
	now := d.cfg.Now().UTC()
	var since time.Time
	if rng.Span > 0 {
		since = now.Add(-rng.Span)
	}
	filter := persist.Filter{Since: since}

	data := overviewData{Range: rng.Label}
	for _, x := range ranges {
		v := url.Values{"range": {x.Key}}
		if lk := q.Get("label"); lk != "" {
			v.Set("label", lk)
		}
		data.Ranges = append(data.Ranges, RangeLink{Key: x.Key, Label: x.Label, Href: "/?" + v.Encode(), Active: x.Key == rk})
	}

	lf := filter
	lf.Limit = overviewLimit
	events, err := d.cfg.Reader.ListEvents(ctx, lf)
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	data.Scanned, data.Capped = len(events), len(events) == overviewLimit
	data.Empty = len(events) == 0
	data.Health = d.health(ctx)

	// Headline cards and latency percentiles from the events.
	var calls, scaled, errs, tokens, streams float64
	var cost, scaledCost float64
	lat := make([]float64, 0, len(events))
	var ttft []float64
	kinds := map[string]float64{}
	labelKeys := map[string]int{}
	for _, e := range events {
		calls++
		scaled += scale(e)
		if e.IsError() {
			errs++
			kinds[e.ErrorKind]++
		}
		tokens += float64(e.TotalTokens)
		cost += e.Cost
		scaledCost += e.Cost * scale(e)
		lat = append(lat, float64(e.LatencyMS))
		if e.TimeToFirstTokenMS.Valid {
			streams++
			ttft = append(ttft, float64(e.TimeToFirstTokenMS.Int64))
		}
		for k := range e.Labels {
			labelKeys[k]++
		}
	}
	errRate := "0%"
	if calls > 0 {
		errRate = view.Float(100*errs/calls) + "%"
	}
	sort.Float64s(lat)
	sort.Float64s(ttft)
	data.Cards = []Card{
		{Label: "Calls", Value: view.Int(int64(calls)), Sub: "≈ " + view.Float(math.Round(scaled)) + " before sampling"},
		{Label: "Errors", Value: view.Int(int64(errs)), Sub: errRate + " of calls", Alert: errs > 0},
		{Label: "Cost", Value: view.Cost(cost), Sub: "≈ " + view.Cost(scaledCost) + " before sampling"},
		{Label: "Tokens", Value: view.Int(int64(tokens)), Sub: view.Int(int64(tokens/max(calls, 1))) + " per call"},
		{Label: "Latency p50 / p95", Value: view.MSf(percentile(lat, 0.5)) + " / " + view.MSf(percentile(lat, 0.95)), Sub: "p99 " + view.MSf(percentile(lat, 0.99))},
	}
	if streams > 0 {
		data.Cards = append(data.Cards, Card{Label: "Time to first token p50", Value: view.MSf(percentile(ttft, 0.5)), Sub: plural(int64(streams), "stream")})
	}
	data.Latency = []KV{
		{"p50", view.MSf(percentile(lat, 0.5))}, {"p90", view.MSf(percentile(lat, 0.9))},
		{"p95", view.MSf(percentile(lat, 0.95))}, {"p99", view.MSf(percentile(lat, 0.99))},
		{"max", view.MSf(percentile(lat, 1))},
	}
	kk := slices.SortedFunc(maps.Keys(kinds), func(a, b string) int { return cmp.Compare(kinds[b], kinds[a]) })
	kv := make([]float64, len(kk))
	for i, k := range kk {
		kv[i] = kinds[k]
	}
	data.ErrorKinds = hbars(kk, kv, fmtCount)
	for i := range data.ErrorKinds {
		data.ErrorKinds[i].Href = "/events?" + url.Values{"errors": {"1"}}.Encode()
	}

	// Time series.
	d.series(&data, events, since, now)

	// By model and by label, exact, from the store's aggregates.
	models, err := d.cfg.Reader.Aggregate(ctx, persist.AggregateQuery{By: "model", Filter: filter})
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	data.Models = groupRows(models, func(k string) string { return "/events?" + url.Values{"model": {k}}.Encode() })

	keys := slices.SortedFunc(maps.Keys(labelKeys), func(a, b string) int {
		if c := cmp.Compare(labelKeys[b], labelKeys[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	lk := q.Get("label")
	if lk == "" && len(keys) > 0 {
		lk = keys[0]
		if slices.Contains(keys, "feature") {
			lk = "feature"
		}
	}
	data.LabelKey = lk
	for _, k := range keys[:min(len(keys), 12)] {
		v := url.Values{"range": {rk}, "label": {k}}
		data.LabelKeys = append(data.LabelKeys, RangeLink{Key: k, Label: k, Href: "/?" + v.Encode() + "#labels", Active: k == lk})
	}
	if lk != "" {
		byLabel, err := d.cfg.Reader.Aggregate(ctx, persist.AggregateQuery{By: "label:" + lk, Filter: filter})
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		data.LabelRows = groupRows(byLabel, func(v string) string {
			if v == "" {
				return ""
			}
			return "/events?" + url.Values{"label": {lk + "=" + v}}.Encode()
		})
	}
	d.render(w, r, http.StatusOK, "overview", "Overview", "overview", data)
}

// scale is how many calls an event stands for.
func scale(e *core.Event) float64 {
	if sr := e.Metadata.SampleRate; sr > 0 && sr <= 1 {
		return 1 / sr
	}
	return 1
}

func groupRows(rows []persist.AggregateRow, href func(string) string) []GroupRow {
	slices.SortFunc(rows, func(a, b persist.AggregateRow) int {
		if c := cmp.Compare(b.Cost, a.Cost); c != 0 {
			return c
		}
		return cmp.Compare(b.Count, a.Count)
	})
	var maxCost float64
	var maxCalls int64
	for _, r := range rows {
		maxCost = math.Max(maxCost, r.Cost)
		maxCalls = max(maxCalls, r.Count)
	}
	out := make([]GroupRow, len(rows))
	for i, r := range rows {
		g := GroupRow{AggregateRow: r, Href: href(r.Key), ErrPct: "0%"}
		if maxCost > 0 {
			g.CostPct = round1(math.Max(0.5, 100*r.Cost/maxCost))
		}
		if maxCalls > 0 {
			g.CallPct = round1(math.Max(0.5, 100*float64(r.Count)/float64(maxCalls)))
		}
		if r.Count > 0 {
			g.ErrPct = view.Float(100*float64(r.Errors)/float64(r.Count)) + "%"
		}
		out[i] = g
	}
	return out
}

// series fills the calls, cost and tokens charts.
func (d *Dashboard) series(data *overviewData, events []*core.Event, since, now time.Time) {
	from := since
	if from.IsZero() {
		from = now
		for _, e := range events {
			if e.Timestamp.Before(from) {
				from = e.Timestamp
			}
		}
	}
	span := now.Sub(from)
	size := pickBucket(span, 48)
	start := from.Truncate(size)
	n := int(now.Sub(start)/size) + 1
	n = max(1, min(n, 400))
	data.Bucket = bucketName(size)
	labels := make([]string, n)
	tips := make([]string, n)
	for i := range n {
		t := start.Add(time.Duration(i) * size)
		labels[i] = bucketLabel(t, size)
		tips[i] = bucketTip(t, size)
	}
	ok := make([]float64, n)
	bad := make([]float64, n)
	cost := make([]float64, n)
	in := make([]float64, n)
	out := make([]float64, n)
	for _, e := range events {
		i := int(e.Timestamp.Sub(start) / size)
		if i < 0 || i >= n {
			continue
		}
		if e.IsError() {
			bad[i]++
		} else {
			ok[i]++
		}
		cost[i] += e.Cost
		in[i] += float64(e.InputTokens)
		out[i] += float64(e.OutputTokens)
	}
	data.Calls = stackedBars("Calls", labels, tips, []Series{{Name: "ok", Class: "s-ok", Values: ok}, {Name: "errors", Class: "s-err", Values: bad}}, fmtCount)
	data.Cost = stackedBars("Cost (USD)", labels, tips, []Series{{Name: "cost", Class: "s-cost", Values: cost}}, view.Cost)
	data.Tokens = stackedBars("Tokens", labels, tips, []Series{{Name: "input", Class: "s-in", Values: in}, {Name: "output", Class: "s-out", Values: out}}, fmtCount)
}

func bucketName(size time.Duration) string {
	switch size {
	case 5 * time.Minute:
		return "5 minutes"
	case 15 * time.Minute:
		return "15 minutes"
	case time.Hour:
		return "hour"
	case 3 * time.Hour:
		return "3 hours"
	case 6 * time.Hour:
		return "6 hours"
	case 24 * time.Hour:
		return "day"
	case 7 * 24 * time.Hour:
		return "week"
	}
	return "30 days"
}

// percentile of sorted values, linear interpolation; 0 when empty.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return sorted[lo]
	}
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// health gathers the delivery health panel.
func (d *Dashboard) health(ctx context.Context) Health {
	h := Health{StoreOK: true, Collector: d.cfg.Collector}
	if d.cfg.Ping != nil {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := d.cfg.Ping(pctx); err != nil {
			h.StoreOK, h.StoreErr = false, err.Error()
		}
		cancel()
	}
	if d.cfg.Stats != nil {
		h.HasWriter = true
		h.Stats = d.cfg.Stats()
		h.Unaccounted = h.Stats.Unaccounted()
		for _, k := range slices.Sorted(maps.Keys(h.Stats.Dropped)) {
			h.Dropped = append(h.Dropped, KV{k, view.Int(h.Stats.Dropped[k])})
		}
	}
	if m := d.cfg.Metrics; m != nil {
		h.HasMetrics = true
		h.Received, h.Accepted, h.Rejected = m.Received(), m.Accepted(), m.Rejected()
		req := m.Requests()
		for _, c := range slices.Sorted(maps.Keys(req)) {
			h.Requests = append(h.Requests, KV{http.StatusText(c) + " (" + view.Int(int64(c)) + ")", view.Int(req[c])})
		}
		lat := m.WriteLatency()
		if lat.Count > 0 {
			h.WriteP50 = fineMS(lat.Quantile(0.5) * 1000)
			h.WriteP95 = fineMS(lat.Quantile(0.95) * 1000)
		}
	}
	return h
}

// fineMS formats milliseconds with a decimal below 10 ms.
func fineMS(ms float64) string {
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	}
	return view.MSf(ms)
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return view.Int(n) + " " + word + "s"
}

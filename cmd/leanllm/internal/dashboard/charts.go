package dashboard

import (
	"math"
	"strconv"
	"time"
)

// Charts are drawn on the server as inline SVG: the template only places
// rectangles and labels whose coordinates are computed here.

// Series is one stacked layer of a bar chart.
type Series struct {
	Name   string
	Class  string // CSS class of its bars (colour)
	Values []float64
}

// Rect is one bar (or bar segment).
type Rect struct {
	X, Y, W, H float64
	Class      string
	Title      string // tooltip
}

// Label is a text label.
type Label struct {
	X, Y   float64
	Text   string
	Anchor string // start, middle, end
}

// Grid is a horizontal grid line with its value.
type Grid struct {
	Y    float64
	Text string
}

// Chart is a drawn bar chart.
type Chart struct {
	Title   string
	W, H    float64
	Bars    []Rect
	XLabels []Label
	Grid    []Grid
	PlotX   float64
	PlotW   float64
	Legend  []Series
	Empty   bool
	Total   string // headline figure
}

const (
	chartW      = 560.0
	chartH      = 180.0
	chartLeft   = 52.0
	chartRight  = 8.0
	chartTop    = 10.0
	chartBottom = 24.0
)

// stackedBars draws series stacked per bucket. labels name the buckets;
// fmtVal formats values for the axis and tooltips.
func stackedBars(title string, labels []string, tips []string, series []Series, fmtVal func(float64) string) Chart {
	c := Chart{Title: title, W: chartW, H: chartH, PlotX: chartLeft, PlotW: chartW - chartLeft - chartRight, Legend: series}
	n := len(labels)
	maxV := 0.0
	total := 0.0
	for i := range n {
		sum := 0.0
		for _, s := range series {
			sum += s.Values[i]
			total += s.Values[i]
		}
		maxV = math.Max(maxV, sum)
	}
	c.Total = fmtVal(total)
	if n == 0 || maxV == 0 {
		c.Empty = true
		return c
	}
	top := niceCeil(maxV)
	plotH := chartH - chartTop - chartBottom
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.Grid = append(c.Grid, Grid{Y: round1(chartTop + plotH - plotH*v/top), Text: fmtVal(v)})
	}
	slot := c.PlotW / float64(n)
	barW := math.Max(1, slot*0.75)
	every := int(math.Ceil(float64(n) / 8)) // at most ~8 x labels
	for i := range n {
		x := chartLeft + slot*float64(i) + (slot-barW)/2
		y := chartTop + plotH
		for _, s := range series {
			v := s.Values[i]
			if v <= 0 {
				continue
			}
			h := plotH * v / top
			y -= h
			tip := labels[i]
			if tips != nil {
				tip = tips[i]
			}
			c.Bars = append(c.Bars, Rect{X: round1(x), Y: round1(y), W: round1(barW), H: round1(math.Max(h, 0.5)), Class: s.Class, Title: tip + " — " + s.Name + ": " + fmtVal(v)})
		}
		if i%every == 0 {
			c.XLabels = append(c.XLabels, Label{X: round1(chartLeft + slot*float64(i) + slot/2), Y: chartH - 6, Text: labels[i], Anchor: "middle"})
		}
	}
	return c
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// HBar is one row of a horizontal bar list: a label, a value and the bar's
// length in percent of the largest value.
type HBar struct {
	Key   string
	Value string
	Pct   float64
	Href  string
	Extra string
}

// hbars scales values to percentages of the maximum.
func hbars(keys []string, values []float64, fmtVal func(float64) string) []HBar {
	maxV := 0.0
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	out := make([]HBar, len(keys))
	for i, k := range keys {
		pct := 0.0
		if maxV > 0 {
			pct = math.Max(0.5, 100*values[i]/maxV)
		}
		out[i] = HBar{Key: k, Value: fmtVal(values[i]), Pct: round1(pct)}
	}
	return out
}

// bucketSizes are the time bucket widths the overview picks from.
var bucketSizes = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// pickBucket returns the smallest bucket giving at most maxBuckets over span.
func pickBucket(span time.Duration, maxBuckets int) time.Duration {
	for _, b := range bucketSizes {
		if span/b <= time.Duration(maxBuckets) {
			return b
		}
	}
	return bucketSizes[len(bucketSizes)-1]
}

// bucketLabel formats a bucket start for the x axis.
func bucketLabel(t time.Time, size time.Duration) string {
	t = t.UTC()
	switch {
	case size < time.Hour:
		return t.Format("15:04")
	case size < 24*time.Hour:
		if t.Hour() == 0 {
			return t.Format("Jan 2")
		}
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

// bucketTip formats a bucket's range for tooltips.
func bucketTip(t time.Time, size time.Duration) string {
	t = t.UTC()
	end := t.Add(size)
	switch {
	case size < 24*time.Hour:
		return t.Format("Jan 2 15:04") + "–" + end.Format("15:04") + " UTC"
	case size == 24*time.Hour:
		return t.Format("Mon Jan 2, 2006")
	}
	return t.Format("Jan 2") + "–" + end.Add(-time.Second).Format("Jan 2, 2006")
}

func fmtCount(v float64) string {
	if v >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + "k"
	}
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
	}
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

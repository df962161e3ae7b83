package dashboard

import (
	"testing"
	"time"

	"github.com/matryer/is"
)

func TestSafeNext(t *testing.T) {
	is := is.New(t)
	for in, want := range map[string]string{
		"": "/", "/events?x=1": "/events?x=1", "//evil.example": "/", "/\\evil": "/",
		"https://evil.example/": "/", "events": "/", "/ok\r\nSet-Cookie: x": "/",
	} {
		is.Equal(safeNext(in), want)
	}
}

func TestChartsGeometry(t *testing.T) {
	is := is.New(t)
	is.Equal(niceCeil(0), 1.0)
	is.Equal(niceCeil(7), 10.0)
	is.Equal(niceCeil(23), 25.0)
	is.Equal(niceCeil(0.00048), 0.0005)
	is.Equal(pickBucket(time.Hour, 48), 5*time.Minute)
	is.Equal(pickBucket(24*time.Hour, 48), time.Hour)
	is.Equal(pickBucket(7*24*time.Hour, 48), 6*time.Hour)
	is.Equal(pickBucket(30*24*time.Hour, 48), 24*time.Hour)

	c := stackedBars("Calls", []string{"a", "b"}, nil, []Series{{Name: "ok", Values: []float64{3, 0}}, {Name: "err", Values: []float64{1, 0}}}, fmtCount)
	is.True(!c.Empty)
	is.Equal(c.Total, "4")
	is.Equal(len(c.Bars), 2) // two segments in the first bucket, none in the second
	for _, b := range c.Bars {
		is.True(b.Y >= chartTop && b.Y+b.H <= chartH-chartBottom+0.1)
	}
	is.True(stackedBars("x", []string{"a"}, nil, []Series{{Values: []float64{0}}}, fmtCount).Empty)
	is.Equal(percentile([]float64{1, 2, 3, 4}, 0.5), 2.5)
	is.Equal(percentile(nil, 0.5), 0.0)
}

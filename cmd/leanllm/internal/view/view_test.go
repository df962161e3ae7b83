package view

import (
	"testing"
	"time"

	"github.com/matryer/is"
)

func TestShortAndMatchID(t *testing.T) {
	is := is.New(t)
	id := "0192f0c4-60d3-763d-afc5-a642ef9b3a2d"
	is.Equal(ShortID(id), "0192f0c4…3a2d")
	is.Equal(ShortID("short-id"), "short-id")
	for _, ref := range []string{id, "0192f0c4", "0192F0C4-60D3", "0192f0c4…3a2d", "0192f0c4...3a2d", "0192f0c4..3a2d", " 0192f0c4…3a2d "} {
		is.True(MatchID(id, ref))
	}
	for _, ref := range []string{"", "0192f0c5", "0192f0c4…3a2e", "ef9b3a2d"} {
		is.True(!MatchID(id, ref))
	}
}

func TestParseTime(t *testing.T) {
	is := is.New(t)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                                 {},
		"15m":                              now.Add(-15 * time.Minute),
		"2h":                               now.Add(-2 * time.Hour),
		"7d":                               now.Add(-7 * 24 * time.Hour),
		"1d12h":                            now.Add(-36 * time.Hour),
		"2026-11-28T10:00:00Z":             time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		"2026-11-28T10:00:00.123456+00:00": time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC),
		"2026-11-28T11:00:00+01:00":        time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		"2026-11-27":                       time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		is.NoErr(err)
		is.True(got.Equal(want))
	}
	for _, bad := range []string{"yesterday", "-5m", "xd", "2026-13-01", "1dx"} {
		_, err := ParseTime(bad, now)
		is.True(err != nil)
	}
}

func TestFormats(t *testing.T) {
	is := is.New(t)
	is.Equal(Cost(0), "$0")
	is.Equal(Cost(0.0000117), "$0.000012")
	is.Equal(Cost(0.0123), "$0.0123")
	is.Equal(Cost(1.5), "$1.50")
	is.Equal(Cost(12345.4), "$12,345")
	is.Equal(Int(0), "0")
	is.Equal(Int(999), "999")
	is.Equal(Int(1234567), "1,234,567")
	is.Equal(Int(-1234), "-1,234")
	is.Equal(Float(4), "4")
	is.Equal(Float(1234.56), "1,234.6")
	is.Equal(Float(2.96), "3.0")
	is.Equal(MS(0), "0ms")
	is.Equal(MS(999), "999ms")
	is.Equal(MS(1250), "1.2s")
	is.Equal(MS(184_000), "3m04s")
	is.Equal(Truncate("abc\ndef", 10), "abc def")
	is.Equal(Truncate("héllo wörld", 6), "héllo…")
	is.NoErr(GroupBy("label:feature"))
	is.True(GroupBy("label:") != nil)
	is.True(GroupBy("colour") != nil)
	k, v, err := ParseLabel("a=b=c")
	is.NoErr(err)
	is.Equal(k+"|"+v, "a|b=c")
	_, _, err = ParseLabel("=x")
	is.True(err != nil)
}

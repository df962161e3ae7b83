package capture_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leanllm/leanllm-go/capture"
	"github.com/matryer/is"
)

func TestEventIDsAreUUIDv7(t *testing.T) {
	is := is.New(t)
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 10000 {
		s := capture.NewEventIDAt(at)
		u, err := uuid.Parse(s)
		is.NoErr(err)
		is.Equal(u.Version(), uuid.Version(7))
		is.Equal(u.Variant(), uuid.RFC4122)
		sec, nsec := u.Time().UnixTime()
		is.Equal(time.Unix(sec, nsec).UTC(), at) // the timestamp is the call's start
		is.True(!seen[s])
		seen[s] = true
	}
	// Later calls sort after earlier ones.
	is.True(capture.NewEventIDAt(at) < capture.NewEventIDAt(at.Add(time.Millisecond)))
}

func TestCut(t *testing.T) {
	is := is.New(t)
	s, cut := capture.Cut("héllo world", 2)
	is.True(cut)
	is.Equal(s, "h…[truncated 11 bytes]") // never splits a UTF-8 sequence
	s, cut = capture.Cut("short", 10)
	is.True(!cut)
	is.Equal(s, "short")
}

func BenchmarkNewEventID(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_ = capture.NewEventIDAt(now)
	}
}

func BenchmarkGoogleUUIDv7(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, _ := uuid.NewV7()
		_ = u.String()
	}
}

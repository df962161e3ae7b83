package persist

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
)

func plEvents(from, to int) []*core.Event {
	var evs []*core.Event
	for i := from; i < to; i++ {
		evs = append(evs, plEvent(plID(i)))
	}
	return evs
}

func plSegments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+spoolSuffix))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// plSpoolConfig spools after a short retry budget.
func plSpoolConfig(dir string) WriterConfig {
	return plFast(WriterConfig{
		SpoolDir:            dir,
		BatchSize:           10,
		RetryMaxAttempts:    3,
		RetryInitialBackoff: 5 * time.Millisecond,
		RetryTotalBudget:    50 * time.Millisecond,
	})
}

func TestSpoolFrameFormat(t *testing.T) {
	is := is.New(t)
	f1, n1, bad := encodeSpoolFrame(plEvents(0, 3))
	is.Equal(n1, 3)
	is.Equal(len(bad), 0)
	f2, _, _ := encodeSpoolFrame(plEvents(3, 5))
	f3, _, _ := encodeSpoolFrame(plEvents(5, 6))

	data := slices.Concat(f1, f2, f3)
	frames, corrupt := parseSpoolFrames(data)
	is.Equal(len(frames), 3)
	is.Equal(corrupt, int64(0))

	t.Run("damaged frame in the middle", func(t *testing.T) {
		is := is.New(t)
		d := slices.Clone(data)
		d[len(f1)+spoolHeaderLen+5] ^= 0xff // flip a payload byte of frame 2
		frames, corrupt := parseSpoolFrames(d)
		is.Equal(len(frames), 2)
		is.Equal(corrupt, int64(2)) // its header says 2 events
		is.Equal(frames[1].off, int64(len(f1)+len(f2)))
	})
	t.Run("torn tail", func(t *testing.T) {
		is := is.New(t)
		frames, corrupt := parseSpoolFrames(data[:len(data)-3])
		is.Equal(len(frames), 2)
		is.Equal(corrupt, int64(1))
		frames, corrupt = parseSpoolFrames(data[:len(f1)+7]) // torn header
		is.Equal(len(frames), 1)
		is.Equal(corrupt, int64(1))
	})
	t.Run("garbage between frames", func(t *testing.T) {
		is := is.New(t)
		d := slices.Concat(f1, []byte("garbage"), f2)
		frames, corrupt := parseSpoolFrames(d)
		is.Equal(len(frames), 2)
		is.Equal(corrupt, int64(1))
	})
	t.Run("payload never holds the magic", func(t *testing.T) {
		e := plEvent("x")
		s := "LLS\x01"
		e.Prompt = &s
		f, _, _ := encodeSpoolFrame([]*core.Event{e})
		is.New(t).Equal(bytes.Count(f, spoolMagic[:]), 1)
	})
}

func TestSpoolOutageLosesNothing(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	st := NewMemStore()
	st.SetDown(true)
	w := NewWriter(st, plSpoolConfig(dir))
	defer plClose(t, w)

	plEnqueue(w, 0, 100)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second))) // accounted: spooled
	s := w.Stats()
	is.Equal(s.Spooled, int64(100))
	is.Equal(s.SpoolPending, int64(100))
	is.True(s.SpoolBytes > 0)
	is.Equal(s.DroppedTotal, int64(0))
	plBalanced(t, w)

	time.Sleep(100 * time.Millisecond) // longer than the budget
	st.SetDown(false)
	plEventually(t, "replay", func() bool { return w.Stats().SpoolPending == 0 })
	is.Equal(st.IDs(), plIDs(0, 100)) // in order
	is.Equal(st.Duplicates(), 0)
	s = w.Stats()
	is.Equal(s.Replayed, int64(100))
	is.Equal(s.Stored, int64(100))
	is.Equal(s.DroppedTotal, int64(0))
	is.Equal(len(plSegments(t, dir)), 0) // replayed segments deleted
	plBalanced(t, w)

	plEnqueue(w, 100, 105) // and the store is used directly again
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	is.Equal(st.Len(), 105)
}

func TestSpoolSurvivesRestart(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	st := NewMemStore()
	st.SetDown(true)
	cfg := plSpoolConfig(dir)
	cfg.SpoolSegmentBytes = 4 << 10 // several segments
	w := NewWriter(st, cfg)
	plEnqueue(w, 0, 95)
	err := plClose(t, w)
	is.True(err != nil) // not delivered, but spooled
	is.True(strings.Contains(err.Error(), "spooled"))
	s := w.Stats()
	is.Equal(s.Spooled, int64(95))
	is.Equal(s.DroppedTotal, int64(0))
	is.True(len(plSegments(t, dir)) > 1)

	st2 := NewMemStore()
	w2 := NewWriter(st2, cfg)
	plEventually(t, "replay", func() bool { return st2.Len() == 95 })
	is.Equal(st2.IDs(), plIDs(0, 95))
	s2 := w2.Stats()
	is.Equal(s2.Recovered, int64(95))
	is.Equal(s2.Replayed, int64(95))
	plEventually(t, "segments deleted", func() bool { return len(plSegments(t, dir)) == 0 })
	is.NoErr(plClose(t, w2))
	is.Equal(st2.Duplicates(), 0)
}

func TestSpoolTornTail(t *testing.T) {
	for _, tc := range []struct {
		name        string
		damage      func(t *testing.T, path string)
		stored      []string
		wantCorrupt int64
	}{
		{"truncated last frame", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()-5); err != nil {
				t.Fatal(err)
			}
		}, plIDs(0, 20), 10},
		{"garbage appended", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("LLS\x01\x00\x00")) // a torn header
			f.Close()
		}, plIDs(0, 30), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			dir := t.TempDir()
			st := NewMemStore()
			st.SetDown(true)
			w := NewWriter(st, plSpoolConfig(dir))
			plEnqueue(w, 0, 30) // three frames
			_ = plClose(t, w)
			segs := plSegments(t, dir)
			is.Equal(len(segs), 1)
			tc.damage(t, segs[0])

			st2 := NewMemStore()
			w2 := NewWriter(st2, plSpoolConfig(dir))
			plEventually(t, "replay", func() bool { return w2.Stats().SpoolPending == 0 && st2.Len() == len(tc.stored) })
			is.Equal(st2.IDs(), tc.stored)
			s := w2.Stats()
			is.Equal(s.Dropped[DropSpoolCorrupt], tc.wantCorrupt)
			is.Equal(s.Recovered, int64(len(tc.stored))+tc.wantCorrupt)
			is.NoErr(plClose(t, w2))
			is.Equal(len(plSegments(t, dir)), 0)
		})
	}
}

func TestSpoolFull(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	frame, _, _ := encodeSpoolFrame(plEvents(0, 10))
	st := NewMemStore()
	st.SetDown(true)
	cfg := plSpoolConfig(dir)
	cfg.SpoolSegmentBytes = 1 // one frame per segment
	cfg.SpoolMaxBytes = int64(3*len(frame) + len(frame)/2)
	var dropped []string
	cfg.OnDropped = func(n int, reason string) { dropped = append(dropped, reason) }
	w := NewWriter(st, cfg)
	plEnqueue(w, 0, 100)
	is.NoErr(w.Flush(plCtx(t, 5*time.Second)))
	s := w.Stats()
	is.Equal(s.Dropped[DropSpoolFull], int64(70)) // the oldest segments
	is.Equal(s.SpoolPending, int64(30))
	is.True(s.SpoolBytes <= cfg.SpoolMaxBytes)
	plBalanced(t, w)

	st.SetDown(false)
	plEventually(t, "replay", func() bool { return w.Stats().SpoolPending == 0 })
	is.Equal(st.IDs(), plIDs(70, 100))
	is.NoErr(plClose(t, w))
	is.True(slices.Contains(dropped, DropSpoolFull))
}

func TestSpoolCloseDeadline(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	st := NewMemStore()
	st.SetBlocking(true)
	cfg := plSpoolConfig(dir)
	cfg.RetryTotalBudget = 10 * time.Second
	cfg.WriteTimeout = 10 * time.Second
	w := NewWriter(st, cfg)
	plEnqueue(w, 0, 25)
	start := time.Now()
	err := w.Close(plCtx(t, 100*time.Millisecond))
	is.True(time.Since(start) < time.Second)
	is.True(errors.Is(err, context.DeadlineExceeded))
	is.True(strings.Contains(err.Error(), "25 events not delivered"))
	<-w.done // the in-flight batch is spooled once the store returns
	s := w.Stats()
	is.Equal(s.Spooled, int64(25))
	is.Equal(s.DroppedTotal, int64(0))
	plBalanced(t, w)

	st2 := NewMemStore()
	w2 := NewWriter(st2, plSpoolConfig(dir))
	plEventually(t, "replay", func() bool { return st2.Len() == 25 })
	is.NoErr(plClose(t, w2))
	ids := st2.IDs()
	slices.Sort(ids)
	is.Equal(ids, plIDs(0, 25))
}

func TestSpoolReplayIsolatesDataErrors(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	st := NewMemStore()
	st.SetDown(true)
	w := NewWriter(st, plSpoolConfig(dir))
	plEnqueue(w, 0, 20)
	_ = plClose(t, w)

	st2 := NewMemStore()
	st2.Reject(plID(3), plID(14))
	w2 := NewWriter(st2, plSpoolConfig(dir))
	plEventually(t, "replay", func() bool { s := w2.Stats(); return s.Recovered == 20 && s.SpoolPending == 0 })
	is.NoErr(plClose(t, w2))
	is.Equal(st2.Len(), 18)
	is.Equal(w2.Stats().Dropped[DropPermanentError], int64(2))
	is.Equal(len(plSegments(t, dir)), 0)
}

func TestSpoolUnusableDir(t *testing.T) {
	is := is.New(t)
	file := filepath.Join(t.TempDir(), "file")
	is.NoErr(os.WriteFile(file, nil, 0o600))
	st := NewMemStore()
	w := NewWriter(st, plSpoolConfig(filepath.Join(file, "spool")))
	is.True(w.Stats().LastError != "")
	plEnqueue(w, 0, 3)
	is.NoErr(plClose(t, w)) // works without the spool
	is.Equal(st.Len(), 3)
}

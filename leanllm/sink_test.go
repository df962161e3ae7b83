package leanllm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// plainStore is a Store with no optional interface.
type plainStore struct {
	events   []*core.Event
	closeErr error
	panics   bool
	closed   int
}

func (s *plainStore) Write(_ context.Context, events []*core.Event) error {
	if s.panics {
		panic("boom")
	}
	s.events = append(s.events, events...)
	return nil
}

func (s *plainStore) Close() error { s.closed++; return s.closeErr }

// readerStore is a plainStore that can be queried.
type readerStore struct{ plainStore }

func (s *readerStore) GetEvent(_ context.Context, id string) (*core.Event, error) {
	for _, e := range s.events {
		if e.EventID == id {
			return e, nil
		}
	}
	return nil, persist.ErrNotFound
}

func (s *readerStore) ListEvents(context.Context, persist.Filter) ([]*core.Event, error) {
	return s.events, nil
}

func (s *readerStore) CountEvents(context.Context, persist.Filter) (int64, error) {
	return int64(len(s.events)), nil
}

func (s *readerStore) Aggregate(context.Context, persist.AggregateQuery) ([]persist.AggregateRow, error) {
	return nil, nil
}

// advisingStore advises a retry delay for its own error.
type advisingStore struct{ plainStore }

var errSlowDown = errors.New("slow down")

func (s *advisingStore) RetryAfter(err error) (time.Duration, bool) {
	if errors.Is(err, errSlowDown) {
		return 42 * time.Millisecond, true
	}
	return 0, false
}

func teeEvents(ids ...string) []*core.Event {
	out := make([]*core.Event, len(ids))
	for i, id := range ids {
		out[i] = &core.Event{EventID: id}
	}
	return out
}

func TestTeeWritesEveryStoreFirstErrorWins(t *testing.T) {
	is := is.New(t)
	a, b := persist.NewMemStore(), persist.NewMemStore()
	a.FailNext(1, nil)
	tee := leanllm.Tee(a, nil, b)
	err := tee.Write(t.Context(), teeEvents("e1", "e2"))
	is.True(errors.Is(err, persist.ErrStoreDown)) // a's error
	is.Equal(b.IDs(), []string{"e1", "e2"})       // b written all the same
	is.Equal(a.Len(), 0)

	// The retry reaches both; b, idempotent, skips what it has.
	is.NoErr(tee.Write(t.Context(), teeEvents("e1", "e2")))
	is.Equal(a.IDs(), []string{"e1", "e2"})
	is.Equal(b.Len(), 2)
	is.Equal(b.Duplicates(), 2)
}

func TestTeePanickingStoreIsPermanentAndOthersWritten(t *testing.T) {
	is := is.New(t)
	bad, good := &plainStore{panics: true}, &plainStore{}
	err := leanllm.Tee(bad, good).Write(t.Context(), teeEvents("e1"))
	is.True(errors.Is(err, persist.ErrPermanent))
	is.Equal(len(good.events), 1)
}

func TestTeeCloseClosesAllAndJoinsErrors(t *testing.T) {
	is := is.New(t)
	e1, e2 := errors.New("close 1"), errors.New("close 3")
	s1, s2, s3 := &plainStore{closeErr: e1}, &plainStore{}, &plainStore{closeErr: e2}
	err := leanllm.Tee(s1, s2, s3).Close()
	is.True(errors.Is(err, e1))
	is.True(errors.Is(err, e2))
	is.Equal(s1.closed+s2.closed+s3.closed, 3)
}

func TestTeeOptionalInterfaces(t *testing.T) {
	mem := func() leanllm.Store { return persist.NewMemStore() } // a Migrator
	plain := func() leanllm.Store { return &plainStore{} }
	reader := func() leanllm.Store { return &readerStore{} }
	for _, tc := range []struct {
		name             string
		stores           []leanllm.Store
		reader, migrator bool
	}{
		{"plain+plain", []leanllm.Store{plain(), plain()}, false, false},
		{"migrator second", []leanllm.Store{plain(), mem()}, false, true},
		{"reader first", []leanllm.Store{reader(), plain()}, true, false},
		{"reader second is not read", []leanllm.Store{plain(), reader()}, false, false},
		{"reader+migrator", []leanllm.Store{reader(), mem()}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			s := leanllm.Tee(tc.stores...)
			_, isReader := s.(persist.Reader)
			_, isMigrator := s.(persist.Migrator)
			_, isAdvisor := s.(persist.RetryAdvisor)
			is.Equal(isReader, tc.reader)
			is.Equal(isMigrator, tc.migrator)
			is.True(isAdvisor)
			if m, ok := s.(persist.Migrator); ok {
				is.NoErr(m.Migrate(t.Context()))
				for _, st := range tc.stores {
					if ms, ok := st.(*persist.MemStore); ok {
						is.Equal(ms.Migrations(), 1)
					}
				}
			}
		})
	}
}

func TestTeeSingleStoreIsItself(t *testing.T) {
	is := is.New(t)
	m := persist.NewMemStore()
	is.Equal(leanllm.Tee(nil, m), leanllm.Store(m))
	is.NoErr(leanllm.Tee().Write(t.Context(), teeEvents("x"))) // no store: writes nothing
	is.NoErr(leanllm.Tee().Close())
}

func TestTeeRetryAdvice(t *testing.T) {
	is := is.New(t)
	s := leanllm.Tee(&plainStore{}, &advisingStore{})
	ra := s.(persist.RetryAdvisor)
	d, ok := ra.RetryAfter(errSlowDown)
	is.True(ok)
	is.Equal(d, 42*time.Millisecond)
	_, ok = ra.RetryAfter(errors.New("other"))
	is.True(!ok)
}

func TestTeeBehindClient(t *testing.T) {
	is := is.New(t)
	db := &readerStore{}
	side := persist.NewMemStore()
	side.FailNext(1, nil) // the side store fails once: the batch is retried to both
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()),
		leanllm.WithStore(leanllm.Tee(db, side)), leanllm.WithRetry(3, time.Millisecond, time.Second))
	is.NoErr(err)
	defer cl.Close(context.Background())
	for range 3 {
		_, err := cl.GenerateContent(t.Context(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")})
		is.NoErr(err)
	}
	is.NoErr(cl.Flush(t.Context()))
	is.Equal(side.Len(), 3)
	n, err := cl.CountEvents(t.Context(), leanllm.Filter{}) // reads go to the first store
	is.NoErr(err)
	is.True(n >= 3) // db saw the batch twice (plainStore is not idempotent)
	st := cl.Stats()
	is.Equal(st.Stored, int64(3))
	is.True(st.Retries >= 1)
	is.NoErr(cl.Close(t.Context()))
	is.Equal(db.closed, 1) // Close reaches every store
}

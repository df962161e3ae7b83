package persist

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leanllm/leanllm-go/core"
)

// Ingest benchmarks: the store's Write beside the raw driver writing the same
// rows (already encoded) the plain fast way — SQLite: one prepared INSERT per
// row in one transaction on database/sql; Postgres: pgx CopyFrom straight
// into llm_events — reported as events/s (wall) and events/cpu-s (this
// process's CPU; meaningful for SQLite only). The pair benchmarks alternate
// both on one database and report the store's rate as a percentage of raw's
// (the goal is ≥ 80 %), the figure to trust on a busy machine.
//
//	go test -run '^$' -bench Ingest -benchtime 3s ./persist/
//
// The Postgres ones need LEANLLM_TEST_POSTGRES_URL.

var benchBatchSizes = []int{100, 1000}

// benchEvents returns n typical events: labels, parameters, metadata and a
// short captured prompt and response.
func benchEvents(n int) []*core.Event {
	out := make([]*core.Event, n)
	for i := range out {
		e := sqlFullEvent("", sqlTestBase.Add(time.Duration(i)*time.Millisecond))
		e.Tools = nil
		out[i] = e
	}
	return out
}

// benchRows encodes events as the raw benchmarks insert them.
func benchRows(b *testing.B, events []*core.Event, enc rowEncoder) [][]any {
	rows := make([][]any, len(events))
	for i, e := range events {
		e.EventID = "x"
		vals, err := enc.encode(e)
		if err != nil {
			b.Fatal(err)
		}
		rows[i] = slices.Clone(vals)
	}
	return rows
}

func reportEventsPerSecond(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// rawSQLite returns a function writing one batch of rows (fresh ids from
// *n) into the SQLite file at path: one prepared INSERT executed per row in
// one transaction, on database/sql.
func rawSQLite(b *testing.B, path string, batch int) func(n *int) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+sqliteWriterParams)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	insert := "INSERT INTO llm_events (" + strings.Join(eventColumns, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(eventColumns)), ", ") + ")"
	stmt, err := db.Prepare(insert)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stmt.Close() })
	rows := benchRows(b, benchEvents(batch), rowEncoder{sqliteTS: true})
	return func(n *int) {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st := tx.Stmt(stmt)
		for _, r := range rows {
			*n++
			r[0] = "raw-" + strconv.Itoa(*n)
			if _, err := st.Exec(r...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// rawPostgres returns a function writing one batch of rows (fresh ids from
// *n) with pgx's CopyFrom straight into llm_events.
func rawPostgres(b *testing.B, url string, batch int) func(n *int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close(ctx) })
	rows := benchRows(b, benchEvents(batch), rowEncoder{jsonBytes: true})
	return func(n *int) {
		for _, r := range rows {
			*n++
			r[0] = "raw-" + strconv.Itoa(*n)
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"llm_events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
}

// storeBatch returns a function writing one batch through s.Write, with a
// per-write timeout as the Writer gives it.
func storeBatch(b *testing.B, s *SQLStore, batch int) func(n *int) {
	events := benchEvents(batch)
	return func(n *int) {
		for _, e := range events {
			*n++
			e.EventID = "ev-" + strconv.Itoa(*n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Write(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
}

func runIngest(b *testing.B, write func(n *int)) {
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		write(&n)
	}
	if c := processCPU() - c0; c > 0 {
		b.ReportMetric(float64(n)/c.Seconds(), "events/cpu-s")
	}
	reportEventsPerSecond(b, n)
}

// runIngestPair alternates store and raw batches on one database and
// reports both rates and the store's rate as a percentage of raw's, by wall
// time and by this process's CPU time. The ratios are what to read on a
// busy machine: alternating batches see the same load and database size,
// and CPU time (on SQLite all of the work is in-process) ignores time spent
// descheduled. For Postgres the server does most of the work and raw
// sends pre-encoded rows: only the wall ratio is reported.
func runIngestPair(b *testing.B, store, raw func(n *int), cpu bool) {
	var ts, tr, cs, cr time.Duration
	ns, nr := 0, 0
	timed := func(f func(n *int), n *int, wall, cpu *time.Duration) {
		c0, t0 := processCPU(), time.Now()
		f(n)
		*wall += time.Since(t0)
		*cpu += processCPU() - c0
	}
	i := 0
	for b.Loop() {
		if i++; i%2 == 0 { // alternate who goes first
			timed(store, &ns, &ts, &cs)
			timed(raw, &nr, &tr, &cr)
		} else {
			timed(raw, &nr, &tr, &cr)
			timed(store, &ns, &ts, &cs)
		}
	}
	b.ReportMetric(float64(ns)/ts.Seconds(), "store-events/s")
	b.ReportMetric(float64(nr)/tr.Seconds(), "raw-events/s")
	b.ReportMetric(100*tr.Seconds()/ts.Seconds(), "store-%-of-raw")
	if cpu && cs > 0 && cr > 0 {
		b.ReportMetric(100*cr.Seconds()/cs.Seconds(), "store-%-of-raw-cpu")
	}
}

func BenchmarkIngestSQLite(b *testing.B) {
	open := func(b *testing.B) (string, *SQLStore) {
		path := filepath.Join(b.TempDir(), "bench.db")
		return path, sqlTestOpen(b, "sqlite:///"+path)
	}
	for _, batch := range benchBatchSizes {
		b.Run(fmt.Sprintf("store/batch=%d", batch), func(b *testing.B) {
			_, s := open(b)
			runIngest(b, storeBatch(b, s, batch))
		})
		b.Run(fmt.Sprintf("raw/batch=%d", batch), func(b *testing.B) {
			path, _ := open(b)
			runIngest(b, rawSQLite(b, path, batch))
		})
		b.Run(fmt.Sprintf("pair/batch=%d", batch), func(b *testing.B) {
			path, s := open(b)
			runIngestPair(b, storeBatch(b, s, batch), rawSQLite(b, path, batch), true)
		})
	}
}

func BenchmarkIngestPostgres(b *testing.B) {
	for _, batch := range benchBatchSizes {
		b.Run(fmt.Sprintf("store/batch=%d", batch), func(b *testing.B) {
			runIngest(b, storeBatch(b, sqlTestOpen(b, sqlTestPGURL(b)), batch))
		})
		b.Run(fmt.Sprintf("raw/batch=%d", batch), func(b *testing.B) {
			url := sqlTestPGURL(b)
			sqlTestOpen(b, url) // schema
			runIngest(b, rawPostgres(b, url, batch))
		})
		b.Run(fmt.Sprintf("pair/batch=%d", batch), func(b *testing.B) {
			url := sqlTestPGURL(b)
			s := sqlTestOpen(b, url)
			runIngestPair(b, storeBatch(b, s, batch), rawPostgres(b, url, batch), false)
		})
	}
}

// BenchmarkRowEncode measures turning one typical event into column values.
func BenchmarkRowEncode(b *testing.B) {
	e := benchEvents(1)[0]
	e.EventID = "ev-1"
	for _, c := range []struct {
		name string
		enc  rowEncoder
	}{{"sqlite", rowEncoder{sqliteTS: true}}, {"postgres", rowEncoder{jsonBytes: true}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.enc.encode(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package bench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leanllm/leanllm-go/bench/harness"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Ingest: events/s through the Writer (queue, worker, batches, the store's
// Write) beside the raw driver's fastest plain method inserting the same
// rows, pre-encoded, into the same table of the same database. Each
// iteration writes one round through the Writer and one round raw, in
// alternating order, so both see the same load and table size; the
// reported ratio is the Writer's rate as a percentage of raw's, by wall
// time and by this process's CPU time.

var ingestBatches = []int{100, 1000}

// roundSize is how many events one round writes at a batch size.
func roundSize(batch int) int { return max(2000, 5*batch) }

// ingestWriter returns a function that pushes one round of events through
// a Writer on store (Enqueue each, then Flush) with fresh ids.
func ingestWriter(b *testing.B, store persist.Store, batch int) func(n *int) {
	round := roundSize(batch)
	w := persist.NewWriter(store, persist.WriterConfig{
		BatchSize: batch, QueueMaxSize: 2 * round, QueueMaxBytes: 1 << 30,
		FlushInterval: time.Hour, AutoMigrate: true,
	})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = w.Close(ctx)
	})
	events := harness.TypicalEvents("w-", round)
	push := func(n *int) {
		for _, e := range events {
			*n++
			e.EventID = "w-" + strconv.Itoa(*n)
			w.Enqueue(e)
		}
		if err := w.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	// Migrate, and warm the statements, outside the measurement.
	warm := 0
	w.Enqueue(&core.Event{EventID: "warm-" + strconv.Itoa(warm), Model: "m", Provider: "p", Timestamp: time.Now()})
	if err := w.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	return func(n *int) {
		push(n)
		if s := w.Stats(); s.DroppedTotal > 0 {
			b.Fatalf("writer dropped events: %v (last error %q)", s.Dropped, s.LastError)
		}
	}
}

// rawSQLite writes one round as the raw driver does it fastest in plain
// database/sql: one prepared single-row INSERT, executed per row, in one
// transaction per batch.
func rawSQLite(b *testing.B, path string, batch int) func(n *int) {
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	cols, err := harness.Columns(context.Background(), db, "sqlite")
	if err != nil {
		b.Fatal(err)
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	stmt, err := db.Prepare("INSERT INTO llm_events (" + strings.Join(quoted, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stmt.Close() })
	rows, err := harness.RawRows(harness.TypicalEvents("r-", roundSize(batch)), cols, "sqlite")
	if err != nil {
		b.Fatal(err)
	}
	id := slices.Index(cols, "event_id")
	return func(n *int) {
		for chunk := range slices.Chunk(rows, batch) {
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			st := tx.Stmt(stmt)
			for _, r := range chunk {
				*n++
				r[id] = "r-" + strconv.Itoa(*n)
				if _, err := st.Exec(r...); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// rawPostgres writes one round with pgx's CopyFrom, one COPY per batch.
func rawPostgres(b *testing.B, url string, batch int) func(n *int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close(ctx) })
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	cols, err := harness.Columns(ctx, db, "postgres")
	_ = db.Close()
	if err != nil {
		b.Fatal(err)
	}
	rows, err := harness.RawRows(harness.TypicalEvents("r-", roundSize(batch)), cols, "postgres")
	if err != nil {
		b.Fatal(err)
	}
	id := slices.Index(cols, "event_id")
	return func(n *int) {
		for chunk := range slices.Chunk(rows, batch) {
			for _, r := range chunk {
				*n++
				r[id] = "r-" + strconv.Itoa(*n)
			}
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"llm_events"}, cols, pgx.CopyFromRows(chunk)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// runPair alternates rounds of a and raw and reports both rates and a's as
// a percentage of raw's, by wall time and by process CPU time.
func runPair(b *testing.B, a, raw func(n *int)) {
	var ta, tr, ca, cr time.Duration
	na, nr := 0, 0
	timed := func(f func(n *int), n *int, wall, cpu *time.Duration) {
		c0, t0 := processCPU(), time.Now()
		f(n)
		*wall += time.Since(t0)
		*cpu += processCPU() - c0
	}
	i := 0
	for b.Loop() {
		if i++; i%2 == 0 {
			timed(a, &na, &ta, &ca)
			timed(raw, &nr, &tr, &cr)
		} else {
			timed(raw, &nr, &tr, &cr)
			timed(a, &na, &ta, &ca)
		}
	}
	ra, rr := float64(na)/ta.Seconds(), float64(nr)/tr.Seconds()
	b.ReportMetric(ra, "writer-events/s")
	b.ReportMetric(rr, "raw-events/s")
	b.ReportMetric(100*ra/rr, "writer-%-of-raw")
	if ca > 0 && cr > 0 {
		b.ReportMetric(100*(float64(na)/ca.Seconds())/(float64(nr)/cr.Seconds()), "writer-%-of-raw-cpu")
	}
}

func BenchmarkIngestSQLite(b *testing.B) {
	for _, batch := range ingestBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "ingest.db")
			store, err := persist.Open(context.Background(), "sqlite:///"+path)
			if err != nil {
				b.Fatal(err)
			}
			w := ingestWriter(b, store, batch) // migrates
			runPair(b, w, rawSQLite(b, path, batch))
		})
	}
}

func BenchmarkIngestPostgres(b *testing.B) {
	base := harness.PostgresURL()
	if base == "" {
		b.Skip("LEANLLM_TEST_POSTGRES_URL is not set")
	}
	for _, batch := range ingestBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			url, drop, err := harness.PGSchema(context.Background(), base)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(drop)
			store, err := persist.Open(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			w := ingestWriter(b, store, batch)
			runPair(b, w, rawPostgres(b, url, batch))
		})
	}
}

// BenchmarkIngestRemote sends through the Writer and the remote store to an
// in-process collector that decodes every event, beside plain POSTs of the
// same batches.
func BenchmarkIngestRemote(b *testing.B) {
	for _, batch := range ingestBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			col := harness.NewCollector()
			b.Cleanup(col.Close)
			store, err := persist.NewRemote(col.URL(), harness.CollectorKey)
			if err != nil {
				b.Fatal(err)
			}
			w := ingestWriter(b, store, batch)
			runPair(b, w, rawPost(b, col, batch))
			if col.Duplicates() > 0 {
				b.Fatalf("collector stored %d duplicates", col.Duplicates())
			}
		})
	}
}

// rawPost posts one round as {"events":[…]} bodies with a plain
// http.Client, one request per batch.
func rawPost(b *testing.B, col *harness.Collector, batch int) func(n *int) {
	events := harness.TypicalEvents("p-", roundSize(batch))
	client := &http.Client{}
	b.Cleanup(client.CloseIdleConnections)
	return func(n *int) {
		for chunk := range slices.Chunk(events, batch) {
			for _, e := range chunk {
				*n++
				e.EventID = "p-" + strconv.Itoa(*n)
			}
			// Encoding the batch is part of any client's work, so it is
			// timed here as it is in the Writer.
			data, err := json.Marshal(struct {
				Events []*core.Event `json:"events"`
			}{chunk})
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, col.URL()+"/v1/events", bytes.NewReader(data))
			req.Header.Set("Authorization", "Bearer "+harness.CollectorKey)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "raw-"+strconv.Itoa(*n))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("collector answered %d", resp.StatusCode)
			}
		}
	}
}

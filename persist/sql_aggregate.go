package persist

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// Aggregate groups the events q.Filter selects by q.By — "model",
// "provider", "day" (UTC, YYYY-MM-DD) or "label:KEY" (events without the
// label fall in the group with key "") — and returns one row per group,
// ordered by key. Filter.Limit and Filter.Offset are ignored.
//
// ScaledCount sums 1/metadata.sample_rate over a group's events (1 for an
// event without a positive sample_rate). Latency percentiles interpolate
// linearly between the two nearest values (Postgres percentile_cont); on
// SQLite they are computed in Go from the group's latencies, which are read
// in full.
func (s *SQLStore) Aggregate(ctx context.Context, q AggregateQuery) ([]AggregateRow, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	key, keyArg, err := s.groupKey(q.By)
	if err != nil {
		return nil, err
	}
	sel := s.read.NewSelect().TableExpr("llm_events AS e").
		ColumnExpr(key+" AS key", keyArg...).
		ColumnExpr("count(*) AS count").
		ColumnExpr(s.scaledExpr() + " AS scaled_count").
		ColumnExpr("count(e.error_kind) AS errors").
		ColumnExpr("COALESCE(SUM(e.input_tokens), 0) AS input_tokens").
		ColumnExpr("COALESCE(SUM(e.output_tokens), 0) AS output_tokens").
		ColumnExpr("COALESCE(SUM(e.total_tokens), 0) AS total_tokens").
		ColumnExpr("COALESCE(SUM(e.cost), 0) AS cost")
	pg := s.dialect == DialectPostgres
	if pg {
		sel = sel.
			ColumnExpr("COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY e.latency_ms), 0) AS latency_p50_ms").
			ColumnExpr("COALESCE(percentile_cont(0.95) WITHIN GROUP (ORDER BY e.latency_ms), 0) AS latency_p95_ms")
	}
	sel = s.where(sel, q.Filter).GroupExpr("1")
	rows, err := sel.Rows(ctx)
	if err != nil {
		return nil, s.readErr(err)
	}
	defer rows.Close()
	var out []AggregateRow
	for rows.Next() {
		var r AggregateRow
		dst := []any{&r.Key, &r.Count, &r.ScaledCount, &r.Errors, &r.InputTokens, &r.OutputTokens, &r.TotalTokens, &r.Cost}
		if pg {
			dst = append(dst, &r.LatencyP50MS, &r.LatencyP95MS)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, s.readErr(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(err)
	}
	_ = rows.Close()
	if !pg && len(out) > 0 {
		if err := s.sqlitePercentiles(ctx, q, key, keyArg, out); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b AggregateRow) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

// groupKey returns the SQL expression of a group's key.
func (s *SQLStore) groupKey(by string) (string, []any, error) {
	pg := s.dialect == DialectPostgres
	switch by {
	case "model":
		return "e.model", nil, nil
	case "provider":
		return "e.provider", nil, nil
	case "day":
		if pg {
			return `to_char(e."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, nil, nil
		}
		return "substr(e.timestamp, 1, 10)", nil, nil
	}
	if label, ok := strings.CutPrefix(by, "label:"); ok && label != "" {
		label = fixStr(label)
		if pg {
			return "COALESCE(e.labels ->> ?, '')", []any{label}, nil
		}
		expr, arg := sqliteLabel(label)
		return "COALESCE(" + expr + ", '')", []any{arg}, nil
	}
	return "", nil, fmt.Errorf("persist: aggregate by %q: want model, provider, day or label:KEY", by)
}

// scaledExpr sums 1/metadata.sample_rate, counting 1 for an event without a
// positive numeric sample_rate.
func (s *SQLStore) scaledExpr() string {
	if s.dialect == DialectPostgres {
		return `SUM(CASE WHEN jsonb_typeof(e.metadata -> 'sample_rate') = 'number' THEN
			CASE WHEN (e.metadata ->> 'sample_rate')::float8 > 0 THEN 1.0 / (e.metadata ->> 'sample_rate')::float8 ELSE 1.0 END
			ELSE 1.0 END)`
	}
	return `SUM(CASE WHEN json_type(e.metadata, '$.sample_rate') IN ('integer', 'real') AND json_extract(e.metadata, '$.sample_rate') > 0
		THEN 1.0 / json_extract(e.metadata, '$.sample_rate') ELSE 1.0 END)`
}

// sqlitePercentiles fills the latency percentiles of out from the latencies
// of each group.
func (s *SQLStore) sqlitePercentiles(ctx context.Context, q AggregateQuery, key string, keyArg []any, out []AggregateRow) error {
	sel := s.read.NewSelect().TableExpr("llm_events AS e").
		ColumnExpr(key+" AS key", keyArg...).
		ColumnExpr("e.latency_ms")
	sel = s.where(sel, q.Filter).OrderExpr("1, 2")
	rows, err := sel.Rows(ctx)
	if err != nil {
		return s.readErr(err)
	}
	defer rows.Close()
	idx := make(map[string]int, len(out))
	for i, r := range out {
		idx[r.Key] = i
	}
	var (
		cur  string
		lats []float64
		have bool
	)
	flush := func() {
		if i, ok := idx[cur]; ok && len(lats) > 0 {
			out[i].LatencyP50MS = percentileCont(lats, 0.5)
			out[i].LatencyP95MS = percentileCont(lats, 0.95)
		}
		lats = lats[:0]
	}
	for rows.Next() {
		var k string
		var lat int64
		if err := rows.Scan(&k, &lat); err != nil {
			return s.readErr(err)
		}
		if have && k != cur {
			flush()
		}
		cur, have = k, true
		lats = append(lats, float64(lat))
	}
	if err := rows.Err(); err != nil {
		return s.readErr(err)
	}
	flush()
	return nil
}

// percentileCont is PostgreSQL's percentile_cont over sorted values.
func percentileCont(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	pos := p * float64(n-1)
	lo := int(pos)
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

package harness

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// Columns returns the columns of llm_events in table order, read from the
// database (dialect "sqlite" or "postgres"), so that the raw baselines
// insert exactly the table LeanLLM's migrations created.
func Columns(ctx context.Context, db *sql.DB, dialect string) ([]string, error) {
	var q string
	switch dialect {
	case "sqlite":
		q = "SELECT name FROM pragma_table_info('llm_events') ORDER BY cid"
	case "postgres":
		q = "SELECT column_name FROM information_schema.columns WHERE table_name = 'llm_events' AND table_schema = current_schema() ORDER BY ordinal_position"
	default:
		return nil, fmt.Errorf("harness: unknown dialect %q", dialect)
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("harness: llm_events has no columns (not migrated?)")
	}
	return cols, rows.Err()
}

// RawRows encodes events as rows of cols, from their wire JSON (the column
// names are the JSON names): objects and arrays as JSON text (sqlite) or
// JSON bytes (postgres jsonb), strings as strings, numbers as int64 or
// float64, the timestamp as text (sqlite) or time.Time (postgres), null as
// nil. The raw baselines insert these pre-encoded rows, so they pay for
// none of the encoding LeanLLM's stores do per write.
func RawRows(events []*core.Event, cols []string, dialect string) ([][]any, error) {
	out := make([][]any, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		row := make([]any, len(cols))
		for j, c := range cols {
			v, err := rawValue(c, m[c], dialect)
			if err != nil {
				return nil, fmt.Errorf("harness: column %s: %w", c, err)
			}
			row[j] = v
		}
		out[i] = row
	}
	return out, nil
}

func rawValue(col string, raw json.RawMessage, dialect string) (any, error) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "" || s == "null":
		return nil, nil
	case s[0] == '{' || s[0] == '[':
		if dialect == "postgres" {
			return []byte(s), nil
		}
		return s, nil
	case s[0] == '"':
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return nil, err
		}
		if col == "timestamp" && dialect == "postgres" {
			return time.Parse(time.RFC3339Nano, str)
		}
		return str, nil
	case s == "true" || s == "false":
		return s == "true", nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	return strconv.ParseFloat(s, 64)
}

// TypicalEvents returns n events as a logged chat call produces them with
// content capture on: ids "<prefix>0".."<prefix>n-1", three labels,
// parameters, metadata, a 300-byte prompt and a 100-byte response.
func TypicalEvents(prefix string, n int) []*core.Event {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	prompt := PromptText(300)
	resp := strings.Repeat("Growth was steady. ", 6)[:100]
	out := make([]*core.Event, n)
	for i := range out {
		p, r := prompt, resp
		out[i] = &core.Event{
			EventID:       prefix + strconv.Itoa(i),
			CorrelationID: "trace-" + strconv.Itoa(i/10),
			Timestamp:     base.Add(time.Duration(i) * time.Millisecond),
			Model:         "gpt-4o-mini",
			Provider:      "openai",
			InputTokens:   120, OutputTokens: 30, TotalTokens: 150,
			Cost:          0.0000360,
			LatencyMS:     420,
			Parameters:    core.Parameters{Temperature: 0.2, MaxTokens: 256},
			Labels:        map[string]string{"feature": "summary", "tenant": "acme", "tier": "pro"},
			Prompt:        &p,
			Response:      &r,
			Metadata:      core.Metadata{FinishReason: "stop", Environment: "bench", SampleRate: 1, CallKind: "chat", RedactionMode: "redacted", SDK: "leanllm-go"},
			SchemaVersion: core.SchemaVersion,
		}
	}
	return out
}

package persist

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
	"github.com/uptrace/bun"
)

// eventColumns are llm_events' columns in the order encodeRow fills them.
var eventColumns = []string{
	"event_id", "correlation_id", "parent_request_id", "timestamp", "model", "provider",
	"input_tokens", "output_tokens", "total_tokens", "cost", "latency_ms",
	"time_to_first_token_ms", "total_stream_time_ms",
	"parameters", "tools", "tool_calls", "error_kind", "error_message", "labels",
	"prompt", "response", "normalized_input", "normalized_output", "metadata",
	"schema_version", "cached_input_tokens", "reasoning_tokens",
}

// sqliteTimeFormat is how SQLite stores timestamp: ISO-8601 UTC with a fixed
// number of fractional digits, so that text order is time order. It equals
// core.TimestampFormat for UTC times.
const sqliteTimeFormat = "2006-01-02T15:04:05.000000Z"

// sqliteTime formats t for SQLite's timestamp column and filters.
func sqliteTime(t time.Time) string {
	t = t.UTC()
	if t.Before(minTimestamp) {
		t = minTimestamp
	} else if t.After(maxTimestamp) {
		t = maxTimestamp
	}
	return t.Format(sqliteTimeFormat)
}

// eventRow is one row of llm_events as read back (the bun model of reads).
type eventRow struct {
	bun.BaseModel `bun:"table:llm_events,alias:e"`

	EventID            string         `bun:"event_id,pk"`
	CorrelationID      sql.NullString `bun:"correlation_id"`
	ParentRequestID    sql.NullString `bun:"parent_request_id"`
	Timestamp          dbTime         `bun:"timestamp"`
	Model              string         `bun:"model"`
	Provider           string         `bun:"provider"`
	InputTokens        int64          `bun:"input_tokens"`
	OutputTokens       int64          `bun:"output_tokens"`
	TotalTokens        int64          `bun:"total_tokens"`
	Cost               float64        `bun:"cost"`
	LatencyMS          int64          `bun:"latency_ms"`
	TimeToFirstTokenMS sql.NullInt64  `bun:"time_to_first_token_ms"`
	TotalStreamTimeMS  sql.NullInt64  `bun:"total_stream_time_ms"`
	Parameters         sql.NullString `bun:"parameters"`
	Tools              sql.NullString `bun:"tools"`
	ToolCalls          sql.NullString `bun:"tool_calls"`
	ErrorKind          sql.NullString `bun:"error_kind"`
	ErrorMessage       sql.NullString `bun:"error_message"`
	Labels             sql.NullString `bun:"labels"`
	Prompt             sql.NullString `bun:"prompt"`
	Response           sql.NullString `bun:"response"`
	NormalizedInput    sql.NullString `bun:"normalized_input"`
	NormalizedOutput   sql.NullString `bun:"normalized_output"`
	Metadata           sql.NullString `bun:"metadata"`
	SchemaVersion      int64          `bun:"schema_version"`
	CachedInputTokens  int64          `bun:"cached_input_tokens"`
	ReasoningTokens    int64          `bun:"reasoning_tokens"`
}

// dbTime scans a TIMESTAMPTZ (Postgres) or an ISO-8601 TEXT (SQLite).
type dbTime struct{ time.Time }

// Scan implements sql.Scanner.
func (t *dbTime) Scan(src any) error {
	switch x := src.(type) {
	case time.Time:
		t.Time = x.UTC()
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	case nil:
		t.Time = time.Time{}
		return nil
	}
	return fmt.Errorf("persist: cannot scan %T into a timestamp", src)
}

func (t *dbTime) parse(s string) error {
	v, err := core.ParseTimestamp(s)
	if err != nil {
		return fmt.Errorf("persist: bad timestamp %q: %w", s, err)
	}
	t.Time = v
	return nil
}

// toolCallRow is how tool_calls are stored: OpenAI's shape
// ({"id","type","function":{"name","arguments"}}), as Python LeanLLM writes
// them. (llms.ToolCall's own JSON is langchaingo's content-part shape.)
type toolCallRow struct {
	ID       string             `json:"id"`
	Type     string             `json:"type"`
	Function *llms.FunctionCall `json:"function,omitempty"`
}

func toolCallRows(tcs []llms.ToolCall) []toolCallRow {
	if tcs == nil {
		return nil
	}
	out := make([]toolCallRow, len(tcs))
	for i, tc := range tcs {
		out[i] = toolCallRow{ID: tc.ID, Type: tc.Type, Function: tc.FunctionCall}
	}
	return out
}

// rowEncoder turns events into column values, reusing its buffers.
type rowEncoder struct {
	vals      []any
	buf       []byte // the row's JSON documents
	se        structEncoder
	sqliteTS  bool // timestamp as sqliteTime text (else time.Time)
	jsonBytes bool // JSON columns as []byte into buf, valid until the next encode (else string)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// JSON column positions in eventColumns.
const (
	colParameters       = 13
	colTools            = 14
	colToolCalls        = 15
	colLabels           = 18
	colNormalizedInput  = 21
	colNormalizedOutput = 22
	colMetadata         = 23
)

// encode fills and returns the column values of e (valid until the next
// call). e must be sanitized. A JSON encoding failure wraps ErrData.
func (r *rowEncoder) encode(e *core.Event) ([]any, error) {
	if r.vals == nil {
		r.vals = make([]any, len(eventColumns))
	}
	v := r.vals
	v[0] = e.EventID
	v[1] = nullStr(e.CorrelationID)
	v[2] = nullStr(e.ParentRequestID)
	if r.sqliteTS {
		v[3] = sqliteTime(e.Timestamp)
	} else {
		v[3] = e.Timestamp.UTC().Truncate(time.Microsecond)
	}
	v[4] = e.Model
	v[5] = e.Provider
	v[6] = int64(e.InputTokens)
	v[7] = int64(e.OutputTokens)
	v[8] = int64(e.TotalTokens)
	v[9] = e.Cost
	v[10] = e.LatencyMS
	v[11] = nullInt(e.TimeToFirstTokenMS)
	v[12] = nullInt(e.TotalStreamTimeMS)
	v[16] = nullStr(e.ErrorKind)
	v[17] = nullStr(e.ErrorMessage)
	v[19] = nullPtr(e.Prompt)
	v[20] = nullPtr(e.Response)
	sv := e.SchemaVersion
	if sv == 0 {
		sv = core.SchemaVersion
	}
	v[24] = int64(sv)
	v[25] = int64(e.CachedInputTokens)
	v[26] = int64(e.ReasoningTokens)

	// JSON documents, appended to one buffer; ends[i] closes column jsonCols[i].
	b := r.buf[:0]
	var (
		ends [7]int
		err  error
	)
	jsonCols := [7]int{colParameters, colTools, colToolCalls, colLabels, colNormalizedInput, colNormalizedOutput, colMetadata}
	null := [7]bool{false, e.Tools == nil, e.ToolCalls == nil, false, e.NormalizedInput == nil, e.NormalizedOutput == nil, false}
	for i, col := range jsonCols {
		if !null[i] {
			switch col {
			case colParameters:
				b, err = appendParameters(b, &r.se, &e.Parameters)
			case colTools:
				b, err = appendTools(b, e.Tools)
			case colToolCalls:
				b = appendToolCalls(b, e.ToolCalls)
			case colLabels:
				b = appendLabels(b, e.Labels)
			case colNormalizedInput:
				b, err = appendAnyMap(b, e.NormalizedInput)
			case colNormalizedOutput:
				b, err = appendAnyMap(b, e.NormalizedOutput)
			case colMetadata:
				b, err = appendMetadata(b, &r.se, &e.Metadata)
			}
			if err != nil {
				r.buf = b
				return nil, fmt.Errorf("%w: column %s: %v", ErrData, eventColumns[col], err)
			}
		}
		ends[i] = len(b)
	}
	r.buf = b
	var all string
	if !r.jsonBytes {
		all = string(b) // one allocation; the columns are substrings of it
	}
	start := 0
	for i, col := range jsonCols {
		switch {
		case null[i]:
			v[col] = nil
		case r.jsonBytes:
			v[col] = b[start:ends[i]:ends[i]]
		default:
			v[col] = all[start:ends[i]]
		}
		start = ends[i]
	}
	return v, nil
}

func nullInt(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

func nullPtr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// decode turns a row back into an event.
func (row *eventRow) decode() (*core.Event, error) {
	e := &core.Event{
		EventID:            row.EventID,
		CorrelationID:      row.CorrelationID.String,
		ParentRequestID:    row.ParentRequestID.String,
		Timestamp:          row.Timestamp.Time,
		Model:              row.Model,
		Provider:           row.Provider,
		InputTokens:        int(row.InputTokens),
		OutputTokens:       int(row.OutputTokens),
		TotalTokens:        int(row.TotalTokens),
		Cost:               row.Cost,
		LatencyMS:          row.LatencyMS,
		TimeToFirstTokenMS: row.TimeToFirstTokenMS,
		TotalStreamTimeMS:  row.TotalStreamTimeMS,
		ErrorKind:          row.ErrorKind.String,
		ErrorMessage:       row.ErrorMessage.String,
		SchemaVersion:      int(row.SchemaVersion),
		CachedInputTokens:  int(row.CachedInputTokens),
		ReasoningTokens:    int(row.ReasoningTokens),
	}
	if row.Prompt.Valid {
		e.Prompt = &row.Prompt.String
	}
	if row.Response.Valid {
		e.Response = &row.Response.String
	}
	var errs []error
	dec := func(col string, s sql.NullString, dst any) {
		if !s.Valid || s.String == "" || s.String == "null" {
			return
		}
		if err := json.Unmarshal([]byte(s.String), dst); err != nil {
			errs = append(errs, fmt.Errorf("column %s: %w", col, err))
		}
	}
	dec("parameters", row.Parameters, &e.Parameters)
	dec("tools", row.Tools, &e.Tools)
	if row.ToolCalls.Valid {
		var tcs []toolCallRow
		dec("tool_calls", row.ToolCalls, &tcs)
		e.ToolCalls = make([]llms.ToolCall, len(tcs))
		for i, tc := range tcs {
			e.ToolCalls[i] = llms.ToolCall{ID: tc.ID, Type: tc.Type, FunctionCall: tc.Function}
		}
	}
	if row.Tools.Valid && e.Tools == nil {
		e.Tools = []llms.Tool{}
	}
	dec("labels", row.Labels, &e.Labels)
	dec("normalized_input", row.NormalizedInput, &e.NormalizedInput)
	dec("normalized_output", row.NormalizedOutput, &e.NormalizedOutput)
	dec("metadata", row.Metadata, &e.Metadata)
	if len(errs) > 0 {
		return e, fmt.Errorf("persist: event %s: %w", strconv.Quote(e.EventID), errors.Join(errs...))
	}
	return e, nil
}

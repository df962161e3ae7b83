package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

const showAbout = `Show one stored event in sections: identity, timing, tokens & cost,
parameters, labels, content, tool calls, error, metadata. ID is the event id,
a unique prefix of it, or the short form printed by logs (0192f0c4…9b1e).
--json prints the event in the wire format. Exit code 3 when no event matches.`

func (a *app) show(ctx context.Context, args []string) error {
	f := a.newFlags("show", "leanllm show [flags] ID", showAbout).withDB()
	asJSON := f.Bool("json", false, "print the event as JSON")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "event ID"); err != nil {
		return err
	}
	store, err := openRead(ctx, f.dbURL())
	if err != nil {
		return err
	}
	defer store.Close()
	e, err := resolveEvent(ctx, store, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, e)
	}
	return writeEvent(a.stdout, e)
}

// resolveEvent finds an event by id or short id, mapping the errors to exit
// codes.
func resolveEvent(ctx context.Context, r persist.Reader, ref string) (*core.Event, error) {
	e, err := view.ResolveID(ctx, r, ref)
	switch {
	case err == nil:
		return e, nil
	case errors.Is(err, persist.ErrNotFound):
		return nil, notFound(fmt.Errorf("no event %q (list ids with `leanllm logs`)", ref))
	case errors.Is(err, view.ErrAmbiguous):
		return nil, usageErr("%v", err)
	}
	return nil, hintSchema(err)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeEvent prints the sectioned view of e.
func writeEvent(w io.Writer, e *core.Event) error {
	s := &sections{w: w}
	s.head("Identity")
	s.row("event_id", e.EventID)
	s.row("correlation_id", orDash(e.CorrelationID))
	s.row("parent_request_id", orDash(e.ParentRequestID))
	s.row("model", orDash(e.Model))
	s.row("provider", orDash(e.Provider))
	s.row("status", view.Status(e))
	if e.Metadata.CallKind != "" {
		s.row("kind", e.Metadata.CallKind)
	}
	s.row("schema_version", fmt.Sprint(e.SchemaVersion))

	s.head("Timing")
	s.row("timestamp", e.Timestamp.UTC().Format(core.TimestampFormat))
	s.row("latency", view.MS(e.LatencyMS))
	if e.TimeToFirstTokenMS.Valid {
		s.row("time_to_first_token", view.MS(e.TimeToFirstTokenMS.Int64))
	}
	if e.TotalStreamTimeMS.Valid {
		s.row("total_stream_time", view.MS(e.TotalStreamTimeMS.Int64))
	}
	if e.Metadata.Stream {
		s.row("stream_end", orDash(e.Metadata.StreamEnd))
	}

	s.head("Tokens & cost")
	s.row("input_tokens", view.Int(int64(e.InputTokens)))
	s.row("output_tokens", view.Int(int64(e.OutputTokens)))
	s.row("total_tokens", view.Int(int64(e.TotalTokens)))
	if e.CachedInputTokens > 0 {
		s.row("cached_input_tokens", view.Int(int64(e.CachedInputTokens)))
	}
	if e.ReasoningTokens > 0 {
		s.row("reasoning_tokens", view.Int(int64(e.ReasoningTokens)))
	}
	cost := view.Cost(e.Cost)
	if e.Metadata.CostUnknown {
		cost += " (model not in the pricing table)"
	}
	s.row("cost", cost)
	if e.Metadata.TokensEstimated {
		s.row("tokens_estimated", "true (the provider reported no usage)")
	}
	if e.Metadata.SampleRate > 0 && e.Metadata.SampleRate < 1 {
		s.row("sample_rate", fmt.Sprintf("%g (stands for ~%s calls)", e.Metadata.SampleRate, view.Float(1/e.Metadata.SampleRate)))
	}

	s.head("Parameters")
	s.jsonRows(e.Parameters)
	if len(e.Tools) > 0 {
		names := make([]string, 0, len(e.Tools))
		for _, t := range e.Tools {
			if t.Function != nil {
				names = append(names, t.Function.Name)
			} else {
				names = append(names, t.Type)
			}
		}
		s.row("tools", strings.Join(names, ", "))
	}

	s.head("Labels")
	if len(e.Labels) == 0 {
		s.none()
	}
	for _, k := range slices.Sorted(maps.Keys(e.Labels)) {
		s.row(k, e.Labels[k])
	}

	s.head("Content")
	if e.Prompt == nil && e.Response == nil {
		s.text("not captured (capture_content=false or redaction_mode=metadata)")
	} else {
		if e.Metadata.RedactionMode != "" {
			s.row("redaction_mode", e.Metadata.RedactionMode)
		}
		if e.Metadata.ContentCut {
			s.row("truncated", "true (longer than max_content_bytes)")
		}
		s.block("prompt", e.Prompt)
		s.block("response", e.Response)
	}

	if len(e.ToolCalls) > 0 {
		s.head("Tool calls")
		for _, tc := range e.ToolCalls {
			name, args := "", ""
			if tc.FunctionCall != nil {
				name, args = tc.FunctionCall.Name, tc.FunctionCall.Arguments
			}
			s.row(orDash(tc.ID), name+"("+args+")")
		}
	}

	s.head("Error")
	if !e.IsError() {
		s.none()
	} else {
		s.row("error_kind", e.ErrorKind)
		if e.Metadata.ErrorDetail != "" {
			s.row("detail", e.Metadata.ErrorDetail)
		}
		if e.Metadata.HTTPStatus != 0 {
			s.row("http_status", fmt.Sprint(e.Metadata.HTTPStatus))
		}
		if e.Metadata.ErrorClass != "" {
			s.row("error_class", e.Metadata.ErrorClass)
		}
		s.row("message", orDash(e.ErrorMessage))
	}

	if len(e.NormalizedInput) > 0 || len(e.NormalizedOutput) > 0 {
		s.head("Normalized")
		if len(e.NormalizedInput) > 0 {
			s.row("input", compactJSON(e.NormalizedInput))
		}
		if len(e.NormalizedOutput) > 0 {
			s.row("output", compactJSON(e.NormalizedOutput))
		}
	}

	s.head("Metadata")
	s.jsonRows(e.Metadata)
	s.flush()
	return s.err
}

// sections writes "Title" headings followed by aligned key/value rows.
type sections struct {
	w       io.Writer
	tw      *tabwriter.Writer
	started bool // a section was written
	err     error
}

func (s *sections) flush() {
	if s.tw != nil {
		if err := s.tw.Flush(); err != nil && s.err == nil {
			s.err = err
		}
		s.tw = nil
	}
}

func (s *sections) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

func (s *sections) head(title string) {
	s.flush()
	if s.started {
		s.printf("\n")
	}
	s.started = true
	s.printf("%s\n", title)
}

func (s *sections) row(k, v string) {
	if s.tw == nil {
		s.tw = tabwriter.NewWriter(s.w, 0, 0, 2, ' ', 0)
	}
	v = strings.ReplaceAll(v, "\n", "\n\t")
	fmt.Fprintf(s.tw, "  %s\t%s\n", k, v)
}

func (s *sections) none() { s.text("none") }

func (s *sections) text(t string) {
	s.flush()
	s.printf("  %s\n", t)
}

// block prints multi-line content indented under its name.
func (s *sections) block(name string, v *string) {
	s.flush()
	if v == nil {
		s.printf("  %s: not captured\n", name)
		return
	}
	s.printf("  %s:\n", name)
	for line := range strings.SplitSeq(strings.TrimRight(*v, "\n"), "\n") {
		s.printf("    %s\n", line)
	}
}

// jsonRows prints the keys of v's JSON object, one per row, values as JSON.
func (s *sections) jsonRows(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.text("(" + err.Error() + ")")
		return
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || len(m) == 0 {
		s.none()
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		val := string(m[k])
		var str string
		if json.Unmarshal(m[k], &str) == nil {
			val = str
		}
		s.row(k, val)
	}
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

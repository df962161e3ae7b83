package otelexport

import (
	"context"

	"github.com/leanllm/leanllm-go/core"
	"go.opentelemetry.io/otel/metric"
)

// Metric names (OpenTelemetry GenAI semantic conventions).
const (
	MetricTokenUsage        = "gen_ai.client.token.usage"
	MetricOperationDuration = "gen_ai.client.operation.duration"
	// MetricServerTimeToFirstToken is the time to the first streamed chunk
	// as this client sees it, under the server metric's name, which most
	// GenAI dashboards chart.
	MetricServerTimeToFirstToken = "gen_ai.server.time_to_first_token"
	// MetricTimeToFirstChunk is the same measure under the client metric's
	// name of later semantic conventions.
	MetricTimeToFirstChunk = "gen_ai.client.operation.time_to_first_chunk"
)

// Bucket boundaries advised by the semantic conventions.
var (
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	ttftBuckets     = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0}
)

type instruments struct {
	tokens   metric.Int64Histogram
	duration metric.Float64Histogram
	ttft     metric.Float64Histogram
	ttfc     metric.Float64Histogram
}

func newInstruments(m metric.Meter) (instruments, error) {
	var in instruments
	var err error
	if in.tokens, err = m.Int64Histogram(MetricTokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used."),
		metric.WithExplicitBucketBoundaries(tokenBuckets...)); err != nil {
		return in, err
	}
	if in.duration, err = m.Float64Histogram(MetricOperationDuration, metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return in, err
	}
	if in.ttft, err = m.Float64Histogram(MetricServerTimeToFirstToken, metric.WithUnit("s"),
		metric.WithDescription("Time to generate first token for successful responses."),
		metric.WithExplicitBucketBoundaries(ttftBuckets...)); err != nil {
		return in, err
	}
	if in.ttfc, err = m.Float64Histogram(MetricTimeToFirstChunk, metric.WithUnit("s"),
		metric.WithDescription("Time to receive the first chunk in a streaming operation."),
		metric.WithExplicitBucketBoundaries(ttftBuckets...)); err != nil {
		return in, err
	}
	return in, nil
}

// record records e's metrics: operation duration (with error.type for a
// failed call), token usage by type (when the call succeeded or reported
// tokens) and, for streams that produced a chunk, time to first token.
// Called with x.mu held.
func (x *Exporter) record(ctx context.Context, e *core.Event, op string) {
	in := &x.inst
	in.duration.Record(ctx, float64(e.LatencyMS)/1000, metric.WithAttributeSet(x.metricAttrs(e, op, e.ErrorKind, "")))
	if !e.IsError() || e.InputTokens > 0 || e.OutputTokens > 0 {
		in.tokens.Record(ctx, int64(e.InputTokens), metric.WithAttributeSet(x.metricAttrs(e, op, "", tokenInput)))
		in.tokens.Record(ctx, int64(e.OutputTokens), metric.WithAttributeSet(x.metricAttrs(e, op, "", tokenOutput)))
	}
	if e.TimeToFirstTokenMS.Valid && !e.IsError() {
		s := float64(e.TimeToFirstTokenMS.Int64) / 1000
		base := metric.WithAttributeSet(x.metricAttrs(e, op, "", ""))
		in.ttft.Record(ctx, s, base)
		in.ttfc.Record(ctx, s, base)
	}
}

// gen_ai.token.type values.
const (
	tokenInput  = "input"
	tokenOutput = "output"
)

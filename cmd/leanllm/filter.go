package main

import (
	"strings"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/persist"
)

// labelFlags is a repeatable --label k=v.
type labelFlags map[string]string

func (l labelFlags) String() string {
	parts := make([]string, 0, len(l))
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (l labelFlags) Set(s string) error {
	k, v, err := view.ParseLabel(s)
	if err != nil {
		return err
	}
	l[k] = v
	return nil
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// filterFlags are the event filters of logs and stats.
type filterFlags struct {
	model, provider, correlationID string
	errorsOnly                     bool
	since, until                   string
	labels                         labelFlags
}

func (f *flagSet) filterFlags() *filterFlags {
	ff := &filterFlags{labels: labelFlags{}}
	f.StringVar(&ff.model, "model", "", "only events of this model")
	f.StringVar(&ff.provider, "provider", "", "only events of this provider")
	f.StringVar(&ff.correlationID, "correlation-id", "", "only events of this correlation id (trace)")
	f.BoolVar(&ff.errorsOnly, "errors-only", false, "only failed calls")
	f.StringVar(&ff.since, "since", "", "from this time on: RFC 3339 (2026-11-28T10:00:00Z), a date, or a duration before now (15m, 2h, 7d)")
	f.StringVar(&ff.until, "until", "", "before this time: RFC 3339, a date, or a duration before now")
	f.Var(ff.labels, "label", "only events with this label, key=value (repeatable; all must match)")
	return ff
}

// filter builds the store filter.
func (ff *filterFlags) filter(a *app) (persist.Filter, error) {
	now := a.now()
	since, err := view.ParseTime(ff.since, now)
	if err != nil {
		return persist.Filter{}, usageErr("--since: %v", err)
	}
	until, err := view.ParseTime(ff.until, now)
	if err != nil {
		return persist.Filter{}, usageErr("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return persist.Filter{}, usageErr("--since (%s) must be before --until (%s)", view.Time(since), view.Time(until))
	}
	f := persist.Filter{
		Model: ff.model, Provider: ff.provider, CorrelationID: ff.correlationID,
		ErrorsOnly: ff.errorsOnly, Since: since, Until: until,
	}
	if len(ff.labels) > 0 {
		f.Labels = map[string]string(ff.labels)
	}
	return f, nil
}

func checkNonNegative(name string, n int) error {
	if n < 0 {
		return usageErr("--%s must be >= 0, got %d", name, n)
	}
	return nil
}

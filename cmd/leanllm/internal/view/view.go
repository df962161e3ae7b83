package view

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

// Ellipsis joins the two ends of a shortened id.
const Ellipsis = "…"

// ShortID shortens a UUID to its first 8 and last 4 characters
// ("0192f0c4…9b1e"). The first 8 characters of a UUIDv7 are its timestamp
// and are shared by every event of the same minute, so the random tail is
// kept to tell them apart. Ids of 16 characters or fewer are returned whole.
func ShortID(id string) string {
	if len(id) <= 16 {
		return id
	}
	return id[:8] + Ellipsis + id[len(id)-4:]
}

// MatchID reports whether id matches the user's ref: the whole id, a prefix
// of it, or a ShortID form ("0192f0c4…9b1e" or "0192f0c4..9b1e").
func MatchID(id, ref string) bool {
	ref = strings.ToLower(strings.TrimSpace(ref))
	id = strings.ToLower(id)
	if ref == "" {
		return false
	}
	for _, sep := range []string{Ellipsis, "...", ".."} {
		if head, tail, ok := strings.Cut(ref, sep); ok {
			return strings.HasPrefix(id, head) && strings.HasSuffix(id, tail) && len(head)+len(tail) <= len(id)
		}
	}
	return strings.HasPrefix(id, ref)
}

// ErrAmbiguous is returned by ResolveID when a short id matches several
// events. Test it with errors.Is.
var ErrAmbiguous = errors.New("ambiguous event id")

// resolveScan bounds how many recent events ResolveID scans for a short id.
const resolveScan = 20000

// ResolveID finds the event ref names: an exact event id first, else a
// unique prefix or ShortID form among the most recent events. It returns an
// error wrapping persist.ErrNotFound when nothing matches and ErrAmbiguous
// when several do.
func ResolveID(ctx context.Context, r persist.Reader, ref string) (*core.Event, error) {
	ref = strings.TrimSpace(ref)
	e, err := r.GetEvent(ctx, ref)
	if err == nil {
		return e, nil
	}
	if !errors.Is(err, persist.ErrNotFound) {
		return nil, err
	}
	if len(ref) < 4 || len(ref) >= 36 {
		return nil, fmt.Errorf("no event %q: %w", ref, persist.ErrNotFound)
	}
	events, err := r.ListEvents(ctx, persist.Filter{Limit: resolveScan})
	if err != nil {
		return nil, err
	}
	var found []*core.Event
	for _, ev := range events {
		if MatchID(ev.EventID, ref) {
			found = append(found, ev)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no event %q: %w", ref, persist.ErrNotFound)
	case 1:
		return found[0], nil
	}
	ids := make([]string, 0, 3)
	for _, ev := range found[:min(3, len(found))] {
		ids = append(ids, ev.EventID)
	}
	more := ""
	if len(found) > 3 {
		more = ", …"
	}
	return nil, fmt.Errorf("%w %q: %d events match (%s%s): give more characters", ErrAmbiguous, ref, len(found), strings.Join(ids, ", "), more)
}

// Cost formats a USD amount: "$0" for zero, 4 significant decimals below a
// cent, 2 decimals from a dollar.
func Cost(c float64) string {
	switch {
	case c == 0:
		return "$0"
	case math.IsNaN(c) || math.IsInf(c, 0):
		return "n/a"
	case math.Abs(c) >= 100:
		return "$" + Int(int64(math.Round(c)))
	case math.Abs(c) >= 1:
		return "$" + strconv.FormatFloat(c, 'f', 2, 64)
	case math.Abs(c) >= 0.01:
		return "$" + strconv.FormatFloat(c, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(c, 'f', 6, 64)
}

// Int formats n with thousands separators ("12,345").
func Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Float formats f with at most one decimal and thousands separators.
func Float(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return Int(int64(f))
	}
	whole := math.Trunc(f)
	frac := math.Abs(math.Round((f-whole)*10)) / 10
	if frac >= 1 {
		whole += math.Copysign(1, f)
		frac = 0
	}
	return Int(int64(whole)) + strings.TrimPrefix(strconv.FormatFloat(frac, 'f', 1, 64), "0")
}

// MS formats a duration in milliseconds: "850ms", "1.2s", "3m04s".
func MS(ms int64) string {
	switch {
	case ms < 1000:
		return strconv.FormatInt(ms, 10) + "ms"
	case ms < 60_000:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + "s"
	}
	d := time.Duration(ms) * time.Millisecond
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// MSf formats a fractional millisecond value (a percentile) like MS.
func MSf(ms float64) string { return MS(int64(math.Round(ms))) }

// TTFT formats an event's time to first token, "-" when it is not a stream.
func TTFT(e *core.Event) string {
	if !e.TimeToFirstTokenMS.Valid {
		return "-"
	}
	return MS(e.TimeToFirstTokenMS.Int64)
}

// Tokens formats an event's tokens as "in+out".
func Tokens(e *core.Event) string {
	return Int(int64(e.InputTokens)) + "+" + Int(int64(e.OutputTokens))
}

// Status is "ok" or the event's error kind.
func Status(e *core.Event) string {
	if e.ErrorKind != "" {
		return e.ErrorKind
	}
	return "ok"
}

// TimeLayout is how times are shown: UTC, second precision.
const TimeLayout = "2006-01-02 15:04:05"

// Time formats t in UTC.
func Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(TimeLayout)
}

// Truncate cuts s to at most n runes, ending with "…" when cut, and puts
// newlines and tabs on one line.
func Truncate(s string, n int) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + Ellipsis
}

// ParseTime reads a time bound: an RFC 3339 time ("2026-11-28T10:00:00Z"),
// a date ("2026-11-28", midnight UTC), or a duration before now ("15m",
// "2h", "7d"). An empty string is the zero time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := ParseDuration(s); err == nil {
		return now.Add(-d).UTC(), nil
	}
	if t, err := core.ParseTimestamp(s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2026-11-28T10:00:00Z), a date (2026-11-28) or a duration before now (15m, 2h, 7d)", s)
}

// ParseDuration is time.ParseDuration plus a "d" (24h) unit: "7d", "1d12h".
func ParseDuration(s string) (time.Duration, error) {
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		d := time.Duration(n) * 24 * time.Hour
		if rest == "" {
			return d, nil
		}
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return d + r, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

// ParseLabel reads a "key=value" label filter.
func ParseLabel(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("bad label %q: want key=value", s)
	}
	return k, v, nil
}

// GroupBy validates an aggregate key: model, provider, day or label:KEY.
func GroupBy(by string) error {
	switch {
	case by == "model", by == "provider", by == "day":
		return nil
	case strings.HasPrefix(by, "label:") && len(by) > len("label:"):
		return nil
	}
	return fmt.Errorf("bad group %q: want model, provider, day or label:KEY", by)
}

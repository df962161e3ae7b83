package capture_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

func TestEventIDsAreUUIDv7(t *testing.T) {
	is := is.New(t)
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 10000 {
		s := capture.NewEventIDAt(at)
		u, err := uuid.Parse(s)
		is.NoErr(err)
		is.Equal(u.Version(), uuid.Version(7))
		is.Equal(u.Variant(), uuid.RFC4122)
		sec, nsec := u.Time().UnixTime()
		is.Equal(time.Unix(sec, nsec).UTC(), at) // the timestamp is the call's start
		is.True(!seen[s])
		seen[s] = true
	}
	// Later calls sort after earlier ones.
	is.True(capture.NewEventIDAt(at) < capture.NewEventIDAt(at.Add(time.Millisecond)))
}

func TestCut(t *testing.T) {
	is := is.New(t)
	s, cut := capture.Cut("héllo world", 2)
	is.True(cut)
	is.Equal(s, "h…[truncated 11 bytes]") // never splits a UTF-8 sequence
	s, cut = capture.Cut("short", 10)
	is.True(!cut)
	is.Equal(s, "short")
}

func BenchmarkNewEventID(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_ = capture.NewEventIDAt(now)
	}
}

func BenchmarkGoogleUUIDv7(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, _ := uuid.NewV7()
		_ = u.String()
	}
}

// With redaction, a huge prompt is masked only up to the limit plus a
// margin, and a secret straddling the limit is still masked.
func TestRedactedContentIsCutBeforeMasking(t *testing.T) {
	is := is.New(t)
	st := capture.New(&capture.Config{MaxContentBytes: 100})
	redactCalls := 0
	var seen int
	c := &core.Call{CaptureContent: true, RedactionMode: "redacted", Sampled: true, SampleRate: 1,
		Redact: func(s string) string {
			redactCalls++
			seen = len(s)
			return strings.ReplaceAll(s, "jane@example.com", "[EMAIL]")
		}}
	prompt := strings.Repeat("x", 90) + " jane@example.com " + strings.Repeat("y", 1<<20)
	c.Messages = []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, prompt)}
	h := st.Middleware()(core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
		return &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: "ok"}}}, nil
	}))
	_, err := h.Handle(context.Background(), c)
	is.NoErr(err)
	is.Equal(redactCalls, 1)
	is.True(seen < 100+16<<10) // masked the kept part and the margin, not 1 MiB
	p := *c.Event.Prompt
	is.True(!strings.Contains(p, "jane@"))
	is.True(strings.HasPrefix(p, strings.Repeat("x", 90)+" [EMAIL]"))
	is.True(strings.HasSuffix(p, " bytes]"))
	is.True(c.Event.Metadata.ContentCut)
}

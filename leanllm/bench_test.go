package leanllm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
)

// newStatic is the zero-latency model: one shared, read-only response, so
// that benchmarks measure LeanLLM's own overhead.
var newStatic = testprovider.NewStatic

var benchMsgs = []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Say hi.")}

func kib() []llms.MessageContent {
	// 1 KiB of ordinary prose with one email and one key to mask.
	s := strings.Repeat("The quarterly report shows steady growth in all regions. ", 16)[:900] +
		" Contact jane.doe@example.com, key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD."
	for len(s) < 1024 {
		s += "."
	}
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, s)}
}

func benchClient(b *testing.B, m llms.Model, opts ...leanllm.Option) *leanllm.Client {
	cl, err := leanllm.New(append([]leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(m)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

// BenchmarkCallOverhead compares, in one process, the raw model with the
// same model behind a Client. The difference is LeanLLM's per-call cost.
func BenchmarkCallOverhead(b *testing.B) {
	ctx := context.Background()
	static := newStatic()
	b.Run("raw/static", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = static.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/static/content_off", func(b *testing.B) {
		cl := benchClient(b, static)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/static/chat_labels", func(b *testing.B) {
		cl := benchClient(b, static)
		lctx := leanllm.WithContext(ctx, leanllm.WithLabels(map[string]string{"feature": "bench", "tenant": "a", "tier": "pro"}))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(lctx, benchMsgs)
		}
	})
	b.Run("leanllm/static/sampled_out", func(b *testing.B) {
		cl := benchClient(b, static, leanllm.WithSamplingRate(0))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/static/log_false", func(b *testing.B) {
		cl := benchClient(b, static)
		lctx := leanllm.WithContext(ctx, leanllm.WithLog(false))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(lctx, benchMsgs)
		}
	})
	prompt := kib()
	b.Run("raw/static/1KiB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = static.GenerateContent(ctx, prompt)
		}
	})
	for _, mode := range []string{"redacted", "hashed", "full"} {
		b.Run("leanllm/static/1KiB_capture_"+mode, func(b *testing.B) {
			cl := benchClient(b, static, leanllm.WithCaptureContent(true), leanllm.WithRedactionMode(mode))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = cl.GenerateContent(ctx, prompt)
			}
		})
	}
	fake := testprovider.New(testprovider.WithoutRecording())
	b.Run("raw/fake", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = fake.GenerateContent(ctx, benchMsgs)
		}
	})
	b.Run("leanllm/fake/content_off", func(b *testing.B) {
		cl := benchClient(b, fake)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cl.GenerateContent(ctx, benchMsgs)
		}
	})
}

// BenchmarkCallParallel runs logged calls from all Ps at once.
func BenchmarkCallParallel(b *testing.B) {
	cl := benchClient(b, newStatic())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			_, _ = cl.GenerateContent(ctx, benchMsgs)
		}
	})
}

// The sampled-out path allocates nothing over the raw model, and a logged
// call with content off at most ten allocations.
func TestAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race (the race detector makes sync.Pool drop items); `go test -run TestAllocationBudget ./leanllm/` checks them")
	}
	ctx := context.Background()
	static := newStatic()
	raw := testing.AllocsPerRun(200, func() { _, _ = static.GenerateContent(ctx, benchMsgs) })
	out, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(static), leanllm.WithSamplingRate(0))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close(ctx)
	sampledOut := testing.AllocsPerRun(200, func() { _, _ = out.GenerateContent(ctx, benchMsgs) })
	// The design allows one allocation; pooling the Call makes it zero.
	if sampledOut-raw > 0 {
		t.Errorf("sampled-out call allocates %.0f more than the raw model; budget 0 (Call is pooled)", sampledOut-raw)
	}
	in, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(static))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	logged := testing.AllocsPerRun(200, func() { _, _ = in.GenerateContent(ctx, benchMsgs) })
	if logged-raw > 10 {
		t.Errorf("logged call allocates %.0f more than the raw model; budget 10", logged-raw)
	}
	t.Logf("allocs/op: raw %.0f, sampled out %.0f, logged %.0f", raw, sampledOut, logged)
}

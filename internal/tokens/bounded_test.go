package tokens

import (
	"strings"
	"testing"
)

// Pathological input (one 1 MiB pre-token) must not take quadratic time,
// and ordinary text keeps an exact count when it is encoded in pieces.
func TestEstimateBounded(t *testing.T) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200)
	whole, ok := encode(encoderFor("gpt-4o"), text)
	if !ok {
		t.Fatal("encode failed")
	}
	if got := Estimate("gpt-4o", text); got != whole {
		t.Fatalf("chunked estimate %d != whole-text count %d", got, whole)
	}
	huge := strings.Repeat("a", 1<<20)
	n := Estimate("gpt-4o", huge)
	if n <= 0 || n > len(huge) {
		t.Fatalf("estimate for 1 MiB run = %d", n)
	}
}

func BenchmarkEstimate1MiBRun(b *testing.B) {
	huge := strings.Repeat("a", 1<<20)
	Estimate("gpt-4o", "warm")
	b.ReportAllocs()
	for b.Loop() {
		Estimate("gpt-4o", huge)
	}
}

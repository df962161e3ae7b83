package redaction

import (
	"testing"
	"unicode/utf8"
)

// FuzzRedact checks, for arbitrary input, that redaction never panics,
// keeps valid UTF-8 valid, is idempotent, leaves nothing that the built-in
// detectors would still flag, and converges quickly (no oscillation). Seeds live in
// testdata/fuzz/FuzzRedact (written by TestGenerateFixtures).
//
//	go test -run='^$' -fuzz=FuzzRedact -fuzztime=30s ./redaction/
func FuzzRedact(f *testing.F) {
	f.Add("mail bob@example.com, card 4111 1111 1111 1111, ip 10.0.0.1")
	f.Add("password=hunter2&token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	r := Default()
	f.Fuzz(func(t *testing.T, s string) {
		// detect runs outside Redact's recover, so a panic surfaces here.
		_ = r.detect(s)
		out := r.Redact(s)
		if out == FailedPlaceholder && s != FailedPlaceholder {
			t.Fatalf("Redact failed (internal panic) on %q", s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q for %q", out, s)
		}
		if again := r.Redact(out); again != out {
			t.Fatalf("not idempotent:\n in: %q\n 1x: %q\n 2x: %q", s, out, again)
		}
		for _, sp := range r.detect(out) {
			if got := out[sp.start:sp.end]; got != r.placeholders[sp.k] {
				t.Fatalf("output still holds %s %q:\n in: %q\nout: %q", builtinNames[sp.k], got, s, out)
			}
		}
		if _, passes := r.fixpointN(s); passes > 3 {
			t.Fatalf("redaction needed %d passes to converge on %q", passes, s)
		}
	})
}

package pricing

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matryer/is"
)

func fileVersion(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return "file:" + filepath.Base(path) + "@" + hex.EncodeToString(sum[:])[:12]
}

func TestLoadFileOwnFormat(t *testing.T) {
	is := is.New(t)
	path := filepath.Join("testdata", "own.json")
	tab, err := LoadFile(path)
	is.NoErr(err)
	is.Equal(tab.Version(), fileVersion(t, path))

	// overrides a built-in, dated names still resolve to it
	p, name, ok := tab.Lookup("gpt-4o-mini-2024-07-18")
	is.True(ok)
	is.Equal(name, "gpt-4o-mini")
	is.Equal(p, Price{Input: 0.2, Output: 0.8, CachedInput: 0.1, Provider: "openai"})

	// extends the table
	p, _, ok = tab.Lookup("acme-large")
	is.True(ok)
	is.Equal(p, Price{
		Input: 1, Output: 4, CachedInput: 0.25, CacheWrite: 1.5,
		LongContextThreshold: 100000, LongInput: 2, LongOutput: 8, LongCachedInput: 0.5, LongCacheWrite: 3,
		Provider: "acme",
	})
	// 150000 input > 100000: long tier. 100000*2 + 40000*0.5 + 10000*3 + 1000*8
	is.True(approx(Cost(p, Usage{Input: 150_000, CachedInput: 40_000, CacheCreation: 10_000, Output: 1_000}),
		(100_000*2+40_000*0.5+10_000*3+1_000*8)/1e6))

	// built-ins it does not mention stay
	p, _, ok = tab.Lookup("claude-sonnet-4-5")
	is.True(ok)
	is.Equal(p.Input, 3.0)

	// Default is untouched
	p, _, _ = Default().Lookup("gpt-4o-mini")
	is.Equal(p.Input, 0.15)
}

func TestLoadFileLiteLLM(t *testing.T) {
	is := is.New(t)
	path := filepath.Join("testdata", "litellm_sample.json")
	tab, err := LoadFile(path)
	is.NoErr(err)
	is.Equal(tab.Version(), fileVersion(t, path))

	tests := []struct {
		model, canonical string
		want             Price
	}{
		{"gpt-4o-mini", "gpt-4o-mini", Price{Input: 0.15, Output: 0.60, CachedInput: 0.075, Provider: "openai"}},
		{"anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", Price{
			Input: 3, Output: 15, CachedInput: 0.30, CacheWrite: 3.75,
			LongContextThreshold: 200_000, LongInput: 6, LongOutput: 22.5, LongCachedInput: 0.60, LongCacheWrite: 7.5,
			Provider: "anthropic",
		}},
		{"gemini/gemini-1.5-pro", "gemini/gemini-1.5-pro", Price{
			Input: 1.25, Output: 5, LongContextThreshold: 128_000, LongInput: 2.5, LongOutput: 10, Provider: "gemini",
		}},
		{"some-vendor/big-model", "some-vendor/big-model", Price{Input: 1, Output: 2, Provider: "some-vendor"}},
		{"Some-Vendor/Big-Model", "some-vendor/big-model", Price{Input: 1, Output: 2, Provider: "some-vendor"}},
		{"o1-pro", "o1-pro", Price{Input: 150, Output: 600, Provider: "openai"}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			is := is.New(t)
			p, name, ok := tab.Lookup(tt.model)
			is.True(ok)
			is.Equal(name, tt.canonical)
			is.Equal(p, tt.want)
		})
	}

	// skipped: sample_spec, non-chat modes, chat without prices
	for _, m := range []string{"sample_spec", "text-embedding-3-small", "dall-e-3", "some-chat-model-without-prices"} {
		_, _, ok := tab.Lookup(m)
		is.True(!ok) // skipped entry
	}
}

func TestLoadReader(t *testing.T) {
	is := is.New(t)
	src := `{"models":{"x-1":{"input_per_million":1,"output_per_million":2}}}`
	tab, err := Load(strings.NewReader(src))
	is.NoErr(err)
	sum := sha256.Sum256([]byte(src))
	is.Equal(tab.Version(), "reader@"+hex.EncodeToString(sum[:])[:12])
	p, _, ok := tab.Lookup("x-1")
	is.True(ok)
	is.Equal(p, Price{Input: 1, Output: 2})
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error
	}{
		{"not json", `{"models":`, []string{"bad.json", "not a JSON object"}},
		{"array", `[1,2]`, []string{"bad.json", "not a JSON object"}},
		{"own missing output", `{"models":{"m1":{"input_per_million":1}}}`,
			[]string{"bad.json", `entry "m1"`, "output_per_million"}},
		{"own negative", `{"models":{"m2":{"input_per_million":-1,"output_per_million":1}}}`,
			[]string{"bad.json", `entry "m2"`, "negative"}},
		{"own typo field", `{"models":{"m3":{"input_per_million":1,"output_per_milion":1}}}`,
			[]string{"bad.json", `entry "m3"`, "output_per_milion"}},
		{"own wrong type", `{"models":{"m4":{"input_per_million":"1","output_per_million":1}}}`,
			[]string{"bad.json", `entry "m4"`}},
		{"own empty", `{"models":{}}`, []string{"bad.json", "no priced chat models"}},
		{"litellm wrong type", `{"gpt-x":{"input_cost_per_token":"cheap","mode":"chat"}}`,
			[]string{"bad.json", `entry "gpt-x"`}},
		{"litellm not object", `{"gpt-y": 3}`, []string{"bad.json", `entry "gpt-y"`}},
		{"litellm negative", `{"gpt-z":{"input_cost_per_token":-1e-6,"output_cost_per_token":1e-6}}`,
			[]string{"bad.json", `entry "gpt-z"`, "negative"}},
		{"litellm nothing usable", `{"sample_spec":{},"e":{"mode":"embedding","input_cost_per_token":1e-8}}`,
			[]string{"bad.json", "no priced chat models"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			path := filepath.Join(dir, "bad.json")
			is.NoErr(os.WriteFile(path, []byte(tt.content), 0o600))
			tab, err := LoadFile(path)
			is.True(err != nil) // bad file is rejected
			is.True(tab == nil)
			for _, w := range tt.want {
				is.True(strings.Contains(err.Error(), w)) // error names file and entry
			}
			if t.Failed() {
				t.Log(err)
			}
		})
	}

	_, err := LoadFile(filepath.Join(dir, "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestPerMillion(t *testing.T) {
	is := is.New(t)
	for _, tt := range []struct{ perToken, want float64 }{
		{1.5e-07, 0.15}, {7.5e-08, 0.075}, {3.75e-06, 3.75}, {2.5e-08, 0.025}, {5e-09, 0.005}, {0, 0},
	} {
		v := tt.perToken
		is.Equal(perMillion(&v), tt.want)
	}
	is.Equal(perMillion(nil), 0.0)
}

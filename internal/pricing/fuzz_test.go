package pricing

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that any price file either fails to load with an error
// or gives a table whose every model has finite, non-negative costs; Load
// never panics, and a loaded table never loses a built-in model.
//
//	go test -run='^$' -fuzz=FuzzLoad -fuzztime=20s ./internal/pricing/
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"own.json", "litellm_sample.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"models": {"m": {"input_per_million": 1, "output_per_million": 2, "long_context_threshold": 10, "long_input_per_million": 3}}}`))
	f.Add([]byte(`{"x": {"input_cost_per_token": 1e-06, "output_cost_per_token_above_200k_tokens": 2e-05}}`))
	f.Add([]byte(`{"x": {"input_cost_per_token": 1e308, "output_cost_per_token": 1e308}}`))
	f.Add([]byte(`{"models": []}`))
	f.Add([]byte(`[]`))
	usages := []Usage{
		{Input: 1000, Output: 1000},
		{Input: 300_000, Output: 5000, CachedInput: 100_000, CacheCreation: 50_000, Reasoning: 1000},
	}
	builtin := Default().Len()
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := Load(bytes.NewReader(data))
		if err != nil {
			if tab != nil {
				t.Fatal("table and error")
			}
			return
		}
		if !strings.HasPrefix(tab.Version(), "reader@") {
			t.Fatalf("version %q", tab.Version())
		}
		if tab.Len() < builtin {
			t.Fatalf("loaded table has %d models, fewer than the %d built-in", tab.Len(), builtin)
		}
		for _, name := range tab.Models() {
			p, _, ok := tab.Lookup(name)
			if !ok {
				t.Fatalf("model %q listed but not found", name)
			}
			for _, u := range usages {
				c := Cost(p, u)
				if math.IsNaN(c) || c < 0 {
					t.Fatalf("model %q: cost %g for %+v (price %+v)", name, c, u, p)
				}
			}
		}
	})
}

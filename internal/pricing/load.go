package pricing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// maxFileSize bounds what Load reads (LiteLLM's file is about 1.5 MB).
const maxFileSize = 64 << 20

// LoadFile reads a price file (see [Load] for the formats) and returns the
// built-in table extended and overridden by it. The table's version is
// "file:<basename>@<first 12 hex digits of the file's SHA-256>". Errors name
// the file and, for a bad entry, the entry.
func LoadFile(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	base := filepath.Base(path)
	return load(fmt.Sprintf("%q", path), "file:"+base, data)
}

// Load reads a price file from r and returns the built-in table extended
// and overridden by it; its version is "reader@<sha256[:12]>". Two formats
// are accepted, told apart by the top-level "models" object:
//
// LeanLLM's own format, prices in USD per million tokens; input and output
// are required, unknown fields are errors:
//
//	{"version": "2026-11-01",
//	 "models": {"gpt-4o-mini": {
//	     "input_per_million": 0.15, "output_per_million": 0.60,
//	     "cached_input_per_million": 0.075,
//	     "cache_write_per_million": 0,
//	     "long_context_threshold": 0,
//	     "long_input_per_million": 0, "long_output_per_million": 0,
//	     "long_cached_input_per_million": 0, "long_cache_write_per_million": 0,
//	     "provider": "openai"}}}
//
// LiteLLM's model_prices_and_context_window.json: top-level keys are model
// names, prices are USD per token (converted to per million). Read fields:
// input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
// cache_creation_input_token_cost, the *_above_200k_tokens and
// *_above_128k_tokens variants (long-context tier), litellm_provider and
// mode. "sample_spec", entries whose mode is neither "chat" nor
// "responses" (when set), and entries with neither an input nor an output
// price are skipped.
//
// Entries replace built-in prices of the same (case-insensitive) name
// whole; other built-in prices stay.
func Load(r io.Reader) (*Table, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("pricing: load: %w", err)
	}
	return load("input", "reader", data)
}

func load(what, versionPrefix string, data []byte) (*Table, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("pricing: load %s: larger than %d bytes", what, maxFileSize)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("pricing: load %s: not a JSON object: %w", what, err)
	}
	var (
		prices map[string]Price
		err    error
	)
	if raw, ok := top["models"]; ok && isObject(raw) {
		prices, err = parseOwn(raw)
	} else {
		prices, err = parseLiteLLM(top)
	}
	if err != nil {
		return nil, fmt.Errorf("pricing: load %s: %w", what, err)
	}
	if len(prices) == 0 {
		return nil, fmt.Errorf("pricing: load %s: no priced chat models", what)
	}
	sum := sha256.Sum256(data)
	t := Default().clone(versionPrefix + "@" + hex.EncodeToString(sum[:])[:12])
	names := make([]string, 0, len(prices))
	for name := range prices {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic row order
	for _, name := range names {
		t.set(name, prices[name])
	}
	return t, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

type ownEntry struct {
	Input           *float64 `json:"input_per_million"`
	Output          *float64 `json:"output_per_million"`
	CachedInput     float64  `json:"cached_input_per_million"`
	CacheWrite      float64  `json:"cache_write_per_million"`
	LongThreshold   int      `json:"long_context_threshold"`
	LongInput       float64  `json:"long_input_per_million"`
	LongOutput      float64  `json:"long_output_per_million"`
	LongCachedInput float64  `json:"long_cached_input_per_million"`
	LongCacheWrite  float64  `json:"long_cache_write_per_million"`
	Provider        string   `json:"provider"`
}

func parseOwn(raw json.RawMessage) (map[string]Price, error) {
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf(`"models": %w`, err)
	}
	out := make(map[string]Price, len(entries))
	for name, raw := range entries {
		var e ownEntry
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		if e.Input == nil || e.Output == nil {
			return nil, fmt.Errorf("entry %q: input_per_million and output_per_million are required", name)
		}
		p := Price{
			Input: *e.Input, Output: *e.Output, CachedInput: e.CachedInput, CacheWrite: e.CacheWrite,
			LongContextThreshold: e.LongThreshold,
			LongInput:            e.LongInput, LongOutput: e.LongOutput,
			LongCachedInput: e.LongCachedInput, LongCacheWrite: e.LongCacheWrite,
			Provider: e.Provider,
		}
		if err := validate(p); err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		if normName(name) == "" {
			return nil, fmt.Errorf("entry %q: empty model name", name)
		}
		out[name] = p
	}
	return out, nil
}

type litellmEntry struct {
	Mode     string `json:"mode"`
	Provider string `json:"litellm_provider"`

	Input      *float64 `json:"input_cost_per_token"`
	Output     *float64 `json:"output_cost_per_token"`
	CacheRead  *float64 `json:"cache_read_input_token_cost"`
	CacheWrite *float64 `json:"cache_creation_input_token_cost"`

	Input200k      *float64 `json:"input_cost_per_token_above_200k_tokens"`
	Output200k     *float64 `json:"output_cost_per_token_above_200k_tokens"`
	CacheRead200k  *float64 `json:"cache_read_input_token_cost_above_200k_tokens"`
	CacheWrite200k *float64 `json:"cache_creation_input_token_cost_above_200k_tokens"`

	Input128k     *float64 `json:"input_cost_per_token_above_128k_tokens"`
	Output128k    *float64 `json:"output_cost_per_token_above_128k_tokens"`
	CacheRead128k *float64 `json:"cache_read_input_token_cost_above_128k_tokens"`
}

func parseLiteLLM(top map[string]json.RawMessage) (map[string]Price, error) {
	out := make(map[string]Price, len(top))
	for name, raw := range top {
		if name == "sample_spec" {
			continue
		}
		if !isObject(raw) {
			return nil, fmt.Errorf("entry %q: not a JSON object", name)
		}
		var e litellmEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		if e.Mode != "" && e.Mode != "chat" && e.Mode != "responses" {
			continue
		}
		if e.Input == nil && e.Output == nil {
			continue
		}
		p := Price{
			Input:       perMillion(e.Input),
			Output:      perMillion(e.Output),
			CachedInput: perMillion(e.CacheRead),
			CacheWrite:  perMillion(e.CacheWrite),
			Provider:    e.Provider,
		}
		switch {
		case e.Input200k != nil || e.Output200k != nil:
			p.LongContextThreshold = 200_000
			p.LongInput, p.LongOutput = perMillion(e.Input200k), perMillion(e.Output200k)
			p.LongCachedInput, p.LongCacheWrite = perMillion(e.CacheRead200k), perMillion(e.CacheWrite200k)
		case e.Input128k != nil || e.Output128k != nil:
			p.LongContextThreshold = 128_000
			p.LongInput, p.LongOutput = perMillion(e.Input128k), perMillion(e.Output128k)
			p.LongCachedInput = perMillion(e.CacheRead128k)
		}
		if err := validate(p); err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		if normName(name) == "" {
			return nil, fmt.Errorf("entry %q: empty model name", name)
		}
		out[name] = p
	}
	return out, nil
}

// perMillion converts a per-token price to per million tokens, rounded to
// 1e-9 USD so that 1.5e-07 becomes 0.15 and not 0.15000000000000002.
func perMillion(perToken *float64) float64 {
	if perToken == nil {
		return 0
	}
	return math.Round(*perToken*1e6*1e9) / 1e9
}

var errBadPrice = errors.New("prices must be finite and not negative")

func validate(p Price) error {
	for _, v := range [...]float64{p.Input, p.Output, p.CachedInput, p.CacheWrite,
		p.LongInput, p.LongOutput, p.LongCachedInput, p.LongCacheWrite} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return errBadPrice
		}
	}
	if p.LongContextThreshold < 0 {
		return errors.New("long_context_threshold must not be negative")
	}
	return nil
}

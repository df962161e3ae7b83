package pricing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Table is an immutable price list. A *Table is safe for concurrent use;
// [Table.With], [Load] and [LoadFile] return new tables and never change
// the receiver. The zero Table and a nil *Table both behave as [Default].
type Table struct {
	version string
	names   []string       // canonical name of each row
	prices  []Price        // price of each row
	index   map[string]int // lower-case name or alias -> row
}

var defaultTable = sync.OnceValue(func() *Table {
	ms := builtin()
	t := &Table{
		version: Version,
		names:   make([]string, 0, len(ms)),
		prices:  make([]Price, 0, len(ms)),
		index:   make(map[string]int, 2*len(ms)),
	}
	for _, m := range ms {
		row := t.set(m.name, m.price)
		for _, a := range m.aliases {
			t.index[a] = row
		}
	}
	return t
})

// Default returns the built-in table (see [Version]). It is shared: callers
// must treat it as read-only, which the API enforces.
func Default() *Table { return defaultTable() }

func (t *Table) orDefault() *Table {
	if t == nil || t.index == nil {
		return Default()
	}
	return t
}

// Version identifies the prices of t: [Version] for the built-in table,
// "file:<basename>@<sha256[:12]>" for a table loaded by [LoadFile],
// "reader@<sha256[:12]>" for one loaded by [Load], and "<base>+overrides@<sha256[:12]>"
// for one made by [Table.With]. Store it next to each cost so that history
// can be re-priced.
func (t *Table) Version() string { return t.orDefault().version }

// Len returns the number of distinct priced models (aliases not counted).
func (t *Table) Len() int { return len(t.orDefault().names) }

// Models returns the sorted canonical names of t.
func (t *Table) Models() []string {
	names := slices.Clone(t.orDefault().names)
	slices.Sort(names)
	return names
}

// clone returns a deep copy of t with the given version.
func (t *Table) clone(version string) *Table {
	return &Table{
		version: version,
		names:   slices.Clone(t.names),
		prices:  slices.Clone(t.prices),
		index:   cloneIndex(t.index),
	}
}

func cloneIndex(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// normName is how names are stored: trimmed and lower-case.
func normName(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// set adds or replaces the row named name (already normalised by the
// caller, or normalised here) and returns its index. Replacing a canonical
// row also re-prices its aliases; setting a name that was an alias gives it
// a row of its own.
func (t *Table) set(name string, p Price) int {
	name = normName(name)
	if i, ok := t.index[name]; ok && t.names[i] == name {
		t.prices[i] = p
		return i
	}
	t.names = append(t.names, name)
	t.prices = append(t.prices, p)
	i := len(t.names) - 1
	t.index[name] = i
	return i
}

// With returns a copy of t in which overrides replace (whole Price, not
// field by field) or extend t's prices. Names are matched
// case-insensitively. The copy's version is t's version followed by
// "+overrides@" and a hash of the overrides.
func (t *Table) With(overrides map[string]Price) *Table {
	t = t.orDefault()
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%+v\n", normName(k), overrides[k])
	}
	c := t.clone(t.version + "+overrides@" + hex.EncodeToString(h.Sum(nil))[:12])
	for _, k := range keys {
		if normName(k) == "" {
			continue
		}
		c.set(k, overrides[k])
	}
	return c
}

// Lookup returns the price of model, the canonical table name it resolved
// to, and whether it is known. Resolution, first hit wins:
//
//  1. the exact name;
//  2. the name trimmed and lower-cased;
//  3. after removing each leading "provider/" segment in turn ("openai/",
//     "anthropic/", "googleai/", "gemini/", "vertex_ai/", "mistral/",
//     "models/", ...). A leading "ollama/" or "ollama_chat/" segment means a
//     local model: it is known, free (zero Price with Provider "ollama"),
//     and its canonical name is model as given;
//  4. after cutting a Vertex "@version" suffix ("claude-3-5-sonnet@20240620");
//  5. after removing, one at a time from the end, "-latest", "-preview" and
//     all-digit segments of two or more digits, which covers dated and
//     versioned names such as "gpt-4o-mini-2024-07-18",
//     "claude-sonnet-4-5-20250929", "gemini-2.5-flash-preview-05-20",
//     "mistral-large-2411" and "gemini-1.5-pro-002";
//  6. as a last resort, the longest table name N such that the name is
//     N + "-" + rest, unless rest names a different product: a size or tier
//     ("mini", "nano", "lite", "pro", "32k", "8b", ...), a one-digit
//     version ("-7", but not "-0") or a modality or
//     mode priced differently ("audio", "realtime", "search", "image",
//     "tts", "exp", ...). So "claude-sonnet-4-0" is claude-sonnet-4 but
//     "gpt-4o-mini-search-preview", "o3-deep-research" and
//     "claude-opus-4-7" are unknown.
//
// Fine-tuned OpenAI models ("ft:...") are unknown: they have their own
// prices. An unknown model returns the zero Price, "" and false.
//
// Lookup does not allocate unless model contains upper-case letters.
func (t *Table) Lookup(model string) (Price, string, bool) {
	t = t.orDefault()
	if i, ok := t.index[model]; ok {
		return t.prices[i], t.names[i], true
	}
	return t.resolve(model)
}

// Cost is Lookup followed by [Cost]: it returns the cost in USD of usage u
// on model, the canonical name, and whether the model is known (an unknown
// model costs 0).
func (t *Table) Cost(model string, u Usage) (float64, string, bool) {
	p, name, ok := t.Lookup(model)
	if !ok {
		return 0, "", false
	}
	return Cost(p, u), name, true
}

func (t *Table) resolve(model string) (Price, string, bool) {
	s := strings.TrimSpace(model)
	if hasUpper(s) {
		s = strings.ToLower(s)
	}
	if i, ok := t.index[s]; ok {
		return t.prices[i], t.names[i], true
	}
	for {
		slash := strings.IndexByte(s, '/')
		if slash < 0 {
			break
		}
		if p := s[:slash]; p == "ollama" || p == "ollama_chat" {
			return Price{Provider: ProviderOllama}, model, true
		}
		s = s[slash+1:]
		if i, ok := t.index[s]; ok {
			return t.prices[i], t.names[i], true
		}
	}
	if s == "" || strings.HasPrefix(s, "ft:") {
		return Price{}, "", false
	}
	if at := strings.IndexByte(s, '@'); at > 0 {
		s = s[:at]
		if i, ok := t.index[s]; ok {
			return t.prices[i], t.names[i], true
		}
	}
	base := s
	for {
		j := strings.LastIndexByte(s, '-')
		if j <= 0 || !strippableSuffix(s[j+1:]) {
			break
		}
		s = s[:j]
		if i, ok := t.index[s]; ok {
			return t.prices[i], t.names[i], true
		}
	}
	for j := len(base) - 1; j > 0; j-- {
		if base[j] != '-' {
			continue
		}
		if i, ok := t.index[base[:j]]; ok {
			if sameProduct(base[j+1:]) {
				return t.prices[i], t.names[i], true
			}
			break
		}
	}
	return Price{}, "", false
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// strippableSuffix reports whether a trailing "-seg" is a version or date
// marker that does not change the price.
func strippableSuffix(seg string) bool {
	switch seg {
	case "latest", "preview":
		return true
	}
	return len(seg) >= 2 && allDigits(seg)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// sameProduct reports whether rest, the part of a name after a known
// model's name and a '-', keeps that model's price: none of its segments
// names a different size, tier, modality or mode.
func sameProduct(rest string) bool {
	for rest != "" {
		seg := rest
		if k := strings.IndexByte(rest, '-'); k >= 0 {
			seg, rest = rest[:k], rest[k+1:]
		} else {
			rest = ""
		}
		switch seg {
		case "mini", "nano", "micro", "lite", "small", "medium", "large", "max", "ultra", "plus",
			"pro", "turbo", "flash", "haiku", "sonnet", "opus",
			"audio", "realtime", "tts", "transcribe", "search", "research", "image", "vision",
			"embedding", "embed", "live", "computer", "instruct", "exp", "experimental", "thinking":
			return false
		}
		// A one-digit version bump ("claude-opus-4" + "-7") is another
		// model; "-0" ("claude-sonnet-4-0") is Anthropic's alias of ".0".
		if len(seg) == 1 && '1' <= seg[0] && seg[0] <= '9' {
			return false
		}
		// Sizes such as "32k", "16k", "8b", "70b".
		if n := len(seg); n >= 2 && (seg[n-1] == 'k' || seg[n-1] == 'b') && allDigits(seg[:n-1]) {
			return false
		}
	}
	return true
}

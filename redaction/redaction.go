package redaction

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// FailedPlaceholder replaces the whole text when redaction cannot be
// completed (a custom function failed or panicked). Redaction fails closed:
// the raw text is never returned in that case.
const FailedPlaceholder = "[REDACTION_FAILED]"

// maxPasses bounds the fixed-point loop in Redact. Built-in detectors
// converge in one or two passes; the bound only matters for pathological
// custom patterns.
const maxPasses = 8

// Redactor replaces secrets and personal data in text with typed
// placeholders such as "[EMAIL]". Build one with [New] or use [Default].
// A Redactor is immutable after construction and safe for concurrent use.
//
// A nil *Redactor behaves like [Default]() (it fails closed: it never
// returns text unredacted).
type Redactor struct {
	on           uint32 // bit k set: built-in detector k enabled
	patterns     []customPattern
	funcs        []customFunc
	placeholders []string // indexed by span kind: built-ins then patterns
}

type customPattern struct {
	name        string
	placeholder string
	re          *regexp.Regexp
}

type customFunc struct {
	name string
	f    func(string) (string, error)
}

// Option configures a Redactor built by [New].
type Option func(*config)

type config struct {
	patterns []patternSpec
	funcs    []customFunc
	disabled []string
}

type patternSpec struct{ name, expr string }

// WithPattern adds a custom detector: every non-empty match of the RE2
// regular expression expr is replaced by "[NAME]", the name upper-cased
// (with '-' and ' ' turned into '_'). An invalid expression makes [New]
// return an error naming the pattern; it is never silently skipped.
//
// The expression should not match placeholders. As a safeguard, a match
// that lies inside an existing placeholder is ignored, and one that
// overlaps a placeholder is widened to cover it, so Redact stays
// idempotent.
func WithPattern(name, expr string) Option {
	return func(c *config) { c.patterns = append(c.patterns, patternSpec{name, expr}) }
}

// WithFunc adds a custom redaction step: f receives the text after the
// detectors have run and returns its replacement. Functions run in the
// order they were added; the built-in and pattern detectors then run again
// on their output. If f returns an error or panics, Redact returns
// [FailedPlaceholder] instead of any part of the text. For Redact to be
// idempotent, f must be idempotent too.
func WithFunc(name string, f func(string) (string, error)) Option {
	return func(c *config) { c.funcs = append(c.funcs, customFunc{name, f}) }
}

// WithoutDetectors disables built-in detectors by name (see
// [DetectorNames]); an unknown name makes [New] return an error.
func WithoutDetectors(names ...string) Option {
	return func(c *config) { c.disabled = append(c.disabled, names...) }
}

// DetectorNames returns the names of the built-in detectors, as accepted by
// [WithoutDetectors]. Each detector's placeholder is its name upper-cased
// in brackets, e.g. "api_key" → "[API_KEY]".
func DetectorNames() []string { return append([]string(nil), builtinNames[:]...) }

// New builds a Redactor with every built-in detector enabled, adjusted by
// opts.
func New(opts ...Option) (*Redactor, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	r := &Redactor{on: 1<<numBuiltin - 1}
	var errs []error
	for _, d := range c.disabled {
		k := -1
		for i, n := range builtinNames {
			if strings.EqualFold(strings.TrimSpace(d), n) {
				k = i
			}
		}
		if k < 0 {
			errs = append(errs, fmt.Errorf("redaction: unknown detector %q (known: %s)", d, strings.Join(builtinNames[:], ", ")))
			continue
		}
		r.on &^= 1 << k
	}
	r.placeholders = append(r.placeholders, builtinPlaceholders[:]...)
	for _, p := range c.patterns {
		ph, err := placeholderFor(p.name)
		if err != nil {
			errs = append(errs, fmt.Errorf("redaction: pattern %q: %w", p.name, err))
			continue
		}
		re, err := regexp.Compile(p.expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("redaction: pattern %q: invalid expression: %w", p.name, err))
			continue
		}
		r.patterns = append(r.patterns, customPattern{name: p.name, placeholder: ph, re: re})
		r.placeholders = append(r.placeholders, ph)
	}
	for _, f := range c.funcs {
		if _, err := placeholderFor(f.name); err != nil {
			errs = append(errs, fmt.Errorf("redaction: func %q: %w", f.name, err))
			continue
		}
		if f.f == nil {
			errs = append(errs, fmt.Errorf("redaction: func %q is nil", f.name))
			continue
		}
		r.funcs = append(r.funcs, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// placeholderFor validates a custom detector name and returns "[NAME]".
func placeholderFor(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if len(name) > 40 {
		return "", errors.New("name longer than 40 bytes")
	}
	b := make([]byte, 0, len(name)+2)
	b = append(b, '[')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			b = append(b, c)
		case c == '-' || c == ' ':
			b = append(b, '_')
		default:
			return "", fmt.Errorf("name may hold only letters, digits, '_', '-' and ' ', not %q", c)
		}
	}
	return string(append(b, ']')), nil
}

var defaultRedactor = sync.OnceValue(func() *Redactor {
	r, err := New()
	if err != nil {
		panic(err) // unreachable: no options
	}
	return r
})

// Default returns the shared Redactor with every built-in detector
// enabled. It is built once.
func Default() *Redactor { return defaultRedactor() }

// Redact returns s with every detected secret or personal datum replaced by
// its typed placeholder. When nothing is detected it returns s itself
// without allocating. The result is a fixed point: Redact(Redact(s)) ==
// Redact(s) (for custom functions, provided they are idempotent).
//
// Redact fails closed: if a custom function fails, or anything panics, it
// returns [FailedPlaceholder].
func (r *Redactor) Redact(s string) (out string) {
	if r == nil {
		r = Default()
	}
	defer func() {
		if recover() != nil {
			out = FailedPlaceholder
		}
	}()
	out = r.fixpoint(s)
	if len(r.funcs) == 0 {
		return out
	}
	in := out
	for _, f := range r.funcs {
		var err error
		out, err = f.f(out)
		if err != nil {
			return FailedPlaceholder
		}
	}
	if out != in {
		out = r.fixpoint(out)
	}
	return out
}

// fixpoint runs detection passes until a pass changes nothing.
func (r *Redactor) fixpoint(s string) string {
	s, _ = r.fixpointN(s)
	return s
}

// fixpointN is fixpoint that also reports how many passes changed the text.
func (r *Redactor) fixpointN(s string) (string, int) {
	n := 0
	for n < maxPasses {
		next, changed := r.pass(s)
		if !changed {
			break
		}
		s = next
		n++
	}
	return s, n
}

// pass runs every detector once over s and replaces the chosen spans.
func (r *Redactor) pass(s string) (string, bool) {
	spans := r.detect(s)
	if len(spans) == 0 {
		return s, false
	}
	return r.apply(s, spans)
}

// detect returns the candidate spans of all enabled detectors, unresolved.
func (r *Redactor) detect(s string) []span {
	sc := scanner{s: s, on: r.on}
	sc.scan()
	for i := range r.patterns {
		sc.spans = r.patterns[i].find(s, uint16(int(numBuiltin)+i), sc.spans)
	}
	return sc.spans
}

// apply resolves overlapping spans (earliest start wins, then the longest,
// then the detector rank) and substitutes placeholders.
func (r *Redactor) apply(s string, spans []span) (string, bool) {
	sorted := true
	for i := 1; i < len(spans); i++ {
		if spanLess(spans[i], spans[i-1]) {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortFunc(spans, func(a, b span) int {
			if spanLess(a, b) {
				return -1
			}
			if spanLess(b, a) {
				return 1
			}
			return 0
		})
	}
	var b strings.Builder
	last, changed := 0, false
	for _, sp := range spans {
		if sp.start < last {
			continue // overlaps an earlier (or longer) span
		}
		ph := r.placeholders[sp.k]
		if s[sp.start:sp.end] == ph {
			last = sp.end
			continue
		}
		if !changed {
			b.Grow(len(s))
			changed = true
		}
		b.WriteString(s[last:sp.start])
		b.WriteString(ph)
		last = sp.end
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

func spanLess(a, b span) bool {
	if a.start != b.start {
		return a.start < b.start
	}
	if a.end != b.end {
		return a.end > b.end
	}
	return rankOf(a.k) < rankOf(b.k)
}

func rankOf(k uint16) int {
	if int(k) < len(builtinRank) {
		return int(builtinRank[k])
	}
	return int(k) + 100
}

// find appends the spans of the pattern's matches in s.
func (p *customPattern) find(s string, k uint16, dst []span) []span {
	for _, m := range p.re.FindAllStringIndex(s, -1) {
		a, b := m[0], m[1]
		if b <= a {
			continue
		}
		// A match inside a placeholder is ignored; one that overlaps a
		// placeholder is widened to cover it, so placeholders are never
		// split and redaction converges.
		if ps, pe, ok := placeholderAround(s, a); ok {
			if b <= pe {
				continue
			}
			a = ps
		}
		if _, pe, ok := placeholderAround(s, b-1); ok {
			b = pe
		}
		dst = append(dst, span{a, b, k})
	}
	return dst
}

// placeholderAround reports whether position p lies inside a
// placeholder-shaped token "[A-Z0-9_]+" and returns its bounds.
func placeholderAround(s string, p int) (start, end int, ok bool) {
	if p < 0 || p >= len(s) {
		return 0, 0, false
	}
	a := p
	if s[a] != '[' {
		if s[a] == ']' {
			a--
		}
		for a >= 0 && p-a <= maxPlaceholder && isPhChar(s[a]) {
			a--
		}
		if a < 0 || s[a] != '[' {
			return 0, 0, false
		}
	}
	e := a + 1
	for e < len(s) && e-a <= maxPlaceholder && isPhChar(s[e]) {
		e++
	}
	if e == a+1 || e >= len(s) || s[e] != ']' || e < p {
		return 0, 0, false
	}
	return a, e + 1, true
}

const maxPlaceholder = 48

func isPhChar(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' }

// isPlaceholder reports whether v is exactly one placeholder-shaped token.
func isPlaceholder(v string) bool {
	if len(v) < 3 || len(v) > maxPlaceholder || v[0] != '[' || v[len(v)-1] != ']' {
		return false
	}
	for i := 1; i < len(v)-1; i++ {
		if !isPhChar(v[i]) {
			return false
		}
	}
	return true
}

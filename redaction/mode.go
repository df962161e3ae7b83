package redaction

import (
	"fmt"
	"strings"
)

// Mode says how much of a call's content (prompts, responses, tool-call
// arguments, error messages) is stored with its event.
type Mode string

const (
	// ModeMetadata stores no content at all: only metadata such as model,
	// token counts, latency and cost.
	ModeMetadata Mode = "metadata"
	// ModeRedacted stores content with secrets and PII replaced by typed
	// placeholders (see [Redactor.Redact]).
	ModeRedacted Mode = "redacted"
	// ModeHashed stores only a keyed hash of the content (see [Hash]), so
	// equal prompts can be grouped without storing them.
	ModeHashed Mode = "hashed"
	// ModeFull stores content verbatim.
	ModeFull Mode = "full"
)

// modes lists every accepted mode, most private first.
var modes = [...]Mode{ModeMetadata, ModeRedacted, ModeHashed, ModeFull}

// Modes returns every accepted mode, most private first.
func Modes() []Mode { return append([]Mode(nil), modes[:]...) }

// String returns the mode's configuration value.
func (m Mode) String() string { return string(m) }

// Valid reports whether m is one of the accepted modes.
func (m Mode) Valid() bool {
	for _, v := range modes {
		if m == v {
			return true
		}
	}
	return false
}

// ParseMode parses a configuration value such as "redacted". Surrounding
// white space and letter case are ignored. An unknown or empty value is an
// error that lists the accepted values.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if m.Valid() {
		return m, nil
	}
	names := make([]string, len(modes))
	for i, v := range modes {
		names[i] = string(v)
	}
	return "", fmt.Errorf("redaction: unknown mode %q (accepted: %s)", s, strings.Join(names, ", "))
}

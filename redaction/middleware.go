package redaction

import (
	"context"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// StageConfig configures the redaction stage.
type StageConfig struct {
	// Mode is the client's redaction_mode; a call's own mode wins.
	Mode Mode
	// CaptureContent is capture_content: false stores no content whatever
	// the mode.
	CaptureContent bool
	// Redactor masks content in ModeRedacted (nil = Default()).
	Redactor *Redactor
	// HashKey makes ModeHashed an HMAC-SHA256 (nil = plain SHA-256).
	HashKey []byte
}

// Stage returns the redaction stage. It runs before anything is captured and
// sets the call's capture policy: whether content is captured, in which
// mode, and the function the capture stage applies to the prompt, the
// response and tool-call arguments:
//
//   - metadata: nothing captured (the default);
//   - redacted: detected secrets and PII replaced by typed placeholders;
//   - hashed:   "sha256:<hex>" of the content, so equal prompts group;
//   - full:     the content as is.
//
// Masking runs on the caller's goroutine, synchronously, so hooks and
// LastEvent see exactly what is stored. The scanners are linear and cheap
// (see the package benchmarks).
func Stage(cfg StageConfig) core.Middleware {
	r := cfg.Redactor
	if r == nil {
		r = Default()
	}
	redact := r.Redact
	key := append([]byte(nil), cfg.HashKey...)
	hash := func(s string) string { return Hash(s, key) }
	defMode := cfg.Mode
	if !defMode.Valid() {
		defMode = ModeMetadata
	}
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			m := defMode
			if cm := Mode(c.Settings.RedactionMode); cm != "" && cm.Valid() {
				m = cm
			}
			c.RedactionMode = string(m)
			c.CaptureContent = cfg.CaptureContent && m != ModeMetadata
			switch m {
			case ModeRedacted:
				c.Redact = redact
			case ModeHashed:
				c.Redact = hash
			default:
				c.Redact = nil
			}
			return next.Handle(ctx, c)
		})
	}
}

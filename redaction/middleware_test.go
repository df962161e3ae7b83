package redaction

import (
	"context"
	"fmt"
	"testing"

	"github.com/leanllm/leanllm-go/core"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// policy runs Stage(cfg) on a call carrying callMode and returns the call
// as the next stage saw it.
func policy(t *testing.T, cfg StageConfig, callMode string) *core.Call {
	t.Helper()
	var seen *core.Call
	next := core.HandlerFunc(func(_ context.Context, c *core.Call) (*llms.ContentResponse, error) {
		seen = c
		return nil, nil
	})
	c := &core.Call{}
	c.Settings.RedactionMode = callMode
	if _, err := Stage(cfg)(next).Handle(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if seen == nil {
		t.Fatal("the stage did not call the next handler")
	}
	return seen
}

const stageText = "mail bob@example.com"

func TestStagePolicy(t *testing.T) {
	key := []byte("k")
	for _, capture := range []bool{false, true} {
		for _, mode := range Modes() {
			for _, callMode := range []string{"", "metadata", "redacted", "hashed", "full", "bogus"} {
				t.Run(fmt.Sprintf("capture=%v/mode=%s/call=%s", capture, mode, callMode), func(t *testing.T) {
					is := is.New(t)
					c := policy(t, StageConfig{Mode: mode, CaptureContent: capture, HashKey: key}, callMode)
					eff := mode
					if m := Mode(callMode); m.Valid() {
						eff = m // a valid call mode wins; an invalid one is ignored
					}
					is.Equal(c.RedactionMode, string(eff))
					is.Equal(c.CaptureContent, capture && eff != ModeMetadata) // capture_content=false: nothing, whatever the mode
					switch eff {
					case ModeRedacted:
						is.Equal(c.Redact(stageText), "mail [EMAIL]")
					case ModeHashed:
						is.Equal(c.Redact(stageText), Hash(stageText, key))
					default:
						is.True(c.Redact == nil) // metadata: nothing to mask; full: verbatim
					}
				})
			}
		}
	}
}

func TestStageDefaults(t *testing.T) {
	is := is.New(t)
	// An invalid configured mode is the strictest; a nil Redactor is Default().
	c := policy(t, StageConfig{Mode: "bogus", CaptureContent: true}, "")
	is.Equal(c.RedactionMode, string(ModeMetadata))
	is.True(!c.CaptureContent)
	c = policy(t, StageConfig{Mode: ModeRedacted, CaptureContent: true}, "")
	is.Equal(c.Redact(stageText), "mail [EMAIL]")
	// Without a key, hashed is the plain SHA-256.
	c = policy(t, StageConfig{Mode: ModeHashed, CaptureContent: true}, "")
	is.Equal(c.Redact("hello"), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
	// The configured key is copied: changing the caller's slice later does not change hashes.
	key := []byte("k1")
	c = policy(t, StageConfig{Mode: ModeHashed, CaptureContent: true, HashKey: key}, "")
	before := c.Redact("hello")
	key[0] = 'X'
	is.Equal(c.Redact("hello"), before)
	// A custom Redactor is used in redacted mode.
	r, err := New(WithPattern("ticket", `\bT-\d{4}\b`))
	is.NoErr(err)
	c = policy(t, StageConfig{Mode: ModeRedacted, CaptureContent: true, Redactor: r}, "")
	is.Equal(c.Redact("see T-1234 from bob@example.com"), "see [TICKET] from [EMAIL]")
}

package leanllm

import (
	"fmt"
	"os"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/redaction"
)

func getenv(k string) string { return os.Getenv(k) }

// newRedaction returns the redaction stage and the error-message masker.
// Custom detectors are compiled here, so an invalid one is an error from New.
func newRedaction(cfg config) (core.Middleware, func(string) string, error) {
	r := redaction.Default()
	if len(cfg.redactors) > 0 {
		var opts []redaction.Option
		for _, ro := range cfg.redactors {
			if ro.fn != nil {
				opts = append(opts, redaction.WithFunc(ro.name, ro.fn))
			} else {
				opts = append(opts, redaction.WithPattern(ro.name, ro.expr))
			}
		}
		var err error
		if r, err = redaction.New(opts...); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	mw := redaction.Stage(redaction.StageConfig{
		Mode:           redaction.Mode(cfg.redactionMode),
		CaptureContent: cfg.captureContent,
		Redactor:       r,
		HashKey:        cfg.hashKey,
	})
	return mw, r.Redact, nil
}

package leanllm

import (
	"context"
	"fmt"
	"strings"

	"github.com/leanllm/leanllm-go/capture"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/pricing"
	"github.com/leanllm/leanllm-go/internal/tokens"
	"github.com/leanllm/leanllm-go/internal/usage"
	"github.com/leanllm/leanllm-go/middleware"
	"github.com/leanllm/leanllm-go/normalize"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/tmc/langchaingo/llms"
)

// buildCapture prepares the capture stage's configuration and the redaction
// stage.
func (cl *Client) buildCapture() (*capture.Config, core.Middleware, error) {
	cfg := cl.cfg
	table := pricing.Default()
	if cfg.pricingFile != "" {
		t, err := pricing.LoadFile(cfg.pricingFile)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: LEANLLM_PRICING_FILE: %v", ErrConfig, err)
		}
		table = t
	}
	version := table.Version()
	red, redactError, err := newRedaction(cfg)
	if err != nil {
		return nil, nil, err
	}
	var secrets []string
	if cfg.apiKey != "" {
		secrets = append(secrets, cfg.apiKey)
	}
	for _, k := range cfg.providerKeys {
		secrets = append(secrets, k)
	}
	if cfg.leanllmAPIKey != "" {
		secrets = append(secrets, cfg.leanllmAPIKey)
	}
	if !cfg.noEnv {
		for _, env := range providerEnv {
			if v := strings.TrimSpace(getenv(env)); v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	cc := &capture.Config{
		MaxContentBytes: cfg.maxContentBytes,
		Usage: func(_ string, resp *llms.ContentResponse) capture.Usage {
			u := usage.FromResponse(resp)
			return capture.Usage{Input: u.Input, Output: u.Output, Total: u.Total, CachedInput: u.CachedInput,
				CacheCreation: u.CacheCreation, Reason: u.Reasoning, Reported: u.Reported}
		},
		Estimate: tokens.Estimate,
		Price: func(model string, u capture.Usage) (float64, bool, string) {
			if model == "" {
				return 0, false, version
			}
			cost, _, ok := table.Cost(model, pricing.Usage{Input: u.Input, Output: u.Output, Total: u.Total,
				CachedInput: u.CachedInput, CacheCreation: u.CacheCreation, Reasoning: u.Reason, Reported: u.Reported})
			return cost, ok, version
		},
		Secrets:     secrets,
		RedactError: redactError,
	}
	if cfg.autoNormalize {
		cc.Normalize = normalize.Event
	}
	return cc, red, nil
}

// openStore opens the configured destination and starts the worker.
func (cl *Client) openStore() error {
	cfg := cl.cfg
	if !cfg.enablePersistence {
		return nil
	}
	store := cfg.store
	if store == nil {
		var err error
		switch {
		case cfg.databaseURL != "":
			store, err = persist.Open(context.Background(), cfg.databaseURL)
		case cfg.leanllmAPIKey != "":
			store, err = persist.NewRemote(cfg.endpoint, cfg.leanllmAPIKey)
		default:
			return nil // in-memory only
		}
		if err != nil {
			return fmt.Errorf("leanllm: opening store: %w", err)
		}
	}
	if r, ok := store.(persist.Reader); ok {
		cl.reader = r
	}
	wt := cfg.writeTimeout
	cl.writer = persist.NewWriter(store, persist.WriterConfig{
		QueueMaxSize:        cfg.queueMaxSize,
		QueueMaxBytes:       cfg.queueMaxBytes,
		BatchSize:           cfg.batchSize,
		FlushInterval:       durMS(cfg.flushIntervalMS),
		AutoMigrate:         cfg.autoMigrate,
		RetryMaxAttempts:    cfg.retryMaxAttempts,
		RetryInitialBackoff: durMS(cfg.retryInitialBackoffMS),
		RetryTotalBudget:    durMS(cfg.retryTotalBudgetMS),
		WriteTimeout:        wt,
		SpoolDir:            cfg.spoolDir,
		OnDropped:           cl.safeOnDropped(cfg.hooks.onDropped),
		Logger:              cl.log,
	})
	return nil
}

// safeOnDropped wraps the user's on-dropped hook so that a panic in it is
// recovered and logged here, scrubbed of secrets, never by the worker raw.
func (cl *Client) safeOnDropped(f func(int, string)) func(int, string) {
	if f == nil {
		return nil
	}
	return func(n int, reason string) {
		middleware.SafelyScrubbed(cl.log, cl.scrub, "on_dropped_events hook", func() { f(n, reason) })
	}
}

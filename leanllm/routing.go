package leanllm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/googleai"
	"github.com/tmc/langchaingo/llms/mistral"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// ErrUnknownProvider is returned (wrapped) for a model string whose provider
// prefix is not known, such as "invalid/model". Test with errors.Is.
var ErrUnknownProvider = errors.New("leanllm: unknown provider")

// ErrNoModel is returned when a call names no model and the client has none.
var ErrNoModel = errors.New("leanllm: no model: pass leanllm.WithModel, or a model string such as \"openai/gpt-4o-mini\"")

// Providers are the model-string prefixes the client routes to langchaingo
// providers.
var Providers = []string{"openai", "anthropic", "googleai", "mistral", "ollama"}

var providerAliases = map[string]string{
	"openai": "openai", "anthropic": "anthropic", "googleai": "googleai", "gemini": "googleai", "google": "googleai",
	"mistral": "mistral", "mistralai": "mistral", "ollama": "ollama",
}

var providerEnv = map[string]string{
	"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "googleai": "GOOGLE_API_KEY", "mistral": "MISTRAL_API_KEY",
}

type route struct {
	pattern string
	model   llms.Model
}

func (r route) match(model string) bool {
	switch {
	case strings.HasSuffix(r.pattern, "*"):
		return strings.HasPrefix(model, strings.TrimSuffix(r.pattern, "*"))
	case strings.HasSuffix(r.pattern, "/"):
		return strings.HasPrefix(model, r.pattern)
	default:
		return model == r.pattern
	}
}

// splitModel returns the provider and bare model name of a model string, as
// LiteLLM does: "anthropic/claude-x" → (anthropic, claude-x); a bare name is
// inferred from its family ("gpt-…", "o1…" → openai, "claude-…" → anthropic,
// "gemini-…" → googleai, "mistral-…" → mistral). known is false for an
// unknown prefix.
func splitModel(model string) (provider, name string, known bool) {
	if p, rest, ok := strings.Cut(model, "/"); ok {
		if canon, ok := providerAliases[strings.ToLower(p)]; ok {
			return canon, rest, true
		}
		return p, rest, false
	}
	return inferProvider(model), model, true
}

func inferProvider(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "claude"):
		return "anthropic"
	case strings.HasPrefix(n, "gemini"):
		return "googleai"
	case strings.HasPrefix(n, "mistral"), strings.HasPrefix(n, "codestral"), strings.HasPrefix(n, "ministral"), strings.HasPrefix(n, "open-mistral"), strings.HasPrefix(n, "pixtral"):
		return "mistral"
	case strings.HasPrefix(n, "llama"), strings.HasPrefix(n, "qwen"), strings.HasPrefix(n, "phi"), strings.HasPrefix(n, "gemma"):
		return "ollama"
	default:
		return "openai"
	}
}

// router resolves model strings to models, building provider models lazily
// and caching them.
type router struct {
	routes   []route
	fallback llms.Model
	keys     map[string]string
	baseURL  string // OPENAI_BASE_URL
	useEnv   bool

	mu    sync.RWMutex
	cache map[string]llms.Model // provider -> model
}

// resolve returns the model for a call, the provider name, and the bare
// model name to forward ("" = forward nothing).
func (r *router) resolve(model string) (llms.Model, string, string, error) {
	for _, rt := range r.routes {
		if rt.match(model) {
			p, name, _ := splitModel(model)
			if !strings.Contains(model, "/") {
				name = model
			}
			if strings.HasSuffix(rt.pattern, "/") {
				p = strings.TrimSuffix(rt.pattern, "/")
			}
			return rt.model, p, name, nil
		}
	}
	if r.fallback != nil {
		if model == "" {
			return r.fallback, "", "", nil
		}
		p, name, _ := splitModel(model)
		return r.fallback, p, name, nil
	}
	if model == "" {
		return nil, "", "", &routeError{err: ErrNoModel, detail: "invalid_request"}
	}
	p, name, known := splitModel(model)
	if !known {
		return nil, p, name, &routeError{err: fmt.Errorf("%w %q in model %q (known: %s; or register one with leanllm.WithRoute)", ErrUnknownProvider, p, model, strings.Join(Providers, ", ")), detail: "invalid_request"}
	}
	m, err := r.provider(p)
	return m, p, name, err
}

func (r *router) key(provider string) string {
	if k := r.keys[provider]; k != "" {
		return k
	}
	if r.keys[""] != "" && provider != "ollama" {
		return r.keys[""]
	}
	if r.useEnv {
		return os.Getenv(providerEnv[provider])
	}
	return ""
}

func (r *router) provider(p string) (llms.Model, error) {
	r.mu.RLock()
	m := r.cache[p]
	r.mu.RUnlock()
	if m != nil {
		return m, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.cache[p]; m != nil {
		return m, nil
	}
	key := r.key(p)
	var err error
	switch p {
	case "openai":
		opts := []openai.Option{}
		if key != "" {
			opts = append(opts, openai.WithToken(key))
		}
		if r.baseURL != "" {
			opts = append(opts, openai.WithBaseURL(r.baseURL))
		}
		m, err = openai.New(opts...)
	case "anthropic":
		opts := []anthropic.Option{}
		if key != "" {
			opts = append(opts, anthropic.WithToken(key))
		}
		m, err = anthropic.New(opts...)
	case "googleai":
		opts := []googleai.Option{}
		if key != "" {
			opts = append(opts, googleai.WithAPIKey(key))
		}
		m, err = googleai.New(context.Background(), opts...)
	case "mistral":
		opts := []mistral.Option{}
		if key != "" {
			opts = append(opts, mistral.WithAPIKey(key))
		}
		m, err = mistral.New(opts...)
	case "ollama":
		m, err = ollama.New()
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownProvider, p)
	}
	if err != nil {
		// Provider constructors may echo configuration; never a key we know.
		msg := err.Error()
		if key != "" {
			msg = strings.ReplaceAll(msg, key, "[REDACTED]")
		}
		return nil, &routeError{err: fmt.Errorf("leanllm: building %s model: %s (set %s or pass leanllm.WithAPIKey)", p, msg, envName(p)), detail: "auth"}
	}
	if r.cache == nil {
		r.cache = map[string]llms.Model{}
	}
	r.cache[p] = m
	return m, nil
}

func envName(p string) string {
	if e := providerEnv[p]; e != "" {
		return e
	}
	return "the provider's variables"
}

// routeError is a routing failure; it classifies itself for the event.
type routeError struct {
	err    error
	detail string
}

func (e *routeError) Error() string { return e.err.Error() }
func (e *routeError) Unwrap() error { return e.err }

// LeanLLMErrorClass implements core.Classifier.
func (e *routeError) LeanLLMErrorClass() core.ErrorClass {
	return core.ErrorClass{Kind: core.ErrorKindProviderError, Detail: e.detail}
}

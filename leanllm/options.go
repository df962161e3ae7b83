package leanllm

import (
	"log/slog"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/middleware"
	"github.com/tmc/langchaingo/llms"
)

// Option configures a Client. Options override the LEANLLM_* variables.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithModel makes m the model of every call (routing by model string is
// then used only for names registered with WithRoute).
func WithModel(m llms.Model) Option { return optionFunc(func(c *config) { c.model = m }) }

// WithDefaultModel names the model of calls that give none (GenerateContent
// without llms.WithModel). The name routes the call and is recorded in the
// event (and prices it). It is passed to routed provider models; the
// WithModel model is assumed to be configured with its model already.
func WithDefaultModel(name string) Option {
	return optionFunc(func(c *config) { c.defaultModel = name })
}

// WithOpenAIBaseURL points the built-in openai provider at another
// OpenAI-compatible server (OPENAI_BASE_URL).
func WithOpenAIBaseURL(u string) Option { return optionFunc(func(c *config) { c.openaiBaseURL = u }) }

// WithAPIKey sets the provider key (the seed's api_key) used when a provider
// model is built from a model string. It never appears in an event, a log
// line or an error message.
func WithAPIKey(key string) Option { return optionFunc(func(c *config) { c.apiKey = key }) }

// WithProviderKey sets the key of one provider ("openai", "anthropic",
// "googleai", "mistral"), overriding WithAPIKey and the provider's env var.
func WithProviderKey(provider, key string) Option {
	return optionFunc(func(c *config) {
		if c.providerKeys == nil {
			c.providerKeys = map[string]string{}
		}
		c.providerKeys[provider] = key
	})
}

// WithRoute registers m for a model name ("my-model") or a prefix ending in
// "/" or "*" ("local/", "gpt-4o*"). Registered routes win over WithModel and
// over the built-in providers.
func WithRoute(nameOrPrefix string, m llms.Model) Option {
	return optionFunc(func(c *config) { c.models = append(c.models, route{pattern: nameOrPrefix, model: m}) })
}

// WithDatabaseURL sets database_url (LEANLLM_DATABASE_URL).
func WithDatabaseURL(u string) Option { return optionFunc(func(c *config) { c.databaseURL = u }) }

// WithLeanLLMAPIKey sets leanllm_api_key (LEANLLM_API_KEY): events go to the
// remote collector.
func WithLeanLLMAPIKey(k string) Option { return optionFunc(func(c *config) { c.leanllmAPIKey = k }) }

// WithEndpoint sets the collector base URL (LEANLLM_ENDPOINT).
func WithEndpoint(u string) Option { return optionFunc(func(c *config) { c.endpoint = u }) }

// WithPersistence sets enable_persistence (LEANLLM_ENABLE_PERSISTENCE).
func WithPersistence(on bool) Option { return optionFunc(func(c *config) { c.enablePersistence = on }) }

// WithQueueMaxSize sets queue_max_size (LEANLLM_QUEUE_MAX_SIZE).
func WithQueueMaxSize(n int) Option { return optionFunc(func(c *config) { c.queueMaxSize = n }) }

// WithQueueMaxBytes sets queue_max_bytes (LEANLLM_QUEUE_MAX_BYTES).
func WithQueueMaxBytes(n int) Option { return optionFunc(func(c *config) { c.queueMaxBytes = n }) }

// WithBatchSize sets batch_size (LEANLLM_BATCH_SIZE).
func WithBatchSize(n int) Option { return optionFunc(func(c *config) { c.batchSize = n }) }

// WithFlushInterval sets flush_interval_ms (LEANLLM_FLUSH_INTERVAL_MS).
func WithFlushInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.flushIntervalMS = int(d / time.Millisecond) })
}

// WithAutoMigrate sets auto_migrate (LEANLLM_AUTO_MIGRATE).
func WithAutoMigrate(on bool) Option { return optionFunc(func(c *config) { c.autoMigrate = on }) }

// WithCaptureContent sets capture_content (LEANLLM_CAPTURE_CONTENT).
func WithCaptureContent(on bool) Option { return optionFunc(func(c *config) { c.captureContent = on }) }

// WithRedactionMode sets redaction_mode (LEANLLM_REDACTION_MODE): metadata,
// redacted, hashed or full.
func WithRedactionMode(mode string) Option {
	return optionFunc(func(c *config) { c.redactionMode = mode })
}

// WithMaxContentBytes sets max_content_bytes (LEANLLM_MAX_CONTENT_BYTES).
func WithMaxContentBytes(n int) Option { return optionFunc(func(c *config) { c.maxContentBytes = n }) }

// WithSamplingRate sets sampling_rate (LEANLLM_SAMPLING_RATE), 0..1.
func WithSamplingRate(r float64) Option { return optionFunc(func(c *config) { c.samplingRate = r }) }

// WithEnvironment sets environment (LEANLLM_ENVIRONMENT).
func WithEnvironment(env string) Option { return optionFunc(func(c *config) { c.environment = env }) }

// WithAutoNormalize sets auto_normalize (LEANLLM_AUTO_NORMALIZE).
func WithAutoNormalize(on bool) Option { return optionFunc(func(c *config) { c.autoNormalize = on }) }

// WithAutoChain sets auto_chain (LEANLLM_AUTO_CHAIN).
func WithAutoChain(on bool) Option { return optionFunc(func(c *config) { c.autoChain = on }) }

// WithLastEventBuffer sets last_event_buffer (LEANLLM_LAST_EVENT_BUFFER); 0 disables.
func WithLastEventBuffer(n int) Option { return optionFunc(func(c *config) { c.lastEventBuffer = n }) }

// WithRetry sets retry_max_attempts, retry_initial_backoff_ms and
// retry_total_budget_ms.
func WithRetry(maxAttempts int, initialBackoff, totalBudget time.Duration) Option {
	return optionFunc(func(c *config) {
		c.retryMaxAttempts = maxAttempts
		c.retryInitialBackoffMS = int(initialBackoff / time.Millisecond)
		c.retryTotalBudgetMS = int(totalBudget / time.Millisecond)
	})
}

// WithWriteTimeout bounds each store write attempt (default 10s).
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.writeTimeout = d })
}

// WithSpoolDir sets spool_dir (LEANLLM_SPOOL_DIR).
func WithSpoolDir(dir string) Option { return optionFunc(func(c *config) { c.spoolDir = dir }) }

// WithPricingFile sets pricing_file (LEANLLM_PRICING_FILE).
func WithPricingFile(path string) Option { return optionFunc(func(c *config) { c.pricingFile = path }) }

// WithDebug sets debug (LEANLLM_DEBUG): debug logs and one summary line per event.
func WithDebug(on bool) Option { return optionFunc(func(c *config) { c.debug = on }) }

// WithLogger sets the logger for SDK diagnostics (default: discard, or
// stderr at debug level when debug is on).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithoutEnv makes New ignore the LEANLLM_* and provider variables: only
// options configure the client. Useful in tests.
func WithoutEnv() Option { return optionFunc(func(c *config) { c.noEnv = true }) }

// WithStore sends events to s instead of the store named by database_url.
func WithStore(s Store) Option { return optionFunc(func(c *config) { c.store = s }) }

// Snapshot is what the pre-call and error hooks see of a call.
type Snapshot = middleware.Snapshot

type hooks struct {
	pre       func(Snapshot)
	post      func(*Event)
	onError   func(error, Snapshot)
	onDropped func(count int, reason string)
}

// WithPreCallHook runs f before each logged call reaches the model.
func WithPreCallHook(f func(Snapshot)) Option { return optionFunc(func(c *config) { c.hooks.pre = f }) }

// WithPostCallHook runs f with a copy of each successful call's event.
func WithPostCallHook(f func(*Event)) Option { return optionFunc(func(c *config) { c.hooks.post = f }) }

// WithErrorHook runs f after each failed call's event is built.
func WithErrorHook(f func(err error, s Snapshot)) Option {
	return optionFunc(func(c *config) { c.hooks.onError = f })
}

// WithOnDroppedEvents runs f (on the worker goroutine) when events are
// dropped, with how many and why (queue_full, retry_exhausted, …).
func WithOnDroppedEvents(f func(count int, reason string)) Option {
	return optionFunc(func(c *config) { c.hooks.onDropped = f })
}

// Stage names of the default chain, for WithMiddleware positions.
const (
	StageContext   = "context"
	StageSampling  = "sampling"
	StageRedaction = "redaction"
	StageHooks     = "hooks"
	StageTiming    = "timing"
	StageCapture   = "capture"
	StageEnqueue   = "enqueue"
)

// Position places a user middleware in the default chain.
type Position struct {
	stage string
	after bool
}

// Before places a middleware just outside (before) the named stage.
func Before(stage string) Position { return Position{stage: stage} }

// After places a middleware just inside (after) the named stage.
func After(stage string) Position { return Position{stage: stage, after: true} }

type placed struct {
	pos Position
	mw  core.Middleware
}

// WithMiddleware inserts mw into the default chain at pos. Several
// middlewares at one position run in the order given.
func WithMiddleware(pos Position, mw Middleware) Option {
	return optionFunc(func(c *config) { c.middleware = append(c.middleware, placed{pos, mw}) })
}

// WithChain replaces the whole default chain by mws (outermost first). The
// model adapter is always innermost. Use DefaultStages to start from the
// built-in stages.
func WithChain(mws ...Middleware) Option {
	return optionFunc(func(c *config) { c.replaceChain = append([]Middleware(nil), mws...) })
}

type redactorOpt struct {
	name, expr string
	fn         func(string) (string, error)
}

// WithRedactionPattern adds a detector: matches of the regular expression
// expr are replaced by "[NAME]". An invalid expression is an error from New.
func WithRedactionPattern(name, expr string) Option {
	return optionFunc(func(c *config) { c.redactors = append(c.redactors, redactorOpt{name: name, expr: expr}) })
}

// WithRedactionFunc adds a custom masking function. If it panics or returns
// an error, the text is stored as "[REDACTION_FAILED]", never raw.
func WithRedactionFunc(name string, f func(string) (string, error)) Option {
	return optionFunc(func(c *config) { c.redactors = append(c.redactors, redactorOpt{name: name, fn: f}) })
}

// WithHashKey makes the hashed redaction mode use HMAC-SHA256 with key.
func WithHashKey(key []byte) Option {
	return optionFunc(func(c *config) { c.hashKey = append([]byte(nil), key...) })
}

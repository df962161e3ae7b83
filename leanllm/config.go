package leanllm

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"
)

// Defaults of the configuration (DESIGN.md "Configuration").
const (
	DefaultEndpoint              = "https://api.leanllm.dev"
	DefaultQueueMaxSize          = 10000
	DefaultQueueMaxBytes         = 64 << 20
	DefaultBatchSize             = 100
	DefaultFlushIntervalMS       = 180000
	DefaultRedactionMode         = "metadata"
	DefaultMaxContentBytes       = 32768
	DefaultSamplingRate          = 1.0
	DefaultLastEventBuffer       = 32
	DefaultRetryMaxAttempts      = 5
	DefaultRetryInitialBackoffMS = 500
	DefaultRetryTotalBudgetMS    = 30000
)

// RedactionModes are the accepted values of redaction_mode.
var RedactionModes = []string{"metadata", "redacted", "hashed", "full"}

// ErrConfig is wrapped by every configuration error New returns. Test with errors.Is.
var ErrConfig = errors.New("leanllm: invalid configuration")

type config struct {
	databaseURL           string
	leanllmAPIKey         string
	endpoint              string
	enablePersistence     bool
	queueMaxSize          int
	queueMaxBytes         int
	batchSize             int
	flushIntervalMS       int
	autoMigrate           bool
	captureContent        bool
	redactionMode         string
	maxContentBytes       int
	samplingRate          float64
	environment           string
	autoNormalize         bool
	autoChain             bool
	lastEventBuffer       int
	retryMaxAttempts      int
	retryInitialBackoffMS int
	retryTotalBudgetMS    int
	spoolDir              string
	pricingFile           string
	debug                 bool

	// Not from env.
	apiKey        string // provider key (the seed's api_key)
	model         llms.Model
	models        []route
	providerKeys  map[string]string
	hooks         hooks
	logger        *slog.Logger
	middleware    []placed
	replaceChain  []Middleware
	store         Store
	redactors     []redactorOpt
	hashKey       []byte
	noEnv         bool
	writeTimeout  time.Duration
	errs          []error
	openaiBaseURL string
	defaultModel  string
}

func defaultConfig() config {
	return config{
		endpoint:              DefaultEndpoint,
		enablePersistence:     true,
		queueMaxSize:          DefaultQueueMaxSize,
		queueMaxBytes:         DefaultQueueMaxBytes,
		batchSize:             DefaultBatchSize,
		flushIntervalMS:       DefaultFlushIntervalMS,
		autoMigrate:           true,
		redactionMode:         DefaultRedactionMode,
		maxContentBytes:       DefaultMaxContentBytes,
		samplingRate:          DefaultSamplingRate,
		lastEventBuffer:       DefaultLastEventBuffer,
		retryMaxAttempts:      DefaultRetryMaxAttempts,
		retryInitialBackoffMS: DefaultRetryInitialBackoffMS,
		retryTotalBudgetMS:    DefaultRetryTotalBudgetMS,
	}
}

// configErr returns an error naming the variable, the bad value and what is accepted.
func configErr(name, value, accepts string) error {
	return fmt.Errorf("%w: %s=%q: %s", ErrConfig, name, value, accepts)
}

type envReader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *envReader) str(name string, dst *string) {
	if v, ok := r.lookup(name); ok && v != "" {
		*dst = v
	}
}

func (r *envReader) boolean(name string, dst *bool) {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		*dst = true
	case "0", "false", "no", "off":
		*dst = false
	default:
		r.errs = append(r.errs, configErr(name, v, "accepts true/false, 1/0, yes/no, on/off"))
	}
}

func (r *envReader) integer(name string, dst *int) {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.errs = append(r.errs, configErr(name, v, "accepts an integer"))
		return
	}
	*dst = n
}

func (r *envReader) float(name string, dst *float64) {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		r.errs = append(r.errs, configErr(name, v, "accepts a number"))
		return
	}
	*dst = f
}

// fromEnv reads every LEANLLM_* variable into cfg.
func (c *config) fromEnv(lookup func(string) (string, bool)) []error {
	r := &envReader{lookup: lookup}
	r.str("LEANLLM_DATABASE_URL", &c.databaseURL)
	r.str("LEANLLM_API_KEY", &c.leanllmAPIKey)
	r.str("LEANLLM_ENDPOINT", &c.endpoint)
	r.boolean("LEANLLM_ENABLE_PERSISTENCE", &c.enablePersistence)
	r.integer("LEANLLM_QUEUE_MAX_SIZE", &c.queueMaxSize)
	r.integer("LEANLLM_QUEUE_MAX_BYTES", &c.queueMaxBytes)
	r.integer("LEANLLM_BATCH_SIZE", &c.batchSize)
	r.integer("LEANLLM_FLUSH_INTERVAL_MS", &c.flushIntervalMS)
	r.boolean("LEANLLM_AUTO_MIGRATE", &c.autoMigrate)
	r.boolean("LEANLLM_CAPTURE_CONTENT", &c.captureContent)
	r.str("LEANLLM_REDACTION_MODE", &c.redactionMode)
	r.integer("LEANLLM_MAX_CONTENT_BYTES", &c.maxContentBytes)
	r.float("LEANLLM_SAMPLING_RATE", &c.samplingRate)
	r.str("LEANLLM_ENVIRONMENT", &c.environment)
	r.boolean("LEANLLM_AUTO_NORMALIZE", &c.autoNormalize)
	r.boolean("LEANLLM_AUTO_CHAIN", &c.autoChain)
	r.integer("LEANLLM_LAST_EVENT_BUFFER", &c.lastEventBuffer)
	r.integer("LEANLLM_RETRY_MAX_ATTEMPTS", &c.retryMaxAttempts)
	r.integer("LEANLLM_RETRY_INITIAL_BACKOFF_MS", &c.retryInitialBackoffMS)
	r.integer("LEANLLM_RETRY_TOTAL_BUDGET_MS", &c.retryTotalBudgetMS)
	r.str("LEANLLM_SPOOL_DIR", &c.spoolDir)
	r.str("LEANLLM_PRICING_FILE", &c.pricingFile)
	r.boolean("LEANLLM_DEBUG", &c.debug)
	r.str("OPENAI_BASE_URL", &c.openaiBaseURL)
	return r.errs
}

// validate checks every field; each error names the variable and what it accepts.
func (c *config) validate() error {
	errs := append([]error(nil), c.errs...)
	check := func(ok bool, name string, value any, accepts string) {
		if !ok {
			errs = append(errs, configErr(name, fmt.Sprint(value), accepts))
		}
	}
	if c.databaseURL != "" && c.leanllmAPIKey != "" {
		errs = append(errs, fmt.Errorf("%w: LEANLLM_DATABASE_URL and LEANLLM_API_KEY are both set: they are mutually exclusive (a database, or the remote collector)", ErrConfig))
	}
	if c.databaseURL != "" {
		if err := checkDatabaseURL(c.databaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.leanllmAPIKey != "" {
		u, err := url.Parse(c.endpoint)
		check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "LEANLLM_ENDPOINT", c.endpoint, "accepts an http:// or https:// URL")
	}
	check(c.queueMaxSize >= 1, "LEANLLM_QUEUE_MAX_SIZE", c.queueMaxSize, "accepts an integer >= 1")
	check(c.queueMaxBytes >= 1024, "LEANLLM_QUEUE_MAX_BYTES", c.queueMaxBytes, "accepts an integer >= 1024")
	check(c.batchSize >= 1, "LEANLLM_BATCH_SIZE", c.batchSize, "accepts an integer >= 1")
	check(c.flushIntervalMS >= 1, "LEANLLM_FLUSH_INTERVAL_MS", c.flushIntervalMS, "accepts an integer >= 1 (milliseconds)")
	check(validMode(c.redactionMode), "LEANLLM_REDACTION_MODE", c.redactionMode, "accepts "+strings.Join(RedactionModes, ", "))
	check(c.maxContentBytes >= 0, "LEANLLM_MAX_CONTENT_BYTES", c.maxContentBytes, "accepts an integer >= 0 (0 = no limit)")
	check(c.samplingRate >= 0 && c.samplingRate <= 1, "LEANLLM_SAMPLING_RATE", c.samplingRate, "accepts a number between 0 and 1")
	check(c.lastEventBuffer >= 0, "LEANLLM_LAST_EVENT_BUFFER", c.lastEventBuffer, "accepts an integer >= 0 (0 disables)")
	check(c.retryMaxAttempts >= 1, "LEANLLM_RETRY_MAX_ATTEMPTS", c.retryMaxAttempts, "accepts an integer >= 1")
	// The worker treats a zero duration as "use the default", so 0 is not
	// accepted here: it would be silently replaced.
	check(c.retryInitialBackoffMS >= 1, "LEANLLM_RETRY_INITIAL_BACKOFF_MS", c.retryInitialBackoffMS, "accepts an integer >= 1 (milliseconds)")
	check(c.retryTotalBudgetMS >= 1, "LEANLLM_RETRY_TOTAL_BUDGET_MS", c.retryTotalBudgetMS, "accepts an integer >= 1 (milliseconds)")
	if c.spoolDir != "" {
		if st, err := os.Stat(c.spoolDir); err == nil && !st.IsDir() {
			errs = append(errs, configErr("LEANLLM_SPOOL_DIR", c.spoolDir, "accepts a directory path (it exists and is not a directory)"))
		}
	}
	if c.pricingFile != "" {
		if _, err := os.Stat(c.pricingFile); err != nil {
			errs = append(errs, configErr("LEANLLM_PRICING_FILE", c.pricingFile, "accepts a readable JSON price file: "+err.Error()))
		}
	}
	return errors.Join(errs...)
}

func validMode(m string) bool {
	for _, x := range RedactionModes {
		if m == x {
			return true
		}
	}
	return false
}

// checkDatabaseURL validates LEANLLM_DATABASE_URL's scheme and shape without
// ever printing a password.
func checkDatabaseURL(raw string) error {
	scheme, rest, ok := strings.Cut(raw, "://")
	accepts := "accepts sqlite:///relative.db, sqlite:////absolute.db, sqlite://:memory:, postgres://… or postgresql://…"
	if !ok {
		return configErr("LEANLLM_DATABASE_URL", redactURL(raw), accepts)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		if rest != ":memory:" && (!strings.HasPrefix(rest, "/") || len(rest) < 2) {
			return configErr("LEANLLM_DATABASE_URL", redactURL(raw), accepts)
		}
	case "postgres", "postgresql":
		if _, err := url.Parse(raw); err != nil {
			return configErr("LEANLLM_DATABASE_URL", redactURL(raw), accepts)
		}
	default:
		return configErr("LEANLLM_DATABASE_URL", redactURL(raw), "unsupported scheme "+strconv.Quote(scheme)+"; "+accepts)
	}
	return nil
}

// redactURL hides the password of a URL. A value it cannot parse as a URL
// with a scheme is never echoed: only its scheme, if any, is shown.
func redactURL(raw string) string {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok || strings.ContainsAny(scheme, "@:/ =") {
		return "(not a URL; value not shown)"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return scheme + "://…"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

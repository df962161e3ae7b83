package collector

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/leanllm/leanllm-go/core"
)

// Path is the collector endpoint.
const Path = "/v1/events"

// DefaultMaxBodyBytes is the default body size limit (after gzip decoding).
const DefaultMaxBodyBytes = 10 << 20

// maxEventIDLen bounds event ids.
const maxEventIDLen = 256

// Sink receives the decoded events: a *persist.Writer.
type Sink interface {
	Enqueue(e *core.Event)
	Flush(ctx context.Context) error
}

// Config configures a Collector.
type Config struct {
	// Keys are the accepted Bearer keys. With none, every request is refused
	// with 401 unless Insecure is set.
	Keys *Keys
	// Insecure accepts requests without a key (--insecure-no-auth).
	Insecure bool
	// MaxBodyBytes limits the request body (decoded); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Sink receives the events.
	Sink Sink
	// AckTimeout bounds the wait for the batch to be stored before
	// answering (202 when it ends first); 0 answers as soon as the events
	// are queued.
	AckTimeout time.Duration
	// Metrics counts requests and events; nil keeps none.
	Metrics *Metrics
	// Logger receives one line per refused request; nil discards.
	Logger *slog.Logger
}

// Collector is the POST /v1/events handler.
type Collector struct {
	cfg     Config
	closing atomic.Bool
}

// New returns the handler.
func New(cfg Config) *Collector {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Metrics == nil {
		cfg.Metrics = &Metrics{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collector{cfg: cfg}
}

// Shutdown makes later requests answer 503, before the writer closes.
func (c *Collector) Shutdown() { c.closing.Store(true) }

// Answer is the body of a successful answer.
type Answer struct {
	Accepted int `json:"accepted"`
	Dropped  int `json:"dropped"`
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func (c *Collector) reply(w http.ResponseWriter, code int, v any) {
	c.cfg.Metrics.request(code)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (c *Collector) fail(w http.ResponseWriter, r *http.Request, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.cfg.Logger.Info("collector: refused", "status", code, "remote", r.RemoteAddr, "error", msg)
	c.reply(w, code, errorBody{Error: msg})
}

// ServeHTTP implements the protocol.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		c.fail(w, r, http.StatusMethodNotAllowed, "method %s not allowed: POST a batch to %s", r.Method, Path)
		return
	}
	if !c.cfg.Insecure && !c.cfg.Keys.ValidRequest(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leanllm"`)
		if Bearer(r) == "" {
			c.fail(w, r, http.StatusUnauthorized, "missing API key: send Authorization: Bearer <key>")
		} else {
			c.fail(w, r, http.StatusUnauthorized, "invalid API key")
		}
		return
	}
	if c.closing.Load() {
		w.Header().Set("Retry-After", "5")
		c.fail(w, r, http.StatusServiceUnavailable, "the collector is shutting down: retry later")
		return
	}
	if r.ContentLength > c.cfg.MaxBodyBytes {
		c.fail(w, r, http.StatusRequestEntityTooLarge, "body of %d bytes exceeds the limit of %d bytes: send smaller batches", r.ContentLength, c.cfg.MaxBodyBytes)
		return
	}
	body, err := c.readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.fail(w, r, http.StatusRequestEntityTooLarge, "body exceeds the limit of %d bytes: send smaller batches", c.cfg.MaxBodyBytes)
			return
		}
		c.fail(w, r, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	events, err := decodeBatch(body)
	if err != nil {
		c.cfg.Metrics.rejected.Add(int64(countEvents(body)))
		c.fail(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	c.cfg.Metrics.received.Add(int64(len(events)))
	var ans Answer
	seen := make(map[string]struct{}, len(events))
	for _, e := range events {
		if _, dup := seen[e.EventID]; dup {
			ans.Dropped++
			continue
		}
		seen[e.EventID] = struct{}{}
		c.cfg.Sink.Enqueue(e)
		ans.Accepted++
	}
	c.cfg.Metrics.accepted.Add(int64(ans.Accepted))
	code := http.StatusOK
	if c.cfg.AckTimeout > 0 && ans.Accepted > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), c.cfg.AckTimeout)
		err := c.cfg.Sink.Flush(ctx)
		cancel()
		if err != nil {
			code = http.StatusAccepted
		}
	}
	c.reply(w, code, ans)
}

// readBody reads the (possibly gzip-encoded) body within the size limit.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		// The decoded size has its own limit: a small gzip body may inflate.
		rd = &limitedReader{r: zr, n: c.cfg.MaxBodyBytes}
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q (use gzip or none)", enc)
	}
	return io.ReadAll(rd)
}

// limitedReader fails with *http.MaxBytesError past n bytes.
type limitedReader struct {
	r    io.Reader
	n    int64
	read int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.read += int64(n)
	if l.read > l.n {
		return n, &http.MaxBytesError{Limit: l.n}
	}
	return n, err
}

// decodeBatch reads {"events":[…]} and validates every event.
func decodeBatch(body []byte) ([]*core.Event, error) {
	var batch struct {
		Events *[]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &batch); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", jsonErr(err))
	}
	if batch.Events == nil {
		return nil, errors.New(`malformed batch: want {"events":[…]}`)
	}
	out := make([]*core.Event, 0, len(*batch.Events))
	for i, raw := range *batch.Events {
		e := new(core.Event)
		if err := json.Unmarshal(raw, e); err != nil {
			return nil, fmt.Errorf("events[%d]: %v", i, jsonErr(err))
		}
		if err := validate(e); err != nil {
			return nil, fmt.Errorf("events[%d]: %v", i, err)
		}
		if e.SchemaVersion == 0 {
			e.SchemaVersion = core.SchemaVersion
		}
		out = append(out, e)
	}
	return out, nil
}

func validate(e *core.Event) error {
	switch {
	case strings.TrimSpace(e.EventID) == "":
		return errors.New("missing event_id")
	case len(e.EventID) > maxEventIDLen:
		return fmt.Errorf("event_id longer than %d bytes", maxEventIDLen)
	case e.Timestamp.IsZero():
		return errors.New("missing timestamp (want RFC 3339, e.g. 2026-11-28T10:00:00.123456+00:00)")
	}
	return nil
}

// jsonErr shortens decoding errors.
func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		if te.Type == nil {
			return fmt.Sprintf("field %s: wrong type", te.Field)
		}
		return fmt.Sprintf("field %s: cannot use a JSON %s as %v", te.Field, te.Value, te.Type)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("bad timestamp %q (want RFC 3339, e.g. 2026-11-28T10:00:00.123456+00:00)", pe.Value)
	}
	return err.Error()
}

// countEvents counts the events of a batch that failed validation, for
// the rejected counter; 0 when it does not parse.
func countEvents(body []byte) int {
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	if json.Unmarshal(body, &batch) != nil {
		return 0
	}
	return len(batch.Events)
}

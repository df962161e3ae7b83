package persist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/core"
)

// Remote collector defaults.
const (
	// RemoteEventsPath is appended to the endpoint.
	RemoteEventsPath = "/v1/events"
	// DefaultRemoteTimeout bounds one HTTP request (the Writer's
	// WriteTimeout usually ends it first).
	DefaultRemoteTimeout = 30 * time.Second
	// DefaultRemoteMaxResponseBytes bounds how much of an answer is read.
	DefaultRemoteMaxResponseBytes = 1 << 20
	// maxRemoteRedirects bounds same-host redirects.
	maxRemoteRedirects = 5
	// maxRemoteMessage bounds the collector message kept in an error.
	maxRemoteMessage = 200
	// maxRetryAfter bounds a Retry-After value.
	maxRetryAfter = 24 * time.Hour
)

// RemoteStore is a Store that sends batches to a LeanLLM collector (ours,
// `leanllm serve`, or Python LeanLLM's):
//
//	POST {endpoint}/v1/events
//	Authorization: Bearer <key>
//	Content-Type: application/json
//	Idempotency-Key: <hex sha256 of the batch's event ids>
//	{"events":[<event>,…]}
//
// and reads {"accepted":n,"dropped":m}. The Idempotency-Key is the same for
// every retry of a batch, so a collector may deduplicate a batch whose answer
// was lost.
//
// Answers map to Store errors: 2xx is success; 408, 425, 429, 5xx and
// network errors are transient (a RemoteError whose RetryAfter gives the
// Retry-After header, seconds or HTTP date); 413 wraps ErrData, so the
// Writer splits the batch, down to single events, which are then dropped;
// a redirect to another host (never followed, so neither the key nor the
// events leave for it), 401, 403 and every other status wrap ErrPermanent.
//
// The API key is never logged and never part of an error.
type RemoteStore struct {
	url      string // the full events URL
	key      string
	client   *http.Client
	own      *http.Transport // closed by Close; nil for a caller's client
	maxBody  int64
	agent    string
	log      *slog.Logger
	accepted atomic.Int64
	dropped  atomic.Int64
	closed   atomic.Bool
}

var _ Store = (*RemoteStore)(nil)

// RemoteOption configures NewRemote.
type RemoteOption interface {
	applyRemote(*remoteConfig)
}

type remoteOptionFunc func(*remoteConfig)

func (f remoteOptionFunc) applyRemote(c *remoteConfig) { f(c) }

type remoteConfig struct {
	client  *http.Client
	timeout time.Duration
	maxBody int64
	agent   string
	logger  *slog.Logger
}

// WithRemoteHTTPClient makes the store use a copy of c. Its CheckRedirect is
// replaced by the store's (no cross-host redirects).
func WithRemoteHTTPClient(c *http.Client) RemoteOption {
	return remoteOptionFunc(func(rc *remoteConfig) { rc.client = c })
}

// WithRemoteTimeout bounds each HTTP request (http.Client.Timeout).
// Default DefaultRemoteTimeout.
func WithRemoteTimeout(d time.Duration) RemoteOption {
	return remoteOptionFunc(func(rc *remoteConfig) { rc.timeout = d })
}

// WithRemoteMaxResponseBytes bounds how much of an answer body is read.
// Default DefaultRemoteMaxResponseBytes.
func WithRemoteMaxResponseBytes(n int64) RemoteOption {
	return remoteOptionFunc(func(rc *remoteConfig) { rc.maxBody = n })
}

// WithRemoteUserAgent sets the User-Agent header.
func WithRemoteUserAgent(ua string) RemoteOption {
	return remoteOptionFunc(func(rc *remoteConfig) { rc.agent = ua })
}

// WithRemoteLogger sets the logger (nil discards), used for answers that
// report dropped events or cannot be read.
func WithRemoteLogger(l *slog.Logger) RemoteOption {
	return remoteOptionFunc(func(rc *remoteConfig) { rc.logger = l })
}

// NewRemote returns a store sending to the collector at endpoint (an http or
// https base URL, LEANLLM_ENDPOINT) with apiKey (LEANLLM_API_KEY). The
// errors name the variable at fault and never contain the key.
func NewRemote(endpoint, apiKey string, opts ...RemoteOption) (*RemoteStore, error) {
	u, err := parseRemoteEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("persist: remote: LEANLLM_API_KEY is empty")
	}
	if strings.IndexFunc(apiKey, func(r rune) bool { return r < 0x21 || r == 0x7f || r == utf8.RuneError }) >= 0 {
		return nil, errors.New("persist: remote: LEANLLM_API_KEY contains spaces or control characters")
	}
	cfg := remoteConfig{
		timeout: DefaultRemoteTimeout,
		maxBody: DefaultRemoteMaxResponseBytes,
		agent:   "leanllm-go",
	}
	for _, o := range opts {
		if o != nil {
			o.applyRemote(&cfg)
		}
	}
	if cfg.maxBody <= 0 {
		cfg.maxBody = DefaultRemoteMaxResponseBytes
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	r := &RemoteStore{
		url:     u.String(),
		key:     apiKey,
		maxBody: cfg.maxBody,
		agent:   cfg.agent,
		log:     cfg.logger,
	}
	if cfg.client != nil {
		c := *cfg.client
		if cfg.timeout > 0 {
			c.Timeout = cfg.timeout
		}
		r.client = &c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 10 * time.Second
		t.MaxIdleConnsPerHost = 4
		r.own = t
		r.client = &http.Client{Transport: t, Timeout: max(cfg.timeout, 0)}
	}
	r.client.CheckRedirect = checkRemoteRedirect
	return r, nil
}

func parseRemoteEndpoint(endpoint string) (*url.URL, error) {
	bad := func(why string) error {
		return fmt.Errorf("persist: remote: invalid LEANLLM_ENDPOINT: %s (want http://host[:port][/path] or https://…)", why)
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil {
		return nil, bad("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return nil, bad("no host")
	case u.User != nil:
		return nil, bad("must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, bad("must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/") + RemoteEventsPath
	u.RawPath = ""
	return u, nil
}

// checkRemoteRedirect follows a few redirects on the same scheme and host and
// refuses the others (the 3xx answer is then returned as is), so the key and
// the events never go to another host.
func checkRemoteRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRemoteRedirects {
		return errors.New("persist: remote: too many redirects")
	}
	orig := via[0].URL
	if !strings.EqualFold(req.URL.Host, orig.Host) || req.URL.Scheme != orig.Scheme {
		req.Header.Del("Authorization")
		return http.ErrUseLastResponse
	}
	return nil
}

// RemoteError is a failed delivery to the collector. errors.Is(err,
// ErrPermanent) and errors.Is(err, ErrData) classify it; otherwise it is
// transient. Its text never contains the API key.
type RemoteError struct {
	// StatusCode is the HTTP status, 0 when no answer came (network error).
	StatusCode int
	// Message is the start of the collector's answer (its JSON "error" or
	// "message" when present).
	Message string
	// Delay is the answer's Retry-After, 0 if none.
	Delay time.Duration
	// Err is the network error, if any.
	Err error

	url   string
	class error // ErrPermanent, ErrData or nil (transient)
}

// Error describes the failure.
func (e *RemoteError) Error() string {
	var b strings.Builder
	b.WriteString("persist: remote: ")
	if e.StatusCode == 0 {
		if e.Err != nil {
			b.WriteString(e.Err.Error())
		}
		return b.String()
	}
	fmt.Fprintf(&b, "POST %s: %d %s", e.url, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the class (ErrPermanent, ErrData) and the network error.
func (e *RemoteError) Unwrap() []error {
	var errs []error
	if e.class != nil {
		errs = append(errs, e.class)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// RetryAfter returns the collector's Retry-After (0 if none); the Writer
// honours it, clamped to the batch's retry budget.
func (e *RemoteError) RetryAfter() time.Duration { return e.Delay }

// Write posts events as one batch. See RemoteStore for the mapping of
// answers to errors.
func (r *RemoteStore) Write(ctx context.Context, events []*core.Event) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if len(events) == 0 {
		return nil
	}
	body, err := encodeRemoteBatch(events)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("persist: remote: %w: %w", err, ErrPermanent)
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey(events))
	if r.agent != "" {
		req.Header.Set("User-Agent", r.agent)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return &RemoteError{Err: err, url: r.url}
	}
	defer resp.Body.Close()
	limited := io.LimitReader(resp.Body, r.maxBody)

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var ans struct {
			Accepted *int64 `json:"accepted"`
			Dropped  int64  `json:"dropped"`
		}
		if err := json.NewDecoder(limited).Decode(&ans); err != nil || ans.Accepted == nil {
			r.log.Warn("persist: remote: unreadable answer to an accepted batch", "status", resp.StatusCode)
			r.accepted.Add(int64(len(events)))
		} else {
			r.accepted.Add(*ans.Accepted)
			if ans.Dropped > 0 {
				r.dropped.Add(ans.Dropped)
				r.log.Warn("persist: remote: collector dropped events", "dropped", ans.Dropped, "accepted", *ans.Accepted)
			}
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}

	raw, _ := io.ReadAll(limited)
	re := &RemoteError{StatusCode: resp.StatusCode, Message: r.message(raw), url: r.url}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly,
		code == http.StatusTooManyRequests, code >= 500:
		re.Delay, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code == http.StatusRequestEntityTooLarge:
		re.class = ErrData
	case code >= 300 && code < 400:
		re.Message = "redirect to another host not followed"
		re.class = ErrPermanent
	default:
		re.class = ErrPermanent
	}
	return re
}

// Close releases idle connections; later writes fail with ErrClosed.
func (r *RemoteStore) Close() error {
	r.closed.Store(true)
	if r.own != nil {
		r.own.CloseIdleConnections()
	}
	return nil
}

// Accepted and CollectorDropped return the totals of the collector's
// answers: events it accepted, and events it received but dropped.
func (r *RemoteStore) Accepted() int64 { return r.accepted.Load() }

// CollectorDropped: see Accepted.
func (r *RemoteStore) CollectorDropped() int64 { return r.dropped.Load() }

// encodeRemoteBatch builds {"events":[…]}. An event that cannot be encoded
// makes it fail with ErrData, so the Writer isolates that event.
func encodeRemoteBatch(events []*core.Event) ([]byte, error) {
	buf := make([]byte, 0, 64+len(events)*1024)
	buf = append(buf, `{"events":[`...)
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("persist: remote: event %q: %v: %w", e.EventID, err, ErrData)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	return append(buf, "]}"...), nil
}

// idempotencyKey derives the batch's Idempotency-Key from its event ids, so
// every retry of the same batch carries the same key.
func idempotencyKey(events []*core.Event) string {
	h := sha256.New()
	var n [20]byte
	h.Write(strconv.AppendInt(n[:0], int64(len(events)), 10))
	for _, e := range events {
		h.Write([]byte{'\n'})
		h.Write([]byte(e.EventID))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// message extracts a short, single-line, key-free message from an answer.
func (r *RemoteStore) message(raw []byte) string {
	var j struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	s := ""
	if json.Unmarshal(raw, &j) == nil {
		switch v := j.Error.(type) {
		case string:
			s = v
		case map[string]any:
			if m, ok := v["message"].(string); ok {
				s = m
			}
		}
		if s == "" {
			s = j.Message
		}
	}
	if s == "" {
		s = string(raw)
	}
	s = scrubSecret(s, r.key)
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || c == utf8.RuneError {
			return ' '
		}
		return c
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxRemoteMessage {
		cut := maxRemoteMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	// The key could straddle the cut or the control-character mapping.
	if r.key != "" && scrubSecret(s, r.key) != s {
		return ""
	}
	return s
}

// scrubSecret replaces secret in s in its plain, URL-encoded and base64
// (standard and raw URL) forms.
func scrubSecret(s, secret string) string {
	if len(secret) < 4 {
		return s
	}
	for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawStdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
		if strings.Contains(s, form) {
			s = strings.ReplaceAll(s, form, "[REDACTED]")
		}
	}
	return s
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return min(time.Duration(min(n, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

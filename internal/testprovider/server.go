package testprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"
)

// ChatCompletionsPath is the only endpoint the Server implements.
const ChatCompletionsPath = "/v1/chat/completions"

// maxBodyBytes bounds request bodies read by the Server.
const maxBodyBytes = 16 << 20

var errClosed = errors.New("testprovider: server closed")

// RecordedMessage is the role and text of one request message. Content is
// the string content, or the concatenated "text" parts of array content.
type RecordedMessage struct {
	Role    string
	Content string
}

// RecordedRequest is one HTTP request received by a [Server].
type RecordedRequest struct {
	Method string
	Path   string
	// Header is a clone of the request headers (includes Authorization).
	Header http.Header
	// Body is the raw request body.
	Body []byte
	// Model, Stream, IncludeUsage and Messages are decoded from a chat
	// completions body (zero if the body is not valid JSON).
	Model        string
	Stream       bool
	IncludeUsage bool
	Messages     []RecordedMessage
	Time         time.Time
}

// Server is a fake OpenAI-compatible chat completions server on loopback.
// It answers POST /v1/chat/completions with scripted replies (queued ones
// first, FIFO, then the default), as JSON or, when the request has
// "stream": true, as server-sent events. Point langchaingo's openai client
// at URL() (see OpenAIModel / OpenAIOptions). It is safe for concurrent use.
type Server struct {
	hs *httptest.Server

	mu       sync.Mutex
	q        replyQueue
	reqs     []RecordedRequest
	count    int
	noRecord bool
	started  bool
	closed   bool

	seq       atomic.Int64
	done      chan struct{}
	closeOnce sync.Once
}

// NewUnstarted returns a Server that is not yet listening; call Start.
// It does not need a testing.TB (for use outside tests, e.g. an offline
// demo provider); call Close when done.
func NewUnstarted(opts ...Option) *Server {
	c := newConfig(opts)
	s := &Server{
		q:        replyQueue{def: c.def, queue: c.queue},
		noRecord: c.noRecord,
		done:     make(chan struct{}),
	}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// NewServer returns a started Server that is closed by t.Cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewUnstarted(opts...).Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts listening on a 127.0.0.1 ephemeral port. It is a no-op if
// already started or closed. It returns s for chaining.
func (s *Server) Start() *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started && !s.closed {
		s.started = true
		s.hs.Start()
	}
	return s
}

// Close stops the server. In-flight handlers (including ones waiting on
// delays) return promptly. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		started := s.started
		s.closed = true
		s.mu.Unlock()
		if started {
			s.hs.CloseClientConnections()
			s.hs.Close()
		}
	})
}

// URL returns the base URL to pass to openai.WithBaseURL, e.g.
// "http://127.0.0.1:12345/v1" (the client appends "/chat/completions").
func (s *Server) URL() string { return s.hs.URL + "/v1" }

// RootURL returns the server URL without the "/v1" suffix.
func (s *Server) RootURL() string { return s.hs.URL }

// Client returns an *http.Client configured for the server; its idle
// connections are closed by Close.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// Push queues replies; each chat completions request consumes one, in order.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	s.q.queue = append(s.q.queue, replies...)
	s.mu.Unlock()
}

// SetDefault sets the reply used when the queue is empty.
func (s *Server) SetDefault(r Reply) {
	s.mu.Lock()
	s.q.def = r
	s.mu.Unlock()
}

// Pending returns the number of queued replies not yet consumed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q.queue)
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedRequest(nil), s.reqs...)
}

// RequestCount returns the number of requests received (any path).
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Reset forgets recorded requests, zeroes RequestCount and drops queued
// replies. The default reply is kept.
func (s *Server) Reset() {
	s.mu.Lock()
	s.reqs = nil
	s.count = 0
	s.q.queue = nil
	s.mu.Unlock()
}

// wire types ---------------------------------------------------------------

type chatRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

type wireFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type wireToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function wireFunction `json:"function"`
}

type wireMessage struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type wireDelta struct {
	Role      string         `json:"role,omitempty"`
	Content   string         `json:"content,omitempty"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type wireChoice struct {
	Index        int          `json:"index"`
	Message      *wireMessage `json:"message,omitempty"`
	Delta        *wireDelta   `json:"delta,omitempty"`
	Logprobs     any          `json:"logprobs"`
	FinishReason *string      `json:"finish_reason"`
}

type wireCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []wireChoice `json:"choices"`
	Usage             *wireUsage   `json:"usage,omitempty"`
}

// chunkCompletion is wireCompletion with an always-present usage field, as
// OpenAI sends "usage": null on every chunk when include_usage is set.
type chunkCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []wireChoice `json:"choices"`
	Usage             *wireUsage   `json:"usage"`
}

const systemFingerprint = "fp_testprovider"

func toWireUsage(u *Usage) *wireUsage {
	if u == nil {
		return nil
	}
	w := &wireUsage{PromptTokens: u.Prompt, CompletionTokens: u.Completion, TotalTokens: u.Total()}
	w.PromptTokensDetails.CachedTokens = u.Cached
	w.CompletionTokensDetails.ReasoningTokens = u.Reasoning
	return w
}

// handler -----------------------------------------------------------------

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	var req chatRequest
	decodeErr := json.Unmarshal(body, &req)

	s.mu.Lock()
	s.count++
	if !s.noRecord {
		rec := RecordedRequest{
			Method: r.Method,
			Path:   r.URL.Path,
			Header: r.Header.Clone(),
			Body:   body,
			Time:   time.Now(),
		}
		if decodeErr == nil {
			rec.Model = req.Model
			rec.Stream = req.Stream
			rec.IncludeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
			for _, m := range req.Messages {
				rec.Messages = append(rec.Messages, RecordedMessage{Role: m.Role, Content: messageText(m.Content)})
			}
		}
		s.reqs = append(s.reqs, rec)
	}
	s.mu.Unlock()

	switch {
	case r.URL.Path != ChatCompletionsPath:
		writeError(w, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path, "invalid_request_error", "unknown_url")
		return
	case r.Method != http.MethodPost:
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed: "+r.Method, "invalid_request_error", nil)
		return
	case readErr != nil:
		writeError(w, http.StatusBadRequest, "could not read request body: "+readErr.Error(), "invalid_request_error", nil)
		return
	case decodeErr != nil:
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", nil)
		return
	}

	s.mu.Lock()
	rep := s.q.pop()
	s.mu.Unlock()

	ctx := r.Context()
	if err := sleep(ctx, s.done, rep.Delay); err != nil {
		// Client went away (nothing to write) or server closing (drop the
		// connection so the client sees an error, not an empty 200).
		if errors.Is(err, errClosed) {
			dropConn(w)
		}
		return
	}
	for k, v := range rep.Headers {
		w.Header().Set(k, v)
	}
	n := s.seq.Add(1)
	w.Header().Set("X-Request-Id", "req_testprovider_"+strconv.FormatInt(n, 10))

	status := rep.Status
	if status == 0 && rep.Err != nil {
		status = http.StatusInternalServerError
	}
	if status != 0 && (status < 200 || status > 299) {
		s.writeReplyError(w, status, &rep)
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	if rep.DropAfterChunks > 0 && !req.Stream {
		dropConn(w)
		return
	}

	id := "chatcmpl-testprovider-" + strconv.FormatInt(n, 10)
	created := time.Now().Unix()
	model := req.Model
	toolCalls := normalizeToolCalls(rep.ToolCalls, "call_"+strconv.FormatInt(n, 10)+"_")
	finish := rep.stopReason()

	if !req.Stream {
		msg := &wireMessage{Role: "assistant"}
		if rep.Text != "" || len(toolCalls) == 0 {
			text := rep.Text
			msg.Content = &text
		}
		for _, tc := range toolCalls {
			msg.ToolCalls = append(msg.ToolCalls, wireToolCall{
				ID: tc.ID, Type: tc.Type,
				Function: wireFunction{Name: tc.FunctionCall.Name, Arguments: tc.FunctionCall.Arguments},
			})
		}
		resp := wireCompletion{
			ID: id, Object: "chat.completion", Created: created, Model: model,
			SystemFingerprint: systemFingerprint,
			Choices:           []wireChoice{{Index: 0, Message: msg, FinishReason: &finish}},
			Usage:             toWireUsage(rep.Usage),
		}
		b, _ := json.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}

	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	s.writeStream(w, r, &rep, streamMeta{
		id: id, created: created, model: model, status: status,
		includeUsage: includeUsage, finish: finish, toolCalls: toolCalls,
	})
}

type streamMeta struct {
	id           string
	created      int64
	model        string
	status       int
	includeUsage bool
	finish       string
	toolCalls    []llms.ToolCall
}

func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, rep *Reply, m streamMeta) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(m.status)
	if rc.Flush() != nil {
		return
	}

	var buf bytes.Buffer
	write := func(c chunkCompletion) bool {
		var ok bool
		if m.includeUsage {
			ok = s.writeEvent(w, rc, &buf, c)
		} else {
			// Without include_usage OpenAI omits the field entirely.
			ok = s.writeEvent(w, rc, &buf, wireCompletion(c))
		}
		if !ok && s.closing() {
			dropConn(w)
		}
		return ok
	}
	base := func(choices []wireChoice) chunkCompletion {
		return chunkCompletion{
			ID: m.id, Object: "chat.completion.chunk", Created: m.created, Model: m.model,
			SystemFingerprint: systemFingerprint, Choices: choices,
		}
	}

	// Build the data deltas: text pieces, then per tool call a header delta
	// (id, type, name) followed by argument pieces.
	var deltas []wireDelta
	for _, c := range rep.chunks() {
		deltas = append(deltas, wireDelta{Content: c})
	}
	for i, tc := range m.toolCalls {
		idx := i
		deltas = append(deltas, wireDelta{ToolCalls: []wireToolCall{{
			Index: &idx, ID: tc.ID, Type: tc.Type,
			Function: wireFunction{Name: tc.FunctionCall.Name},
		}}})
		for _, p := range SplitText(tc.FunctionCall.Arguments, DefaultChunkCount) {
			deltas = append(deltas, wireDelta{ToolCalls: []wireToolCall{{
				Index: &idx, Function: wireFunction{Arguments: p},
			}}})
		}
	}

	for i := range deltas {
		if err := sleep(ctx, s.done, rep.chunkDelay(i)); err != nil {
			if errors.Is(err, errClosed) {
				dropConn(w)
			}
			return
		}
		d := deltas[i]
		if i == 0 {
			d.Role = "assistant"
		}
		if !write(base([]wireChoice{{Index: 0, Delta: &d}})) {
			return
		}
		if rep.DropAfterChunks > 0 && i+1 >= rep.DropAfterChunks {
			dropConn(w)
			return
		}
	}
	if len(deltas) == 0 && rep.DropAfterChunks > 0 {
		dropConn(w)
		return
	}

	finish := m.finish
	if !write(base([]wireChoice{{Index: 0, Delta: &wireDelta{}, FinishReason: &finish}})) {
		return
	}
	if m.includeUsage && rep.Usage != nil {
		c := base([]wireChoice{})
		c.Usage = toWireUsage(rep.Usage)
		if !write(c) {
			return
		}
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	_ = rc.Flush()
}

// closing reports whether Close has been called.
func (s *Server) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// writeEvent writes one "data: <json>\n\n" event and flushes. It reports
// false if the client is gone or the server is closing.
func (s *Server) writeEvent(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer, v any) bool {
	if s.closing() {
		return false
	}
	buf.Reset()
	buf.WriteString("data: ")
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return false
	}
	buf.WriteString("\n")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return false
	}
	return rc.Flush() == nil
}

func (s *Server) writeReplyError(w http.ResponseWriter, status int, rep *Reply) {
	if rep.ErrorBody != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, rep.ErrorBody)
		return
	}
	msg, typ, code := defaultError(status)
	if rep.Err != nil {
		msg = rep.Err.Error()
	}
	writeError(w, status, msg, typ, code)
}

// defaultError returns OpenAI-like message, type and code for a status.
func defaultError(status int) (msg, typ string, code any) {
	switch status {
	case http.StatusBadRequest:
		return "Invalid request: testprovider scripted a 400 response.", "invalid_request_error", nil
	case http.StatusUnauthorized:
		return "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"
	case http.StatusForbidden:
		return "You are not allowed to sample from this model.", "invalid_request_error", "permission_denied"
	case http.StatusNotFound:
		return "The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"
	case http.StatusTooManyRequests:
		return "Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"
	case http.StatusServiceUnavailable:
		return "The engine is currently overloaded, please try again later.", "server_error", nil
	default:
		if status >= 500 {
			return "The server had an error while processing your request. Sorry about that!", "server_error", nil
		}
		return fmt.Sprintf("testprovider: scripted status %d", status), "invalid_request_error", nil
	}
}

// DefaultErrorMessage returns the OpenAI error message the Server sends for
// a scripted status when neither ErrorBody nor Err is set.
func DefaultErrorMessage(status int) string {
	msg, _, _ := defaultError(status)
	return msg
}

func writeError(w http.ResponseWriter, status int, msg, typ string, code any) {
	body := map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": code,
	}}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// dropConn closes the underlying connection abruptly.
func dropConn(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// messageText extracts text from a string or an array of content parts.
func messageText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var out string
	for _, p := range parts {
		if p.Type == "text" {
			out += p.Text
		}
	}
	return out
}

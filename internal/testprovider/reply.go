package testprovider

import (
	"time"
	"unicode/utf8"

	"github.com/tmc/langchaingo/llms"
)

// Default values used when a [Reply] leaves them empty.
const (
	// DefaultText is the text of the built-in default reply.
	DefaultText = "ok"
	// DefaultPromptTokens is the prompt token count of the built-in default reply.
	DefaultPromptTokens = 10
	// DefaultCompletionTokens is the completion token count of the built-in default reply.
	DefaultCompletionTokens = 5
	// StopReasonStop is the stop reason used when a reply has no tool calls.
	StopReasonStop = "stop"
	// StopReasonToolCalls is the stop reason used when a reply has tool calls.
	StopReasonToolCalls = "tool_calls"
	// DefaultChunkCount is the number of pieces Text is split into when a
	// streamed reply has no explicit Chunks.
	DefaultChunkCount = 3
)

// Usage is the token usage a scripted reply reports.
//
// The [Model] turns it into openai-style GenerationInfo keys
// ("PromptTokens", "CompletionTokens", "TotalTokens", "PromptCachedTokens",
// "ReasoningTokens"); the [Server] turns it into the wire "usage" object
// (prompt_tokens, completion_tokens, total_tokens,
// prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens).
// TotalTokens is always Prompt+Completion.
type Usage struct {
	Prompt     int
	Completion int
	Cached     int
	Reasoning  int
}

// Total returns Prompt+Completion.
func (u Usage) Total() int { return u.Prompt + u.Completion }

// UsageOf is a shorthand for &Usage{Prompt: prompt, Completion: completion}.
func UsageOf(prompt, completion int) *Usage {
	return &Usage{Prompt: prompt, Completion: completion}
}

// Reply scripts one answer of a [Model] or a [Server].
//
// Fields marked "Model only" are ignored by the Server and vice versa.
// A Reply is treated as read-only once handed to Push/SetDefault; it may be
// served to many concurrent callers.
type Reply struct {
	// Text is the assistant text. In streams it is delivered as Chunks.
	Text string

	// ToolCalls are the tool calls the "model" asks for. Empty Type defaults
	// to "function"; the Server invents an ID ("call_<n>_<i>") when ID is empty.
	ToolCalls []llms.ToolCall

	// StopReason is the stop/finish reason. Empty means "stop", or
	// "tool_calls" when ToolCalls is non-empty.
	StopReason string

	// Usage is the reported token usage. nil means no usage at all: the Model
	// sets no usage keys in GenerationInfo and the Server omits the "usage"
	// object (and the usage chunk of streams).
	Usage *Usage

	// GenerationInfo (Model only), when non-nil, is used instead of the
	// Usage-derived map (a shallow copy per call). Use it to mimic other
	// providers, e.g. anthropic's "InputTokens", "OutputTokens",
	// "CacheReadInputTokens", "CacheCreationInputTokens".
	GenerationInfo map[string]any

	// Err makes the call fail.
	//
	// Model: returned (unwrapped) instead of a response, after Delay; with
	// StreamErrAfter > 0 on a streaming call it is returned after that many
	// chunks were delivered.
	//
	// Server: if Status is 0 the server answers 500 with Err.Error() as the
	// OpenAI error message; if Status is set, Err.Error() is used as the
	// message of the default error body.
	Err error

	// Delay is waited before anything happens (Model: before the response or
	// the first chunk; Server: before the response headers). Honours
	// cancellation.
	Delay time.Duration

	// Chunks are the streamed text pieces. Empty means Text split into about
	// DefaultChunkCount pieces at rune boundaries. If set, the final text is
	// the concatenation of Chunks (Text is ignored for streams).
	Chunks []string

	// FirstChunkDelay is waited (after Delay) before the first streamed chunk,
	// instead of ChunkDelay. Time to first token is therefore
	// Delay+FirstChunkDelay.
	FirstChunkDelay time.Duration

	// ChunkDelay is waited before every streamed chunk except the first.
	ChunkDelay time.Duration

	// StreamErrAfter (Model only): with Err set and a streaming call, deliver
	// this many chunks, then return Err.
	StreamErrAfter int

	// Status (Server only) is the HTTP status to answer with. 0 means 200
	// (or 500 when Err is set). Non-2xx statuses answer with ErrorBody.
	Status int

	// ErrorBody (Server only) is the raw error response body. Empty means an
	// OpenAI-style {"error":{"message":...,"type":...,"code":...}} built from
	// Status (and Err, if set).
	ErrorBody string

	// Headers (Server only) are extra response headers (e.g. "Retry-After").
	Headers map[string]string

	// DropAfterChunks (Server only): in a stream, abruptly close the
	// connection after this many data chunks (content and tool-call pieces),
	// before finish_reason/usage/[DONE]; the client sees an unexpected EOF.
	// In a non-stream request any value > 0 closes the connection without
	// sending a response at all.
	DropAfterChunks int
}

// DefaultReply returns the built-in default reply: text "ok" with 10 prompt
// and 5 completion tokens.
func DefaultReply() Reply {
	return Reply{
		Text:  DefaultText,
		Usage: &Usage{Prompt: DefaultPromptTokens, Completion: DefaultCompletionTokens},
	}
}

// stopReason returns the effective stop reason.
func (r *Reply) stopReason() string {
	if r.StopReason != "" {
		return r.StopReason
	}
	if len(r.ToolCalls) > 0 {
		return StopReasonToolCalls
	}
	return StopReasonStop
}

// chunks returns the effective stream pieces.
func (r *Reply) chunks() []string {
	if len(r.Chunks) > 0 {
		return r.Chunks
	}
	return SplitText(r.Text, DefaultChunkCount)
}

// chunkDelay returns the wait before the i-th (0-based) streamed chunk.
func (r *Reply) chunkDelay(i int) time.Duration {
	if i == 0 {
		return r.FirstChunkDelay
	}
	return r.ChunkDelay
}

// SplitText splits s into at most n non-empty pieces of roughly equal byte
// length, cutting only at rune boundaries. The pieces concatenate to s. An
// empty s yields no pieces.
func SplitText(s string, n int) []string {
	if s == "" {
		return nil
	}
	if n < 1 {
		n = 1
	}
	if c := utf8.RuneCountInString(s); c < n {
		n = c
	}
	out := make([]string, 0, n)
	start := 0
	for i := 1; i <= n && start < len(s); i++ {
		end := len(s)
		if i < n {
			end = i * len(s) / n
			for end < len(s) && !utf8.RuneStart(s[end]) {
				end++
			}
			if end <= start {
				continue
			}
		}
		out = append(out, s[start:end])
		start = end
	}
	return out
}

// config is shared by the Model and the Server options.
type config struct {
	def      Reply
	queue    []Reply
	noRecord bool
}

func newConfig(opts []Option) config {
	c := config{def: DefaultReply()}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Option configures a [Model] ([New]) or a [Server] ([NewServer], [NewUnstarted]).
type Option func(*config)

// WithDefault sets the reply used when the queue is empty (see SetDefault).
func WithDefault(r Reply) Option {
	return func(c *config) { c.def = r }
}

// WithReplies queues replies, as Push does.
func WithReplies(rs ...Reply) Option {
	return func(c *config) { c.queue = append(c.queue, rs...) }
}

// WithoutRecording disables recording of calls/requests (Calls/Requests
// stay empty; CallCount/RequestCount still count). Use it in benchmarks so
// memory does not grow with b.N.
func WithoutRecording() Option {
	return func(c *config) { c.noRecord = true }
}

// replyQueue is a FIFO of replies with a default; callers hold the lock.
type replyQueue struct {
	def   Reply
	queue []Reply
}

func (q *replyQueue) pop() Reply {
	if len(q.queue) == 0 {
		return q.def
	}
	r := q.queue[0]
	q.queue[0] = Reply{}
	q.queue = q.queue[1:]
	if len(q.queue) == 0 {
		q.queue = nil
	}
	return r
}

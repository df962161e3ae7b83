package testprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/tmc/langchaingo/llms"
)

var _ llms.Model = (*Model)(nil)

// Recorded is one call observed by a [Model].
type Recorded struct {
	// Messages are the messages passed to GenerateContent. The slice is the
	// caller's (not copied).
	Messages []llms.MessageContent
	// Options are the call options applied to a zero llms.CallOptions, with
	// StreamingFunc and StreamingReasoningFunc cleared.
	Options llms.CallOptions
	// Stream reports whether a streaming func was set.
	Stream bool
	// Time is when the call started.
	Time time.Time
}

// Model is an in-process fake implementing llms.Model. It answers with
// scripted replies: queued ones first (FIFO, see Push), then the default
// reply (see SetDefault). It is safe for concurrent use.
type Model struct {
	mu       sync.Mutex
	q        replyQueue
	calls    []Recorded
	count    int
	noRecord bool
}

// New returns a Model whose default reply is [DefaultReply] unless changed
// by [WithDefault].
func New(opts ...Option) *Model {
	c := newConfig(opts)
	return &Model{
		q:        replyQueue{def: c.def, queue: c.queue},
		noRecord: c.noRecord,
	}
}

// Push queues replies; each call consumes one, in order. When the queue is
// empty the default reply is used.
func (m *Model) Push(replies ...Reply) {
	m.mu.Lock()
	m.q.queue = append(m.q.queue, replies...)
	m.mu.Unlock()
}

// SetDefault sets the reply used when the queue is empty.
func (m *Model) SetDefault(r Reply) {
	m.mu.Lock()
	m.q.def = r
	m.mu.Unlock()
}

// Pending returns the number of queued replies not yet consumed.
func (m *Model) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.q.queue)
}

// Calls returns a copy of the recorded calls, oldest first.
func (m *Model) Calls() []Recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Recorded(nil), m.calls...)
}

// CallCount returns the number of GenerateContent (and Call) invocations.
func (m *Model) CallCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// Reset forgets recorded calls, zeroes CallCount and drops queued replies.
// The default reply is kept.
func (m *Model) Reset() {
	m.mu.Lock()
	m.calls = nil
	m.count = 0
	m.q.queue = nil
	m.mu.Unlock()
}

// Call implements llms.Model via llms.GenerateFromSinglePrompt.
func (m *Model) Call(ctx context.Context, prompt string, options ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, prompt, options...)
}

// GenerateContent implements llms.Model.
//
// It returns ctx.Err() if ctx is already done or ends during a delay. When
// the options carry a StreamingFunc (or StreamingReasoningFunc) the text is
// delivered in chunks, followed, if the reply has tool calls, by one chunk
// holding the JSON array of the tool calls (the shape langchaingo's openai
// client emits). An error from the streaming func stops the stream and is
// returned wrapped (errors.Is works). The returned response always holds the
// full text and is freshly allocated per call.
func (m *Model) GenerateContent(ctx context.Context, messages []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var opts llms.CallOptions
	for _, o := range options {
		o(&opts)
	}
	stream := opts.StreamingFunc != nil || opts.StreamingReasoningFunc != nil

	m.mu.Lock()
	r := m.q.pop()
	m.count++
	if !m.noRecord {
		rec := Recorded{Messages: messages, Options: opts, Stream: stream, Time: time.Now()}
		rec.Options.StreamingFunc = nil
		rec.Options.StreamingReasoningFunc = nil
		m.calls = append(m.calls, rec)
	}
	m.mu.Unlock()

	if err := sleep(ctx, nil, r.Delay); err != nil {
		return nil, err
	}
	if !stream {
		if r.Err != nil {
			return nil, r.Err
		}
		return buildResponse(&r, r.Text), nil
	}
	return m.stream(ctx, &r, &opts)
}

func (m *Model) stream(ctx context.Context, r *Reply, opts *llms.CallOptions) (*llms.ContentResponse, error) {
	if r.Err != nil && r.StreamErrAfter <= 0 {
		return nil, r.Err
	}
	chunks := r.chunks()
	var text []byte
	sent := 0
	emit := func(chunk []byte) error {
		if r.Err != nil && sent >= r.StreamErrAfter {
			return r.Err
		}
		if err := sleep(ctx, nil, r.chunkDelay(sent)); err != nil {
			return err
		}
		if opts.StreamingFunc != nil {
			if err := opts.StreamingFunc(ctx, chunk); err != nil {
				return fmt.Errorf("testprovider: streaming func returned an error: %w", err)
			}
		}
		if opts.StreamingReasoningFunc != nil {
			if err := opts.StreamingReasoningFunc(ctx, nil, chunk); err != nil {
				return fmt.Errorf("testprovider: streaming reasoning func returned an error: %w", err)
			}
		}
		sent++
		return nil
	}
	for _, c := range chunks {
		if err := emit([]byte(c)); err != nil {
			return nil, err
		}
		text = append(text, c...)
	}
	if len(r.ToolCalls) > 0 {
		b, err := marshalToolCallsChunk(r.ToolCalls)
		if err != nil {
			return nil, fmt.Errorf("testprovider: marshal tool calls: %w", err)
		}
		if err := emit(b); err != nil {
			return nil, err
		}
	}
	if r.Err != nil {
		// StreamErrAfter >= number of chunks: fail at the end of the stream.
		return nil, r.Err
	}
	return buildResponse(r, string(text)), nil
}

// streamToolCall mirrors the JSON shape langchaingo's openai client passes
// to StreamingFunc for tool-call deltas (llms.ToolCall has a different,
// custom JSON encoding, so it is not used here).
type streamToolCall struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// marshalToolCallsChunk encodes tool calls as
// [{"id":...,"type":"function","function":{"name":...,"arguments":...}}].
func marshalToolCallsChunk(tcs []llms.ToolCall) ([]byte, error) {
	out := make([]streamToolCall, len(tcs))
	for i, tc := range normalizeToolCalls(tcs, "") {
		out[i].ID = tc.ID
		out[i].Type = tc.Type
		out[i].Function.Name = tc.FunctionCall.Name
		out[i].Function.Arguments = tc.FunctionCall.Arguments
	}
	return json.Marshal(out)
}

// buildResponse allocates a fresh response for r with the given content.
func buildResponse(r *Reply, content string) *llms.ContentResponse {
	choice := &llms.ContentChoice{
		Content:        content,
		StopReason:     r.stopReason(),
		GenerationInfo: generationInfo(r),
	}
	if len(r.ToolCalls) > 0 {
		choice.ToolCalls = normalizeToolCalls(r.ToolCalls, "")
		choice.FuncCall = choice.ToolCalls[0].FunctionCall
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{choice}}
}

func generationInfo(r *Reply) map[string]any {
	if r.GenerationInfo != nil {
		return maps.Clone(r.GenerationInfo)
	}
	if r.Usage == nil {
		return map[string]any{}
	}
	u := r.Usage
	return map[string]any{
		"PromptTokens":       u.Prompt,
		"CompletionTokens":   u.Completion,
		"TotalTokens":        u.Total(),
		"PromptCachedTokens": u.Cached,
		"ReasoningTokens":    u.Reasoning,
	}
}

// normalizeToolCalls returns a deep copy of tcs with Type defaulted to
// "function" and, if idPrefix is non-empty, missing IDs filled in as
// idPrefix+index.
func normalizeToolCalls(tcs []llms.ToolCall, idPrefix string) []llms.ToolCall {
	out := make([]llms.ToolCall, len(tcs))
	for i, tc := range tcs {
		if tc.Type == "" {
			tc.Type = "function"
		}
		if tc.ID == "" && idPrefix != "" {
			tc.ID = fmt.Sprintf("%s%d", idPrefix, i)
		}
		fc := llms.FunctionCall{}
		if tc.FunctionCall != nil {
			fc = *tc.FunctionCall
		}
		tc.FunctionCall = &fc
		out[i] = tc
	}
	return out
}

// sleep waits d, returning early with ctx.Err() when ctx ends or with
// errClosed when done is closed. d <= 0 returns immediately (nil).
func sleep(ctx context.Context, done <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return errClosed
	}
}

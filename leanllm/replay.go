package leanllm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/tmc/langchaingo/llms"
)

// ErrNoContent is wrapped by Replay's error when the event cannot be
// replayed from what was stored: no prompt, a prompt stored in a masked
// mode (only redaction_mode "full" keeps it verbatim), or a truncated one.
// Test it with errors.Is.
var ErrNoContent = errors.New("leanllm: no replayable content")

// ReplayOption overrides what a replay reuses from the original call.
type ReplayOption func(*replayConfig)

type replayConfig struct {
	model       string
	temperature *float64
	maxTokens   *int
	messages    []llms.MessageContent
	tools       []llms.Tool
	toolsSet    bool
	llmOpts     []llms.CallOption
}

// WithReplayModel replays with another model string ("gpt-4o",
// "anthropic/claude-…"), routed as any call's.
func WithReplayModel(model string) ReplayOption {
	return func(c *replayConfig) { c.model = model }
}

// WithReplayTemperature replays with another temperature.
func WithReplayTemperature(t float64) ReplayOption {
	return func(c *replayConfig) { c.temperature = &t }
}

// WithReplayMaxTokens replays with another max_tokens.
func WithReplayMaxTokens(n int) ReplayOption {
	return func(c *replayConfig) { c.maxTokens = &n }
}

// WithReplayMessages replays with these messages instead of the stored
// prompt. The original then needs no stored content.
func WithReplayMessages(msgs []llms.MessageContent) ReplayOption {
	m := append([]llms.MessageContent(nil), msgs...)
	return func(c *replayConfig) { c.messages = m }
}

// WithReplayTools replays with these tools instead of the original's (nil:
// no tools).
func WithReplayTools(tools []llms.Tool) ReplayOption {
	t := append([]llms.Tool(nil), tools...)
	return func(c *replayConfig) { c.tools, c.toolsSet = t, true }
}

// WithReplayLLMOptions adds langchaingo options, applied after the original
// parameters and the other overrides.
func WithReplayLLMOptions(opts ...llms.CallOption) ReplayOption {
	o := append([]llms.CallOption(nil), opts...)
	return func(c *replayConfig) { c.llmOpts = append(c.llmOpts, o...) }
}

// ReplayResult compares a replay with its original.
type ReplayResult struct {
	// Original is the stored event; Replayed the event of the replay (its
	// metadata.replay_of is Original's id). Replayed is nil only when the
	// chain builds no events (a chain replaced without the capture stage).
	Original, Replayed *Event
	// Response is the replay's response, as the provider returned it.
	Response *llms.ContentResponse
	// Diff is a unified diff of the original response text and the new one
	// ("" when they are equal, or when the original response was not
	// stored).
	Diff string
	// Deltas are replayed minus original.
	TokensDelta    int
	CostDelta      float64
	LatencyDeltaMS int64
}

// Replay re-runs the stored event id through the client's chain, with the
// original model, messages, parameters and tools unless opts override them,
// and compares the outcome. The replay is a call like any other: it emits
// an event (never sampled out), linked to the original by
// metadata.replay_of, with the original's labels but not its trace.
//
// The messages are rebuilt from the stored prompt, which must have been
// captured verbatim (LEANLLM_CAPTURE_CONTENT=true and
// LEANLLM_REDACTION_MODE=full) and not truncated; otherwise the error wraps
// ErrNoContent, unless WithReplayMessages supplies the messages. Images and
// tool calls are rebuilt from their rendering (tool call ids are new);
// binary parts cannot be. The event is looked up in the store, then in the
// in-memory buffer, so an event not yet written can be replayed too.
//
// When the replayed call fails, Replay returns the result so far (with the
// replay's error event) and the provider's error, unchanged.
func (cl *Client) Replay(ctx context.Context, id string, opts ...ReplayOption) (*ReplayResult, error) {
	var rc replayConfig
	for _, o := range opts {
		if o != nil {
			o(&rc)
		}
	}
	orig, err := cl.findEvent(ctx, id)
	if err != nil {
		return nil, err
	}
	if orig.Metadata.CallKind == "tool" {
		return nil, fmt.Errorf("leanllm: replay: event %s is a tool step, not an LLM call", id)
	}
	msgs := rc.messages
	if msgs == nil {
		switch {
		case orig.Prompt == nil || orig.Metadata.RedactionMode != "full":
			return nil, fmt.Errorf("%w: event %s has no replayable content: capture it with LEANLLM_CAPTURE_CONTENT=true and LEANLLM_REDACTION_MODE=full (or pass WithReplayMessages)", ErrNoContent, id)
		case orig.Metadata.ContentCut:
			return nil, fmt.Errorf("%w: event %s: its prompt was truncated at max_content_bytes (LEANLLM_MAX_CONTENT_BYTES) (pass WithReplayMessages)", ErrNoContent, id)
		}
		msgs, err = parsePrompt(*orig.Prompt, orig.Metadata.CallKind)
		if err != nil {
			return nil, fmt.Errorf("%w: event %s: %v", ErrNoContent, id, err)
		}
	}

	model := orig.Model
	if rc.model != "" {
		model = rc.model
	}
	llmOpts := parameterOptions(orig.Parameters)
	tools := orig.Tools
	if rc.toolsSet {
		tools = rc.tools
	}
	if len(tools) > 0 {
		llmOpts = append(llmOpts, llms.WithTools(tools))
	}
	if rc.temperature != nil {
		llmOpts = append(llmOpts, llms.WithTemperature(*rc.temperature))
	}
	if rc.maxTokens != nil {
		llmOpts = append(llmOpts, llms.WithMaxTokens(*rc.maxTokens))
	}
	llmOpts = append(llmOpts, rc.llmOpts...)

	kind := core.KindChat
	if orig.Metadata.CallKind == core.KindCompletion {
		kind = core.KindCompletion
	}
	c := cl.newCall(model, kind, msgs, llmOpts)
	c.Settings = core.Settings{
		Labels:    maps.Clone(orig.Labels),
		RequestID: newID(),
		ReplayOf:  orig.EventID,
		Log:       core.LogOn,
		Sample:    1,
		HasSample: true,
	}
	if rc.messages == nil {
		c.Settings.RedactionMode = orig.Metadata.RedactionMode
	}
	resp, callErr := cl.chain.Handle(ctx, c)

	res := &ReplayResult{Original: orig, Response: resp}
	if c.Event != nil && c.Event.EventID == c.Settings.RequestID {
		res.Replayed = c.Event.Clone()
	} else {
		res.Replayed = cl.recentEvent(c.Settings.RequestID)
	}
	if orig.Response != nil {
		var after string
		if resp != nil && len(resp.Choices) > 0 && resp.Choices[0] != nil {
			after = resp.Choices[0].Content
		}
		res.Diff = unifiedDiff("original "+orig.EventID, "replay "+c.Settings.RequestID, *orig.Response, after)
	}
	if r := res.Replayed; r != nil {
		res.TokensDelta = r.TotalTokens - orig.TotalTokens
		res.CostDelta = r.Cost - orig.Cost
		res.LatencyDeltaMS = r.LatencyMS - orig.LatencyMS
	}
	return res, callErr
}

// findEvent looks id up in the store, then in the in-memory buffer.
func (cl *Client) findEvent(ctx context.Context, id string) (*Event, error) {
	e, err := cl.GetEvent(ctx, id)
	if err == nil {
		return e, nil
	}
	if errors.Is(err, ErrNoStore) || errors.Is(err, persist.ErrNotFound) {
		if r := cl.recentEvent(id); r != nil {
			return r, nil
		}
	}
	return nil, fmt.Errorf("leanllm: replay: event %s: %w", id, err)
}

// recentEvent returns a copy of the buffered event id, or nil.
func (cl *Client) recentEvent(id string) *Event {
	if cl.ring == nil {
		return nil
	}
	for _, e := range cl.ring.recent(0) {
		if e.EventID == id {
			return e.Clone()
		}
	}
	return nil
}

// parameterOptions turns stored parameters back into langchaingo options.
func parameterOptions(p core.Parameters) []llms.CallOption {
	var o []llms.CallOption
	if p.Temperature != 0 {
		o = append(o, llms.WithTemperature(p.Temperature))
	}
	if p.MaxTokens != 0 {
		o = append(o, llms.WithMaxTokens(p.MaxTokens))
	}
	if p.TopP != 0 {
		o = append(o, llms.WithTopP(p.TopP))
	}
	if p.TopK != 0 {
		o = append(o, llms.WithTopK(p.TopK))
	}
	if len(p.Stop) > 0 {
		o = append(o, llms.WithStopWords(append([]string(nil), p.Stop...)))
	}
	if p.Seed != 0 {
		o = append(o, llms.WithSeed(p.Seed))
	}
	if p.N != 0 {
		o = append(o, llms.WithN(p.N))
	}
	if p.FrequencyPenalty != 0 {
		o = append(o, llms.WithFrequencyPenalty(p.FrequencyPenalty))
	}
	if p.PresencePenalty != 0 {
		o = append(o, llms.WithPresencePenalty(p.PresencePenalty))
	}
	if p.RepetitionPenalty != 0 {
		o = append(o, llms.WithRepetitionPenalty(p.RepetitionPenalty))
	}
	if p.JSONMode {
		o = append(o, llms.WithJSONMode())
	}
	if p.ToolChoice != nil {
		o = append(o, llms.WithToolChoice(p.ToolChoice))
	}
	return o
}

// Prompt parsing: the inverse of capture.RenderMessages, which writes one
// "role: parts" line per message (a part's text may span lines), or the bare
// text of a single human text message.

var roles = []llms.ChatMessageType{
	llms.ChatMessageTypeSystem, llms.ChatMessageTypeAI, llms.ChatMessageTypeHuman,
	llms.ChatMessageTypeGeneric, llms.ChatMessageTypeFunction, llms.ChatMessageTypeTool,
}

// roleOf returns the role a line starts with ("human: …") and the rest.
func roleOf(line string) (llms.ChatMessageType, string, bool) {
	for _, r := range roles {
		if rest, ok := strings.CutPrefix(line, string(r)+": "); ok {
			return r, rest, true
		}
		if line == string(r)+":" {
			return r, "", true
		}
	}
	return "", "", false
}

// parsePrompt rebuilds the messages of a rendered prompt. A completion's
// prompt, or a prompt whose first line names no role, is one human message.
// A single human message whose own text starts with "role: " cannot be told
// from a rendered conversation; it is parsed as one.
func parsePrompt(prompt, kind string) ([]llms.MessageContent, error) {
	if _, _, ok := roleOf(prompt); kind == core.KindCompletion || !ok {
		return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, prompt)}, nil
	}
	type raw struct {
		role llms.ChatMessageType
		text string
	}
	var msgs []raw
	for line := range strings.SplitSeq(prompt, "\n") {
		if r, rest, ok := roleOf(line); ok {
			msgs = append(msgs, raw{r, rest})
			continue
		}
		msgs[len(msgs)-1].text += "\n" + line
	}
	var out []llms.MessageContent
	var pending []llms.ToolCall // tool calls awaiting their result
	nextID := 0
	for _, m := range msgs {
		switch m.role {
		case llms.ChatMessageTypeAI:
			parts, err := parseAIParts(m.text, &nextID)
			if err != nil {
				return nil, err
			}
			for _, p := range parts {
				if tc, ok := p.(llms.ToolCall); ok {
					pending = append(pending, tc)
				}
			}
			out = append(out, llms.MessageContent{Role: m.role, Parts: parts})
		case llms.ChatMessageTypeTool:
			resps, err := parseToolResults(m.text, &pending)
			if err != nil {
				return nil, err
			}
			for _, r := range resps {
				out = append(out, llms.MessageContent{Role: m.role, Parts: []llms.ContentPart{r}})
			}
		default:
			parts, err := parseParts(m.text)
			if err != nil {
				return nil, err
			}
			out = append(out, llms.MessageContent{Role: m.role, Parts: parts})
		}
	}
	return out, nil
}

// parseParts splits text into text and image parts.
func parseParts(text string) ([]llms.ContentPart, error) {
	var parts []llms.ContentPart
	for {
		i := strings.Index(text, "[image ")
		j := strings.Index(text, "[binary ")
		if j >= 0 && (i < 0 || j < i) {
			return nil, errors.New("a binary part was not captured: it cannot be replayed")
		}
		if i < 0 {
			break
		}
		end := strings.IndexByte(text[i:], ']')
		if end < 0 {
			break
		}
		parts = appendText(parts, text[:i], true)
		parts = append(parts, llms.ImageURLContent{URL: text[i+len("[image ") : i+end]})
		text = text[i+end+1:]
	}
	parts = appendText(parts, text, false)
	if len(parts) == 0 {
		parts = []llms.ContentPart{llms.TextContent{Text: ""}}
	}
	return parts, nil
}

// appendText appends s as a text part, without the spaces the renderer
// puts between parts (after a previous part; before a next one when
// beforePart).
func appendText(parts []llms.ContentPart, s string, beforePart bool) []llms.ContentPart {
	if len(parts) > 0 {
		s = strings.TrimPrefix(s, " ")
	}
	if beforePart {
		s = strings.TrimSuffix(s, " ")
	}
	if s == "" {
		return parts
	}
	return append(parts, llms.TextContent{Text: s})
}

const toolCallMark = "[tool_call "

// parseAIParts splits an AI message into text parts and tool calls
// ("[tool_call NAME ARGS]", ARGS a JSON value), minting their ids.
func parseAIParts(text string, nextID *int) ([]llms.ContentPart, error) {
	var parts []llms.ContentPart
	for {
		i := strings.Index(text, toolCallMark)
		if i < 0 {
			break
		}
		rest := text[i+len(toolCallMark):]
		sp := strings.IndexByte(rest, ' ')
		if sp < 0 {
			break
		}
		name := rest[:sp]
		dec := json.NewDecoder(strings.NewReader(rest[sp+1:]))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("tool call %q: arguments are not JSON: %v", name, err)
		}
		after := rest[sp+1+int(dec.InputOffset()):]
		if !strings.HasPrefix(after, "]") {
			return nil, fmt.Errorf("tool call %q: missing ']'", name)
		}
		parts = appendText(parts, text[:i], true)
		args := rest[sp+1 : sp+1+int(dec.InputOffset())]
		parts = append(parts, llms.ToolCall{
			ID:           "call_replay_" + strconv.Itoa(*nextID),
			Type:         "function",
			FunctionCall: &llms.FunctionCall{Name: name, Arguments: string(bytes.TrimSpace([]byte(args)))},
		})
		*nextID++
		text = after[1:]
	}
	parts = appendText(parts, text, false)
	if len(parts) == 0 {
		parts = []llms.ContentPart{llms.TextContent{Text: ""}}
	}
	return parts, nil
}

const toolResultMark = "[tool_result "

// parseToolResults splits a tool message into its results ("[tool_result
// NAME] content"), each answering the first pending tool call of that name.
func parseToolResults(text string, pending *[]llms.ToolCall) ([]llms.ToolCallResponse, error) {
	if !strings.HasPrefix(text, toolResultMark) {
		return []llms.ToolCallResponse{{ToolCallID: takeCall(pending, ""), Content: text}}, nil
	}
	var out []llms.ToolCallResponse
	for _, seg := range strings.Split(text, " "+toolResultMark) {
		seg = strings.TrimPrefix(seg, toolResultMark)
		name, content, ok := strings.Cut(seg, "]")
		if !ok {
			return nil, fmt.Errorf("tool result %q: missing ']'", seg)
		}
		out = append(out, llms.ToolCallResponse{ToolCallID: takeCall(pending, name), Name: name, Content: strings.TrimPrefix(content, " ")})
	}
	return out, nil
}

// takeCall removes and returns the id of the first pending call named name
// (any call when name is empty or matches none).
func takeCall(pending *[]llms.ToolCall, name string) string {
	p := *pending
	if len(p) == 0 {
		return ""
	}
	k := 0
	for i, tc := range p {
		if name != "" && tc.FunctionCall != nil && tc.FunctionCall.Name == name {
			k = i
			break
		}
	}
	id := p[k].ID
	*pending = append(p[:k:k], p[k+1:]...)
	return id
}

// unifiedDiff returns a unified diff (3 lines of context) of the lines of a
// and b, or "" when they are equal.
func unifiedDiff(nameA, nameB, a, b string) string {
	if a == b {
		return ""
	}
	la, lb := splitLines(a), splitLines(b)
	ops := diffLines(la, lb)
	const context = 3
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
	// Group ops into hunks: changes closer than 2·context lines share one.
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-context, 0)
		end := i
		for j := i; j < len(ops); {
			if ops[j].kind != ' ' {
				end = j + 1
				j++
				continue
			}
			k := j
			for k < len(ops) && ops[k].kind == ' ' {
				k++
			}
			if k == len(ops) || k-j > 2*context {
				break
			}
			j = k
		}
		stop := min(end+context, len(ops))
		h := ops[start:stop]
		aStart, bStart := ops[start].a, ops[start].b
		aLen, bLen := 0, 0
		for _, op := range h {
			if op.kind != '+' {
				aLen++
			}
			if op.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		for _, op := range h {
			sb.WriteByte(op.kind)
			sb.WriteString(op.line)
			sb.WriteByte('\n')
		}
		i = stop
	}
	return sb.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return strconv.Itoa(start) + ",0"
	}
	return strconv.Itoa(start+1) + "," + strconv.Itoa(n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type diffOp struct {
	kind byte // ' ', '-', '+'
	line string
	a, b int // 0-based line numbers in a and b before this op
}

// maxDiffCells bounds the LCS table; larger inputs diff as a whole
// replacement.
const maxDiffCells = 4 << 20

// diffLines returns the edit script from a to b (longest common
// subsequence of lines).
func diffLines(a, b []string) []diffOp {
	// Common prefix and suffix first: cheap, and the usual case.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	ops := make([]diffOp, 0, len(a)+len(b))
	ai, bi := 0, 0
	emit := func(kind byte, line string) {
		ops = append(ops, diffOp{kind: kind, line: line, a: ai, b: bi})
		switch kind {
		case ' ':
			ai++
			bi++
		case '-':
			ai++
		case '+':
			bi++
		}
	}
	for _, l := range a[:pre] {
		emit(' ', l)
	}
	n, m := len(ma), len(mb)
	if (n+1)*(m+1) > maxDiffCells {
		for _, l := range ma {
			emit('-', l)
		}
		for _, l := range mb {
			emit('+', l)
		}
	} else {
		// lcs[i][j] = LCS length of ma[i:] and mb[j:].
		w := m + 1
		lcs := make([]int32, (n+1)*w)
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n && j < m {
			switch {
			case ma[i] == mb[j]:
				emit(' ', ma[i])
				i++
				j++
			case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
				emit('-', ma[i])
				i++
			default:
				emit('+', mb[j])
				j++
			}
		}
		for ; i < n; i++ {
			emit('-', ma[i])
		}
		for ; j < m; j++ {
			emit('+', mb[j])
		}
	}
	for _, l := range a[len(a)-suf:] {
		emit(' ', l)
	}
	return ops
}

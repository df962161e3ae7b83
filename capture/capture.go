package capture

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

// Usage is a call's token usage. Input counts every prompt token (cached and
// cache-creation ones included), so Input+Output == Total; CachedInput and
// CacheCreation are parts of Input and Reasoning a part of Output.
type Usage struct {
	Input, Output, Total               int
	CachedInput, CacheCreation, Reason int
	Reported                           bool
}

// Config configures the capture stage. Nil funcs disable what they provide.
type Config struct {
	// MaxContentBytes cuts captured prompt and response (0 = no limit).
	MaxContentBytes int
	// Usage reads token usage from a response.
	Usage func(provider string, resp *llms.ContentResponse) Usage
	// Estimate estimates the tokens of text for model (used when the
	// provider reports no usage).
	Estimate func(model, text string) int
	// Price returns the cost of usage for model, whether the model is known,
	// and the version of the price table used.
	Price func(model string, u Usage) (cost float64, known bool, version string)
	// Secrets are strings (provider keys, tokens) scrubbed from error
	// messages, also in their URL-encoded and base64 forms.
	Secrets []string
	// RedactError masks an error message (applied unless the call's
	// redaction mode is "full").
	RedactError func(string) string
	// Normalize, when set, fills normalized_input / normalized_output.
	Normalize func(e *core.Event, c *core.Call)

	costUnknown atomic.Int64
}

// Stage is the capture stage; it is also the calls' Finisher.
type Stage struct {
	cfg     *Config
	secrets []string
}

// New returns the capture stage for cfg.
func New(cfg *Config) *Stage {
	s := &Stage{cfg: cfg}
	for _, k := range cfg.Secrets {
		if len(k) < 4 {
			continue
		}
		s.secrets = append(s.secrets, k, url.QueryEscape(k), base64.StdEncoding.EncodeToString([]byte(k)), base64.RawURLEncoding.EncodeToString([]byte(k)))
	}
	return s
}

// CostUnknown returns how many events were priced at 0 because their model
// was not in the price table.
func (s *Stage) CostUnknown() int64 { return s.cfg.costUnknown.Load() }

// Middleware returns the stage as a core.Middleware.
func (s *Stage) Middleware() core.Middleware {
	return func(next core.Handler) core.Handler {
		return core.HandlerFunc(func(ctx context.Context, c *core.Call) (*llms.ContentResponse, error) {
			c.Finisher = s
			if c.Sampled {
				c.Event = s.begin(c)
			}
			return next.Handle(ctx, c)
		})
	}
}

// NewEventID mints a time-ordered event id (UUIDv7, RFC 9562) for now.
func NewEventID() string { return NewEventIDAt(time.Now()) }

// NewEventIDAt mints a UUIDv7 whose timestamp is t (the call's start, so no
// second clock read). The 74 random bits come from math/rand/v2's
// per-goroutine ChaCha8 source (seeded from the OS), which is several times
// cheaper than crypto/rand and as unique for this purpose: ids only need to
// be distinct, not secret.
func NewEventIDAt(t time.Time) string {
	var u [16]byte
	ms := uint64(t.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	r1, r2 := rand.Uint64(), rand.Uint64()
	u[6] = 0x70 | byte(r1)&0x0f // version 7
	u[7] = byte(r1 >> 8)
	u[8] = 0x80 | byte(r1>>16)&0x3f // variant 10
	u[9], u[10], u[11], u[12], u[13], u[14], u[15] = byte(r2), byte(r2>>8), byte(r2>>16), byte(r2>>24), byte(r2>>32), byte(r2>>40), byte(r2>>48)
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], u[10:16])
	return string(buf[:])
}

func (s *Stage) begin(c *core.Call) *core.Event {
	e := &core.Event{
		EventID:         c.Settings.RequestID,
		CorrelationID:   c.Settings.CorrelationID,
		ParentRequestID: c.Settings.ParentRequestID,
		Timestamp:       c.Start,
		Model:           c.Model,
		Provider:        c.Provider,
		SchemaVersion:   core.SchemaVersion,
		Labels:          c.Settings.Labels,
	}
	e.Metadata.ReplayOf = c.Settings.ReplayOf
	if e.EventID == "" {
		if c.Start.IsZero() {
			e.EventID = NewEventID()
		} else {
			e.EventID = NewEventIDAt(c.Start)
		}
	}
	if e.Model == "" {
		e.Model = c.Params.Model
	}
	if c.Settings.UserID != "" || c.Settings.SessionID != "" || c.Settings.Feature != "" {
		m := make(map[string]string, len(e.Labels)+3)
		for _, kv := range [...][2]string{{"user_id", c.Settings.UserID}, {"session_id", c.Settings.SessionID}, {"feature", c.Settings.Feature}} {
			if kv[1] != "" {
				m[kv[0]] = kv[1]
			}
		}
		for k, v := range e.Labels {
			m[k] = v
		}
		e.Labels = m
	}
	p := &c.Params
	e.Parameters = core.Parameters{
		Temperature: p.Temperature, MaxTokens: p.MaxTokens, TopP: p.TopP, TopK: p.TopK,
		Seed: p.Seed, N: p.N, FrequencyPenalty: p.FrequencyPenalty, PresencePenalty: p.PresencePenalty,
		RepetitionPenalty: p.RepetitionPenalty, JSONMode: p.JSONMode, ToolChoice: p.ToolChoice,
	}
	if len(p.StopWords) > 0 {
		e.Parameters.Stop = append([]string(nil), p.StopWords...)
	}
	if len(p.Tools) > 0 {
		e.Tools = append([]llms.Tool(nil), p.Tools...)
	}
	e.Metadata.SampleRate = c.SampleRate
	e.Metadata.Environment = c.Settings.Environment
	e.Metadata.CallKind = c.Kind
	if c.CaptureContent {
		e.Metadata.RedactionMode = c.RedactionMode
		txt := RenderMessages(c.Messages)
		e.Prompt = s.content(c, txt, &e.Metadata)
	}
	return e
}

func (s *Stage) content(c *core.Call, txt string, md *core.Metadata) *string {
	max := s.cfg.MaxContentBytes
	dropped := 0
	if max > 0 && c.RedactionMode == "redacted" && len(txt) > max+redactMargin {
		// Mask only what can be kept: cut first, leaving a margin so that a
		// secret straddling the limit is still whole when the detectors see
		// it (what lies past the limit is dropped after masking anyway).
		keep := max + redactMargin
		for keep > 0 && !utf8.RuneStart(txt[keep]) {
			keep--
		}
		dropped = len(txt) - keep
		txt = txt[:keep]
	}
	if c.Redact != nil {
		txt = c.Redact(txt)
	} else {
		txt = strings.Clone(txt)
	}
	if cut, ok := cutReport(txt, max, dropped); ok {
		txt = cut
		md.ContentCut = true
	}
	return &txt
}

// redactMargin is how much past max_content_bytes is masked before the cut.
const redactMargin = 8 << 10

// Finish fills the response side of c.Event (building the event first for a
// failed sampled-out call).
func (s *Stage) Finish(c *core.Call) {
	if c.Event == nil {
		if c.Err == nil {
			return
		}
		c.Event = s.begin(c)
	}
	e := c.Event
	e.LatencyMS = c.Latency().Milliseconds()
	if c.Stream {
		e.Metadata.Stream = true
		if !c.FirstToken.IsZero() {
			e.TimeToFirstTokenMS = sql.NullInt64{Int64: c.FirstToken.Sub(c.Start).Milliseconds(), Valid: true}
		}
		e.TotalStreamTimeMS = sql.NullInt64{Int64: e.LatencyMS, Valid: true}
		switch {
		case c.Err == nil:
			e.Metadata.StreamEnd = core.StreamCompleted
		case c.ConsumerErr != nil:
			e.Metadata.StreamEnd = core.StreamConsumerStopped
		default:
			e.Metadata.StreamEnd = core.StreamFailed
		}
	}
	resp := c.Response
	var text string
	if resp != nil && len(resp.Choices) > 0 && resp.Choices[0] != nil {
		ch := resp.Choices[0]
		text = ch.Content
		e.Metadata.FinishReason = ch.StopReason
		if len(ch.ToolCalls) > 0 {
			e.ToolCalls = make([]llms.ToolCall, len(ch.ToolCalls))
			for i, tc := range ch.ToolCalls {
				e.ToolCalls[i] = tc
				if tc.FunctionCall != nil {
					fc := *tc.FunctionCall
					fc.Arguments = s.arguments(c, fc.Arguments)
					e.ToolCalls[i].FunctionCall = &fc
				}
			}
		} else if ch.FuncCall != nil {
			fc := *ch.FuncCall
			fc.Arguments = s.arguments(c, fc.Arguments)
			e.ToolCalls = []llms.ToolCall{{Type: "function", FunctionCall: &fc}}
		}
		if c.CaptureContent {
			e.Response = s.content(c, text, &e.Metadata)
		}
	}
	if c.Err != nil {
		// Errors are kept whatever the sampling: their effective rate is 1,
		// so scaled counts do not multiply them.
		e.Metadata.SampleRate = 1
		ec := core.ClassifyError(c.Err)
		e.ErrorKind = ec.Kind
		e.Metadata.ErrorDetail = ec.Detail
		e.Metadata.HTTPStatus = ec.HTTPStatus
		e.Metadata.ErrorClass = ec.GoType
		msg := s.Scrub(c.Err.Error())
		if s.cfg.RedactError != nil && (c.RedactionMode != "full" || !c.CaptureContent) {
			msg = s.cfg.RedactError(msg)
		}
		if cut, ok := Cut(msg, 4096); ok {
			msg = cut
		}
		e.ErrorMessage = msg
		if e.ErrorMessage == "" {
			e.ErrorMessage = ec.GoType
		}
	}
	var u Usage
	if s.cfg.Usage != nil && resp != nil {
		u = s.cfg.Usage(c.Provider, resp)
	}
	if !u.Reported && c.Err == nil && s.cfg.Estimate != nil {
		model := e.Model
		u.Input = s.cfg.Estimate(model, RenderMessages(c.Messages))
		u.Output = s.cfg.Estimate(model, text)
		u.Total = u.Input + u.Output
		e.Metadata.TokensEstimated = true
	}
	e.InputTokens, e.OutputTokens, e.TotalTokens = u.Input, u.Output, u.Total
	e.CachedInputTokens, e.ReasoningTokens = u.CachedInput, u.Reason
	e.Metadata.CacheCreation = u.CacheCreation
	if s.cfg.Price != nil && (u.Total > 0 || c.Err == nil) {
		cost, known, version := s.cfg.Price(e.Model, u)
		e.Cost = cost
		e.Metadata.PricingVersion = version
		if !known {
			e.Metadata.CostUnknown = true
			s.cfg.costUnknown.Add(1)
		}
	}
	if s.cfg.Normalize != nil {
		s.cfg.Normalize(e, c)
	}
}

// arguments returns what is stored of tool-call arguments: they are content,
// so without content capture only the tool's name is kept; with capture they
// go through the call's masking function.
func (s *Stage) arguments(c *core.Call, args string) string {
	if !c.CaptureContent {
		return ""
	}
	if c.Redact != nil {
		return c.Redact(args)
	}
	return args
}

// Scrub replaces every configured secret (plain, URL-encoded, base64) in msg.
func (s *Stage) Scrub(msg string) string {
	for _, k := range s.secrets {
		if strings.Contains(msg, k) {
			msg = strings.ReplaceAll(msg, k, "[REDACTED]")
		}
	}
	return msg
}

// Cut shortens s to at most max bytes (at a UTF-8 boundary) plus a marker
// saying how much was cut. It reports whether it cut anything.
func Cut(s string, max int) (string, bool) { return cutReport(s, max, 0) }

// cutReport is Cut for a string from which dropped bytes were already
// removed: the marker counts them too.
func cutReport(s string, max, dropped int) (string, bool) {
	if max <= 0 || len(s) <= max {
		return s, false
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…[truncated " + strconv.Itoa(len(s)-i+dropped) + " bytes]", true
}

// RenderMessages renders messages as text, one "role: content" line per
// message; non-text parts are described, not inlined.
func RenderMessages(msgs []llms.MessageContent) string {
	if len(msgs) == 1 && len(msgs[0].Parts) == 1 {
		if t, ok := msgs[0].Parts[0].(llms.TextContent); ok && msgs[0].Role == llms.ChatMessageTypeHuman {
			return t.Text
		}
	}
	var b strings.Builder
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(string(m.Role))
		b.WriteString(": ")
		for j, p := range m.Parts {
			if j > 0 {
				b.WriteByte(' ')
			}
			switch x := p.(type) {
			case llms.TextContent:
				b.WriteString(x.Text)
			case llms.ImageURLContent:
				b.WriteString("[image " + x.URL + "]")
			case llms.BinaryContent:
				b.WriteString("[binary " + x.MIMEType + " " + strconv.Itoa(len(x.Data)) + " bytes]")
			case llms.ToolCall:
				if x.FunctionCall != nil {
					b.WriteString("[tool_call " + x.FunctionCall.Name + " " + x.FunctionCall.Arguments + "]")
				}
			case llms.ToolCallResponse:
				b.WriteString("[tool_result " + x.Name + "] " + x.Content)
			}
		}
	}
	return b.String()
}

package otelexport

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/leanllm/leanllm-go/core"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// Attribute keys this package writes that the semconv package it uses does
// not define: gen_ai.system (deprecated by gen_ai.provider.name, still read
// by older collectors and backends) and later additions.
const (
	KeyGenAISystem          = attribute.Key("gen_ai.system")
	KeyCacheReadInputTokens = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	KeyToolCallArguments    = attribute.Key("gen_ai.tool.call.arguments")
)

// leanllm.* attribute keys.
const (
	KeyEventID            = attribute.Key("leanllm.event_id")
	KeyCorrelationID      = attribute.Key("leanllm.correlation_id")
	KeyParentRequestID    = attribute.Key("leanllm.parent_request_id")
	KeyCostUSD            = attribute.Key("leanllm.cost_usd")
	KeyTimeToFirstTokenMS = attribute.Key("leanllm.time_to_first_token_ms")
	KeyTotalStreamTimeMS  = attribute.Key("leanllm.total_stream_time_ms")
	KeyStreamEnd          = attribute.Key("leanllm.stream_end")
	KeyErrorDetail        = attribute.Key("leanllm.error_detail")
	KeyHTTPStatus         = attribute.Key("leanllm.http_status")
	KeyEnvironment        = attribute.Key("leanllm.environment")
	KeySampleRate         = attribute.Key("leanllm.sample_rate")
	KeyTokensEstimated    = attribute.Key("leanllm.tokens_estimated")
	KeyCostUnknown        = attribute.Key("leanllm.cost_unknown")
	KeyReasoningTokens    = attribute.Key("leanllm.reasoning_tokens")
	// LabelPrefix prefixes each label: label k becomes leanllm.labels.k.
	LabelPrefix = "leanllm.labels."
)

// Operation names (gen_ai.operation.name).
const (
	OpChat           = "chat"
	OpTextCompletion = "text_completion"
	OpExecuteTool    = "execute_tool"
)

// Tool-step metadata keys written by package toolcb (read, not imported).
const (
	toolCallKind  = "tool"
	toolModelPref = "tool:"
	mdToolName    = "tool_name"
	mdToolCallID  = "tool_call_id"
	mdToolInput   = "tool_input"
)

// operation returns gen_ai.operation.name for e.
func operation(e *core.Event) string {
	switch e.Metadata.CallKind {
	case core.KindCompletion:
		return OpTextCompletion
	case toolCallKind:
		return OpExecuteTool
	default:
		return OpChat
	}
}

// providerNames maps LeanLLM's provider names to gen_ai.provider.name and
// the older gen_ai.system values. Others are used as they are.
var providerNames = map[string][2]string{
	"openai":    {"openai", "openai"},
	"anthropic": {"anthropic", "anthropic"},
	"googleai":  {"gcp.gemini", "gemini"},
	"mistral":   {"mistral_ai", "mistral_ai"},
	"ollama":    {"ollama", "ollama"},
}

func providerName(p string) (name, system string) {
	if n, ok := providerNames[p]; ok {
		return n[0], n[1]
	}
	return p, p
}

// modelPrefixes are model-string prefixes that name a provider (LiteLLM
// style); they are not part of the model name sent to the provider.
var modelPrefixes = map[string]bool{
	"openai": true, "anthropic": true, "googleai": true, "gemini": true, "google": true,
	"mistral": true, "mistralai": true, "ollama": true,
}

// requestModel returns the model name as sent to the provider:
// "openai/gpt-4o-mini" → "gpt-4o-mini".
func requestModel(e *core.Event) string {
	p, rest, ok := strings.Cut(e.Model, "/")
	if ok && rest != "" && (p == e.Provider || modelPrefixes[strings.ToLower(p)]) {
		return rest
	}
	return e.Model
}

func toolName(e *core.Event) string {
	if n, _ := e.Metadata.Extra[mdToolName].(string); n != "" {
		return n
	}
	return strings.TrimPrefix(e.Model, toolModelPref)
}

// spanName is "{gen_ai.operation.name} {gen_ai.request.model}", or
// "execute_tool {gen_ai.tool.name}" for tool steps.
func spanName(e *core.Event, op string) string {
	target := requestModel(e)
	if op == OpExecuteTool {
		target = toolName(e)
	}
	if target == "" {
		return op
	}
	return op + " " + target
}

// spanAttributes returns the attributes of e's span.
func spanAttributes(e *core.Event, op string, content bool) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, 24+len(e.Labels))
	a = append(a, semconv.GenAIOperationNameKey.String(op))
	if op == OpExecuteTool {
		a = append(a, semconv.GenAIToolNameKey.String(toolName(e)), semconv.GenAIToolTypeKey.String("function"))
		if id, _ := e.Metadata.Extra[mdToolCallID].(string); id != "" {
			a = append(a, semconv.GenAIToolCallIDKey.String(id))
		}
		if in, _ := e.Metadata.Extra[mdToolInput].(string); content && in != "" {
			a = append(a, KeyToolCallArguments.String(in))
		}
	} else {
		if e.Provider != "" {
			name, system := providerName(e.Provider)
			a = append(a, semconv.GenAIProviderNameKey.String(name), KeyGenAISystem.String(system))
		}
		if m := requestModel(e); m != "" {
			a = append(a, semconv.GenAIRequestModelKey.String(m))
		}
		a = appendParameters(a, &e.Parameters)
		if !e.IsError() || e.InputTokens > 0 || e.OutputTokens > 0 {
			a = append(a, semconv.GenAIUsageInputTokensKey.Int(e.InputTokens), semconv.GenAIUsageOutputTokensKey.Int(e.OutputTokens))
		}
		if e.CachedInputTokens > 0 {
			a = append(a, KeyCacheReadInputTokens.Int(e.CachedInputTokens))
		}
		if e.ReasoningTokens > 0 {
			a = append(a, KeyReasoningTokens.Int(e.ReasoningTokens))
		}
		if e.Metadata.FinishReason != "" {
			a = append(a, semconv.GenAIResponseFinishReasonsKey.StringSlice([]string{e.Metadata.FinishReason}))
		}
		a = append(a, KeyCostUSD.Float64(e.Cost))
		if e.TimeToFirstTokenMS.Valid {
			a = append(a, KeyTimeToFirstTokenMS.Int64(e.TimeToFirstTokenMS.Int64))
		}
		if e.TotalStreamTimeMS.Valid {
			a = append(a, KeyTotalStreamTimeMS.Int64(e.TotalStreamTimeMS.Int64))
		}
		if e.Metadata.StreamEnd != "" {
			a = append(a, KeyStreamEnd.String(e.Metadata.StreamEnd))
		}
		if e.Metadata.TokensEstimated {
			a = append(a, KeyTokensEstimated.Bool(true))
		}
		if e.Metadata.CostUnknown {
			a = append(a, KeyCostUnknown.Bool(true))
		}
		if content {
			if e.Prompt != nil {
				a = append(a, semconv.GenAIInputMessagesKey.String(inputMessages(*e.Prompt)))
			}
			if e.Response != nil {
				a = append(a, semconv.GenAIOutputMessagesKey.String(outputMessages(e)))
			}
		}
	}
	if e.ErrorKind != "" {
		a = append(a, semconv.ErrorTypeKey.String(e.ErrorKind))
		if e.Metadata.ErrorDetail != "" {
			a = append(a, KeyErrorDetail.String(e.Metadata.ErrorDetail))
		}
		if e.Metadata.HTTPStatus != 0 {
			a = append(a, KeyHTTPStatus.Int(e.Metadata.HTTPStatus))
		}
	}
	a = append(a, KeyEventID.String(e.EventID))
	if e.CorrelationID != "" {
		a = append(a, KeyCorrelationID.String(e.CorrelationID))
	}
	if e.ParentRequestID != "" {
		a = append(a, KeyParentRequestID.String(e.ParentRequestID))
	}
	if e.Metadata.Environment != "" {
		a = append(a, KeyEnvironment.String(e.Metadata.Environment))
	}
	if r := e.Metadata.SampleRate; r > 0 && r < 1 {
		a = append(a, KeySampleRate.Float64(r))
	}
	if len(e.Labels) > 0 {
		keys := make([]string, 0, len(e.Labels))
		for k := range e.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a = append(a, attribute.String(LabelPrefix+k, e.Labels[k]))
		}
	}
	return a
}

// appendParameters adds the gen_ai.request.* parameters that are set (zero
// means unset: langchaingo cannot tell an unset temperature from 0).
func appendParameters(a []attribute.KeyValue, p *core.Parameters) []attribute.KeyValue {
	if p.Temperature != 0 {
		a = append(a, semconv.GenAIRequestTemperatureKey.Float64(p.Temperature))
	}
	if p.MaxTokens != 0 {
		a = append(a, semconv.GenAIRequestMaxTokensKey.Int(p.MaxTokens))
	}
	if p.TopP != 0 {
		a = append(a, semconv.GenAIRequestTopPKey.Float64(p.TopP))
	}
	if p.TopK != 0 {
		a = append(a, semconv.GenAIRequestTopKKey.Float64(float64(p.TopK)))
	}
	if p.Seed != 0 {
		a = append(a, semconv.GenAIRequestSeedKey.Int(p.Seed))
	}
	if len(p.Stop) > 0 {
		a = append(a, semconv.GenAIRequestStopSequencesKey.StringSlice(p.Stop))
	}
	if p.FrequencyPenalty != 0 {
		a = append(a, semconv.GenAIRequestFrequencyPenaltyKey.Float64(p.FrequencyPenalty))
	}
	if p.PresencePenalty != 0 {
		a = append(a, semconv.GenAIRequestPresencePenaltyKey.Float64(p.PresencePenalty))
	}
	if p.N > 1 {
		a = append(a, semconv.GenAIRequestChoiceCountKey.Int(p.N))
	}
	if p.JSONMode {
		a = append(a, semconv.GenAIOutputTypeKey.String("json"))
	}
	return a
}

// Message shapes of gen_ai.input.messages / gen_ai.output.messages.
type msgPart struct {
	Type      string `json:"type"`
	Content   string `json:"content,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

type message struct {
	Role         string    `json:"role"`
	Parts        []msgPart `json:"parts"`
	FinishReason string    `json:"finish_reason,omitempty"`
}

// inputMessages renders the captured prompt. LeanLLM stores the prompt as
// one text (after redaction and cutting), so it is one user message.
func inputMessages(prompt string) string {
	b, _ := json.Marshal([]message{{Role: "user", Parts: []msgPart{{Type: "text", Content: prompt}}}})
	return string(b)
}

func outputMessages(e *core.Event) string {
	m := message{Role: "assistant", FinishReason: e.Metadata.FinishReason}
	if e.Response != nil && *e.Response != "" {
		m.Parts = append(m.Parts, msgPart{Type: "text", Content: *e.Response})
	}
	for _, tc := range e.ToolCalls {
		p := msgPart{Type: "tool_call", ID: tc.ID}
		if tc.FunctionCall != nil {
			p.Name, p.Arguments = tc.FunctionCall.Name, tc.FunctionCall.Arguments
		}
		m.Parts = append(m.Parts, p)
	}
	if m.Parts == nil {
		m.Parts = []msgPart{}
	}
	b, _ := json.Marshal([]message{m})
	return string(b)
}

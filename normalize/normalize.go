// Package normalize fills an event's normalized_input and normalized_output
// (auto_normalize): the type of input and output, a length bucket, the
// detected structure, and a semantic hash over a canonical form in which
// dynamic tokens (UUIDs, timestamps, long numbers, hex ids, emails) are
// masked, so that repeated prompts that differ only in such tokens group
// together.
//
// # Fields
//
// normalized_input: type (chat, completion, tool), messages, roles,
// length_bucket, chars, semantic_hash. normalized_output: type (text, json,
// code, tool_call, empty), length_bucket, chars, structure (object, array,
// fenced_code, markdown_list, plain), tool_names, semantic_hash.
package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/leanllm/leanllm-go/core"
	"github.com/tmc/langchaingo/llms"
)

var dynamic = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`), "<uuid>"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?`), "<ts>"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}`), "<date>"},
	{regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`), "<email>"},
	{regexp.MustCompile(`\b(0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b(0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b`), "<hex>"},
	{regexp.MustCompile(`\d{5,}`), "<num>"},
}

// Canonical returns the canonical form of s: lower-cased, whitespace
// collapsed, dynamic tokens masked.
func Canonical(s string) string {
	for _, d := range dynamic {
		if d.repl == "<hex>" {
			s = d.re.ReplaceAllStringFunc(s, func(m string) string {
				if len(m) >= 12 {
					return "<hex>"
				}
				return m
			})
			continue
		}
		s = d.re.ReplaceAllString(s, d.repl)
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// SemanticHash is the SHA-256 (first 16 hex chars) of Canonical(s).
func SemanticHash(s string) string {
	sum := sha256.Sum256([]byte(Canonical(s)))
	return hex.EncodeToString(sum[:8])
}

// LengthBucket names the size class of n characters.
func LengthBucket(n int) string {
	switch {
	case n == 0:
		return "empty"
	case n < 100:
		return "xs"
	case n < 1000:
		return "s"
	case n < 4000:
		return "m"
	case n < 16000:
		return "l"
	default:
		return "xl"
	}
}

// Input describes the request side.
func Input(kind string, msgs []llms.MessageContent) map[string]any {
	var b strings.Builder
	roles := map[string]bool{}
	typ := kind
	if typ == "" {
		typ = core.KindChat
	}
	for _, m := range msgs {
		roles[string(m.Role)] = true
		for _, p := range m.Parts {
			switch x := p.(type) {
			case llms.TextContent:
				b.WriteString(x.Text)
				b.WriteByte('\n')
			case llms.ToolCallResponse:
				typ = "tool"
				b.WriteString(x.Content)
				b.WriteByte('\n')
			}
		}
		if m.Role == llms.ChatMessageTypeTool {
			typ = "tool"
		}
	}
	text := b.String()
	rl := make([]string, 0, len(roles))
	for _, r := range []string{"system", "human", "ai", "tool", "function", "generic"} {
		if roles[r] {
			rl = append(rl, r)
		}
	}
	return map[string]any{
		"type": typ, "messages": len(msgs), "roles": rl, "chars": len(text),
		"length_bucket": LengthBucket(len(text)), "semantic_hash": SemanticHash(text),
	}
}

// Output describes the response side.
func Output(text string, toolCalls []llms.ToolCall) map[string]any {
	out := map[string]any{"chars": len(text), "length_bucket": LengthBucket(len(text))}
	t := strings.TrimSpace(text)
	switch {
	case len(toolCalls) > 0:
		out["type"] = "tool_call"
		names := make([]string, 0, len(toolCalls))
		for _, tc := range toolCalls {
			if tc.FunctionCall != nil {
				names = append(names, tc.FunctionCall.Name)
			}
		}
		out["tool_names"] = names
	case t == "":
		out["type"] = "empty"
	case json.Valid([]byte(t)) && (t[0] == '{' || t[0] == '['):
		out["type"] = "json"
		if t[0] == '{' {
			out["structure"] = "object"
		} else {
			out["structure"] = "array"
		}
	case strings.Contains(t, "```"):
		out["type"] = "code"
		out["structure"] = "fenced_code"
	default:
		out["type"] = "text"
		if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "1. ") || strings.Contains(t, "\n- ") {
			out["structure"] = "markdown_list"
		} else {
			out["structure"] = "plain"
		}
	}
	if t != "" {
		out["semantic_hash"] = SemanticHash(t)
	}
	return out
}

// Event fills e's normalized fields from the call.
func Event(e *core.Event, c *core.Call) {
	e.NormalizedInput = Input(c.Kind, c.Messages)
	var text string
	if c.Response != nil && len(c.Response.Choices) > 0 && c.Response.Choices[0] != nil {
		text = c.Response.Choices[0].Content
	}
	if c.Err == nil {
		e.NormalizedOutput = Output(text, e.ToolCalls)
	}
}

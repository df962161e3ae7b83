package tokens

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/tmc/langchaingo/llms"
)

// Encoding names.
const (
	O200kBase  = "o200k_base"
	Cl100kBase = "cl100k_base"
)

// OpenAI chat format overhead (OpenAI cookbook, "How to count tokens with
// tiktoken", for gpt-3.5-turbo-0613 and later, gpt-4, gpt-4o).
const (
	// TokensPerMessage wraps every message (<|start|>{role}\n ... <|end|>\n).
	TokensPerMessage = 3
	// TokensPerRole is the role name ("system", "user", "assistant",
	// "tool"): one token in both encodings.
	TokensPerRole = 1
	// ReplyPriming primes the reply (<|start|>assistant<|message|>).
	ReplyPriming = 3
)

func init() {
	// Make tiktoken read its BPE ranks from the files embedded in
	// tiktoken-go-loader instead of downloading them. This is tiktoken's
	// process-wide setting, set once here before any goroutine can use it;
	// it also makes other users of tiktoken in the process (such as
	// langchaingo's llms.CountTokens) offline.
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
}

// lazyEncoder creates one tiktoken encoder on first use.
type lazyEncoder struct {
	name string
	once sync.Once
	enc  *tiktoken.Tiktoken
	err  error
}

func (l *lazyEncoder) get() *tiktoken.Tiktoken {
	l.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				l.enc, l.err = nil, fmt.Errorf("tiktoken panicked creating %s: %v", l.name, r)
			}
		}()
		l.enc, l.err = tiktoken.GetEncoding(l.name)
	})
	return l.enc
}

var (
	o200k  = &lazyEncoder{name: O200kBase}
	cl100k = &lazyEncoder{name: Cl100kBase}
)

// EncodingName returns the tiktoken encoding Estimate uses for model:
// o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, gpt-oss, chatgpt-4o and
// the o-series (o1, o3, o4...), cl100k_base for everything else. A
// "provider/" prefix and an "ft:" prefix are ignored; case is ignored.
func EncodingName(model string) string {
	if usesO200k(model) {
		return O200kBase
	}
	return Cl100kBase
}

func usesO200k(model string) bool {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	if hasPrefixFold(model, "ft:") {
		model = model[3:]
	}
	for _, p := range [...]string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "chatgpt-4o"} {
		if hasPrefixFold(model, p) {
			return true
		}
	}
	// o-series: "o1", "o3-mini", "o4-mini-2025-04-16", ...
	if len(model) >= 2 && (model[0] == 'o' || model[0] == 'O') && '1' <= model[1] && model[1] <= '9' {
		return len(model) == 2 || model[2] == '-'
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func encoderFor(model string) *tiktoken.Tiktoken {
	if usesO200k(model) {
		return o200k.get()
	}
	return cl100k.get()
}

// Estimate returns the number of tokens text takes for model, counted
// offline with tiktoken (see [EncodingName] for the encoding). Special
// tokens in text are counted as plain text.
//
// For OpenAI models this is exact. For other providers (Claude, Gemini,
// Mistral, Llama...) it is an approximation: their tokenizers differ and
// typically produce somewhat more tokens than cl100k_base for the same
// text.
//
// Encoders are created on first use (tens to hundreds of milliseconds
// once per encoding, see the package benchmarks) and shared. If creation
// fails, or encoding panics, Estimate falls back to ceil(len(text)/4)
// bytes. It never fetches anything from the network and never panics.
//
// Cost is bounded: BPE is quadratic in the length of one pre-token, so text
// is encoded in pieces of at most chunkBytes (cut before a space where there
// is one, which keeps the count exact for ordinary text), and text longer
// than sampleBytes is estimated from its first sampleBytes, scaled.
func Estimate(model, text string) int {
	if text == "" {
		return 0
	}
	enc := encoderFor(model)
	if enc == nil {
		return Heuristic(text)
	}
	sample := text
	if len(sample) > sampleBytes {
		sample = text[:runeStart(text, sampleBytes)]
	}
	total := 0
	for rest := sample; rest != ""; {
		piece := rest
		if len(piece) > chunkBytes {
			cut := runeStart(rest, chunkBytes)
			if sp := strings.LastIndexAny(rest[chunkBytes/2:cut], " \n\t"); sp >= 0 {
				cut = chunkBytes/2 + sp
			}
			if cut == 0 {
				cut = chunkBytes
			}
			piece = rest[:cut]
		}
		rest = rest[len(piece):]
		n, ok := encode(enc, piece)
		if !ok {
			return Heuristic(text)
		}
		total += n
	}
	if len(sample) < len(text) {
		return int(float64(total)*float64(len(text))/float64(len(sample)) + 0.5)
	}
	return total
}

const (
	chunkBytes  = 512
	sampleBytes = 32 << 10
)

// runeStart returns the largest index <= i that starts a UTF-8 sequence.
func runeStart(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return i
}

func encode(enc *tiktoken.Tiktoken, text string) (n int, ok bool) {
	defer func() {
		if recover() != nil {
			n, ok = 0, false
		}
	}()
	return len(enc.EncodeOrdinary(text)), true
}

// Heuristic is the fallback estimate: ceil(len(text)/4), about four bytes
// of English text per token.
func Heuristic(text string) int {
	return (len(text) + 3) / 4
}

// EstimateMessages estimates the prompt tokens of a chat request with
// OpenAI's formula: ReplyPriming (3), plus for each message
// TokensPerMessage (3) + TokensPerRole (1) + the tokens of its parts.
// Text parts count their text; tool calls their function name and
// arguments; tool responses their content. Images and binary parts are
// not counted (their price depends on size and detail), nor are tool
// definitions.
func EstimateMessages(model string, msgs []llms.MessageContent) int {
	n := ReplyPriming
	for _, m := range msgs {
		n += TokensPerMessage + TokensPerRole
		for _, p := range m.Parts {
			n += estimatePart(model, p)
		}
	}
	return n
}

func estimatePart(model string, p llms.ContentPart) int {
	switch p := p.(type) {
	case llms.TextContent:
		return Estimate(model, p.Text)
	case *llms.TextContent:
		if p != nil {
			return Estimate(model, p.Text)
		}
	case llms.ToolCall:
		return estimateToolCall(model, p)
	case *llms.ToolCall:
		if p != nil {
			return estimateToolCall(model, *p)
		}
	case llms.ToolCallResponse:
		return Estimate(model, p.Content)
	case *llms.ToolCallResponse:
		if p != nil {
			return Estimate(model, p.Content)
		}
	}
	return 0
}

func estimateToolCall(model string, c llms.ToolCall) int {
	if c.FunctionCall == nil {
		return 0
	}
	return Estimate(model, c.FunctionCall.Name) + Estimate(model, c.FunctionCall.Arguments)
}

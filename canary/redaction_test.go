package canary_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/redaction"
	"github.com/matryer/is"
	"github.com/tmc/langchaingo/llms"
)

// Personal data and secrets the detectors must mask (from
// redaction/testdata/positives.txt shapes).
const (
	pii        = "maria.silva@example.com"
	card       = "4111 1111 1111 1111"
	apiKey     = "sk-proj-Abc123def456GHI789jkl012MNO345pqr678"
	promptPII  = "Refund card " + card + " for " + pii + " please."
	answerPII  = "Done: refunded " + card + "; receipt sent to " + pii + "."
	toolArgs   = `{"email": "` + pii + `", "api_key": "` + apiKey + `", "amount": 12}`
	errMessage = "upstream rejected " + pii + " (key " + apiKey + ")"
)

var rawSecrets = []string{pii, card, apiKey, "4111111111111111"}

func rawIn(s string) []string {
	var out []string
	for _, r := range rawSecrets {
		if strings.Contains(s, r) {
			out = append(out, r)
		}
	}
	return out
}

func toolCallReply() testprovider.Reply {
	return testprovider.Reply{Text: answerPII, ToolCalls: []llms.ToolCall{{
		ID: "call_1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "refund", Arguments: toolArgs},
	}}, Usage: testprovider.UsageOf(10, 5)}
}

// funcCallModel answers with a legacy function call only (ContentChoice.
// FuncCall, no ToolCalls), as older langchaingo clients do.
type funcCallModel struct{}

func (funcCallModel) GenerateContent(context.Context, []llms.MessageContent, ...llms.CallOption) (*llms.ContentResponse, error) {
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{{
		Content: "", StopReason: "function_call",
		FuncCall:       &llms.FunctionCall{Name: "refund", Arguments: toolArgs},
		GenerationInfo: map[string]any{"PromptTokens": 5, "CompletionTokens": 5, "TotalTokens": 10},
	}}}, nil
}

func (m funcCallModel) Call(ctx context.Context, p string, o ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, p, o...)
}

// eventText renders what an event holds of content: prompt, response,
// tool-call arguments and error message.
func eventText(ev *leanllm.Event) string {
	var b strings.Builder
	if ev.Prompt != nil {
		b.WriteString(*ev.Prompt + "\n")
	}
	if ev.Response != nil {
		b.WriteString(*ev.Response + "\n")
	}
	for _, tc := range ev.ToolCalls {
		if tc.FunctionCall != nil {
			b.WriteString(tc.FunctionCall.Arguments + "\n")
		}
	}
	b.WriteString(ev.ErrorMessage)
	return b.String()
}

// TestRedactedModeMasksAllContent: prompt, response, tool-call arguments
// (both shapes) and error messages are masked; hooks, LastEvent and the
// stored rows all see the masked text.
func TestRedactedModeMasksAllContent(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	dbURL, dbPath := sqliteURL(t)
	var mu sync.Mutex
	var hooked []string
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake),
		leanllm.WithRoute("legacy/", funcCallModel{}),
		leanllm.WithDatabaseURL(dbURL), leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("redacted"),
		leanllm.WithPostCallHook(func(ev *leanllm.Event) {
			mu.Lock()
			hooked = append(hooked, eventText(ev))
			mu.Unlock()
		}))
	is.NoErr(err)

	fake.Push(toolCallReply())
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human(promptPII))
	is.NoErr(err)
	ev := cl.LastEvent()
	is.True(ev.Prompt != nil && ev.Response != nil)
	is.Equal(*ev.Prompt, "Refund card [CARD] for [EMAIL] please.")
	is.Equal(*ev.Response, "Done: refunded [CARD]; receipt sent to [EMAIL].")
	is.Equal(ev.ToolCalls[0].FunctionCall.Arguments, `{"email": "[EMAIL]", "api_key": "[API_KEY]", "amount": 12}`)
	is.Equal(ev.ToolCalls[0].FunctionCall.Name, "refund") // names are metadata, kept
	is.Equal(ev.Metadata.RedactionMode, "redacted")

	// Streams: the aggregated text is masked the same way.
	fake.Push(testprovider.Reply{Chunks: []string{"Done: refunded ", card, "; receipt sent to ", pii, "."}})
	for _, err := range cl.Stream(t.Context(), "gpt-4o-mini", human(promptPII)) {
		is.NoErr(err)
	}
	is.Equal(*cl.LastEvent().Response, "Done: refunded [CARD]; receipt sent to [EMAIL].")

	// Legacy function call (FuncCall only).
	_, err = cl.Chat(t.Context(), "legacy/model", human(promptPII))
	is.NoErr(err)
	if got := rawIn(eventText(cl.LastEvent())); len(got) > 0 {
		t.Errorf("LEAK: legacy function call arguments not masked: %v in %q", got, eventText(cl.LastEvent()))
	}

	// Errors: the provider's message is masked in the event; the caller
	// gets the provider's error unchanged.
	perr := errors.New(errMessage)
	fake.Push(testprovider.Reply{Err: perr})
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human(promptPII))
	is.True(errors.Is(err, perr))
	is.Equal(cl.LastEvent().ErrorMessage, "upstream rejected [EMAIL] (key [API_KEY])")

	for _, e := range cl.RecentEvents(0) {
		if got := rawIn(eventText(e)); len(got) > 0 {
			t.Errorf("LEAK: event %s (LastEvent/RecentEvents) holds %v", e.EventID, got)
		}
	}
	mu.Lock()
	is.Equal(len(hooked), 3) // the post-call hook saw the masked content of each success
	for i, h := range hooked {
		if got := rawIn(h); len(got) > 0 {
			t.Errorf("LEAK: post-call hook %d saw %v", i, got)
		}
	}
	mu.Unlock()
	is.NoErr(cl.Close(t.Context()))
	rows := dumpRows(t, dbPath)
	is.Equal(len(rows), 4)
	txt := rowsText(rows)
	is.True(strings.Contains(txt, "[CARD]"))
	for _, r := range rows {
		for col, v := range r {
			if v != nil && len(rawIn(*v)) > 0 {
				t.Errorf("LEAK: stored row %s column %s holds %v: %s", deref(r["event_id"]), col, rawIn(*v), *v)
			}
		}
	}
}

// TestHashedMode: content is stored as "sha256:<hex>"; equal prompts give
// equal hashes, different ones different hashes; with a hash key it is the
// HMAC.
func TestHashedMode(t *testing.T) {
	for _, key := range [][]byte{nil, []byte("tenant-42 hash key")} {
		t.Run(fmt.Sprintf("key=%q", key), func(t *testing.T) {
			is := is.New(t)
			fake := testprovider.New(testprovider.WithDefault(toolCallReply()))
			opts := []leanllm.Option{leanllm.WithoutEnv(), leanllm.WithModel(fake),
				leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("hashed")}
			if key != nil {
				opts = append(opts, leanllm.WithHashKey(key))
			}
			cl, err := leanllm.New(opts...)
			is.NoErr(err)
			defer cl.Close(context.Background())
			var prompts []string
			for _, p := range []string{promptPII, promptPII, "another prompt"} {
				_, err := cl.Chat(t.Context(), "gpt-4o-mini", human(p))
				is.NoErr(err)
				ev := cl.LastEvent()
				is.True(strings.HasPrefix(*ev.Prompt, redaction.HashPrefix))
				is.Equal(len(*ev.Prompt), len(redaction.HashPrefix)+64)
				is.Equal(*ev.Prompt, redaction.Hash(p, key))
				is.Equal(*ev.Response, redaction.Hash(answerPII, key))
				is.Equal(ev.ToolCalls[0].FunctionCall.Arguments, redaction.Hash(toolArgs, key))
				prompts = append(prompts, *ev.Prompt)
			}
			is.Equal(prompts[0], prompts[1])  // equal prompts group
			is.True(prompts[0] != prompts[2]) // different prompts do not
			if key != nil {
				is.True(prompts[0] != redaction.Hash(promptPII, nil)) // keyed: not the plain SHA-256
			}
		})
	}
}

// contentCalls makes calls of every kind: success with tool calls, stream,
// completion, error.
func contentCalls(t *testing.T, cl *leanllm.Client, fake *testprovider.Model, opts ...leanllm.CallOption) int {
	t.Helper()
	n := 0
	for range 5 {
		fake.Push(toolCallReply())
		if _, err := cl.Chat(t.Context(), "gpt-4o-mini", human(promptPII), opts...); err != nil {
			t.Fatal(err)
		}
		fake.Push(testprovider.Reply{Text: answerPII})
		for _, err := range cl.Stream(t.Context(), "gpt-4o-mini", human(promptPII), opts...) {
			if err != nil {
				t.Fatal(err)
			}
		}
		fake.Push(testprovider.Reply{Text: answerPII})
		if _, err := cl.Completion(t.Context(), "gpt-4o-mini", promptPII, opts...); err != nil {
			t.Fatal(err)
		}
		fake.Push(testprovider.Reply{Err: errors.New(errMessage)})
		if _, err := cl.Chat(t.Context(), "gpt-4o-mini", human(promptPII), opts...); err == nil {
			t.Fatal("no error")
		}
		n += 4
	}
	return n
}

// checkNoContentRows asserts 100 % of rows have NULL prompt and response,
// and that nothing in any row (tool-call arguments included) holds the
// callers' content.
func checkNoContentRows(t *testing.T, dbPath string, n int) {
	t.Helper()
	rows := dumpRows(t, dbPath)
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	withContent := 0
	leaked := map[string]int{} // column -> rows holding content
	example := map[string]string{}
	for _, r := range rows {
		if r["prompt"] != nil || r["response"] != nil {
			withContent++
		}
		for col, v := range r {
			if v != nil && len(rawIn(*v)) > 0 {
				leaked[col]++
				example[col] = *v
			}
		}
	}
	for col, k := range leaked {
		t.Errorf("LEAK: %d of %d rows hold caller content in column %s, e.g. %s", k, len(rows), col, example[col])
	}
	if withContent != 0 {
		t.Errorf("%d of %d rows have a prompt or a response, want 0 %%", withContent, len(rows))
	}
}

// TestMetadataModeStoresNoContent: capture_content=true but
// redaction_mode=metadata: no row has a prompt or response, and no row
// holds any of the content.
func TestMetadataModeStoresNoContent(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	dbURL, dbPath := sqliteURL(t)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithDatabaseURL(dbURL),
		leanllm.WithCaptureContent(true), leanllm.WithRedactionMode("metadata"))
	is.NoErr(err)
	n := contentCalls(t, cl, fake)
	for _, ev := range cl.RecentEvents(0) {
		is.True(ev.Prompt == nil && ev.Response == nil)
	}
	is.NoErr(cl.Close(t.Context()))
	checkNoContentRows(t, dbPath, n)
}

// TestCaptureContentOffStoresNothing: with capture_content=false nothing
// is stored whatever the mode, also when a call asks for "full".
func TestCaptureContentOffStoresNothing(t *testing.T) {
	for _, mode := range []string{"metadata", "redacted", "hashed", "full"} {
		t.Run(mode, func(t *testing.T) {
			is := is.New(t)
			fake := testprovider.New()
			dbURL, dbPath := sqliteURL(t)
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithDatabaseURL(dbURL),
				leanllm.WithCaptureContent(false), leanllm.WithRedactionMode(mode))
			is.NoErr(err)
			n := contentCalls(t, cl, fake)
			n += contentCalls(t, cl, fake, leanllm.WithCallRedactionMode("full"))
			is.NoErr(cl.Close(t.Context()))
			checkNoContentRows(t, dbPath, n)
		})
	}
}

// TestMaxContentBytes: longer content is cut at a UTF-8 boundary with a
// visible marker, and the event says so.
func TestMaxContentBytes(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithCaptureContent(true),
		leanllm.WithRedactionMode("full"), leanllm.WithMaxContentBytes(100))
	is.NoErr(err)
	defer cl.Close(context.Background())

	long := strings.Repeat("a", 300)
	fake.Push(testprovider.Reply{Text: strings.Repeat("é", 100)}) // 200 bytes
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human(long))
	is.NoErr(err)
	ev := cl.LastEvent()
	is.Equal(*ev.Prompt, strings.Repeat("a", 100)+"…[truncated 200 bytes]")
	is.Equal(*ev.Response, strings.Repeat("é", 50)+"…[truncated 100 bytes]")
	is.True(utf8.ValidString(*ev.Response))
	is.True(ev.Metadata.ContentCut)

	// An odd limit never splits a rune.
	cl2, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithCaptureContent(true),
		leanllm.WithRedactionMode("redacted"), leanllm.WithMaxContentBytes(7))
	is.NoErr(err)
	defer cl2.Close(context.Background())
	_, err = cl2.Chat(t.Context(), "gpt-4o-mini", human("ééééé "+pii))
	is.NoErr(err)
	ev = cl2.LastEvent()
	is.Equal(*ev.Prompt, "ééé…[truncated "+fmt.Sprint(len("ééééé [EMAIL]")-6)+" bytes]") // cut after masking
	is.True(utf8.ValidString(*ev.Prompt))

	// Short content is not marked.
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("short"))
	is.NoErr(err)
	is.Equal(*cl.LastEvent().Prompt, "short")
	is.True(!cl.LastEvent().Metadata.ContentCut)
}

// TestContentIsCopied: what the caller does with its messages, labels or
// the response after the call does not change the event, nor does
// changing an event returned by LastEvent.
func TestContentIsCopied(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New()
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithCaptureContent(true),
		leanllm.WithRedactionMode("full"))
	is.NoErr(err)
	defer cl.Close(context.Background())

	buf := []byte("original prompt text")
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "be brief"),
		llms.TextParts(llms.ChatMessageTypeHuman, string(buf)),
	}
	labels := map[string]string{"team": "billing"}
	fake.Push(toolCallReply())
	resp, err := cl.Chat(t.Context(), "gpt-4o-mini", msgs, leanllm.WithLabels(labels))
	is.NoErr(err)
	before, err := cl.LastEvent().MarshalJSON()
	is.NoErr(err)

	// The caller reuses everything.
	copy(buf, "XXXXXXXX")
	msgs[1].Parts[0] = llms.TextContent{Text: "mutated"}
	msgs[0].Role = llms.ChatMessageTypeAI
	labels["team"] = "mutated"
	labels["new"] = "x"
	resp.Choices[0].Content = "mutated"
	resp.Choices[0].ToolCalls[0].FunctionCall.Arguments = "mutated"
	resp.Choices[0].ToolCalls[0].FunctionCall.Name = "mutated"
	// And scribbles on a returned event.
	ev := cl.LastEvent()
	*ev.Prompt = "mutated"
	*ev.Response = "mutated"
	ev.Labels["team"] = "mutated"
	ev.ToolCalls[0].FunctionCall.Arguments = "mutated"

	after, err := cl.LastEvent().MarshalJSON()
	is.NoErr(err)
	is.Equal(string(after), string(before))
	is.True(strings.Contains(string(after), "original prompt text"))
	is.True(!strings.Contains(string(after), "mutated"))
}

// TestCustomDetectors: a pattern added with WithRedactionPattern masks its
// matches next to the built-ins; an invalid expression is an error from
// New; a custom func that panics (or fails) stores [REDACTION_FAILED],
// never the raw text, and the call itself succeeds.
func TestCustomDetectors(t *testing.T) {
	is := is.New(t)
	fake := testprovider.New(testprovider.WithDefault(testprovider.Reply{Text: "EMP-004211 approved for " + pii}))

	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithCaptureContent(true),
		leanllm.WithRedactionMode("redacted"), leanllm.WithRedactionPattern("employee_id", `\bEMP-\d{6}\b`))
	is.NoErr(err)
	defer cl.Close(context.Background())
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("Is EMP-004211 ("+pii+") on leave?"))
	is.NoErr(err)
	ev := cl.LastEvent()
	is.Equal(*ev.Prompt, "Is [EMPLOYEE_ID] ([EMAIL]) on leave?")
	is.Equal(*ev.Response, "[EMPLOYEE_ID] approved for [EMAIL]")

	_, err = leanllm.New(leanllm.WithoutEnv(), leanllm.WithRedactionPattern("broken", `(unclosed`))
	is.True(errors.Is(err, leanllm.ErrConfig))
	is.True(strings.Contains(err.Error(), `"broken"`))

	for name, f := range map[string]func(string) (string, error){
		"panics": func(string) (string, error) { panic("custom redactor bug") },
		"fails":  func(string) (string, error) { return "", errors.New("no") },
	} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithCaptureContent(true),
				leanllm.WithRedactionMode("redacted"), leanllm.WithRedactionFunc("custom", f))
			is.NoErr(err)
			defer cl.Close(context.Background())
			resp, err := cl.Chat(t.Context(), "gpt-4o-mini", human(promptPII))
			is.NoErr(err)                                                     // the call is not affected
			is.Equal(resp.Choices[0].Content, "EMP-004211 approved for "+pii) // nor the caller's answer
			ev := cl.LastEvent()
			is.Equal(*ev.Prompt, redaction.FailedPlaceholder)
			is.Equal(*ev.Response, redaction.FailedPlaceholder)
		})
	}
}

// TestErrorMessagesMaskedUnlessFull: error messages are masked in every
// mode but full with content capture on (without capture, every row looks
// like a metadata row, whatever the mode).
func TestErrorMessagesMaskedUnlessFull(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		capture bool
		raw     bool
	}{
		{"metadata", false, false}, {"redacted", true, false}, {"hashed", true, false},
		{"full", false, false}, {"full", true, true},
	} {
		t.Run(fmt.Sprintf("%s_capture_%v", tc.mode, tc.capture), func(t *testing.T) {
			is := is.New(t)
			fake := testprovider.New(testprovider.WithDefault(testprovider.Reply{Err: errors.New(errMessage)}))
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake), leanllm.WithRedactionMode(tc.mode), leanllm.WithCaptureContent(tc.capture))
			is.NoErr(err)
			defer cl.Close(context.Background())
			_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
			is.True(err != nil)
			got := cl.LastEvent().ErrorMessage
			if tc.raw {
				is.Equal(got, errMessage)
			} else {
				is.Equal(got, "upstream rejected [EMAIL] (key [API_KEY])")
			}
		})
	}
}

// 1 KiB prompts for the benchmarks: ordinary text with a few secrets.
var bench1KiB = func() string {
	unit := "Customer " + pii + " asked about invoice INV-2024-00123 (total $1,299.99) on 2024-01-15; card " + card +
		" was charged twice. Please summarise in three bullet points and keep the tone neutral. "
	s := strings.Repeat(unit, 1024/len(unit)+1)
	return s[:1024]
}()

// bench1KiBClean is a 1 KiB prompt with nothing to mask.
var bench1KiBClean = func() string {
	unit := "Please summarise the conversation about invoice INV-2024-00123 (total $1,299.99, version 2.31.0) " +
		"in three bullet points, keep the tone neutral and do not invent facts. "
	s := strings.Repeat(unit, 1024/len(unit)+1)
	return s[:1024]
}()

// BenchmarkCallPath compares a call through the client with capture in
// redacted mode (1 KiB prompt with secrets) against the raw zero-latency
// model. The difference is what LeanLLM adds to the caller's goroutine
// (goal: under 10 µs).
//
//	go test -run='^$' -bench=CallPath -benchmem ./canary/
func BenchmarkCallPath(b *testing.B) {
	msgs := human(bench1KiB)
	b.Run("redact_only_1KiB", func(b *testing.B) {
		r := redaction.Default()
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Redact(bench1KiB)
		}
	})
	b.Run("raw_model", func(b *testing.B) {
		m := testprovider.New(testprovider.WithoutRecording())
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.GenerateContent(ctx, msgs, llms.WithModel("gpt-4o-mini")); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name    string
		capture bool
		mode    string
		prompt  string
	}{
		{"client_metadata", false, "metadata", bench1KiB},
		{"client_redacted_1KiB_secrets", true, "redacted", bench1KiB},
		{"client_redacted_1KiB_clean", true, "redacted", bench1KiBClean},
		{"client_hashed_1KiB", true, "hashed", bench1KiB},
		{"client_full_1KiB", true, "full", bench1KiB},
	} {
		msgs := human(c.prompt)
		b.Run(c.name, func(b *testing.B) {
			m := testprovider.New(testprovider.WithoutRecording())
			cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(m),
				leanllm.WithCaptureContent(c.capture), leanllm.WithRedactionMode(c.mode))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close(context.Background())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cl.Chat(ctx, "gpt-4o-mini", msgs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

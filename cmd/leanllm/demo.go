package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

const demoAbout = `Run a short scripted session and store its events: plain calls with
labels, a stream (printed as it arrives), a provider error (HTTP 429), a
traced chain of three calls sharing one correlation id (each call's
parent_request_id is the previous one; the first asks for a tool), 20
sampled calls at sample=0.25, and a call whose content is stored in
redacted mode. Then it prints what was captured and how to look at it.

By default the calls go to the built-in offline provider: an
OpenAI-compatible server on 127.0.0.1 that langchaingo's real openai client
talks to. With --live and OPENAI_API_KEY set they go to OpenAI instead
(cost: a few hundred tokens of --model).`

// demoSamples is the number of sampled calls and their rate.
const (
	demoSamples    = 20
	demoSampleRate = 0.25
)

// demoStep is the label that says which part of the demo made an event.
const demoStep = "demo_step"

func (a *app) demo(ctx context.Context, args []string) error {
	f := a.newFlags("demo", "leanllm demo [flags]", demoAbout).withDB()
	live := f.Bool("live", false, "call the real provider (needs OPENAI_API_KEY) instead of the offline one")
	model := f.String("model", "gpt-4o-mini", "model of the demo's calls")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	dbURL := f.dbURL()
	if _, memory, ok := sqlitePath(dbURL); ok && memory {
		return usageErr("--db %s would lose the events at exit: give a file or postgres:// URL", dbURL)
	}
	if !strings.HasPrefix(dbURL, "sqlite://") && !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return usageErr("bad database URL %q: want sqlite:///rel.db, sqlite:////abs.db or postgres://…", redactURL(dbURL))
	}
	d := &demoRun{a: a, out: a.stdout, live: *live, model: *model}
	opts := []leanllm.Option{
		leanllm.WithDatabaseURL(dbURL),
		leanllm.WithLeanLLMAPIKey(""), // the demo writes to the database even when LEANLLM_API_KEY is set
		leanllm.WithPersistence(true),
		leanllm.WithAutoChain(true),
		leanllm.WithCaptureContent(true),
		leanllm.WithRedactionMode("full"), // synthetic prompts: kept verbatim, so they can be replayed
		leanllm.WithSamplingRate(1),
		leanllm.WithLastEventBuffer(1000),
		leanllm.WithEnvironment("demo"),
	}
	if *live {
		if strings.TrimSpace(a.getenv("OPENAI_API_KEY")) == "" {
			return usageErr("--live needs OPENAI_API_KEY (or run the demo offline: leanllm demo)")
		}
		fmt.Fprintf(d.out, "LeanLLM demo — live: calls go to OpenAI (%s)\n", *model)
	} else {
		srv := testprovider.NewUnstarted(testprovider.WithoutRecording()).Start()
		defer srv.Close()
		llm, err := openai.New(append(srv.OpenAIOptions(), openai.WithModel(*model))...)
		if err != nil {
			return fmt.Errorf("offline provider: %w", err)
		}
		d.srv = srv
		opts = append(opts, leanllm.WithModel(llm))
		fmt.Fprintf(d.out, "LeanLLM demo — offline provider: a scripted OpenAI-compatible server on %s\n", strings.TrimPrefix(srv.RootURL(), "http://"))
	}
	fmt.Fprintf(d.out, "events → %s\n", redactURL(dbURL))
	cl, err := leanllm.New(opts...)
	if err != nil {
		return err
	}
	d.cl = cl
	runErr := d.script(ctx)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	closeErr := cl.Close(closeCtx)
	if runErr != nil {
		return errors.Join(runErr, closeErr)
	}
	if closeErr != nil {
		return fmt.Errorf("storing the events: %w", closeErr)
	}
	return d.report(dbURL, f.dbFlagGiven())
}

// dbFlagGiven reports whether the database is not the default one, so the
// printed hints must carry --db.
func (f *flagSet) dbFlagGiven() bool {
	return f.dbURL() != defaultDatabaseURL
}

type demoRun struct {
	a     *app
	out   io.Writer
	cl    *leanllm.Client
	srv   *testprovider.Server
	live  bool
	model string

	traceID  string
	sampled  int
	redacted string
}

// push scripts the offline provider's next answer (ignored when live).
func (d *demoRun) push(r testprovider.Reply) {
	if d.srv != nil {
		d.srv.Push(r)
	}
}

func human(text string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, text)}
}

func step(name string, labels map[string]string) leanllm.CallOption {
	l := map[string]string{demoStep: name}
	for k, v := range labels {
		l[k] = v
	}
	return leanllm.WithLabels(l)
}

func (d *demoRun) say(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

func (d *demoRun) script(ctx context.Context) error {
	for _, s := range []struct {
		title string
		fn    func(context.Context) error
	}{
		{"Plain calls with labels", d.plain},
		{"A stream, printed as it arrives", d.stream},
		{"A provider error", d.providerError},
		{"A traced chain (one correlation id; auto_chain links each call to the previous)", d.chain},
		{fmt.Sprintf("Sampling: %d calls at sample=%g (errors are always kept)", demoSamples, demoSampleRate), d.sampling},
		{"Content capture in redacted mode", d.redaction},
	} {
		d.say("\n%s\n", s.title)
		if err := s.fn(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// model names of the demo: offline they are routed to the one scripted
// server; live every call uses --model.
func (d *demoRun) m(offline string) string {
	if d.live {
		return d.model
	}
	return offline
}

func firstText(resp *llms.ContentResponse) string {
	if resp == nil || len(resp.Choices) == 0 {
		return ""
	}
	return resp.Choices[0].Content
}

func (d *demoRun) plain(ctx context.Context) error {
	calls := []struct {
		model, prompt string
		labels        map[string]string
		reply         testprovider.Reply
	}{
		{"gpt-4o-mini", "Summarise the plot of Hamlet in one sentence.",
			map[string]string{"feature": "summarise", "user_id": "u-42", "team": "growth"},
			testprovider.Reply{Text: "A Danish prince avenges his father's murder, and nearly everyone dies.", Usage: testprovider.UsageOf(18, 15), Delay: 40 * time.Millisecond}},
		{"anthropic/claude-3-5-haiku-latest", "Translate 'good morning' to French.",
			map[string]string{"feature": "translate", "user_id": "u-7", "team": "support"},
			testprovider.Reply{Text: "Bonjour.", Usage: testprovider.UsageOf(14, 3), Delay: 25 * time.Millisecond}},
		{"gpt-4o", "Name three prime numbers.",
			map[string]string{"feature": "quiz", "user_id": "u-42", "team": "growth"},
			testprovider.Reply{Text: "2, 3 and 5.", Usage: testprovider.UsageOf(12, 7), Delay: 55 * time.Millisecond}},
	}
	for _, c := range calls {
		d.push(c.reply)
		model := d.m(c.model)
		resp, err := d.cl.Completion(ctx, model, c.prompt, step("plain", c.labels))
		if err != nil {
			return fmt.Errorf("demo call to %s: %w", model, err)
		}
		d.say("  %-34s %s\n", model, view.Truncate(firstText(resp), 70))
	}
	return nil
}

func (d *demoRun) stream(ctx context.Context) error {
	d.push(testprovider.Reply{
		Chunks:          []string{"Queues ", "drain ", "at ", "night —\n", "    every ", "call ", "leaves ", "a ", "trace\n", "    in ", "the ", "ledger."},
		Usage:           testprovider.UsageOf(16, 17),
		FirstChunkDelay: 60 * time.Millisecond,
		ChunkDelay:      12 * time.Millisecond,
	})
	model := d.m("gpt-4o")
	d.say("  %s: ", model)
	for chunk, err := range d.cl.Stream(ctx, model, human("Write a haiku about event logs."), step("stream", map[string]string{"feature": "haiku", "team": "growth"})) {
		if err != nil {
			return fmt.Errorf("demo stream: %w", err)
		}
		if chunk.Text != "" {
			d.say("%s", chunk.Text)
			if fl, ok := d.out.(interface{ Flush() error }); ok {
				_ = fl.Flush()
			} else if f, ok := d.out.(*os.File); ok {
				_ = f.Sync()
			}
		}
	}
	d.say("\n")
	return nil
}

func (d *demoRun) providerError(ctx context.Context) error {
	model := d.m("gpt-4o-mini")
	if d.live {
		model = "openai/leanllm-demo-no-such-model"
	}
	d.push(testprovider.Reply{Status: http.StatusTooManyRequests, Headers: map[string]string{"Retry-After": "1"}, Delay: 15 * time.Millisecond})
	_, err := d.cl.Completion(ctx, model, "Summarise this quarter's support tickets.", step("error", map[string]string{"feature": "summarise", "team": "support"}))
	if err == nil {
		return fmt.Errorf("demo: the scripted error call to %s succeeded", model)
	}
	kind := "error"
	if e := d.cl.LastEvent(); e != nil && e.ErrorKind != "" {
		kind = e.ErrorKind
	}
	d.say("  %-34s %s: %s\n", model, kind, view.Truncate(err.Error(), 70))
	d.say("  (the error is returned to the caller unchanged and recorded as an event)\n")
	return nil
}

// weatherTool is the tool the chain's first call asks for.
var weatherTool = llms.Tool{
	Type: "function",
	Function: &llms.FunctionDefinition{
		Name:        "get_weather",
		Description: "Current weather of a city",
		Parameters: map[string]any{
			"type":       "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}},
			"required":   []string{"city"},
		},
	},
}

func (d *demoRun) chain(ctx context.Context) error {
	ctx, d.traceID = leanllm.StartTrace(ctx, "")
	d.say("  correlation id %s\n", d.traceID)
	labels := map[string]string{"feature": "travel-agent", "user_id": "u-42", "team": "growth"}

	// 1. plan: the model asks for a tool.
	d.push(testprovider.Reply{
		ToolCalls: []llms.ToolCall{{ID: "call_weather_1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "get_weather", Arguments: `{"city":"Lisbon"}`}}},
		Usage:     testprovider.UsageOf(64, 18), Delay: 45 * time.Millisecond,
	})
	question := "What's the weather in Lisbon? Answer in one sentence."
	resp, err := d.cl.Chat(ctx, d.m("gpt-4o-mini"), human(question), step("chain", with(labels, "step", "plan")),
		leanllm.WithLLMOptions(llms.WithTools([]llms.Tool{weatherTool})))
	if err != nil {
		return fmt.Errorf("demo chain (plan): %w", err)
	}
	planID := lastID(d.cl)
	var call llms.ToolCall
	if len(resp.Choices) > 0 && len(resp.Choices[0].ToolCalls) > 0 {
		call = resp.Choices[0].ToolCalls[0]
	}
	args := `{"city":"Lisbon"}`
	if call.FunctionCall != nil {
		args = call.FunctionCall.Arguments
	}
	d.say("  1 plan    %-34s → tool call get_weather(%s)\n", d.m("gpt-4o-mini"), args)

	// The tool runs (here: a constant answer) and is recorded as a step of
	// the trace, a child of the call that asked for it.
	start := time.Now()
	toolResult := `{"city":"Lisbon","temp_c":21,"sky":"sunny"}`
	time.Sleep(8 * time.Millisecond)
	ev := &leanllm.Event{
		Timestamp:       start.UTC(),
		Model:           "get_weather",
		Provider:        "tool",
		LatencyMS:       time.Since(start).Milliseconds(),
		ParentRequestID: planID,
		Labels:          with(with(labels, "step", "tool"), demoStep, "chain"),
	}
	ev.Metadata.CallKind = "tool"
	d.cl.Record(ctx, ev)
	d.say("  2 tool    %-34s → %s\n", "get_weather", toolResult)

	// 2. answer with the tool's result.
	d.push(testprovider.Reply{Text: "It is 21 °C and sunny in Lisbon.", Usage: testprovider.UsageOf(97, 12), Delay: 50 * time.Millisecond})
	id := call.ID
	if id == "" {
		id = "call_weather_1"
	}
	msgs := append(human(question),
		llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{llms.ToolCall{ID: id, Type: "function", FunctionCall: &llms.FunctionCall{Name: "get_weather", Arguments: args}}}},
		llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: id, Name: "get_weather", Content: toolResult}}},
	)
	resp, err = d.cl.Chat(ctx, d.m("gpt-4o-mini"), msgs, step("chain", with(labels, "step", "answer")),
		leanllm.WithLLMOptions(llms.WithTools([]llms.Tool{weatherTool})))
	if err != nil {
		return fmt.Errorf("demo chain (answer): %w", err)
	}
	answer := firstText(resp)
	d.say("  3 answer  %-34s → %s\n", d.m("gpt-4o-mini"), view.Truncate(answer, 60))

	// 3. review by another model.
	d.push(testprovider.Reply{Text: "Polite, correct and one sentence: approved.", Usage: testprovider.UsageOf(41, 9), Delay: 30 * time.Millisecond})
	resp, err = d.cl.Completion(ctx, d.m("anthropic/claude-3-5-haiku-latest"), "Review this answer for tone: "+answer, step("chain", with(labels, "step", "review")))
	if err != nil {
		return fmt.Errorf("demo chain (review): %w", err)
	}
	d.say("  4 review  %-34s → %s\n", d.m("anthropic/claude-3-5-haiku-latest"), view.Truncate(firstText(resp), 60))
	return nil
}

func with(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func lastID(cl *leanllm.Client) string {
	if e := cl.LastEvent(); e != nil {
		return e.EventID
	}
	return ""
}

func (d *demoRun) sampling(ctx context.Context) error {
	before := len(d.cl.RecentEvents(0))
	for i := range demoSamples {
		d.push(testprovider.Reply{Text: "pong", Usage: testprovider.UsageOf(6, 1)})
		_, err := d.cl.Completion(ctx, d.m("gpt-4o-mini"), fmt.Sprintf("ping %d", i+1),
			step("sampling", map[string]string{"feature": "healthcheck", "team": "platform"}),
			leanllm.WithSample(demoSampleRate))
		if err != nil {
			return fmt.Errorf("demo sampled call: %w", err)
		}
	}
	d.sampled = len(d.cl.RecentEvents(0)) - before
	d.say("  %d of %d calls recorded; each stands for %g calls (metadata.sample_rate), so stats can scale counts back up\n",
		d.sampled, demoSamples, 1/demoSampleRate)
	return nil
}

func (d *demoRun) redaction(ctx context.Context) error {
	prompt := "Email jane.doe@example.com or call +1 415 555 0100 about the refund on card 4111 1111 1111 1111."
	d.push(testprovider.Reply{Text: "Drafted a reply to jane.doe@example.com about the refund.", Usage: testprovider.UsageOf(38, 13), Delay: 35 * time.Millisecond})
	_, err := d.cl.Completion(ctx, d.m("gpt-4o-mini"), prompt,
		step("redaction", map[string]string{"feature": "support-reply", "team": "support"}),
		leanllm.WithCallRedactionMode("redacted"))
	if err != nil {
		return fmt.Errorf("demo redacted call: %w", err)
	}
	stored := "(not captured)"
	if e := d.cl.LastEvent(); e != nil && e.Prompt != nil {
		stored = *e.Prompt
		d.redacted = e.EventID
	}
	d.say("  sent:   %s\n  stored: %s\n", prompt, stored)
	return nil
}

// report prints the captured events and what to run next.
func (d *demoRun) report(dbURL string, customDB bool) error {
	events := d.cl.RecentEvents(0)
	slices.Reverse(events)
	st := d.cl.Stats()
	var shown []*leanllm.Event
	sampled := 0
	for _, e := range events {
		if e.Labels[demoStep] == "sampling" {
			sampled++
			continue
		}
		shown = append(shown, e)
	}
	d.say("\nCaptured %d events (%d stored, %d dropped) in %s:\n\n", len(events), st.Stored, st.DroppedTotal, redactURL(dbURL))
	row := "  %-13s  %-33s  %9s  %9s  %7s  %6s  %-10s  %s\n"
	d.say(row, "ID", "MODEL", "TOKENS", "COST", "LATENCY", "TTFT", "STATUS", "STEP")
	for _, e := range shown {
		stepName := e.Labels[demoStep]
		if s := e.Labels["step"]; s != "" {
			stepName += "/" + s
		}
		tokens, cost := view.Tokens(e), view.Cost(e.Cost)
		if e.Metadata.CallKind == "tool" {
			tokens, cost = "-", "-"
		}
		d.say(row, view.ShortID(e.EventID), view.Truncate(e.Model, 33), tokens, cost,
			view.MS(e.LatencyMS), view.TTFT(e), view.Truncate(view.Status(e), 10), stepName)
	}
	d.say("  + %d sampled healthcheck events\n", sampled)

	db := ""
	if customDB {
		db = " --db " + shellQuote(dbURL)
	}
	showID := d.redacted
	if showID == "" && len(shown) > 0 {
		showID = shown[0].EventID
	}
	replayID := ""
	for _, e := range shown {
		if e.Labels[demoStep] == "plain" {
			replayID = e.EventID
			break
		}
	}
	d.say("\nLook at them:\n")
	tw := []struct{ cmd, what string }{
		{"leanllm logs" + db, "the events, newest first (--json, --follow, filters)"},
		{"leanllm show " + view.ShortID(showID) + db, "one event in full (this one has redacted content)"},
		{"leanllm trace " + view.ShortID(d.traceID) + db, "the chain's execution tree"},
		{"leanllm stats --by label:feature" + db, "calls, cost and latency by feature"},
		{"leanllm replay " + view.ShortID(replayID) + " --model gpt-4o" + db, "re-run a call with another model, and diff"},
		{"leanllm serve" + db, "the dashboard on http://127.0.0.1:8080"},
	}
	w := 0
	for _, t := range tw {
		w = max(w, len(t.cmd))
	}
	for _, t := range tw {
		d.say("  %-*s  %s\n", w, t.cmd, t.what)
	}
	return nil
}

// shellQuote quotes s for a POSIX shell when needed.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/:._-@=+,%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

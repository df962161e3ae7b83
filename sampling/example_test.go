package sampling_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/sampling"
	"github.com/tmc/langchaingo/llms"
)

// Tail rules keep the calls worth looking at whatever the head rate: here
// the head keeps nothing, yet errors, slow calls and a VIP's call are kept,
// each recorded with sample_rate 1.
func ExampleTail() {
	ctx := context.Background()
	fake := testprovider.New()
	fake.Push(
		testprovider.Reply{Text: "fast"},
		testprovider.Reply{Text: "slow", Delay: 300 * time.Millisecond},
		testprovider.Reply{Err: errors.New("boom")},
		testprovider.Reply{Text: "vip"},
	)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(fake),
		leanllm.WithSamplingRate(0), // head: keep no call…
		leanllm.WithMiddleware(leanllm.After(leanllm.StageSampling), sampling.Tail( // …but these
			sampling.SlowerThan(200*time.Millisecond),
			sampling.LabelEquals("tier", "vip"),
		)))
	if err != nil {
		panic(err)
	}
	defer cl.Close(ctx)

	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")}
	for i, tier := range []string{"free", "free", "free", "vip"} {
		_, _ = cl.Chat(ctx, "gpt-4o-mini", msgs, leanllm.WithLabel("tier", tier), leanllm.WithLabel("call", fmt.Sprint(i+1)))
	}
	events := cl.RecentEvents(0)
	slices.Reverse(events)
	for _, e := range events {
		fmt.Printf("call %s: tier=%s error=%q slow=%v sample_rate=%v\n",
			e.Labels["call"], e.Labels["tier"], e.ErrorKind, e.LatencyMS >= 200, e.Metadata.SampleRate)
	}
	// Output:
	// call 2: tier=free error="" slow=true sample_rate=1
	// call 3: tier=free error="unknown" slow=false sample_rate=1
	// call 4: tier=vip error="" slow=false sample_rate=1
}

// Head samplers with a rate per model or per label value. Place one inside
// the client's own head stage: it makes the decision that counts.
//
//	leanllm.WithMiddleware(leanllm.After(leanllm.StageSampling), sampling.Head(byModel))
func ExampleRateByModel() {
	byModel := sampling.RateByModel(map[string]float64{"gpt-4o": 0.5, "gpt-4o-mini": 0.01}, 0.1)
	byUser := sampling.RateByLabel("user_id", map[string]float64{"qa-bot": 0}, 1)
	for _, model := range []string{"openai/gpt-4o", "gpt-4o-mini", "anthropic/claude-3-5-haiku"} {
		fmt.Printf("%s: %v\n", model, byModel.Rate(core.NewCall(model, core.KindChat, nil, nil, nil)))
	}
	c := core.NewCall("gpt-4o", core.KindChat, nil, nil, nil)
	c.Settings.UserID = "qa-bot"
	fmt.Printf("user qa-bot: %v\n", byUser.Rate(c))
	// Output:
	// openai/gpt-4o: 0.5
	// gpt-4o-mini: 0.01
	// anthropic/claude-3-5-haiku: 0.1
	// user qa-bot: 0
}

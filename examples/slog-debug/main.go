// Command slog-debug shows LeanLLM's logging: the SDK logs through the
// log/slog logger you give it (leanllm.WithLogger; quiet by default), and
// with debug on (leanllm.WithDebug, LEANLLM_DEBUG=true) it writes one
// summary line per event. A provider key never appears in what it logs:
// here the provider rejects the key and echoes it back in its error, and
// the logs and the event carry it masked.
//
// The provider model is built by the client from the key
// (leanllm.WithAPIKey) and the model string; OPENAI_BASE_URL points it at a
// loopback server, as it would at a proxy.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "slog-debug:", err)
		os.Exit(1)
	}
}

// canaryKey is a fake provider key; the loopback server echoes it back.
const canaryKey = "sk-canary-3b9f0e7d5c1a2468ace0bdf13579ace0"

func run(w io.Writer) error {
	ctx := context.Background()
	srv := testprovider.NewUnstarted().Start()
	defer srv.Close()
	srv.Push(
		testprovider.Reply{Text: "Hi!", Usage: testprovider.UsageOf(5, 2)},
		testprovider.Reply{Status: 401, ErrorBody: `{"error":{"message":"Incorrect API key provided: ` + canaryKey +
			`. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","code":"invalid_api_key"}}`},
	)
	restore := setenv("OPENAI_BASE_URL", srv.URL())
	defer restore()

	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cl, err := leanllm.New(
		leanllm.WithAPIKey(canaryKey),
		leanllm.WithLogger(logger), // SDK diagnostics go here (default: discarded)
		leanllm.WithDebug(true),    // plus one summary line per event
		leanllm.WithPersistence(false),
	)
	if err != nil {
		return err
	}
	defer cl.Close(ctx)

	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Say hi.")}
	if _, err := cl.Chat(ctx, "openai/gpt-4o-mini", msgs); err != nil {
		return err
	}
	// The error returned is the provider's, unchanged (errors.Is/As work):
	// it may hold what the provider echoed, the key included. Log the
	// event's error_message instead, which is scrubbed.
	if _, err := cl.Chat(ctx, "openai/gpt-4o-mini", msgs); err == nil {
		return fmt.Errorf("the second call should have failed")
	}
	ev := cl.LastEvent()
	logger.Info("call failed", "event_id", ev.EventID, "error_kind", ev.ErrorKind,
		"error_detail", ev.Metadata.ErrorDetail, "error_message", ev.ErrorMessage)
	reqs := srv.Requests()
	fmt.Fprintf(w, "the provider received the key: %t\n", reqs[len(reqs)-1].Header.Get("Authorization") == "Bearer "+canaryKey)
	return nil
}

// setenv sets name to value and returns a function restoring it.
func setenv(name, value string) func() {
	prev, had := os.LookupEnv(name)
	_ = os.Setenv(name, value)
	return func() {
		if had {
			_ = os.Setenv(name, prev)
		} else {
			_ = os.Unsetenv(name)
		}
	}
}

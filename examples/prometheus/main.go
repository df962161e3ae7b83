// Command prometheus exposes a Client's metrics on /metrics: the delivery
// pipeline (events enqueued, stored, dropped by reason, queue depth, …,
// read from Client.Stats at each scrape) and per-call metrics (calls,
// errors, tokens, cost, latency), all on a registry of its own.
//
// It makes a few calls (one fails), serves /metrics on 127.0.0.1:0, scrapes
// it once, prints the leanllm_* samples, and exits.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/export/prom"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/leanllm/leanllm-go/persist"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	srv := testprovider.NewUnstarted().Start()
	defer srv.Close()
	srv.Push(
		testprovider.Reply{Text: "one", Usage: testprovider.UsageOf(10, 3)},
		testprovider.Reply{Text: "two", Usage: testprovider.UsageOf(12, 4)},
		testprovider.Reply{Status: 429},
	)
	llm, err := openai.New(srv.OpenAIOptions()...)
	if err != nil {
		return err
	}

	m := prom.NewMetrics()
	store := persist.NewMemStore() // stands for your database
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(llm),
		m.ClientOption(), // per-call metrics: WithMiddleware(Before(StageHooks), m.Middleware())
		leanllm.WithStore(m.InstrumentStore(store)), // + store write latency
	)
	if err != nil {
		return err
	}
	defer cl.Close(ctx)
	reg := prometheus.NewRegistry()
	if err := prom.Register(reg, cl, m); err != nil {
		return err
	}

	for range 3 {
		_, _ = cl.Chat(ctx, "gpt-4o-mini", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Count.")})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}

	// Serve /metrics and scrape it once.
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(body)) {
		switch {
		case strings.HasPrefix(line, "#"), strings.Contains(line, "_bucket{"):
		case strings.HasPrefix(line, "leanllm_events_dropped_total") && strings.HasSuffix(line, " 0\n"):
		case strings.HasPrefix(line, "leanllm_"):
			fmt.Fprint(w, line)
		}
	}
	return nil
}

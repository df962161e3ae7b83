// Package examples holds runnable programs, one per directory, showing
// LeanLLM dropped into common Go setups. Each runs offline against the
// loopback OpenAI-compatible provider of internal/testprovider, exits by
// itself, and is tested by calling its run function:
//
//	go run ./examples/langchain-chain    # a langchaingo LLMChain over the Client
//	go run ./examples/agent-tools        # a langchaingo agent with a tool: one trace
//	go run ./examples/http-service       # X-Request-ID → correlation id
//	go run ./examples/custom-middleware  # per-tenant labels and a quota, as middleware
//	go run ./examples/otel-stdout        # OpenTelemetry GenAI spans to stdout
//	go run ./examples/prometheus         # pipeline and per-call metrics on /metrics
//	go run ./examples/slog-debug         # log/slog and debug lines; keys never logged
//
// The programs use leanllm.WithoutEnv so that LEANLLM_* variables of your
// shell do not send their events anywhere; drop it in your own code.
package examples

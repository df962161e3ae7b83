// Command leanllm runs the LeanLLM demo, reads stored events, replays a
// call, migrates a database, and serves the web dashboard and the remote
// collector. It is one static binary (CGO_ENABLED=0) and reads the same
// LEANLLM_* variables as the SDK. The full reference is docs/cli.md.
//
// # Commands
//
//	leanllm demo                 a scripted run against the built-in offline provider
//	leanllm logs                 stored events (table or --json; filters; --follow)
//	leanllm show ID              one event in sections
//	leanllm trace CORRELATION_ID the execution tree of a trace
//	leanllm stats                aggregates by model, provider, label:KEY or day
//	leanllm replay ID            re-run a stored call and diff
//	leanllm migrate up|status    schema migrations
//	leanllm serve                dashboard + collector (POST /v1/events), /healthz, /metrics
//
// Every subcommand takes --db URL (default LEANLLM_DATABASE_URL, then
// sqlite:///leanllm_events.db) and --help.
//
// # Exit codes
//
// 0 ok, 1 runtime error, 2 usage error, 3 not found (unknown event or
// correlation id).
//
// # Layout
//
// main.go dispatches the subcommands (each a FlagSet) and maps errors to
// exit codes; run is main without os.Exit, for the tests. The collector,
// the dashboard and the formatting they share with the terminal output live
// in internal/collector, internal/dashboard and internal/view.
package main

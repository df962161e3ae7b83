// Package bench holds LeanLLM's comparative benchmarks: per-call overhead
// beside the raw langchaingo model, an OpenTelemetry span and langchaingo's
// LogHandler; end-to-end latency through langchaingo's openai client; ingest
// through the Writer beside the raw drivers; and scaling with prompt size,
// labels, goroutines and a full queue. The benchmarks live in _test files;
// bench/cmd/report runs each comparison in a process of its own and writes
// the tables into docs/PERFORMANCE.md:
//
//	make bench                                   # all of it (≈ 7 min on 2 cores)
//	go run ./bench/cmd/report -only overhead     # one comparison
//	go test -run '^$' -bench '^BenchmarkOverhead$' -benchmem ./bench/
//
// Shared fakes and measuring helpers are in package harness.
package bench

// Package harness holds what the benchmarks (package bench) and the fault
// campaign (package soak) share: a zero-latency model, prompts of a given
// size, percentiles of per-call durations, heap sampling, a Postgres schema
// of one's own, raw rows for the ingest baselines and a scriptable collector.
//
// # Sections
//
//   - Models and prompts: [StaticModel], [Prompt]
//   - Measuring: [Durations], [HeapSampler], [HeapInUse]
//   - Databases: [PostgresURL], [PGSchema], [Columns], [RawRows]
//   - Remote collector: [Collector], [Action]
//
// Nothing here is part of LeanLLM's API; it exists so that the figures in
// docs/PERFORMANCE.md and docs/RELIABILITY.md can be reproduced.
package harness

// Package prom exposes LeanLLM to Prometheus: the client's delivery
// pipeline (its Stats) and per-call metrics. It is optional: the core
// packages do not import Prometheus. Everything is registered on a registry
// you pass; nothing touches prometheus.DefaultRegisterer unless you pass
// it.
//
// # Sections
//
//   - Pipeline: [Collector], [NewCollector], [Register]
//   - Per-call metrics: [Metrics], [NewMetrics], [Metrics.Middleware], [Metrics.ClientOption]
//   - Store write latency: [Metrics.InstrumentStore]
//   - Options: [WithNamespace], [WithConstLabels], [WithLatencyBuckets], …
//
// # Wiring
//
//	m := prom.NewMetrics()
//	cl, err := leanllm.New(
//		m.ClientOption(), // = leanllm.WithMiddleware(leanllm.Before(leanllm.StageHooks), m.Middleware())
//		leanllm.WithStore(m.InstrumentStore(store)), // optional: store write latency
//	)
//	reg := prometheus.NewRegistry()
//	err = prom.Register(reg, cl, m)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// # Pipeline metrics (read from Client.Stats at each scrape)
//
//	leanllm_events_total                   counter  events built (after sampling)
//	leanllm_events_enqueued_total          counter
//	leanllm_events_stored_total            counter
//	leanllm_events_dropped_total{reason}   counter  queue_full, retry_exhausted, permanent_error, shutdown_timeout, too_large, closed, spool_corrupt, spool_full
//	leanllm_events_recovered_total / _spooled_total / _replayed_total
//	leanllm_retries_total, leanllm_store_batches_total, leanllm_cost_unknown_total
//	leanllm_queue_depth, leanllm_queue_bytes, leanllm_in_flight, leanllm_spool_pending, leanllm_spool_bytes   gauges
//	leanllm_persistence_enabled            gauge 0/1
//
// At rest, enqueued = stored + sum(dropped) (+ spool_pending with a spool).
//
// # Per-call metrics (fed by the middleware on the caller's goroutine)
//
//	leanllm_calls_total{model,provider}
//	leanllm_call_errors_total{model,provider,error_kind}
//	leanllm_tokens_total{model,provider,type}
//	leanllm_cost_usd_total{model,provider}
//	leanllm_call_latency_seconds{model,provider}            histogram
//	leanllm_time_to_first_token_seconds{model,provider}     histogram (streams)
//	leanllm_store_write_seconds{result}                     histogram (InstrumentStore)
//
// model is the model string as the caller gave it ("openai/gpt-4o-mini").
// Its cardinality is the number of models you call; a program that puts
// user input in the model string should not use these metrics as they are.
package prom

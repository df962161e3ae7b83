// Package soak is LeanLLM's fault campaign: steady load, bursts, store
// outages (shorter and longer than the retry budget, with and without a
// spool, flapping, slow), SQLite locked and full, the remote collector's
// status matrix and lost acknowledgements, SIGTERM and kill -9 of a child
// process, and concurrent Flush/Close. Every scenario checks that every
// event is accounted for (enqueued == stored + Σ dropped at rest) and that
// nothing is stored twice.
//
// The tests are in _test files. By default they run their short variants
// (seconds each; the whole package in about two minutes under -race), so
// `go test -race ./soak/` and CI run them on every change. The long
// variants run with -soak or LEANLLM_SOAK=1:
//
//	make soak-short                  # go test -race ./soak/
//	make soak                        # LEANLLM_SOAK=1 go test -timeout 60m ./soak/
//
// The Postgres variants need LEANLLM_TEST_POSTGRES_URL. The child process
// the signal tests drive is soak/cmd/child. docs/RELIABILITY.md lists the
// scenarios and their measured results.
package soak

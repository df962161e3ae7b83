// Package canary_test runs LeanLLM end to end with unique fake secrets (a
// provider key, a collector token and a database password) and asserts that
// none of them ever comes out where LeanLLM writes: log lines, events
// (LastEvent, RecentEvents), stored rows, the batches sent to the collector,
// and the errors LeanLLM builds. It also checks usage and cost per provider
// shape, and redaction as seen through the client.
//
// Run: go test -race ./canary/
package canary_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// langchaingo's and the collector client's HTTP transports keep idle
		// keep-alive connections; their goroutines end with the connection.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("database/sql.(*DB).connectionOpener"),
	)
}

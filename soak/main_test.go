package soak_test

import (
	"flag"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var soakFlag = flag.Bool("soak", false, "run the long variants (also LEANLLM_SOAK=1)")

// long reports whether the long (soak) variants run.
func long() bool { return *soakFlag || os.Getenv("LEANLLM_SOAK") == "1" }

// pick returns short, or long in a soak run.
func pick[T any](short, soak T) T {
	if long() {
		return soak
	}
	return short
}

// leakOptions ignore goroutines that outlive a test by design: idle HTTP
// connections of the default transport and database/sql's opener.
var leakOptions = []goleak.Option{
	goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreAnyFunction("database/sql.(*DB).connectionOpener"),
}

func TestMain(m *testing.M) {
	flag.Parse()
	start := time.Now()
	code := m.Run()
	if childDir != "" {
		_ = os.RemoveAll(childDir)
	}
	if testing.Verbose() {
		println("soak: total", time.Since(start).Round(time.Millisecond).String())
	}
	if code == 0 {
		if err := goleak.Find(leakOptions...); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

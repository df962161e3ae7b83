//go:build race

package soak_test

// raceEnabled: the race detector multiplies the cost of every call (about
// 5–10×), so latency bounds are relaxed under -race.
const raceEnabled = true

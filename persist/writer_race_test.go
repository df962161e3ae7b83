//go:build race

package persist

const plRaceEnabled = true

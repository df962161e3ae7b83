//go:build !race

package persist

const plRaceEnabled = false

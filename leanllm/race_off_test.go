//go:build !race

package leanllm_test

const raceEnabled = false

// Package view holds the formatting and parsing shared by the leanllm
// command's terminal output and its web dashboard: short event ids, costs,
// token counts, durations, time bounds ("15m" or RFC 3339) and label
// filters.
package view

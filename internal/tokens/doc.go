// Package tokens estimates token counts offline, for calls whose provider
// reported no usage (streams cut short, providers without usage).
//
// # Sections
//
//   - Text: [Estimate] counts the tokens of a string with tiktoken, using
//     o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the o-series and
//     cl100k_base otherwise ([EncodingName]). For non-OpenAI models the
//     count is an approximation.
//   - Messages: [EstimateMessages] adds OpenAI's chat overhead: 3 tokens
//     per message, 1 for its role, and 3 to prime the reply.
//   - Offline: the BPE ranks come from the files embedded in
//     github.com/pkoukk/tiktoken-go-loader (installed as tiktoken's
//     loader in this package's init), never from the network.
//   - Cost: each encoder is created once, on first use, and shared;
//     creating one takes tens to hundreds of milliseconds (see
//     BenchmarkEncoderInit), so a caller on a latency-sensitive path may
//     call Estimate once at start-up to warm it. If creation fails,
//     [Heuristic] (ceil(bytes/4)) is used; nothing here panics.
package tokens

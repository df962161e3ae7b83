// Package usage normalises the token usage that langchaingo providers put
// in llms.ContentChoice.GenerationInfo into one [Usage], so that totals and
// costs are never double counted.
//
// # Sections
//
//   - Type: [Usage] is an alias of pricing.Usage: Input counts ALL prompt
//     tokens (uncached, cache-read and cache-written), so
//     Input+Output == Total; CachedInput and CacheCreation are subsets of
//     Input; Reasoning is a subset of Output. Pass it to pricing.Cost.
//   - Reading one map: [FromGenerationInfo] recognises the shapes of
//     langchaingo v0.1.14's OpenAI (blocking and streamed), Anthropic,
//     Google AI, Vertex, Bedrock, Mistral, Ollama and Maritaca providers;
//     its documentation lists the keys and how each is counted.
//   - Reading a response: [FromChoices] and [FromResponse] take the usage of
//     the first choice that reports one; providers repeat the call's usage
//     on every choice, so choices are never summed.
//
// # Provider notes
//
//   - Anthropic's InputTokens exclude cache reads and writes; they are
//     added to Input.
//   - OpenAI's PromptCachedTokens and Google's CachedTokens are already in
//     the prompt count; Google also sets CacheReadInputTokens as a copy,
//     which is not added again.
//   - Gemini 2.5 thinking tokens appear only in total_tokens; the excess of
//     the total over input+output is counted as Output and Reasoning, as
//     Google bills it.
//   - Mistral's GenerationInfo["usage"] is a mistral-go UsageInfo struct,
//     a module this one does not depend on: it is read with one JSON round
//     trip (the only allocating path). A map value is read directly.
//   - Ollama's CachedTokens (langchaingo's context cache) are clamped to
//     the prompt size.
package usage

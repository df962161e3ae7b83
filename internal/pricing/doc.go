// Package pricing turns token usage into US dollars, the way the providers
// bill it.
//
// # Sections
//
//   - Prices: [Price] holds per-million-token rates (input, output,
//     cached input, cache write, and a long-context tier).
//   - Tables: [Default] is the built-in table ([Version]); [Table.With]
//     overrides it in code; [LoadFile] and [Load] extend it from LeanLLM's
//     own JSON or from LiteLLM's model_prices_and_context_window.json.
//     [Table.Version] names the prices so that stored events can be
//     re-priced.
//   - Lookup: [Table.Lookup] resolves provider prefixes ("openai/",
//     "anthropic/", "gemini/", "vertex_ai/", "mistral/", ...), dated and
//     "-latest"/"-preview" suffixes, and as a last resort a longest-prefix
//     match. It does not allocate for lower-case names.
//   - Cost: [Cost] applies a [Price] to a [Usage]; its formula is documented
//     there.
//
// # Decisions
//
//   - Ollama: "ollama/<model>" (and "ollama_chat/<model>") is a known, free
//     model (cost 0, Provider "ollama"), because it runs locally.
//   - Anthropic cache writes: a price without CacheWrite charges
//     Input×1.25 (Anthropic's 5-minute cache write multiplier) when its
//     Provider contains "anthropic", and Input otherwise. The built-in
//     Anthropic rows all set CacheWrite explicitly. 1-hour cache writes (2×)
//     cannot be told apart in langchaingo's usage and are billed as
//     5-minute ones.
//   - Long context: the whole request moves to the Long* rates when its
//     prompt (cached and cache-written tokens included) exceeds
//     LongContextThreshold, as Google and Anthropic bill it.
//   - Unknown beats wrong: names whose suffix names another product
//     ("-mini", "-pro", "-audio", "-realtime", "-search", "-exp", ...) do
//     not fall back to a cheaper or dearer relative; fine-tuned models
//     ("ft:...") and Bedrock/Azure-specific ids are unknown.
//
// # Not modelled
//
// Batch (-50%), flex, priority and regional-endpoint price changes; audio,
// image and video input rates (text rates are used); Gemini cache storage
// per hour; Gemini 2.5 Flash preview models' thinking/non-thinking output
// split (previews resolve to the GA model's price). Vertex AI Claude and
// Gemini resolve to the first-party list price.
package pricing

-- Token extras reported by some providers. Existing rows get 0.
ALTER TABLE llm_events ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE llm_events ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;

ALTER TABLE llm_events DROP COLUMN reasoning_tokens;

--bun:split

ALTER TABLE llm_events DROP COLUMN cached_input_tokens;

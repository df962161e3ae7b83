ALTER TABLE llm_events DROP COLUMN IF EXISTS reasoning_tokens;

--bun:split

ALTER TABLE llm_events DROP COLUMN IF EXISTS cached_input_tokens;

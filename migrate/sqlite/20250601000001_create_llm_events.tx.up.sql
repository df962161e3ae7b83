-- LeanLLM event table (SQLite). JSON columns are TEXT; timestamp is TEXT in
-- ISO-8601 UTC with six fractional digits (2006-01-02T15:04:05.000000Z), so
-- text order is time order.
CREATE TABLE IF NOT EXISTS llm_events (
    event_id               TEXT    NOT NULL PRIMARY KEY,
    correlation_id         TEXT,
    parent_request_id      TEXT,
    timestamp              TEXT    NOT NULL,
    model                  TEXT    NOT NULL DEFAULT '',
    provider               TEXT    NOT NULL DEFAULT '',
    input_tokens           INTEGER NOT NULL DEFAULT 0,
    output_tokens          INTEGER NOT NULL DEFAULT 0,
    total_tokens           INTEGER NOT NULL DEFAULT 0,
    cost                   REAL    NOT NULL DEFAULT 0,
    latency_ms             INTEGER NOT NULL DEFAULT 0,
    time_to_first_token_ms INTEGER,
    total_stream_time_ms   INTEGER,
    parameters             TEXT    NOT NULL DEFAULT '{}',
    tools                  TEXT,
    tool_calls             TEXT,
    error_kind             TEXT,
    error_message          TEXT,
    labels                 TEXT    NOT NULL DEFAULT '{}',
    prompt                 TEXT,
    response               TEXT,
    normalized_input       TEXT,
    normalized_output      TEXT,
    metadata               TEXT    NOT NULL DEFAULT '{}',
    schema_version         INTEGER NOT NULL DEFAULT 2
);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_timestamp_idx ON llm_events (timestamp);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_model_idx ON llm_events (model);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_correlation_id_idx ON llm_events (correlation_id);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_parent_request_id_idx ON llm_events (parent_request_id);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_error_kind_idx ON llm_events (error_kind);

-- LeanLLM event table (PostgreSQL). JSON columns are JSONB.
CREATE TABLE IF NOT EXISTS llm_events (
    event_id               TEXT             NOT NULL PRIMARY KEY,
    correlation_id         TEXT,
    parent_request_id      TEXT,
    "timestamp"            TIMESTAMPTZ      NOT NULL,
    model                  TEXT             NOT NULL DEFAULT '',
    provider               TEXT             NOT NULL DEFAULT '',
    input_tokens           INTEGER          NOT NULL DEFAULT 0,
    output_tokens          INTEGER          NOT NULL DEFAULT 0,
    total_tokens           INTEGER          NOT NULL DEFAULT 0,
    cost                   DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_ms             BIGINT           NOT NULL DEFAULT 0,
    time_to_first_token_ms BIGINT,
    total_stream_time_ms   BIGINT,
    parameters             JSONB            NOT NULL DEFAULT '{}',
    tools                  JSONB,
    tool_calls             JSONB,
    error_kind             TEXT,
    error_message          TEXT,
    labels                 JSONB            NOT NULL DEFAULT '{}',
    prompt                 TEXT,
    response               TEXT,
    normalized_input       JSONB,
    normalized_output      JSONB,
    metadata               JSONB            NOT NULL DEFAULT '{}',
    schema_version         INTEGER          NOT NULL DEFAULT 2
);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_timestamp_idx ON llm_events ("timestamp");

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_model_idx ON llm_events (model);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_correlation_id_idx ON llm_events (correlation_id);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_parent_request_id_idx ON llm_events (parent_request_id);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_error_kind_idx ON llm_events (error_kind);

--bun:split

CREATE INDEX IF NOT EXISTS llm_events_labels_idx ON llm_events USING GIN (labels jsonb_path_ops);

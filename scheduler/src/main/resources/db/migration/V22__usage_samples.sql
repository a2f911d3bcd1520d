-- Usage over time, for the Usage page and GetUsage: once a minute the scheduler writes what each
-- project held against its deserved share and how many of its experiments waited, and what the
-- cluster had and allocated. One row per project (and one for the cluster) per minute at most: a
-- restarted scheduler adds to the same series. Rows older than the retention are deleted as new
-- ones are written, so the tables stay bounded (90 days x 1,440 minutes x projects).
CREATE TABLE usage_samples (
    at timestamptz NOT NULL,
    project text NOT NULL,
    held_milli bigint NOT NULL,
    deserved_milli bigint NOT NULL,
    pending integer NOT NULL,
    PRIMARY KEY (project, at)
);
CREATE INDEX usage_samples_by_time ON usage_samples (at);

CREATE TABLE cluster_usage_samples (
    at timestamptz PRIMARY KEY,
    capacity_milli bigint NOT NULL,
    allocated_milli bigint NOT NULL
);

-- waits per day read the first start of each experiment from its timeline
CREATE INDEX IF NOT EXISTS experiment_transitions_starts ON experiment_transitions (at) WHERE to_state = 'SCHEDULED';

-- Training metrics. The key is also the index for "series of experiment X": (experiment, name) in
-- step order. A step sent twice (a worker resumed from a checkpoint) replaces the first.
CREATE TABLE metrics (
    experiment_id text NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    name          text NOT NULL,
    step          bigint NOT NULL CHECK (step >= 0),
    epoch         int NOT NULL CHECK (epoch >= 0),
    value         double precision NOT NULL,
    at            timestamptz NOT NULL,
    PRIMARY KEY (experiment_id, name, step)
);

-- Secrets the scheduler keeps across restarts (the key that signs per-experiment worker credentials).
CREATE TABLE scheduler_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

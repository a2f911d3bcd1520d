-- Projects own GPU quota; experiments are charged to one. Quotas are stored in milli-GPUs so that
-- fractional shares add up exactly.
CREATE TABLE projects (
    name              text PRIMARY KEY CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'),
    description       text NOT NULL DEFAULT '',
    deserved_milli    bigint NOT NULL DEFAULT 0 CHECK (deserved_milli >= 0),
    limit_milli       bigint NULL CHECK (limit_milli IS NULL OR limit_milli >= deserved_milli),
    over_quota_weight double precision NOT NULL DEFAULT 1 CHECK (over_quota_weight > 0),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- A new user can submit at once.
INSERT INTO projects (name, description) VALUES ('default', 'Created on first start.');

CREATE TABLE experiments (
    id          text PRIMARY KEY,
    -- arrival order: keyset paging and queue order
    seq         bigserial NOT NULL UNIQUE,
    project     text NOT NULL REFERENCES projects (name),
    name        text NOT NULL,
    request_id  text NULL,
    -- the validated spec with defaults filled in, as tranche.v1.ExperimentSpec bytes
    spec        bytea NOT NULL,
    state       text NOT NULL CHECK (state IN ('PENDING', 'SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'PREEMPTED')),
    reason      text NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- idempotent submission: one experiment per client request id within a project
    UNIQUE (project, request_id)
);

CREATE INDEX experiments_by_project ON experiments (project, seq DESC);
CREATE INDEX experiments_by_state ON experiments (state, seq DESC);

-- The timeline of every experiment, with the reason for each step.
CREATE TABLE experiment_transitions (
    id             bigserial PRIMARY KEY,
    experiment_id  text NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    from_state     text NULL,
    to_state       text NOT NULL,
    reason         text NOT NULL,
    at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX experiment_transitions_by_experiment ON experiment_transitions (experiment_id, id);

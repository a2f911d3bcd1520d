-- Two-level queues: a department's quota covers all of its projects together.
CREATE TABLE departments (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'),
    description    text NOT NULL DEFAULT '',
    deserved_milli bigint NOT NULL DEFAULT 0 CHECK (deserved_milli >= 0),
    limit_milli    bigint NULL CHECK (limit_milli IS NULL OR limit_milli >= deserved_milli),
    created_at     timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE projects ADD COLUMN department text NULL REFERENCES departments (name);

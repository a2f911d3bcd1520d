-- Bearer tokens. Only a SHA-256 hash of the secret is kept; lookup_key (the hash's first 8 bytes,
-- hex) finds the row, then the whole hash is compared in constant time in the scheduler.
CREATE TABLE api_tokens (
    id           text PRIMARY KEY,
    subject      text NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),
    role         text NOT NULL CHECK (role IN ('ADMIN', 'MEMBER', 'VIEWER')),
    projects     text[] NOT NULL DEFAULT '{}',
    lookup_key   text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Every admin action and every refused request: who, what, when, from where.
CREATE TABLE audit_events (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    target         text NOT NULL DEFAULT '',
    outcome        text NOT NULL,
    detail         text NOT NULL DEFAULT '',
    remote_address text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_denied ON audit_events (id) WHERE outcome <> 'OK';

-- Users, their roles per organisation, sessions, API tokens, the audit trail and action
-- progress updates. Keep in step with ../sqlite/0002_people_and_audit.sql.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    user_id      BIGINT NOT NULL REFERENCES users (id),
    organisation TEXT NOT NULL REFERENCES organisations (code),
    role         TEXT NOT NULL,
    PRIMARY KEY (user_id, organisation)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE login_failures (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, failed_at);

CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    organisation TEXT,
    before_json  TEXT,
    after_json   TEXT
);
CREATE INDEX audit_entity ON audit_log (entity_kind, entity_id);

CREATE TABLE action_updates (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id    TEXT NOT NULL REFERENCES actions (id),
    posted_by    TEXT NOT NULL,
    posted_at    BIGINT NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT NOT NULL,
    evidence_url TEXT,
    revised_due  TEXT
);
CREATE INDEX action_updates_action ON action_updates (action_id, posted_at);

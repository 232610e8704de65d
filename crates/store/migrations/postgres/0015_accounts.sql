-- Accounts (issue 21): API tokens with an id (to list and revoke them) and an expiry;
-- invitations to an organisation, which the invited person accepts or declines; sign-in
-- attempts counted per address in one row, reserved atomically before the password check.
-- Keep in step with ../sqlite/0015_accounts.sql.

CREATE TABLE api_tokens_0015 (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
-- Tokens made before expiry existed get 90 days from the upgrade, not a sudden end.
INSERT INTO api_tokens_0015 (token_hash, user_id, label, created_at, expires_at, revoked_at)
    SELECT token_hash, user_id, label, created_at,
           CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) + 7776000, revoked_at
    FROM api_tokens ORDER BY created_at;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_0015 RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE invitations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    organisation TEXT NOT NULL REFERENCES organisations (code),
    role         TEXT NOT NULL,
    invited_by   TEXT NOT NULL,
    invited_at   BIGINT NOT NULL,
    UNIQUE (user_id, organisation)
);

-- One row per address: the attempts since `window_start`. Replaces login_failures, whose
-- read-then-insert let a burst of guesses through.
CREATE TABLE login_attempts (
    email        TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts     BIGINT NOT NULL
);
DROP TABLE login_failures;

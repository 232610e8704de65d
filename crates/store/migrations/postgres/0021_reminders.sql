-- Reminders (issue 17): each person's choice of digest, the deployment's reminder rules, the
-- digests sent, and per person the tasks those digests carried (with the facts they stated,
-- so a task goes again only when those change or the repeat interval passes). A task is
-- recorded as sent only in the transaction that follows the SMTP server's acceptance.
-- reminder_lease lets one sender run at a time across servers sharing a database; it holds
-- no data and is left out of backups. Keep in step with ../sqlite/0021_reminders.sql.

CREATE TABLE reminder_preferences (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id),
    frequency  TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);

CREATE TABLE reminder_settings (
    id                  BIGINT PRIMARY KEY,
    stale_after_days    BIGINT NOT NULL,
    return_warning_days BIGINT NOT NULL,
    repeat_after_days   BIGINT NOT NULL,
    meetings            TEXT NOT NULL,
    changed_by          TEXT NOT NULL,
    changed_at          BIGINT NOT NULL
);

CREATE TABLE reminder_digests (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    email      TEXT NOT NULL,
    sent_at    BIGINT NOT NULL,
    subject    TEXT NOT NULL,
    tasks      BIGINT NOT NULL,
    task_keys  TEXT NOT NULL
);
CREATE INDEX reminder_digests_user ON reminder_digests (user_id, sent_at);

CREATE TABLE reminders_sent (
    user_id     BIGINT NOT NULL REFERENCES users (id),
    task_key    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    sent_on     TEXT NOT NULL,
    digest_id   BIGINT NOT NULL REFERENCES reminder_digests (id),
    PRIMARY KEY (user_id, task_key)
);

CREATE TABLE reminder_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

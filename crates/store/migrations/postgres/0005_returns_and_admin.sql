-- Reporting periods and the returns organisations submit for them; evidence files attached
-- to action updates; milestones marked done; archiving of organisations and actions (nothing
-- is deleted). Keep in step with ../sqlite/0005_returns_and_admin.sql.

CREATE TABLE reporting_periods (
    quarter    TEXT PRIMARY KEY,
    due_on     TEXT NOT NULL,
    opened_by  TEXT NOT NULL,
    opened_at  BIGINT NOT NULL
);

-- One row per organisation whose rows a confirmed upload carried for an open period.
CREATE TABLE returns (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quarter      TEXT NOT NULL REFERENCES reporting_periods (quarter),
    organisation TEXT NOT NULL REFERENCES organisations (code),
    import_id    BIGINT NOT NULL REFERENCES activity_imports (id),
    row_count    BIGINT NOT NULL,
    kgco2e       TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    approved_by  TEXT,
    approved_at  BIGINT
);
CREATE INDEX returns_quarter ON returns (quarter, organisation);

CREATE TABLE evidence_files (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id    TEXT NOT NULL REFERENCES actions (id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    contents     BYTEA NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  BIGINT NOT NULL
);
CREATE INDEX evidence_files_action ON evidence_files (action_id);

ALTER TABLE action_updates ADD COLUMN evidence_file BIGINT REFERENCES evidence_files (id);

CREATE TABLE milestones_done (
    action_id TEXT NOT NULL REFERENCES actions (id),
    milestone BIGINT NOT NULL,
    done_by   TEXT NOT NULL,
    done_at   BIGINT NOT NULL,
    PRIMARY KEY (action_id, milestone)
);

ALTER TABLE organisations ADD COLUMN archived_at BIGINT;
ALTER TABLE actions ADD COLUMN archived_at BIGINT;

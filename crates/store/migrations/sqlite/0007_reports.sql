-- Published reports: the report model frozen as JSON when it was published, so later data
-- changes never alter what the Delivery Group or the Board received. Rows are never updated
-- or deleted (the triggers refuse it). Keep in step with ../postgres/0007_reports.sql.

CREATE TABLE published_reports (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    period        TEXT NOT NULL,
    organisation  TEXT,
    title         TEXT NOT NULL,
    model_json    TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  BIGINT NOT NULL,
    data_revision BIGINT NOT NULL
);
CREATE INDEX published_reports_kind ON published_reports (kind, period);

CREATE TRIGGER published_reports_no_update BEFORE UPDATE ON published_reports
BEGIN
    SELECT RAISE(ABORT, 'a published report cannot be changed');
END;

CREATE TRIGGER published_reports_no_delete BEFORE DELETE ON published_reports
BEGIN
    SELECT RAISE(ABORT, 'a published report cannot be deleted');
END;

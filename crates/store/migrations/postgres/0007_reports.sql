-- Published reports: the report model frozen as JSON when it was published, so later data
-- changes never alter what the Delivery Group or the Board received. Rows are never updated
-- or deleted (the trigger refuses it). Keep in step with ../sqlite/0007_reports.sql.

CREATE TABLE published_reports (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

CREATE FUNCTION published_reports_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published report cannot be changed or deleted';
END;
$$;

CREATE TRIGGER published_reports_frozen BEFORE UPDATE OR DELETE ON published_reports
FOR EACH ROW EXECUTE FUNCTION published_reports_frozen();

-- The open survey link's rate limits, bursts of answers left out of a survey's figures, and
-- the audit trail's page and filters. Keep in step with ../sqlite/0017_survey_limits.sql.

-- Fixed-window counters shared by every server on the database: `key` names what is
-- counted (a survey's open-link answers, or one client's: the client as a SHA-256 of its
-- address, never the address), `window_start` the start of the window in Unix seconds.
-- Rows of past windows are deleted as new ones are counted.
CREATE TABLE rate_windows (
    key          TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);

-- A time range of a survey's answers made on the form that an organiser left out of its
-- figures (a burst): the answers stay stored; every read for figures skips them.
CREATE TABLE travel_response_exclusions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id  BIGINT NOT NULL REFERENCES travel_surveys (id),
    from_at    BIGINT NOT NULL,
    until_at   BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX travel_response_exclusions_survey ON travel_response_exclusions (survey_id);
CREATE INDEX travel_responses_received ON travel_responses (survey_id, received_at);

-- The audit page's filters.
CREATE INDEX audit_at ON audit_log (at);
CREATE INDEX audit_actor ON audit_log (actor);
CREATE INDEX audit_organisation ON audit_log (organisation);

-- Travel surveys (questions, single-use tokens, anonymous responses) and the green digital
-- benefits framework's schemes. Keep in step with ../postgres/0009_travel_and_digital.sql.

-- A travel survey of staff or of patients and visitors. `sites` is a JSON list of the site
-- names respondents choose from; `weeks_per_year` (canonical decimal text) turns a typical
-- week into a year; `headcount`, when given, scales respondents to everyone. `open_link` is
-- the random part of the survey's public link (NULL until the survey is first opened).
CREATE TABLE travel_surveys (
    id             INTEGER PRIMARY KEY,
    organisation   TEXT NOT NULL REFERENCES organisations (code),
    title          TEXT NOT NULL,
    respondents    TEXT NOT NULL,
    sites          TEXT NOT NULL,
    financial_year BIGINT NOT NULL,
    weeks_per_year TEXT NOT NULL,
    headcount      BIGINT,
    status         TEXT NOT NULL,
    open_link      TEXT UNIQUE,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    opened_at      BIGINT,
    closed_at      BIGINT
);
CREATE INDEX travel_surveys_organisation ON travel_surveys (organisation);

-- Single-use tokens: only the SHA-256 of each is kept (the invitation CSV is the only copy).
-- `used_at` is set in the transaction that stores the token's response.
CREATE TABLE travel_survey_tokens (
    token_sha256 TEXT PRIMARY KEY,
    survey_id    BIGINT NOT NULL REFERENCES travel_surveys (id),
    kind         TEXT NOT NULL,
    issued_at    BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX travel_survey_tokens_survey ON travel_survey_tokens (survey_id);

-- Responses: no names, no e-mail addresses, no full postcodes (a district at most). Each
-- comes with its token (UNIQUE: one response per token, whatever the race) or, when
-- imported from another survey tool, the file and row it came from.
CREATE TABLE travel_responses (
    id                INTEGER PRIMARY KEY,
    survey_id         BIGINT NOT NULL REFERENCES travel_surveys (id),
    token_sha256      TEXT UNIQUE REFERENCES travel_survey_tokens (token_sha256),
    imported_from     TEXT,
    answers           TEXT NOT NULL,
    received_at       BIGINT NOT NULL
);
CREATE INDEX travel_responses_survey ON travel_responses (survey_id);

-- Digital schemes of the green digital benefits framework; `lines` is a JSON list of the
-- benefit and cost lines (decimals as text), computed on read like footprints.
CREATE TABLE digital_schemes (
    id            INTEGER PRIMARY KEY,
    organisation  TEXT NOT NULL REFERENCES organisations (code),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    start_date    TEXT NOT NULL,
    lines         TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX digital_schemes_organisation ON digital_schemes (organisation);

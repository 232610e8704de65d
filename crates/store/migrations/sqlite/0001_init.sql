-- greenplan schema, SQLite. Keep in step with ../postgres/0001_init.sql (a test checks the
-- versions match). Decimals are stored as canonical text so sums are exact on both backends;
-- timestamps are Unix seconds; lists inside a plan record are JSON text in `body`.

CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    system_name TEXT NOT NULL,
    icb         TEXT NOT NULL,
    first_year  INTEGER NOT NULL,
    last_year   INTEGER NOT NULL,
    body        TEXT NOT NULL,
    loaded_at   BIGINT NOT NULL
);

CREATE TABLE organisations (
    code     TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE plan_records (
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE TABLE areas (
    code     TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE actions (
    id       TEXT PRIMARY KEY,
    area     TEXT NOT NULL REFERENCES areas (code),
    status   TEXT NOT NULL,
    due_end  TEXT,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX actions_area ON actions (area);

CREATE TABLE metrics (
    id           TEXT PRIMARY KEY,
    area         TEXT,
    organisation TEXT,
    position     INTEGER NOT NULL,
    body         TEXT NOT NULL
);

CREATE TABLE metric_values (
    id           INTEGER PRIMARY KEY,
    metric       TEXT NOT NULL REFERENCES metrics (id),
    organisation TEXT NOT NULL DEFAULT '',
    period       TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    value        TEXT NOT NULL,
    as_written   TEXT,
    note         TEXT,
    reference    TEXT,
    origin       TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL
);
CREATE INDEX metric_values_metric ON metric_values (metric, period_end);

CREATE TABLE factor_editions (
    name         TEXT PRIMARY KEY,
    year         INTEGER,
    source       TEXT NOT NULL,
    factor_count INTEGER NOT NULL,
    imported_at  BIGINT NOT NULL
);

CREATE TABLE factors (
    id          INTEGER PRIMARY KEY,
    edition     TEXT NOT NULL REFERENCES factor_editions (name),
    scope       TEXT NOT NULL,
    levels      TEXT NOT NULL,
    column_text TEXT,
    unit_text   TEXT NOT NULL,
    kgco2e      TEXT NOT NULL,
    kgco2       TEXT,
    kgch4       TEXT,
    kgn2o       TEXT,
    activity    TEXT,
    category    TEXT,
    source      TEXT NOT NULL
);
CREATE INDEX factors_edition ON factors (edition);

CREATE TABLE activity_imports (
    id          INTEGER PRIMARY KEY,
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    row_count   BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);

CREATE TABLE activities (
    id            INTEGER PRIMARY KEY,
    import_id     BIGINT NOT NULL REFERENCES activity_imports (id),
    row_number    BIGINT NOT NULL,
    organisation  TEXT NOT NULL,
    site          TEXT,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    year          INTEGER NOT NULL,
    activity      TEXT NOT NULL,
    quantity      TEXT NOT NULL,
    unit          TEXT NOT NULL,
    edition       TEXT,
    category      TEXT,
    market_factor TEXT,
    notes         TEXT
);
CREATE INDEX activities_year_org ON activities (year, organisation);

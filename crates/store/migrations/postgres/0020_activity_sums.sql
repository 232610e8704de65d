-- The footprint of stored activity reads sums, not rows (issue 18): one line per import and
-- per everything a row's emission depends on besides its quantity (organisation, site,
-- financial year, activity, unit, edition, category, market-based factor), holding the exact
-- decimal sum of those rows' quantities as text. Written in the import's own transaction,
-- never updated in SQL (SQL would sum in floating point on SQLite); derived data, so left
-- out of backups and rebuilt from `activities` after a restore or when this table is new.
-- `quantity` is NULL when the exact sum does not fit in a decimal, and `largest` is the
-- quantity largest in size, written at the largest scale of the rows: the footprint converts
-- a line as one only when that is exact for every row, and reads the rows otherwise.
-- Keep in step with ../sqlite/0020_activity_sums.sql.

CREATE TABLE activity_sums (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    import_id     BIGINT NOT NULL REFERENCES activity_imports (id),
    organisation  TEXT NOT NULL,
    site          TEXT,
    year          BIGINT NOT NULL,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    activity      TEXT NOT NULL,
    unit          TEXT NOT NULL,
    edition       TEXT,
    category      TEXT,
    market_factor TEXT,
    quantity      TEXT,
    largest       TEXT NOT NULL,
    row_count     BIGINT NOT NULL,
    first_row     BIGINT NOT NULL
);
CREATE INDEX activity_sums_year_org ON activity_sums (year, organisation);

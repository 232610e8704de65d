-- Medicines: inhaler prescribing from the English Prescribing Dataset, summed per month ×
-- practice × BNF presentation (every measure is a sum over these lines, so the 17 million raw
-- rows of a national month are not kept), and anaesthetic gas returns per trust per month.
-- Quantities are canonical decimal text, as elsewhere. Keep in step with
-- ../postgres/0006_medicines.sql.

CREATE TABLE prescribing_months (
    year_month  TEXT PRIMARY KEY,
    file        TEXT NOT NULL,
    icb         TEXT,
    row_count   BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);

CREATE TABLE prescribing_practices (
    year_month   TEXT NOT NULL,
    practice     TEXT NOT NULL,
    name         TEXT NOT NULL,
    sub_icb_code TEXT NOT NULL,
    sub_icb_name TEXT NOT NULL,
    icb_code     TEXT NOT NULL,
    icb_name     TEXT NOT NULL,
    PRIMARY KEY (year_month, practice)
);

CREATE TABLE prescribing_lines (
    year_month  TEXT NOT NULL,
    practice    TEXT NOT NULL,
    bnf_code    TEXT NOT NULL,
    items       BIGINT NOT NULL,
    as_inhalers TEXT NOT NULL,
    as_doses    TEXT NOT NULL,
    PRIMARY KEY (year_month, practice, bnf_code)
);

CREATE TABLE bnf_descriptions (
    bnf_code    TEXT PRIMARY KEY,
    description TEXT NOT NULL
);

CREATE TABLE anaesthetic_gas_uses (
    id           INTEGER PRIMARY KEY,
    organisation TEXT NOT NULL,
    year_month   TEXT NOT NULL,
    agent        TEXT NOT NULL,
    quantity     TEXT NOT NULL,
    unit         TEXT NOT NULL,
    supply       TEXT,
    basis        TEXT NOT NULL,
    file         TEXT NOT NULL,
    row_number   BIGINT NOT NULL
);
CREATE INDEX anaesthetic_gas_uses_month ON anaesthetic_gas_uses (organisation, year_month);

-- Registers (issue 5): one table for the records of every register (sites, vehicles,
-- contracts…). A record's values are a JSON object of canonical text by field key, validated
-- by greenplan-core's register description on the way in and on the way out. Records are
-- archived, never deleted. Keep in step with ../sqlite/0010_registers.sql.

CREATE TABLE register_records (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    register     TEXT NOT NULL,
    organisation TEXT NOT NULL REFERENCES organisations (code),
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    archived_at  BIGINT,
    archived_by  TEXT
);
CREATE INDEX register_records_register ON register_records (register, organisation);

-- The write probe of /healthz (Store::can_write): a row of some 16 KB is inserted and deleted
-- again in one committed transaction, so the database must find room for new pages and write
-- its log, as a real change would; a full disk fails the probe instead of the next person's
-- save. Always empty between probes, and left out of backups.
-- Keep in step with ../postgres/0019_health_probe.sql.

CREATE TABLE health_probe (
    id     BIGINT PRIMARY KEY,
    filler TEXT NOT NULL
);

-- Each edited record's revision: the id of the audit entry of its last change (0 before
-- any). An edit form carries the revision it was drawn from, and the store's UPDATE compares
-- it in its WHERE clause, so a save from a stale copy changes nothing (no lost update), and
-- the changes made since are the record's audit entries after that id. Set to the last audit
-- entry each record already has. Keep in step with ../sqlite/0018_record_revisions.sql.

ALTER TABLE register_records ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE actions ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE areas ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE metrics ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE schemes ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sias ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pathway_scenarios ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE digital_schemes ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE care_activity_factors ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

UPDATE register_records SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'register-record' AND a.entity_id = CAST(register_records.id AS TEXT)), 0);
UPDATE actions SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'action' AND a.entity_id = actions.id), 0);
UPDATE areas SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'area' AND a.entity_id = areas.code), 0);
UPDATE metrics SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'metric' AND a.entity_id = metrics.id), 0);
UPDATE organisations SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'organisation' AND a.entity_id = organisations.code), 0);
UPDATE schemes SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'scheme' AND a.entity_id = CAST(schemes.id AS TEXT)), 0);
UPDATE sias SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'sia' AND a.entity_id = CAST(sias.id AS TEXT)), 0);
UPDATE pathway_scenarios SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'pathway-scenario' AND a.entity_id = CAST(pathway_scenarios.id AS TEXT)), 0);
UPDATE digital_schemes SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'digital-scheme' AND a.entity_id = CAST(digital_schemes.id AS TEXT)), 0);
UPDATE care_activity_factors SET revision = COALESCE((SELECT MAX(a.id) FROM audit_log a WHERE a.entity_kind = 'care-activity-factor' AND a.entity_id = care_activity_factors.id), 0);

-- The tools of the plan's clinical transformation actions: the care-activity factor library
-- and saved care pathway scenarios (the pathway carbon calculator), the scheme register (the
-- system ePMO's transformation schemes, with their "Greener NHS" tag) and Sustainability
-- Impact Assessments. Keep in step with ../sqlite/0008_schemes_and_pathways.sql.

-- kgCO2e per unit of a care activity; decimals as canonical text. Edited by a system admin
-- (audited); seeded from data/care-activities.csv when empty.
CREATE TABLE care_activity_factors (
    id       TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    name     TEXT NOT NULL,
    unit     TEXT NOT NULL,
    kgco2e   TEXT NOT NULL,
    low      TEXT,
    high     TEXT,
    source   TEXT NOT NULL,
    year     BIGINT,
    verified BIGINT NOT NULL
);

CREATE TABLE schemes (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation TEXT NOT NULL REFERENCES organisations (code),
    name         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    stage        TEXT NOT NULL,
    start_on     TEXT,
    end_on       TEXT,
    -- Linked priority actions: a JSON list of action ids.
    actions      TEXT NOT NULL,
    description  TEXT NOT NULL,
    -- Due consideration of sustainability impact (the "Greener NHS" tag): a reviewed SIA of
    -- this scheme, or a recorded reason (who, when, why). The store checks the SIA; the
    -- constraint keeps a tag from being stored without one or the other.
    considered_by_sia BIGINT,
    reason_by    TEXT,
    reason_at    BIGINT,
    reason_why   TEXT,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    archived_at  BIGINT,
    CHECK (considered_by_sia IS NULL OR reason_why IS NULL),
    CHECK ((reason_why IS NULL AND reason_by IS NULL AND reason_at IS NULL)
        OR (reason_why <> '' AND reason_by <> '' AND reason_at IS NOT NULL))
);
CREATE INDEX schemes_organisation ON schemes (organisation);

-- Sustainability Impact Assessments; the facets are a JSON list (facet, impact, reason,
-- mitigation). Status: draft, submitted, reviewed, returned.
CREATE TABLE sias (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation   TEXT NOT NULL REFERENCES organisations (code),
    scheme_id      BIGINT REFERENCES schemes (id),
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    facets         TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    submitted_by   TEXT,
    submitted_at   BIGINT,
    reviewed_by    TEXT,
    reviewed_at    BIGINT,
    review_comment TEXT
);
CREATE INDEX sias_scheme ON sias (scheme_id);

-- Saved care pathway scenarios: the scenario (lines, equivalent, linked actions) as JSON.
CREATE TABLE pathway_scenarios (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation TEXT NOT NULL REFERENCES organisations (code),
    scheme_id    BIGINT REFERENCES schemes (id),
    name         TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- Set for scenarios shipped with greenplan (e.g. `team-up`), so seeding is idempotent.
    example      TEXT UNIQUE,
    updated_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    archived_at  BIGINT
);

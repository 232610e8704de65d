-- The ICS's own inhaler product figures, layered over the table shipped with greenplan
-- (data/inhalers): a row here replaces the shipped row with the same BNF code, and new codes
-- are added. Kept in the database so that the web pages, the command line, the reports and
-- the footprint all count inhalers with the same figures. Replaced whole on each import,
-- with an audit entry. Keep in step with ../sqlite/0013_inhaler_products.sql.

CREATE TABLE inhaler_products (
    bnf_code           TEXT PRIMARY KEY,
    description        TEXT NOT NULL,
    device             TEXT NOT NULL,
    propellant         TEXT,
    kgco2e_per_inhaler TEXT NOT NULL,
    doses_per_inhaler  TEXT,
    source             TEXT NOT NULL,
    class_default      BIGINT NOT NULL, -- 1 when the carbon figure is a class default
    file               TEXT NOT NULL,
    imported_at        BIGINT NOT NULL
);

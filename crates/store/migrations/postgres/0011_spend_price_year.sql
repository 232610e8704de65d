-- A spend factor set's price year: the year whose prices its kgCO2e per £ are in (a set at
-- 2021 prices applied to 2024/25 spend overstates it by the inflation between). Kept apart
-- from `year`, which the footprint picks an edition for a financial year by: a spend set is
-- named by spend lines, never chosen by year. NULL for every other edition.
-- Keep in step with ../sqlite/0011_spend_price_year.sql.

ALTER TABLE factor_editions ADD COLUMN price_year BIGINT;

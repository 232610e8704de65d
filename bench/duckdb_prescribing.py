#!/usr/bin/env python3
"""The reference: inhaler measures of an EPD CSV with an inhaler factor CSV, computed by DuckDB.

    python3 bench/duckdb_prescribing.py EPD.csv FACTORS.csv [--threads N] > out_duckdb.csv

It computes what `greenplan prescribing measures --from-file EPD.csv --inhaler-factors
FACTORS.csv --level icb,practice --format csv` prints, with the same rules, in exact integer
arithmetic so that the outputs can be compared byte for byte:

- rows whose BNF_CODE is in the factor CSV are summed per month x practice x BNF code: items,
  the total quantity of rows with QUANTITY <= 9 (inhalers) and of rows with QUANTITY > 9
  (doses);
- inhalers of such a line = inhalers + doses / doses_per_inhaler rounded half to even to 6
  decimals (a line with doses but no dose count is left out, as greenplan leaves it out);
- tco2e = sum of inhalers x kgco2e_per_inhaler / 1000, exact;
- mdi_share_excl_salbutamol = MDI items / (MDI + DPI + SMI items) outside BNF 0301011R0, and
  salbutamol_kgco2e_per_inhaler = sum(inhalers x kgCO2e) / sum(inhalers) over 0301011R0,
  both rounded half to even to 6 decimals; empty when the denominator is 0;
- decimals printed without trailing zeros; rows ordered by month, level (icb, then practice)
  and organisation code (bytes).

Timings go to stderr as key=value lines: `import_s`, `query_s`, `threads`, `duckdb`.
"""

import argparse
import csv
import sys
import time

t_start = time.perf_counter()
import duckdb  # noqa: E402

IMPORT_S = time.perf_counter() - t_start

EPD_COLUMNS = {
    "YEAR_MONTH": "VARCHAR", "REGIONAL_OFFICE_NAME": "VARCHAR", "REGIONAL_OFFICE_CODE": "VARCHAR",
    "ICB_NAME": "VARCHAR", "ICB_CODE": "VARCHAR", "PCO_NAME": "VARCHAR", "PCO_CODE": "VARCHAR",
    "PRACTICE_NAME": "VARCHAR", "PRACTICE_CODE": "VARCHAR", "ADDRESS_1": "VARCHAR",
    "ADDRESS_2": "VARCHAR", "ADDRESS_3": "VARCHAR", "ADDRESS_4": "VARCHAR", "POSTCODE": "VARCHAR",
    "BNF_CHEMICAL_SUBSTANCE": "VARCHAR", "CHEMICAL_SUBSTANCE_BNF_DESCR": "VARCHAR",
    "BNF_CODE": "VARCHAR", "BNF_DESCRIPTION": "VARCHAR", "BNF_CHAPTER_PLUS_CODE": "VARCHAR",
    "QUANTITY": "DECIMAL(18,3)", "ITEMS": "BIGINT", "TOTAL_QUANTITY": "DECIMAL(18,3)",
    "ADQUSAGE": "VARCHAR", "NIC": "VARCHAR", "ACTUAL_COST": "VARCHAR", "UNIDENTIFIED": "VARCHAR",
    "SNOMED_CODE": "VARCHAR",
}
FACTOR_COLUMNS = {
    "bnf_code": "VARCHAR", "description": "VARCHAR", "device": "VARCHAR",
    "kgco2e_per_inhaler": "DECIMAL(18,6)", "doses_per_inhaler": "DECIMAL(18,3)",
    "source": "VARCHAR", "propellant": "VARCHAR", "class_default": "VARCHAR",
}

# Half-to-even integer division of HUGEINTs n / d (d > 0, n >= 0).
def half_even(n, d):
    return (
        f"(({n}) // ({d}) + CASE WHEN 2 * (({n}) % ({d})) > ({d}) THEN 1 "
        f"WHEN 2 * (({n}) % ({d})) = ({d}) THEN (({n}) // ({d})) % 2 ELSE 0 END)"
    )


QUERY = f"""
WITH factors AS (
    SELECT bnf_code, upper(device) AS device,
           CAST(kgco2e_per_inhaler * 1000000 AS HUGEINT) AS kg_u6,
           CAST(doses_per_inhaler * 1000 AS HUGEINT) AS doses_m
    FROM read_csv($factors, header = true, auto_detect = false, columns = $fcols)
),
lines AS (
    SELECT e.YEAR_MONTH AS month, e.PRACTICE_CODE AS practice, e.BNF_CODE AS bnf_code,
           sum(e.ITEMS) AS items,
           CAST(sum(CASE WHEN e.QUANTITY <= 9 THEN e.TOTAL_QUANTITY ELSE 0 END) * 1000 AS HUGEINT) AS inh_m,
           CAST(sum(CASE WHEN e.QUANTITY > 9 THEN e.TOTAL_QUANTITY ELSE 0 END) * 1000 AS HUGEINT) AS doses_q_m,
           min(e.PRACTICE_NAME) AS practice_name, min(e.ICB_CODE) AS icb, min(e.ICB_NAME) AS icb_name
    FROM read_csv($epd, header = true, auto_detect = false, columns = $ecols) e
    WHERE e.BNF_CODE IN (SELECT bnf_code FROM factors)
    GROUP BY ALL
),
counted AS (
    SELECT l.*, f.device, f.kg_u6, f.bnf_code LIKE '0301011R0%' AS salbutamol,
           -- micro-inhalers: inhalers x 10^6
           l.inh_m * 1000 + CASE WHEN l.doses_q_m = 0 THEN 0
                ELSE {half_even("l.doses_q_m * 1000000", "f.doses_m")} END AS inh_u6
    FROM lines l JOIN factors f USING (bnf_code)
    WHERE l.doses_q_m = 0 OR f.doses_m > 0
),
levels AS (
    SELECT 0 AS lvl, 'icb' AS level, icb AS org_code, icb_name AS org_name, * EXCLUDE (icb, icb_name) FROM counted
    UNION ALL
    SELECT 1, 'practice', practice, practice_name, * EXCLUDE (icb, icb_name) FROM counted
)
SELECT month, lvl, level, org_code, min(org_name) AS org_name,
       sum(items) AS inhaler_items,
       sum(CASE WHEN device = 'MDI' THEN items ELSE 0 END) AS mdi_items,
       sum(CASE WHEN device = 'DPI' THEN items ELSE 0 END) AS dpi_items,
       sum(CASE WHEN device = 'SMI' THEN items ELSE 0 END) AS smi_items,
       sum(CASE WHEN device = 'OTHER' THEN items ELSE 0 END) AS other_items,
       sum(inh_u6) AS inhalers_u6,
       sum(inh_u6 * kg_u6) AS kg_u12,
       sum(CASE WHEN NOT salbutamol AND device = 'MDI' THEN items ELSE 0 END) AS mdi_ex,
       sum(CASE WHEN NOT salbutamol AND device <> 'OTHER' THEN items ELSE 0 END) AS dev_ex,
       sum(CASE WHEN salbutamol THEN inh_u6 ELSE 0 END) AS salb_u6,
       sum(CASE WHEN salbutamol THEN inh_u6 * kg_u6 ELSE 0 END) AS salb_kg_u12
FROM levels
GROUP BY month, lvl, level, org_code
"""


def plain(n, scale):
    """The integer n / 10^scale without trailing zeros, as greenplan prints decimals."""
    n = int(n)
    sign = "-" if n < 0 else ""
    n = abs(n)
    whole, frac = divmod(n, 10**scale)
    frac_s = f"{frac:0{scale}d}".rstrip("0") if scale else ""
    return f"{sign}{whole}" + (f".{frac_s}" if frac_s else "")


def ratio(n, d):
    """n / d x 10^6 rounded half to even, printed; empty when d is 0."""
    n, d = int(n), int(d)
    if d == 0:
        return ""
    q, r = divmod(n * 10**6, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return plain(q, 6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("epd")
    ap.add_argument("factors")
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    t0 = time.perf_counter()
    rows = con.execute(
        QUERY,
        {"epd": args.epd, "factors": args.factors, "ecols": EPD_COLUMNS, "fcols": FACTOR_COLUMNS},
    ).fetchall()
    query_s = time.perf_counter() - t0
    rows.sort(key=lambda r: (r[0], r[1], r[3].encode()))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([
        "year_month", "level", "org_code", "org_name", "inhaler_items", "mdi_items", "dpi_items",
        "smi_items", "other_items", "inhalers", "tco2e", "mdi_share_excl_salbutamol",
        "salbutamol_inhalers", "salbutamol_kgco2e_per_inhaler",
    ])
    for (month, _lvl, level, org, name, items, mdi, dpi, smi, other, inh_u6, kg_u12, mdi_ex,
         dev_ex, salb_u6, salb_kg_u12) in rows:
        out.writerow([
            month, level, org, name, items, mdi, dpi, smi, other,
            plain(inh_u6, 6),
            # kg x 10^12 -> t x 10^15
            plain(kg_u12, 15),
            ratio(mdi_ex, dev_ex),
            plain(salb_u6, 6),
            # (kg x 10^12) / (inhalers x 10^6) = kg per inhaler x 10^6; ratio() scales by 10^6
            ratio(int(salb_kg_u12), int(salb_u6) * 10**6) if int(salb_u6) else "",
        ])
    for k, v in [("import_s", f"{IMPORT_S:.3f}"), ("query_s", f"{query_s:.3f}"),
                 ("threads", threads), ("duckdb", duckdb.__version__), ("lines", len(rows))]:
        print(f"{k}={v}", file=sys.stderr)


if __name__ == "__main__":
    main()

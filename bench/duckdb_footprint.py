#!/usr/bin/env python3
"""The reference: the footprint of an activity CSV with a custom factor CSV, computed by DuckDB.

    python3 bench/duckdb_footprint.py ACTIVITY.csv FACTORS.csv [--edition NAME] > out_duckdb.csv

It computes what `greenplan footprint --from ACTIVITY.csv --factors FACTORS.csv
--by organisation,scope,category --format csv` prints, for files such as bench/generate.py writes
(custom factors only, each row's unit the unit of its factor, no `edition`/`category`/
`market_factor` columns in the activity file), and in the same format, so the two outputs can
be compared byte for byte:

- numbers are exact: quantity is read as DECIMAL(18,3), kgco2e as DECIMAL(18,9), both widened
  to 38 digits before multiplying (DuckDB keeps an 18-digit product of two 18-digit decimals
  and would overflow) and the products summed as DECIMAL(38,12); nothing goes through floating
  point;
- the factor edition of a row is chosen like greenplan's `edition_for_year`
  (crates/core/src/factor.rs): the edition whose name ends in `-YYYY` where YYYY is the year the
  row's financial year starts in (period_start in April or later: that year; else the year
  before), else the latest earlier edition, else the earliest one; `--edition` pins one for
  every row, like greenplan's `--edition`;
- activities match case- and space-insensitively, like greenplan's custom factor names; the
  organisation is upper-cased and trimmed, like an ODS code;
- scope is printed as greenplan labels it (`Scope 1`), category as its slug; rows whose factor
  is outside of scopes are left out, like greenplan's footprint;
- tCO2e is kg / 1000 rounded to 6 decimals half-to-even (rust_decimal's `round_dp`), trailing
  zeros trimmed (`normalize`), lines sorted by (organisation, scope, category) in byte order
  (greenplan's BTreeMap of keys).

A row with no matching factor is an error, as in greenplan (which refuses the whole file).
Timings go to stderr as `key=value` lines: `import_s` (import duckdb), `query_s` (the one SQL
statement: CSV scan + edition choice + join + aggregate), `format_s`, `lines`, `rows`, `threads`.
"""

import argparse
import csv
import decimal
import sys
import time

T0 = time.perf_counter()
try:
    import duckdb
except ImportError:  # pragma: no cover
    sys.exit("duckdb is not installed: pip install duckdb")
T_IMPORT = time.perf_counter() - T0

ACTIVITY_COLUMNS = {
    "organisation": "VARCHAR",
    "site": "VARCHAR",
    "period_start": "DATE",
    "period_end": "DATE",
    "activity": "VARCHAR",
    "quantity": "DECIMAL(18,3)",
    "unit": "VARCHAR",
}
FACTOR_COLUMNS = {
    "edition": "VARCHAR",
    "activity": "VARCHAR",
    "unit": "VARCHAR",
    "scope": "VARCHAR",
    "category": "VARCHAR",
    "kgco2e": "DECIMAL(18,9)",
}

SQL = """
WITH
act AS (
    SELECT upper(trim(organisation)) AS organisation,
           lower(regexp_replace(activity, '\\s', '', 'g')) AS activity,
           lower(trim(unit)) AS unit,
           quantity,
           CASE WHEN month(period_start) >= 4 THEN year(period_start)
                ELSE year(period_start) - 1 END AS fy
    FROM read_csv($activity, header = true, auto_detect = false, columns = $acols)
),
fac AS (
    SELECT trim(edition) AS edition,
           lower(regexp_replace(activity, '\\s', '', 'g')) AS activity,
           lower(trim(unit)) AS unit,
           CASE WHEN regexp_matches(lower(trim(scope)), '^(scope\\s*)?[123]$')
                THEN 'Scope ' || right(trim(scope), 1)
                ELSE 'Outside of scopes' END AS scope,
           lower(trim(category)) AS category,
           kgco2e
    FROM read_csv($factors, header = true, auto_detect = false, columns = $fcols)
),
editions AS (
    SELECT DISTINCT edition, CAST(regexp_extract(edition, '-([0-9]{4})$', 1) AS INTEGER) AS year
    FROM fac WHERE regexp_matches(edition, '-[0-9]{4}$')
),
years AS (SELECT DISTINCT fy FROM act),
pick AS (
    SELECT y.fy,
           coalesce($pinned,
                    (SELECT min(edition) FROM editions e WHERE e.year = y.fy),
                    (SELECT arg_max(edition, year) FROM editions e WHERE e.year < y.fy),
                    (SELECT arg_min(edition, year) FROM editions e)) AS edition
    FROM years y
),
joined AS (
    SELECT a.organisation, f.scope, f.category, CAST(a.quantity AS DECIMAL(38,3)) * CAST(f.kgco2e AS DECIMAL(38,9)) AS kg,
           f.edition IS NULL AS unmatched
    FROM act a
    JOIN pick p ON p.fy = a.fy
    LEFT JOIN fac f ON f.edition = p.edition AND f.activity = a.activity AND f.unit = a.unit
)
SELECT organisation, scope, category,
       CAST(sum(kg) AS VARCHAR) AS kgco2e,
       count(*) AS rows,
       sum(CASE WHEN unmatched THEN 1 ELSE 0 END) AS unmatched
FROM joined
GROUP BY ALL
ORDER BY organisation, scope, category
"""

SIX_DP = decimal.Decimal("0.000001")


def tonnes(kg_text):
    """kg -> t, rounded to 6 dp half-to-even, trailing zeros trimmed, as greenplan prints it."""
    decimal.getcontext().prec = 60
    t = (decimal.Decimal(kg_text) / 1000).quantize(SIX_DP, rounding=decimal.ROUND_HALF_EVEN)
    text = format(t, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("activity")
    ap.add_argument("factors")
    ap.add_argument("--edition", help="use this factor edition for every row")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    args = ap.parse_args()

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    t = time.perf_counter()
    result = con.execute(
        SQL,
        {
            "activity": args.activity,
            "factors": args.factors,
            "acols": ACTIVITY_COLUMNS,
            "fcols": FACTOR_COLUMNS,
            "pinned": args.edition,
        },
    ).fetchall()
    query_s = time.perf_counter() - t

    t = time.perf_counter()
    unmatched = sum(r[5] for r in result)
    if unmatched:
        sys.exit(f"{unmatched} activity rows have no factor (activity, unit, edition): greenplan would refuse the file")
    rows = sum(r[4] for r in result)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["organisation", "scope", "category", "tco2e"])
    # Leave out what is outside the footprint (biogenic CO2), as greenplan does.
    lines = [r for r in result if r[1] != "Outside of scopes"]
    # Byte order of the keys, as greenplan's BTreeMap sorts them (and DuckDB's ORDER BY should).
    lines.sort(key=lambda r: (r[0].encode(), r[1].encode(), r[2].encode()))
    for org, scope, category, kg, *_ in lines:
        out.writerow([org, scope, category, tonnes(kg)])
    sys.stdout.flush()
    format_s = time.perf_counter() - t

    for k, v in [
        ("import_s", f"{T_IMPORT:.3f}"),
        ("query_s", f"{query_s:.3f}"),
        ("format_s", f"{format_s:.3f}"),
        ("lines", len(lines)),
        ("rows", rows),
        ("threads", threads),
        ("duckdb", duckdb.__version__),
    ]:
        print(f"{k}={v}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the benchmark inputs for `bench/footprint.sh`: an activity CSV and a custom factor CSV.

Standard library only, deterministic for a given (rows, seed): the same command always writes
byte-identical files.

    python3 bench/generate.py --rows 1000000 --seed 42 \
        --activity bench-data/activity.csv --factors bench-data/factors.csv

The activity file has the header `organisation,site,period_start,period_end,activity,quantity,unit`:
~30 organisations with ODS-like codes, 1 to 5 sites each, calendar-month periods from April 2023
to March 2025 (financial years 2023/24 and 2024/25, so no period crosses 31 March), 40 activity
names, positive quantities with 0 to 3 decimals, and each row's unit exactly the unit of its
activity's factor.

The factor file has the header `edition,activity,unit,scope,category,kgco2e` with one factor per
activity in each of two editions, `bench-2023` and `bench-2024`. greenplan reads the year from the
end of an edition's name and picks, for each row, the edition of the financial year its period
starts in (2023/24 -> bench-2023, 2024/25 -> bench-2024), so both editions are exercised.
"""

import argparse
import calendar
import os
import random
import sys

# ~30 organisations: NHS trust codes (3 characters), an ICB, two GP practices (6 characters)
# and a partner without an ODS code (a slug), as plans give them.
ORGANISATIONS = [
    "RTG", "RFS", "RY8", "RXM", "RX9", "QJ2", "RX1", "RK5", "RHA", "RWD",
    "RWE", "RNQ", "RNS", "RJE", "RRK", "RHM", "RTH", "RGT", "RJ1", "RYJ",
    "R0A", "RM1", "RWA", "RCB", "RHQ", "RFR", "RP5", "C81001", "C81002", "DERBY-CC",
]

SITE_NAMES = [
    "Main Hospital", "Community Hospital", "Outpatients Centre", "Estates Depot",
    "Headquarters", "Mental Health Unit", "Treatment Centre", "Ambulance Station",
    "Health Centre", "Pathology Hub",
]

# (activity, unit, scope, category, kgCO2e per unit in the 2023 edition, typical monthly
#  quantity (low, high) for one site, relative frequency, decimals the quantity is given with)
ACTIVITIES = [
    # Scope 1
    ("natural-gas", "kWh", "1", "building-energy", "0.18293", (20000, 2500000), 12, 0),
    ("gas-oil", "litres", "1", "building-energy", "2.75857", (50, 20000), 2, 1),
    ("burning-oil", "litres", "1", "building-energy", "2.54015", (50, 8000), 1, 1),
    ("lpg", "litres", "1", "building-energy", "1.55713", (20, 3000), 1, 1),
    ("fleet-diesel", "litres", "1", "fleet-and-business-travel", "2.51279", (200, 60000), 6, 2),
    ("fleet-petrol", "litres", "1", "fleet-and-business-travel", "2.08440", (100, 15000), 3, 2),
    ("ambulance-diesel-km", "km", "1", "fleet-and-business-travel", "0.27368", (1000, 400000), 4, 1),
    ("desflurane", "ml", "1", "anaesthetic-gases", "3.714", (0, 4000), 2, 0),
    ("sevoflurane", "ml", "1", "anaesthetic-gases", "0.1976", (100, 20000), 3, 0),
    ("isoflurane", "ml", "1", "anaesthetic-gases", "0.765", (0, 3000), 1, 0),
    ("nitrous-oxide", "kg", "1", "anaesthetic-gases", "273", (5, 3000), 2, 3),
    ("entonox", "kg", "1", "anaesthetic-gases", "136.5", (5, 2000), 2, 3),
    ("refrigerant-r410a", "kg", "1", "refrigerants", "2088", (0, 40), 1, 3),
    ("refrigerant-r134a", "kg", "1", "refrigerants", "1430", (0, 30), 1, 3),
    ("refrigerant-r32", "kg", "1", "refrigerants", "675", (0, 25), 1, 3),
    ("mdi-salbutamol", "count", "1", "inhalers", "28.04", (10, 20000), 3, 0),
    ("mdi-beclometasone", "count", "1", "inhalers", "19.57", (10, 8000), 2, 0),
    # Scope 2
    ("grid-electricity", "kWh", "2", "building-energy", "0.207074", (10000, 1800000), 14, 0),
    ("heat-network", "kWh", "2", "building-energy", "0.170023", (5000, 600000), 2, 0),
    ("ev-charging", "kWh", "2", "fleet-and-business-travel", "0.207074", (100, 40000), 3, 3),
    # Scope 3
    ("electricity-td-losses", "kWh", "3", "building-energy", "0.01792", (10000, 1800000), 6, 0),
    ("wtt-natural-gas", "kWh", "3", "building-energy", "0.030645", (20000, 2500000), 4, 0),
    ("wtt-electricity", "kWh", "3", "building-energy", "0.045846", (10000, 1800000), 4, 0),
    ("water-supply", "m3", "3", "water", "0.1913", (100, 60000), 6, 3),
    ("water-treatment", "m3", "3", "water", "0.17078", (100, 55000), 5, 3),
    ("waste-landfill", "tonnes", "3", "waste", "467.04153", (0, 40), 3, 3),
    ("waste-combustion", "tonnes", "3", "waste", "21.280525", (0, 120), 4, 3),
    ("waste-recycling", "tonnes", "3", "waste", "21.280525", (0, 150), 4, 3),
    ("clinical-waste-incineration", "tonnes", "3", "waste", "1074.4", (0, 60), 3, 3),
    ("business-car", "miles", "3", "fleet-and-business-travel", "0.27143", (500, 90000), 5, 1),
    ("rail", "passenger.km", "3", "fleet-and-business-travel", "0.035463", (200, 80000), 3, 1),
    ("hotel-uk", "room nights", "3", "fleet-and-business-travel", "10.4", (1, 400), 2, 0),
    ("staff-commuting-car", "km", "3", "staff-commuting", "0.16844", (10000, 2000000), 3, 0),
    ("homeworking", "FTE hours", "3", "staff-commuting", "0.33378", (1000, 300000), 2, 0),
    ("patient-travel-car", "miles", "3", "patient-and-visitor-travel", "0.27143", (5000, 900000), 3, 0),
    ("pharmaceuticals", "GBP", "3", "medicines-and-chemicals", "0.1587", (1000, 5000000), 5, 2),
    ("medical-devices", "GBP", "3", "medical-equipment", "0.2106", (1000, 3000000), 4, 2),
    ("office-supplies", "GBP", "3", "non-medical-equipment", "0.3315", (100, 200000), 3, 2),
    ("business-services", "GBP", "3", "business-services", "0.1242", (500, 1500000), 3, 2),
    ("construction", "GBP", "3", "construction", "0.2787", (0, 4000000), 2, 2),
    ("road-freight", "tonne.km", "3", "freight", "0.107039", (100, 300000), 3, 1),
    ("catering-food", "GBP", "3", "food-and-catering", "0.4415", (500, 600000), 3, 2),
    ("ict-equipment", "GBP", "3", "ict", "0.3019", (200, 800000), 3, 2),
    ("commissioned-services", "GBP", "3", "commissioned-health-services", "0.1468", (1000, 9000000), 2, 2),
]

EDITIONS = [("bench-2023", 2023), ("bench-2024", 2024)]

HEADER_ACTIVITY = "organisation,site,period_start,period_end,activity,quantity,unit\n"
HEADER_FACTORS = "edition,activity,unit,scope,category,kgco2e\n"


def months():
    """(period_start, period_end) of every month of financial years 2023/24 and 2024/25."""
    out = []
    for fy in (2023, 2024):
        for i in range(12):
            y, m = (fy, 4 + i) if i < 9 else (fy + 1, i - 8)
            last = calendar.monthrange(y, m)[1]
            out.append((f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{last:02d}"))
    return out


def fmt_decimal(value, places):
    """`value` rounded to `places` decimals, trailing zeros trimmed (never exponent notation)."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def factor_rows(rng):
    rows = []
    for name, unit, scope, category, base, *_ in ACTIVITIES:
        base_value = float(base)
        for edition, year in EDITIONS:
            if year == 2023:
                value = base
            else:
                # The next year's factor moves a little, given to 9 decimals at most (a DECIMAL(18,9)).
                value = fmt_decimal(base_value * rng.uniform(0.90, 1.04), 9 if base_value < 10 else 4)
            rows.append(f"{edition},{name},{unit},{scope},{category},{value}\n")
    return rows


def write_activity(path, rows, rng):
    periods = months()
    sites = {}
    for org in ORGANISATIONS:
        n = rng.randint(1, 5)
        sites[org] = [f"{org} {s}" for s in rng.sample(SITE_NAMES, n)]
    org_sites = [(org, s) for org in ORGANISATIONS for s in sites[org]]
    # Larger organisations report more rows: weight each organisation.
    org_weight = {org: rng.uniform(0.3, 3.0) for org in ORGANISATIONS}
    site_weights = [org_weight[o] / len(sites[o]) for o, _ in org_sites]

    acts = [(a[0], a[1], a[5], a[7]) for a in ACTIVITIES]
    act_weights = [a[6] for a in ACTIVITIES]

    # Draw in bulk (faster than one call per field per row).
    chunk = 100_000
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER_ACTIVITY)
        done = 0
        while done < rows:
            n = min(chunk, rows - done)
            site_pick = rng.choices(org_sites, weights=site_weights, k=n)
            act_pick = rng.choices(acts, weights=act_weights, k=n)
            out = []
            for (org, site), (name, unit, (lo, hi), places) in zip(site_pick, act_pick):
                start, end = periods[rng.randrange(24)]
                # Skewed towards the low end, as real bills are.
                q = lo + (hi - lo) * (rng.random() ** 2)
                p = rng.randint(0, places)
                out.append(f"{org},{site},{start},{end},{name},{fmt_decimal(q, p)},{unit}\n")
            f.write("".join(out))
            done += n
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--activity", required=True, help="activity CSV to write")
    ap.add_argument("--factors", required=True, help="custom factor CSV to write")
    args = ap.parse_args()
    if args.rows < 1:
        sys.exit("--rows must be at least 1")

    rng = random.Random(args.seed)
    frows = factor_rows(rng)
    tmp = args.factors + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER_FACTORS)
        f.writelines(frows)
    os.replace(tmp, args.factors)
    write_activity(args.activity, args.rows, random.Random(args.seed * 1_000_003 + args.rows))
    print(
        f"wrote {args.activity} ({args.rows:,} rows) and {args.factors} "
        f"({len(frows)} factors, editions {', '.join(e for e, _ in EDITIONS)})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()

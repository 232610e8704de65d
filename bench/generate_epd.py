#!/usr/bin/env python3
"""Generates an English Prescribing Dataset (EPD) month in NHSBSA's CSV layout, for the
prescribing benchmark.

    python3 bench/generate_epd.py --rows 2000000 --seed 42 --factors data/inhalers/inhaler-products.csv > epd.csv

Standard library only, seeded: the same arguments give byte-identical files. The mix is like a
real month: about 7% of rows are inhalers (from the factor CSV, salbutamol the most common, a
few given in doses), a few are inhalers missing from the table or other respiratory products
(nebules, tablets), the rest are other chapters. 12 ICBs, 4 sub-ICB locations each, 1,500
practices. Every column of the 2023+ layout is written; SNOMED_CODE is an 18-digit string.
"""

import argparse
import csv
import random
import sys

HEADER = (
    "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,PCO_NAME,PCO_CODE,"
    "PRACTICE_NAME,PRACTICE_CODE,ADDRESS_1,ADDRESS_2,ADDRESS_3,ADDRESS_4,POSTCODE,"
    "BNF_CHEMICAL_SUBSTANCE,CHEMICAL_SUBSTANCE_BNF_DESCR,BNF_CODE,BNF_DESCRIPTION,"
    "BNF_CHAPTER_PLUS_CODE,QUANTITY,ITEMS,TOTAL_QUANTITY,ADQUSAGE,NIC,ACTUAL_COST,UNIDENTIFIED,"
    "SNOMED_CODE"
)

# Inhalers the table does not have (reported by greenplan, left out by both tools).
UNKNOWN_INHALERS = [
    ("0301011U0AAAAAA", "Salmeterol 25micrograms/dose inhaler CFC free"),
    ("0301020Q0AAAAAA", "Tiotropium 18microgram inhalation powder capsules"),
]
OTHER_RESPIRATORY = [
    ("0301011R0AAAAAA", "Salbutamol 2.5mg/2.5ml nebuliser liquid unit dose vials"),
    ("0303020G0AAAAAA", "Montelukast 10mg tablets"),
    ("0304010G0AAAAAA", "Cetirizine 10mg tablets"),
]
CHAPTERS = [
    ("01", "Gastro-Intestinal System"), ("02", "Cardiovascular System"),
    ("04", "Central Nervous System"), ("05", "Infections"), ("06", "Endocrine System"),
    ("07", "Obstetrics and Gynaecology"), ("09", "Nutrition And Blood"), ("10", "Musculoskeletal"),
    ("13", "Skin"), ("21", "Appliances"),
]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def inhaler_products(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [(r["bnf_code"], r["description"], r["doses_per_inhaler"]) for r in rows]


def other_products(rng, n=400):
    out = []
    for i in range(n):
        ch, name = rng.choice(CHAPTERS)
        code = f"{ch}{rng.randint(1, 9):02d}{rng.randint(10, 99)}{rng.choice(LETTERS)}0AAA{rng.choice(LETTERS)}A{rng.choice(LETTERS)}"
        code = code[:15].ljust(15, "A")
        out.append((code, f"Product {i} {rng.choice([10, 20, 40, 100, 500])}mg tablets", f"{ch}: {name}"))
    return out


def organisations(rng):
    icbs = []
    practices = []
    for i in range(12):
        icb = f"Q{LETTERS[i]}{rng.randint(1, 9)}"
        icb_name = f"NHS {LETTERS[i]}SHIRE INTEGRATED CARE BOARD"
        for j in range(4):
            pco = f"{rng.randint(10, 99)}{LETTERS[(i * 4 + j) % 26]}"
            pco_name = f"NHS {LETTERS[i]}SHIRE ICB - {pco}"
            icbs.append((icb, icb_name, pco, pco_name))
    for k in range(1500):
        icb, icb_name, pco, pco_name = icbs[k % len(icbs)]
        code = f"{LETTERS[k % 26]}{81000 + k:05d}"
        practices.append(
            f"MIDLANDS,Y60,{icb_name},{icb},{pco_name},{pco},THE {code} SURGERY,{code},"
            f"{k} HIGH STREET,TOWN {k % 97},COUNTY,,DE{k % 99} {k % 9}AA"
        )
    return practices


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--factors", required=True, help="the inhaler product CSV")
    ap.add_argument("--month", default="202504")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    inhalers = inhaler_products(args.factors)
    # Salbutamol is prescribed most: weight its presentations up.
    weights = [12 if code.startswith("0301011R0") else 1 for code, _, _ in inhalers]
    others = other_products(rng)
    practices = organisations(rng)
    out = sys.stdout
    out.write(HEADER + "\n")
    month = args.month
    buf = []
    for _ in range(args.rows):
        practice = rng.choice(practices)
        r = rng.random()
        if r < 0.07:
            code, descr, doses = rng.choices(inhalers, weights)[0]
            items = rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 9, 14, 25])
            q = rng.random()
            if q < 0.05 and doses:
                quantity = rng.choice([int(doses), 2 * int(doses), rng.randint(10, 400)])
            elif q < 0.2:
                quantity = rng.choice([2, 3])
            else:
                quantity = 1
            chapter = "03: Respiratory System"
        elif r < 0.073:
            code, descr = rng.choice(UNKNOWN_INHALERS)
            items, quantity, chapter = rng.randint(1, 5), 1, "03: Respiratory System"
        elif r < 0.09:
            code, descr = rng.choice(OTHER_RESPIRATORY)
            items, quantity, chapter = rng.randint(1, 10), rng.choice([20, 28, 56]), "03: Respiratory System"
        else:
            code, descr, chapter = rng.choice(others)
            items, quantity = rng.randint(1, 40), rng.choice([7, 14, 28, 56, 84, 100])
        total = quantity * items
        nic = round(items * rng.uniform(0.5, 30), 2)
        buf.append(
            f"{month},{practice},{code[:9]},Substance {code[:9]},{code},{descr},{chapter},"
            f"{quantity},{items},{total},{round(total * 0.5, 1)},{nic},{round(nic * 0.93, 4)},false,"
            f"{rng.randint(10**17, 10**18 - 1)}\n"
        )
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()

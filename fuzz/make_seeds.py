#!/usr/bin/env python3
"""Builds the fuzzers' seed corpora (fuzz/corpus/TARGET) from the repository's own small
fixtures, a few hand-written lines, and — copied at run time, never committed — the official
GHG conversion factor flat files when present (GREENPLAN_FACTOR_FILES, default
/work/shared/data/ghg-conversion-factors). Standard library only."""
import gzip, io, os, shutil, sys, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FACTORS = os.environ.get("GREENPLAN_FACTOR_FILES", "/work/shared/data/ghg-conversion-factors")


def seed(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def repo(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def xlsx(rows):
    """A minimal workbook of one sheet of inline strings (what calamine reads)."""
    def cell(ref, v):
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"><v>{v}</v></c>'
        v = str(v).replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'
    body = "".join(
        f'<row r="{i + 1}">' + "".join(cell(f"{chr(65 + j)}{i + 1}", v) for j, v in enumerate(r)) + "</row>"
        for i, r in enumerate(rows))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>')
    return out.getvalue()


ACTIVITY = [
    ["organisation", "site", "period_start", "period_end", "activity", "quantity", "unit", "notes", "category"],
    ["RTG", "", "2024-04-01", "2024-06-30", "natural-gas", "191250", "kWh", "quarter", ""],
    ["RTG", "Royal Derby", "2024-07-01", "2024-07-31", "grid-electricity", "95.6", "MWh", "", ""],
    ["RFS", "", "2024-04-01", "2025-03-31", "widget", "-2", "count", "correction", "medical-equipment"],
]
GAS = [
    ["organisation", "month", "agent", "quantity", "unit", "supply", "basis"],
    ["RTG", "2025-04", "desflurane", "100", "ml", "", ""],
    ["RTG", "2025-04", "nitrous-oxide", "3", "cylinder-J", "piped", "purchased"],
]


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    seed("plan_file", "jucd", repo("data/plans/jucd-2025-28.toml"))
    seed("plan_file", "small", '[plan]\nname = "x"\n')
    seed("custom_factors", "tariff", "edition,activity,unit,scope,category,kgco2e,source\nuk-2023,edf-nuclear-tariff,kWh,2,building-energy,0,Supplier\n")
    seed("custom_factors", "gases", "edition,activity,unit,scope,category,kgco2e,kgco2,kgch4,kgn2o\nt-2019,boiler-gas,kWh,1,building-energy,1,0.9,0.05,0.05\nt-2019,supplies,GBP,3,non-medical-equipment,0.5,,,\n")
    seed("activity_csv", "illustrative", repo("tests/reports/illustrative-activity.csv"))
    seed("activity_csv", "small", "\r\n".join(",".join(r) for r in ACTIVITY) + "\r\n")
    seed("activity_csv", "quoted", 'organisation,site,period_start,period_end,activity,quantity,unit\nRTG,"Site, with ""quotes""",2024-04-01,2024-04-30,water,"1,200",m3\n')
    seed("activity_xlsx", "small", xlsx(ACTIVITY))
    seed("activity_xlsx", "numbers", xlsx([ACTIVITY[0], ["RTG", "", 45383, 45473, "natural-gas", 191250.5, "kWh", "", ""]]))
    epd = repo("tests/browser/fixtures/epd-sample.csv")
    seed("prescribing_epd", "csv", b"\x00" + epd)
    seed("prescribing_epd", "gz", b"\x01" + gzip.compress(epd))
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr("EPD_202504.csv", epd)
    seed("prescribing_epd", "zip", b"\x02" + z.getvalue())
    seed("gas_returns", "csv", b"\x00" + "\n".join(",".join(r) for r in GAS).encode() + b"\n")
    seed("gas_returns", "xlsx", b"\x01" + xlsx(GAS))
    seed("pathway_scenario", "falls", repo("data/pathways/team-up-falls.toml"))
    seed("care_activities", "library", repo("data/care-activities.csv"))
    forms = [
        "csrf_token=t&title=Patient+portal&leads=Digital%0D%0AEstates&lead_organisations=RTG&lead_organisations=RFS&delivery=Q4+2026%2F27&success_measure=Live",
        "csrf_token=t&name=Inhaler+carbon&unit=tCO2e&direction=lower-is-better&baseline_period=2019%2F20&baseline_value=1%2C234.5&targets=50%25+reduction+by+2028%2F29",
        "csrf_token=t&status=on-track&note=Boilers+replaced&evidence_url=https%3A%2F%2Fexample.org&revised_due=Q4+2026%2F27",
        "csrf_token=t&organisation=RTG&period=Q3+2025%2F26&value=12.5&note=metered",
        "csrf_token=t&name=Workforce&why=People",
        "code=RXX&name=New+trust&kind=acute", "reason=merged&archived=yes",
        "email=a%40b.nhs.uk&name=A&organisation=RTG&role=contributor", "email=a%40b.nhs.uk&organisation=RTG&role=viewer",
        "email=a%40b.nhs.uk&disabled=yes", "quarter=Q3+2025%2F26&due_on=2026-01-31", "id=1",
        "csrf_token=t&upload=abc&period=Q3+2025%2F26", "kind=annual&period=2025%2F26",
        "email=a%40b.nhs.uk&password=secret", "current=a&new=b&confirm=b", "csrf_token=t",
        '{"status":"on-track","note":"n","evidence_url":null,"revised_due":"2026/27"}',
        '{"organisation":"RTG","period":"2025-12","value":"1.5","note":null}',
        "a=2025%2F26&b=Q3+2025%2F26&c=By+March+2027&d=-1%2C000.25&e=RTG&f=50%25+reduction+by+2028%2F29",
    ]
    for i, body in enumerate(forms):
        seed("web_forms", f"form{i}", bytes([i]) + body.encode())
    for i, q in enumerate(["area=digital&status=at-risk&q=boiler", "year=2025%2F26&measure=mdi-share", "period=Q3+2025%2F26", "format=pdf&as_at=2026-01-01"]):
        seed("web_queries", f"query{i}", bytes([i]) + q.encode())
    # The official factor files are large and licensed separately: copied in now, never committed.
    if os.path.isdir(FACTORS):
        for name in sorted(os.listdir(FACTORS)):
            target = "factor_xlsx" if name.endswith(".xlsx") else "factor_xls" if name.endswith(".xls") else None
            if target:
                os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
                shutil.copy(os.path.join(FACTORS, name), os.path.join(CORPUS, target, name))
    else:
        print(f"note: {FACTORS} not found; the factor fuzzers start from small workbooks only", file=sys.stderr)
    seed("factor_xlsx", "small", xlsx([["Scope", "Level 1", "Level 2", "Level 3", "Level 4", "Column Text", "UOM", "GHG/Unit", "GHG Conversion Factor 2025"], ["Scope 1", "Fuels", "Gaseous fuels", "Natural gas", "", "Gross CV", "kWh", "kg CO2e", 0.18296]]))


if __name__ == "__main__":
    main()

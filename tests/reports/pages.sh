#!/usr/bin/env bash
# Page images of the annual Board report and the quarterly pack for the built-in plan, kept
# as CI artefacts (artifacts/report-pages/) so a person can look at the typesetting.
# The activity data is illustrative (tests/reports/illustrative-activity.csv), not real
# returns. Needs pdftoppm (Debian poppler-utils) and the factor files in ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=artifacts/report-pages
factors="${GREENPLAN_FACTORS_DIR:-../shared/data/ghg-conversion-factors}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out" && mkdir -p "$out"

cargo build -q -p greenplan
gp() { target/debug/greenplan --db "$work/greenplan.db" "$@"; }

gp init --factors "$factors" >/dev/null
gp activity import tests/reports/illustrative-activity.csv >/dev/null
gp report annual --year 2025/26 --out "$out/annual-2025-26.pdf"
gp report quarterly --period "Q3 2025/26" --out "$out/quarterly-Q3-2025-26.pdf"
gp report annual --year 2025/26 --out "$out/annual-2025-26.xlsx"
gp report annual --year 2025/26 --out "$out/annual-2025-26.html"

pdftoppm -r 70 -png "$out/annual-2025-26.pdf" "$out/annual"
pdftoppm -r 70 -png -f 1 -l 4 "$out/quarterly-Q3-2025-26.pdf" "$out/quarterly"
echo "Report page images: $(ls "$out"/*.png | wc -l) in $out"

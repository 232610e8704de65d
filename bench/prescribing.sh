#!/usr/bin/env bash
# The prescribing benchmark: inhaler measures (ICB and practice level) of a generated English
# Prescribing Dataset month, by greenplan (`prescribing measures --from-file`) and by DuckDB
# over the same CSV and the same inhaler factor CSV; then a national-size file through
# greenplan alone.
#
#   bench/prescribing.sh [ROWS]        # ROWS defaults to 2000000
#
# Environment (all optional):
#   SEED=42            generator seed (same ROWS + SEED -> byte-identical files)
#   REPEAT=3           runs of each comparison; the median time and the highest peak are reported
#   NATIONAL_ROWS=17000000   rows of the national-size file (0: skip that part)
#   CARGO_TARGET_DIR   where cargo puts the release binary (default: <repo>/target)
#   GREENPLAN_BIN      a greenplan binary to use instead of building one
#
# Everything goes to bench-data/ (git-ignored); the summary is printed and written to
# bench-data/prescribing-results.txt. See bench/README.md.
set -euo pipefail

ROWS="${1:-2000000}"
if ! [[ "$ROWS" =~ ^[0-9]+$ ]] || [ "$ROWS" -lt 1 ]; then
    echo "usage: $0 [ROWS]   (ROWS: a positive whole number, default 2000000)" >&2
    exit 2
fi
SEED="${SEED:-42}"
REPEAT="${REPEAT:-3}"
NATIONAL_ROWS="${NATIONAL_ROWS:-17000000}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
DATA="$ROOT/bench-data"
RUN="$DATA/prescribing-$ROWS"
mkdir -p "$DATA" "$RUN"
PY="${PYTHON:-python3}"
FACT="$ROOT/data/inhalers/inhaler-products.csv"

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (for peak RSS)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y time >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y time >/dev/null; }
fi
/usr/bin/time -v true 2>/dev/null || die "/usr/bin/time -v does not work: install GNU time"
command -v "$PY" >/dev/null || die "python3 is needed"
if ! "$PY" -c 'import duckdb' 2>/dev/null; then
    log "installing the duckdb Python package"
    "$PY" -m pip install --quiet duckdb
fi

if [ -n "${GREENPLAN_BIN:-}" ]; then
    GP="$GREENPLAN_BIN"
else
    log "building greenplan (release)"
    (cd "$ROOT" && cargo build --release -p greenplan)
    GP="${CARGO_TARGET_DIR:-$ROOT/target}/release/greenplan"
fi
[ -x "$GP" ] || die "no binary at $GP"

# Data, regenerated only when missing (the name carries rows, seed and the generator's hash).
GEN_HASH="$(cat "$BENCH/generate_epd.py" "$FACT" | sha1sum | cut -c1-8)"
EPD="$DATA/epd-$ROWS-s$SEED-$GEN_HASH.csv"
if [ ! -s "$EPD" ]; then
    log "generating $ROWS EPD rows (seed $SEED)"
    "$PY" "$BENCH/generate_epd.py" --rows "$ROWS" --seed "$SEED" --factors "$FACT" >"$EPD.tmp"
    mv "$EPD.tmp" "$EPD"
fi
EPD_MB="$(awk -v b="$(stat -c %s "$EPD")" 'BEGIN{printf "%.1f", b/1048576}')"
cat "$EPD" >/dev/null

declare -A SEC MB CPU
now() { date +%s.%N; }
timed() { # NAME STDOUT_FILE CMD...
    local name="$1" out="$2"; shift 2
    local tf="$RUN/$name.time" t0 t1
    t0="$(now)"
    if ! /usr/bin/time -v -o "$tf" "$@" >"$out" 2>"$RUN/$name.stderr"; then
        echo "FAILED: $name: $*" >&2
        tail -n 30 "$RUN/$name.stderr" >&2
        exit 1
    fi
    t1="$(now)"
    SEC[$name]="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')"
    MB[$name]="$(awk '/Maximum resident set size/{printf "%.1f", $NF/1024}' "$tf")"
    CPU[$name]="$(awk '/User time \(seconds\)|System time \(seconds\)/{s+=$NF} END{printf "%.2f", s}' "$tf")"
    printf '   %-24s %8ss wall %7ss cpu %8s MB\n' "$name" "${SEC[$name]}" "${CPU[$name]}" "${MB[$name]}" >&2
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "%.3f\n", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN{ if (b > 0) printf f, a/b; else print "n/a" }'; }

# ---------------------------------------------------------------------------------------------
# (a) greenplan vs DuckDB on the same files
# ---------------------------------------------------------------------------------------------
log "(a) ICB and practice measures of $ROWS rows, $REPEAT run(s) each"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
GP_S=(); GP_M=(); GP_C=(); DK_S=(); DK_M=(); DK_C=(); DK_Q=()
for i in $(seq 1 "$REPEAT"); do
    rm -f "$RUN"/empty.db*
    timed "greenplan-$i" "$RUN/out_greenplan.csv" \
        "$GP" --db "$RUN/empty.db" prescribing measures --from-file "$EPD" --inhaler-factors "$FACT" --level icb,practice --format csv
    GP_S+=("${SEC[greenplan-$i]}"); GP_M+=("${MB[greenplan-$i]}"); GP_C+=("${CPU[greenplan-$i]}")
    timed "duckdb-$i" "$RUN/out_duckdb.csv" "$PY" "$BENCH/duckdb_prescribing.py" "$EPD" "$FACT"
    DK_S+=("${SEC[duckdb-$i]}"); DK_M+=("${MB[duckdb-$i]}"); DK_C+=("${CPU[duckdb-$i]}")
    DK_Q+=("$(sed -n 's/^query_s=//p' "$RUN/duckdb-$i.stderr")")
done
rm -f "$RUN"/empty.db*
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
GP_SEC="$(median "${GP_S[@]}")"; GP_MB="$(maxof "${GP_M[@]}")"; GP_CPU="$(median "${GP_C[@]}")"
DK_SEC="$(median "${DK_S[@]}")"; DK_MB="$(maxof "${DK_M[@]}")"; DK_CPU="$(median "${DK_C[@]}")"
DK_QSEC="$(median "${DK_Q[@]}")"
DK_THREADS="$(sed -n 's/^threads=//p' "$RUN/duckdb-1.stderr")"
DK_VERSION="$(sed -n 's/^duckdb=//p' "$RUN/duckdb-1.stderr")"
if cmp -s "$RUN/out_greenplan.csv" "$RUN/out_duckdb.csv"; then
    SAME="identical ($(($(wc -l <"$RUN/out_greenplan.csv") - 1)) lines)"; FAIL=0
else
    SAME="DIFFERENT (see $RUN/out_greenplan.csv and out_duckdb.csv)"; FAIL=1
    diff "$RUN/out_greenplan.csv" "$RUN/out_duckdb.csv" | head -n 20 >&2 || true
fi

# ---------------------------------------------------------------------------------------------
# (b) a national-size month: the same rows repeated to NATIONAL_ROWS, greenplan alone
# ---------------------------------------------------------------------------------------------
NAT_LINE=""
if [ "$NATIONAL_ROWS" -gt 0 ]; then
    NAT="$DATA/epd-national-$NATIONAL_ROWS-s$SEED-$GEN_HASH.csv"
    if [ ! -s "$NAT" ]; then
        log "building a $NATIONAL_ROWS-row file from copies of the $ROWS-row one"
        {
            head -n 1 "$EPD"
            left="$NATIONAL_ROWS"
            while [ "$left" -gt 0 ]; do
                n=$(( left < ROWS ? left : ROWS ))
                # awk rather than `tail | head`, whose early close would end the script
                # (SIGPIPE under pipefail).
                awk -v n="$n" 'NR > 1 && NR <= n + 1' "$EPD"
                left=$(( left - n ))
            done
        } >"$NAT.tmp"
        mv "$NAT.tmp" "$NAT"
    fi
    NAT_MB="$(awk -v b="$(stat -c %s "$NAT")" 'BEGIN{printf "%.0f", b/1048576}')"
    log "(b) national-size file: $NATIONAL_ROWS rows, $NAT_MB MB"
    rm -f "$RUN"/empty.db*
    timed "greenplan-national" "$RUN/out_national.csv" \
        "$GP" --db "$RUN/empty.db" prescribing measures --from-file "$NAT" --inhaler-factors "$FACT" --level icb,practice --format csv
    rm -f "$RUN"/empty.db*
    NAT_LINE="$(printf '  %-34s %9s %9s %9s   %s rows/s (%s MB read)' "greenplan, $NATIONAL_ROWS rows" \
        "${SEC[greenplan-national]}" "${CPU[greenplan-national]}" "${MB[greenplan-national]}" \
        "$(div "$NATIONAL_ROWS" "${SEC[greenplan-national]}" "%.0f")" "$NAT_MB")"
fi

COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
{
    echo "greenplan prescribing benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  greenplan commit $COMMIT; $(nproc) cores ($CPU_MODEL); duckdb $DK_VERSION ($DK_THREADS threads)"
    echo "  data: $ROWS EPD rows ($EPD_MB MB, seed $SEED), factors $(($(wc -l <"$FACT") - 1)) inhaler products"
    echo
    echo "(a) measures at ICB and practice level straight from the CSV (median of $REPEAT runs, highest peak)"
    printf '  %-34s %9s %9s %9s\n' "tool" "seconds" "cpu s" "peak MB"
    printf '  %-34s %9s %9s %9s\n' "greenplan prescribing measures" "$GP_SEC" "$GP_CPU" "$GP_MB"
    printf '  %-34s %9s %9s %9s\n' "duckdb (python, wall clock)" "$DK_SEC" "$DK_CPU" "$DK_MB"
    printf '  %-34s %9s\n' "  of which the SQL query alone" "$DK_QSEC"
    printf '  %-34s %9s %9s %9s\n' "ratio greenplan / duckdb" "$(div "$GP_SEC" "$DK_SEC")" "$(div "$GP_CPU" "$DK_CPU")" "$(div "$GP_MB" "$DK_MB")"
    printf '  %-34s %9s rows/s\n' "greenplan throughput" "$(div "$ROWS" "$GP_SEC" "%.0f")"
    echo "  load average before/after: $LOAD_BEFORE / $LOAD_AFTER"
    echo "  outputs: $SAME"
    if [ -n "$NAT_LINE" ]; then
        echo
        echo "(b) a national-size month (the rows above repeated), greenplan alone, one run"
        printf '  %-34s %9s %9s %9s\n' "" "seconds" "cpu s" "peak MB"
        echo "$NAT_LINE"
    fi
    echo
    echo "checks"
    awk -v g="$GP_SEC" -v d="$DK_SEC" 'BEGIN{ if (g > d) printf "  !! greenplan is slower than DuckDB: %.2fs vs %.2fs\n", g, d; else printf "  ok greenplan is not slower than DuckDB (%.2fs vs %.2fs)\n", g, d }'
    awk -v m="$GP_MB" 'BEGIN{ if (m >= 200) printf "  !! greenplan peak RSS %.1f MB is not under 200 MB\n", m; else printf "  ok greenplan peak RSS %.1f MB is under 200 MB\n", m }'
    [ "$FAIL" = 0 ] && echo "  ok the two outputs are identical" || echo "  !! the outputs differ"
    echo
    echo "  outputs, timings and stderr of every step: $RUN"
} | tee "$DATA/prescribing-results.txt"
exit "$FAIL"

#!/usr/bin/env bash
# The footprint benchmark: greenplan against DuckDB on the same generated activity file, then
# imports into SQLite and PostgreSQL and the footprint of the stored rows.
#
#   bench/footprint.sh [ROWS]          # ROWS defaults to 1000000
#
# Environment (all optional):
#   SEED=42          generator seed (same ROWS + SEED -> byte-identical files)
#   REPEAT=3         runs of each part-(a) measurement; the median time and the highest peak are reported
#   SKIP_IMPORT=1    skip part (b) entirely
#   SKIP_PG=1        skip the PostgreSQL half of part (b)
#   PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres PG_DB=gp_bench
#   CARGO_TARGET_DIR where cargo puts the release binary (default: <repo>/target)
#
# Everything goes to bench-data/ (git-ignored); the summary is printed and written to
# bench-data/results.txt. See bench/README.md.
set -euo pipefail

ROWS="${1:-1000000}"
if ! [[ "$ROWS" =~ ^[0-9]+$ ]] || [ "$ROWS" -lt 1 ]; then
    echo "usage: $0 [ROWS]   (ROWS: a positive whole number, default 1000000)" >&2
    exit 2
fi
SEED="${SEED:-42}"
REPEAT="${REPEAT:-3}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
PG_DB="${PG_DB:-gp_bench}"
BY="organisation,scope,category"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
DATA="$ROOT/bench-data"
RUN="$DATA/run-$ROWS"
mkdir -p "$DATA" "$RUN"
PY="${PYTHON:-python3}"

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
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

log "building greenplan (release)"
(cd "$ROOT" && cargo build --release -p greenplan)
GP="${CARGO_TARGET_DIR:-$ROOT/target}/release/greenplan"
[ -x "$GP" ] || die "no binary at $GP"

# ---------------------------------------------------------------------------------------------
# Data: regenerated only when missing (the name carries rows, seed and the generator's hash)
# ---------------------------------------------------------------------------------------------
GEN_HASH="$(sha1sum "$BENCH/generate.py" | cut -c1-8)"
ACT="$DATA/activity-$ROWS-s$SEED-$GEN_HASH.csv"
FACT="$DATA/factors-s$SEED-$GEN_HASH.csv"
if [ ! -s "$ACT" ] || [ ! -s "$FACT" ]; then
    log "generating $ROWS activity rows (seed $SEED)"
    "$PY" "$BENCH/generate.py" --rows "$ROWS" --seed "$SEED" --activity "$ACT" --factors "$FACT"
fi
ACT_MB="$(awk -v b="$(stat -c %s "$ACT")" 'BEGIN{printf "%.1f", b/1048576}')"
# Warm the page cache so neither tool pays for the first read from disk.
cat "$ACT" "$FACT" >/dev/null

# ---------------------------------------------------------------------------------------------
# Timing: wall seconds (clock around the command) and peak RSS (GNU time), per run
# ---------------------------------------------------------------------------------------------
declare -A SEC MB CPU
now() { date +%s.%N; }
# timed NAME STDOUT_FILE CMD...  -> SEC[NAME] (wall), CPU[NAME] (user+sys), MB[NAME] (peak RSS);
# stderr in $RUN/NAME.stderr
timed() {
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
    printf '   %-28s %8ss wall %7ss cpu %8s MB\n' "$name" "${SEC[$name]}" "${CPU[$name]}" "${MB[$name]}" >&2
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "%.3f\n", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN{ if (b > 0) printf f, a/b; else print "n/a" }'; }
# same NAME FILE_A FILE_B -> "identical (N lines)", or "DIFFERENT" and a diff of the first lines
# on stderr (called in $(...), so the verdict is read back from the text)
same() {
    if cmp -s "$2" "$3"; then
        echo "identical ($(($(wc -l <"$2") - 1)) lines)"
    else
        {
            echo "!! $1: $2 and $3 differ; first differences:"
            diff "$2" "$3" | head -n 20
        } >&2
        echo "DIFFERENT (see $(basename "$2") vs $(basename "$3"))"
    fi
}

# ---------------------------------------------------------------------------------------------
# (a) footprint straight from the files: greenplan --from vs DuckDB
# ---------------------------------------------------------------------------------------------
log "(a) footprint from the files, $REPEAT run(s) each"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
GP_S=(); GP_M=(); GP_C=(); DK_S=(); DK_M=(); DK_C=(); DK_Q=()
for i in $(seq 1 "$REPEAT"); do
    rm -f "$RUN"/empty.db*
    timed "greenplan-from-$i" "$RUN/out_greenplan.csv" \
        "$GP" --db "$RUN/empty.db" footprint --from "$ACT" --factors "$FACT" --by "$BY" --format csv
    GP_S+=("${SEC[greenplan-from-$i]}"); GP_M+=("${MB[greenplan-from-$i]}"); GP_C+=("${CPU[greenplan-from-$i]}")
    timed "duckdb-$i" "$RUN/out_duckdb.csv" "$PY" "$BENCH/duckdb_footprint.py" "$ACT" "$FACT"
    DK_S+=("${SEC[duckdb-$i]}"); DK_M+=("${MB[duckdb-$i]}"); DK_C+=("${CPU[duckdb-$i]}")
    DK_Q+=("$(sed -n 's/^query_s=//p' "$RUN/duckdb-$i.stderr")")
done
rm -f "$RUN"/empty.db*
GP_SEC="$(median "${GP_S[@]}")"; GP_MB="$(maxof "${GP_M[@]}")"; GP_CPU="$(median "${GP_C[@]}")"
DK_SEC="$(median "${DK_S[@]}")"; DK_MB="$(maxof "${DK_M[@]}")"; DK_CPU="$(median "${DK_C[@]}")"
DK_QSEC="$(median "${DK_Q[@]}")"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
DK_IMPORT="$(sed -n 's/^import_s=//p' "$RUN/duckdb-1.stderr")"
DK_THREADS="$(sed -n 's/^threads=//p' "$RUN/duckdb-1.stderr")"
DK_VERSION="$(sed -n 's/^duckdb=//p' "$RUN/duckdb-1.stderr")"
SAME_A="$(same "greenplan vs duckdb" "$RUN/out_greenplan.csv" "$RUN/out_duckdb.csv")"

# ---------------------------------------------------------------------------------------------
# (b) imports and the footprint of stored rows
# ---------------------------------------------------------------------------------------------
declare -A IMP_SEC IMP_MB IMP_CPU IMP_RPS FAC_SEC FP_SEC FP_MB FP_CPU FP_SAME DB_SIZE ONE_SEC AFTER_SEC
STORES=()
bench_store() { # LABEL DB_URL
    local label="$1" url="$2"
    STORES+=("$label")
    log "(b) $label: factors import, activity import, footprint of the stored rows"
    timed "$label-factors-import" /dev/null "$GP" --db "$url" factors import "$FACT"
    FAC_SEC[$label]="${SEC[$label-factors-import]}"
    timed "$label-activity-import" "$RUN/$label-import-summary.txt" "$GP" --db "$url" activity import "$ACT"
    IMP_SEC[$label]="${SEC[$label-activity-import]}"; IMP_MB[$label]="${MB[$label-activity-import]}"
    IMP_CPU[$label]="${CPU[$label-activity-import]}"
    IMP_RPS[$label]="$(div "$ROWS" "${IMP_SEC[$label]}" "%.0f")"
    timed "$label-footprint" "$RUN/out_$label.csv" "$GP" --db "$url" footprint --by "$BY" --format csv
    FP_SEC[$label]="${SEC[$label-footprint]}"; FP_MB[$label]="${MB[$label-footprint]}"; FP_CPU[$label]="${CPU[$label-footprint]}"
    FP_SAME[$label]="$(same "$label stored vs --from" "$RUN/out_greenplan.csv" "$RUN/out_$label.csv")"
    # A return of one row arrives: the footprint after it (what the dashboard, the API and the
    # reports compute again after every write) must not pay for the million rows again.
    awk -F, -v OFS=, 'NR == 1 { print } NR == 2 { $6 = "1"; print; exit }' "$ACT" > "$RUN/one-row.csv"
    timed "$label-one-row-import" /dev/null "$GP" --db "$url" activity import "$RUN/one-row.csv"
    ONE_SEC[$label]="${SEC[$label-one-row-import]}"
    timed "$label-footprint-after" "$RUN/out_$label-after.csv" "$GP" --db "$url" footprint --by "$BY" --format csv
    AFTER_SEC[$label]="${SEC[$label-footprint-after]}"
}

PG_NOTE=""
if [ "${SKIP_IMPORT:-0}" != 1 ]; then
    SQLITE_DB="$RUN/store.db"
    rm -f "$SQLITE_DB" "$SQLITE_DB-wal" "$SQLITE_DB-shm"
    bench_store sqlite "$SQLITE_DB"
    DB_SIZE[sqlite]="$(du -cm "$SQLITE_DB"* | awk 'END{print $1 " MB"}')"
    rm -f "$SQLITE_DB" "$SQLITE_DB-wal" "$SQLITE_DB-shm"

    if [ "${SKIP_PG:-0}" = 1 ]; then
        PG_NOTE="PostgreSQL skipped (SKIP_PG=1)"
    elif ! command -v createdb >/dev/null || ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then
        PG_NOTE="PostgreSQL skipped: no server at $PG_HOST:$PG_PORT (or no createdb)"
    else
        PGARGS=(-h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
        dropdb "${PGARGS[@]}" --if-exists "$PG_DB" 2>/dev/null
        createdb "${PGARGS[@]}" "$PG_DB"
        trap 'dropdb "${PGARGS[@]}" --if-exists "$PG_DB" || true' EXIT
        bench_store postgres "postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
        DB_SIZE[postgres]="$(psql "${PGARGS[@]}" -d "$PG_DB" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
        dropdb "${PGARGS[@]}" --if-exists "$PG_DB"
        trap - EXIT
    fi
fi

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
FAIL=0
for v in "$SAME_A" "${FP_SAME[@]}"; do [[ "$v" == DIFFERENT* ]] && FAIL=1; done
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
DIRTY="$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (+ uncommitted changes)' || true)"
CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
{
    echo "greenplan footprint benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  greenplan commit $COMMIT$DIRTY; $(nproc) cores ($CPU_MODEL); duckdb $DK_VERSION ($DK_THREADS threads)"
    printf '  data: %s activity rows (%s MB, seed %s), %s factors in editions bench-2023 and bench-2024\n' \
        "$ROWS" "$ACT_MB" "$SEED" "$(($(wc -l <"$FACT") - 1))"
    echo "        $ACT"
    echo
    echo "(a) footprint --by $BY straight from the CSV files (median of $REPEAT runs, highest peak)"
    printf '  %-34s %9s %9s %9s\n' "tool" "seconds" "cpu s" "peak MB"
    printf '  %-34s %9s %9s %9s\n' "greenplan footprint --from" "$GP_SEC" "$GP_CPU" "$GP_MB"
    printf '  %-34s %9s %9s %9s\n' "duckdb (python, wall clock)" "$DK_SEC" "$DK_CPU" "$DK_MB"
    printf '  %-34s %9s\n' "  of which the SQL query alone" "$DK_QSEC"
    printf '  %-34s %9s\n' "  of which import duckdb" "$DK_IMPORT"
    printf '  %-34s %9s %9s %9s\n' "ratio greenplan / duckdb" "$(div "$GP_SEC" "$DK_SEC")" "$(div "$GP_CPU" "$DK_CPU")" "$(div "$GP_MB" "$DK_MB")"
    printf '  %-34s %9s\n' "ratio greenplan / duckdb query" "$(div "$GP_SEC" "$DK_QSEC")"
    printf '  %-34s %9s rows/s\n' "greenplan throughput" "$(div "$ROWS" "$GP_SEC" "%.0f")"
    echo "  load average before/after (a): $LOAD_BEFORE / $LOAD_AFTER (anything well above 0 means other work shared the $(nproc) cores)"
    echo "  outputs: $SAME_A"
    if [ "${SKIP_IMPORT:-0}" != 1 ]; then
        echo
        echo "(b) import into a store, then footprint --by $BY of the stored rows (one run each)"
        printf '  %-9s %-20s %9s %9s %11s %9s  %s\n' "store" "step" "seconds" "cpu s" "rows/s" "peak MB" "check"
        for s in "${STORES[@]}"; do
            printf '  %-9s %-20s %9s\n' "$s" "factors import" "${FAC_SEC[$s]}"
            printf '  %-9s %-20s %9s %9s %11s %9s  %s\n' "$s" "activity import" "${IMP_SEC[$s]}" "${IMP_CPU[$s]}" "${IMP_RPS[$s]}" "${IMP_MB[$s]}" "db size ${DB_SIZE[$s]:-?}"
            printf '  %-9s %-20s %9s %9s %11s %9s  %s\n' "$s" "footprint (stored)" "${FP_SEC[$s]}" "${FP_CPU[$s]}" "$(div "$ROWS" "${FP_SEC[$s]}" "%.0f")" "${FP_MB[$s]}" "vs --from: ${FP_SAME[$s]}; $(div "${FP_SEC[$s]}" "$GP_SEC")x --from"
            printf '  %-9s %-20s %9s\n' "$s" "import of one row" "${ONE_SEC[$s]}"
            printf '  %-9s %-20s %9s\n' "$s" "footprint after it" "${AFTER_SEC[$s]}"
        done
        [ -n "$PG_NOTE" ] && echo "  $PG_NOTE"
    fi
    echo
    echo "checks"
    awk -v g="$GP_SEC" -v d="$DK_SEC" 'BEGIN{ if (g > d) printf "  !! greenplan is slower than DuckDB: %.2fs vs %.2fs (%.1fx)\n", g, d, g/d; else printf "  ok greenplan is not slower than DuckDB (%.2fs vs %.2fs)\n", g, d }'
    awk -v m="$GP_MB" 'BEGIN{ if (m > 300) printf "  !! greenplan peak RSS %.1f MB is over 300 MB\n", m; else printf "  ok greenplan peak RSS %.1f MB is within 300 MB\n", m }'
    if [ -n "${IMP_RPS[sqlite]:-}" ]; then
        awk -v r="${IMP_RPS[sqlite]}" 'BEGIN{ if (r < 200000) printf "  !! SQLite import %d rows/s is under 200,000 rows/s\n", r; else printf "  ok SQLite import %d rows/s is at least 200,000 rows/s\n", r }'
    fi
    for s in "${STORES[@]}"; do
        awk -v f="${FP_SEC[$s]}" -v g="$GP_SEC" -v s="$s" 'BEGIN{ if (f > 2 * g) printf "  !! %s stored footprint %.2fs is over 2x the footprint from the file (%.2fs)\n", s, f, g; else printf "  ok %s stored footprint %.2fs is within 2x the footprint from the file (%.2fs; %.2fx)\n", s, f, g, f/g }'
        awk -v a="${AFTER_SEC[$s]}" -v s="$s" 'BEGIN{ if (a > 1) printf "  !! %s footprint after a one-row import took %.2fs, over 1s\n", s, a; else printf "  ok %s footprint after a one-row import %.2fs, within 1s\n", s, a }'
    done
    [ "$FAIL" = 0 ] && echo "  ok every footprint output is identical" || echo "  !! some outputs differ (diffs above, files in $RUN)"
    echo
    echo "  outputs, timings and stderr of every step: $RUN"
} | tee "$DATA/results.txt"
cp "$DATA/results.txt" "$RUN/results.txt"
exit "$FAIL"

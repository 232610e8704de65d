#!/usr/bin/env bash
# Load and soak: a realistic mix (anonymous readers, contributors posting action updates and
# metric values, an occasional return import) against one greenplan server on SQLite, or
# two servers sharing one PostgreSQL database, for a set time. Then checks that every
# acknowledged write is stored (and nothing else), that no request failed, and reports
# throughput, p50/p99 latency per kind of request, and each server's memory (RSS sampled
# every 5 s: start, end, max).
#
#   bench/soak.sh                    one server, SQLite, ten minutes
#   TOPOLOGY=two bench/soak.sh       two servers, PostgreSQL
#   SECONDS_TO_RUN=60 bench/soak.sh  a short run
#
# Environment (all optional): SECONDS_TO_RUN=600, TOPOLOGY=one|two, READERS=8 (anonymous
# readers), CONTRIBUTORS=4 (signed in, posting), IMPORT_EVERY=30 (seconds between imports),
# PG_URL=postgres://postgres@127.0.0.1:5432 (server, for TOPOLOGY=two), GREENPLAN_BIN
# (default: target/release/greenplan if built, else target/debug/greenplan).
# Writes the summary to bench-data/soak-$TOPOLOGY.json. Exits 1 on any error or lost write.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_TO_RUN="${SECONDS_TO_RUN:-600}"
TOPOLOGY="${TOPOLOGY:-one}"
READERS="${READERS:-8}"
CONTRIBUTORS="${CONTRIBUTORS:-4}"
IMPORT_EVERY="${IMPORT_EVERY:-30}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
BIN="${GREENPLAN_BIN:-}"
# The server runs with glibc's malloc tuned as `.cargo/config.toml` sets it for `cargo run`
# (why: there); MALLOC_ARENA_MAX=8 and the like in the environment measure other settings.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"
if [ -z "$BIN" ]; then
  BIN="$ROOT/target/release/greenplan"
  [ -x "$BIN" ] || BIN="$ROOT/target/debug/greenplan"
fi
[ -x "$BIN" ] || { echo "no greenplan binary: cargo build --release -p greenplan" >&2; exit 2; }
case "$TOPOLOGY" in one|two) ;; *) echo "TOPOLOGY is one or two" >&2; exit 2 ;; esac

TMP="$(mktemp -d "${TMPDIR:-/tmp}/gp-soak.XXXXXX")"
RUN="soak$$x$(date +%s)"
PIDS=()
PG_DB=""
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$PG_DB" ] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT INT TERM

if [ "$TOPOLOGY" = two ]; then
  PG_DB="gp_$RUN"
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
  DB="$PG_URL/$PG_DB"
  SERVERS=2
else
  DB="sqlite://$TMP/greenplan.db?mode=rwc"
  SERVERS=1
fi
export GREENPLAN_DB="$DB"
"$BIN" init >/dev/null 2>&1
printf 'edition,activity,unit,scope,category,kgco2e\nsoak-2025,widget,count,3,medical-equipment,2.5\n' > "$TMP/widget.csv"
"$BIN" factors import "$TMP/widget.csv" >/dev/null 2>&1
PASSWORD="soak test pass phrase"
: > "$TMP/users.txt"
ORGS=(RTG QJ2 RFS RY8 RXM)
for n in $(seq 0 $((CONTRIBUTORS - 1))); do
  org="${ORGS[$((n % ${#ORGS[@]}))]}"
  email="soak$n@$(echo "$org" | tr 'A-Z' 'a-z').nhs.uk"
  echo "$PASSWORD" | "$BIN" user add "$email" --org "$org" --role contributor --name "Soak $n" --password-stdin >/dev/null 2>&1
  echo "$email,$org,$PASSWORD" >> "$TMP/users.txt"
done

URLS=()
for s in $(seq 1 "$SERVERS"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN" serve --addr "127.0.0.1:$port" >"$TMP/server$s.log" 2>&1 &
  PIDS+=($!)
  URLS+=("http://127.0.0.1:$port")
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done

echo "soak: $TOPOLOGY server(s) (${URLS[*]}), $SECONDS_TO_RUN s, $READERS readers, $CONTRIBUTORS contributors, $(basename "$BIN") from $(dirname "$BIN")" >&2
node "$ROOT/bench/soak.mjs" --servers "$(IFS=,; echo "${URLS[*]}")" --pids "$(IFS=,; echo "${PIDS[*]}")" \
  --seconds "$SECONDS_TO_RUN" --run "$RUN" --users "$TMP/users.txt" --readers "$READERS" \
  --import-every "$IMPORT_EVERY" > "$TMP/summary.json"

count() {
  if [ "$TOPOLOGY" = two ]; then psql "$DB" -Atc "$1"; else sqlite3 "$TMP/greenplan.db" "$1"; fi
}
STORED_UPDATES=$(count "SELECT COUNT(*) FROM action_updates WHERE note LIKE '$RUN-%'")
STORED_VALUES=$(count "SELECT COUNT(*) FROM metric_values WHERE note LIKE '$RUN-%'")
STORED_IMPORTS=$(count "SELECT COUNT(*) FROM activity_imports WHERE file LIKE '$RUN-import-%'")
AUDITED=$(count "SELECT COUNT(*) FROM audit_log WHERE after_json LIKE '%$RUN-%'")
mkdir -p "$ROOT/bench-data"
OUT="$ROOT/bench-data/soak-$TOPOLOGY.json"
python3 - "$TMP/summary.json" "$OUT" "$STORED_UPDATES" "$STORED_VALUES" "$STORED_IMPORTS" "$AUDITED" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
updates, values, imports, audited = map(int, sys.argv[3:7])
w = summary["writes"]
summary["stored"] = {"updates": updates, "values": values, "imports": imports, "audit_entries": audited}
problems = []
for kind, stored in (("updates", updates), ("values", values), ("imports", imports)):
    if w[kind]["acked"] != stored:
        problems.append(f"{kind}: {w[kind]['acked']} acknowledged, {stored} stored ({w[kind]['sent']} sent)")
if audited != updates + values + imports:
    problems.append(f"{audited} audit entries for {updates + values + imports} writes")
if summary["errors"]:
    problems.append(f"{summary['errors']} requests failed: {summary['failures'][:5]}")
summary["problems"] = problems
json.dump(summary, open(sys.argv[2], "w"), indent=2)
print(f"{summary['servers']} server(s), {summary['seconds']} s: {summary['requests']} requests, {summary['per_second']}/s, {summary['errors']} errors")
for kind, k in summary["kinds"].items():
    print(f"  {kind:<20} {k['requests']:>7} requests {k['per_second']:>7}/s  p50 {k['p50_ms']:>7} ms  p99 {k['p99_ms']:>7} ms  errors {k['errors']}")
for kind in ("updates", "values", "imports"):
    print(f"  {kind:<8} sent {w[kind]['sent']:>6}  acknowledged {w[kind]['acked']:>6}  stored {summary['stored'][kind]:>6}")
for m in summary["memory"]:
    print(f"  server pid {m['pid']}: RSS start {m['start_mb']} MB, at 1/4 {m['quarter_mb']}, 1/2 {m['half_mb']}, 3/4 {m['three_quarters_mb']}, end {m['end_mb']} MB, max {m['max_mb']} MB ({m['samples']} samples)")
print("OK: every acknowledged write stored, no errors" if not problems else "FAILED: " + "; ".join(problems))
sys.exit(1 if problems else 0)
PY

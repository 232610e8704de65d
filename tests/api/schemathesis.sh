#!/usr/bin/env bash
# Property-based tests of the JSON API against its own OpenAPI document (schemathesis, from
# PyPI, in a virtualenv under target/): a fresh SQLite database with the built-in plan, a
# system administrator's API token, a reporting period with a return in it, `greenplan
# serve`, then every operation of /api/openapi.json called with generated data, with every
# check (`--checks all`): no 5xx, status codes, headers and bodies as documented, every
# request valid by the document accepted and every invalid one refused, authentication
# enforced; and every phase, the stateful one included (it follows the document's links:
# a listed action's id into its detail and its updates, a metric's into its values, a
# period's slug into its returns, a return's id into its approval).
#
#   bash tests/api/schemathesis.sh             EXAMPLES=100 per operation (CI)
#   EXAMPLES=500 bash tests/api/schemathesis.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EXAMPLES="${EXAMPLES:-100}"
VENV="$ROOT/target/schemathesis-venv"
BIN="${GREENPLAN_BIN:-$ROOT/target/debug/greenplan}"
[ -x "$BIN" ] || cargo build -q -p greenplan --manifest-path "$ROOT/Cargo.toml"
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'schemathesis==4.*'
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/gp-schemathesis.XXXXXX")"
SERVER=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT INT TERM
export GREENPLAN_DB="sqlite://$TMP/greenplan.db?mode=rwc"
"$BIN" init >/dev/null 2>&1
echo "schemathesis pass phrase" | "$BIN" user add lead@derbyshire.nhs.uk --org QJ2 \
  --role system-admin --name Lead --password-stdin >/dev/null 2>&1
# A reporting period with a return in it, so that the stateful phase can list returns and
# approve one (the return is an activity import, priced with an official factor file when
# the shared data is beside the repository).
"$BIN" returns open "Q3 2025/26" >/dev/null 2>&1
FACTORS="$ROOT/../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx"
if [ -f "$FACTORS" ] && "$BIN" factors import "$FACTORS" >/dev/null 2>&1; then
  printf 'organisation,site,period_start,period_end,activity,quantity,unit\nRTG,,2025-10-01,2025-10-31,water-supply,100,m3\n' >"$TMP/return.csv"
  "$BIN" activity import "$TMP/return.csv" --period "Q3 2025/26" >/dev/null 2>&1 || true
fi
TOKEN="$("$BIN" token create lead@derbyshire.nhs.uk --label schemathesis 2>/dev/null | tail -n 1)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --addr "127.0.0.1:$PORT" >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

"$VENV/bin/st" run "http://127.0.0.1:$PORT/api/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$EXAMPLES" \
  --workers 1 \
  --seed "${SEED:-1}" \
  --no-color

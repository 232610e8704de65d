#!/usr/bin/env bash
# Runs the browser tests: a real headless Chromium (Debian's /usr/bin/chromium) drives the
# greenplan web app with playwright-core; axe-core checks accessibility. Screenshots go to
# artifacts/screenshots/ at the repository root. Exits non-zero when a test fails.
#
#   tests/browser/run.sh                  # builds and tests target/debug/greenplan
#   GREENPLAN_BIN=/path/to/greenplan tests/browser/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ ! -d "$here/node_modules" ]; then
  echo "run.sh: installing the pinned npm packages (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund)
fi

if [ -z "${GREENPLAN_BIN:-}" ]; then
  # Always build: the templates are compiled into the binary, so a stale one would test old
  # pages. When nothing changed this is a quick no-op.
  echo "run.sh: building greenplan (cargo build -p greenplan)" >&2
  (cd "$root" && cargo build -p greenplan)
  export GREENPLAN_BIN="$root/target/debug/greenplan"
elif [ ! -x "$GREENPLAN_BIN" ]; then
  echo "run.sh: GREENPLAN_BIN=$GREENPLAN_BIN is not an executable file" >&2
  exit 1
fi

cd "$root"
exec node --test tests/browser/

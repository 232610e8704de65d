#!/usr/bin/env bash
# Runs every fuzz target for a short budget (CI smoke): builds the seed corpora, builds the
# instrumented targets once, then fuzzes each for FUZZ_SECONDS (default 20). Exits non-zero
# if any target crashed (after trying them all), leaving the input in fuzz/artifacts/TARGET/ (reproduce it with
# `cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…` and make it a regression test).
# Longer runs: FUZZ_SECONDS=3600 FUZZ_SEED=0 bash fuzz/smoke.sh (seed 0: a new random seed each
# run; CI uses a fixed seed so the same commit fuzzes the same way), or one target: bash fuzz/smoke.sh plan_file
set -euo pipefail
cd "$(dirname "$0")"

# cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP lets the stable compiler
# accept them. No sanitizer: ASan needs a nightly standard library; panics and aborts are
# still caught, and the code is safe Rust (unsafe_code is forbidden).
export RUSTC_BOOTSTRAP=1
SECONDS_EACH="${FUZZ_SECONDS:-20}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

python3 make_seeds.py
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
# The web targets need the whole app (typst included): FUZZ_WEB=0 leaves them out.
FEATURES=(--features web)
if [ "${FUZZ_WEB:-1}" = 0 ]; then
  FEATURES=()
  mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -v '^web_')
fi
failed=()
if [ $# -eq 0 ]; then
  cargo fuzz build --sanitizer none "${FEATURES[@]}"
else
for t in "${targets[@]}"; do cargo fuzz build --sanitizer none "${FEATURES[@]}" "$t"; done
fi
for t in "${targets[@]}"; do
  echo "==> fuzzing $t for ${SECONDS_EACH}s"
  mkdir -p "artifacts/$t"
  # -rss_limit_mb: a reader that balloons on a small input (a zip bomb) is a crash too.
  cargo fuzz run --sanitizer none "${FEATURES[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -seed="${FUZZ_SEED:-1}" -rss_limit_mb=1024 -timeout=10 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+== ERROR|thread .* panicked|.*SUMMARY)' || true
  if compgen -G "artifacts/$t/crash-*" >/dev/null || compgen -G "artifacts/$t/oom-*" >/dev/null || compgen -G "artifacts/$t/timeout-*" >/dev/null; then
    echo "FAILED: $t found an input that crashes, times out or runs out of memory:" >&2
    ls "artifacts/$t" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: crashes in ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz smoke: ${#targets[@]} targets, ${SECONDS_EACH}s each, no crashes"

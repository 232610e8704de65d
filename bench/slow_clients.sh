#!/usr/bin/env bash
# Slow clients: one greenplan server (SQLite, the built-in plan), then CONNECTIONS half-sent
# requests (a request line and part of a header, never finished) held open at once. Measures
# /healthz latency while they are open (one request every 50 ms for HOLD seconds: median,
# p95, max, failures), how many the server closed by itself (the header-read timeout) and
# the server's RSS: at start, peak (sampled every 100 ms), and ONE minute after the
# connections closed. Then two bursts of BURST idle connections opened and closed again, for
# the memory kept after a burst (issue 21, class 6: 5,000 idle connections took a server
# from 21 MB to 1.25 GB, and it stayed there).
#
#   bench/slow_clients.sh                       2,000 half-sent, 5,000 in the burst
#   CONNECTIONS=5000 bench/slow_clients.sh
#
# Environment (all optional): CONNECTIONS=2000, BURST=5000, HOLD=8 (seconds, under the
# header timeout so that the connections are still open while /healthz is measured),
# AFTER=60 (seconds waited before the last RSS), SERVE_ARGS (extra `greenplan serve`
# flags, e.g. "--header-read-timeout 30"), GREENPLAN_BIN (default: target/release/greenplan
# if built, else target/debug/greenplan). Needs Python 3 (standard library only).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNECTIONS="${CONNECTIONS:-2000}"
BURST="${BURST:-5000}"
HOLD="${HOLD:-8}"
AFTER="${AFTER:-60}"
SERVE_ARGS="${SERVE_ARGS:-}"
BIN="${GREENPLAN_BIN:-}"
# The server runs with glibc's malloc tuned as `.cargo/config.toml` sets it for `cargo run`
# (why: there); set these in the environment to measure other settings.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"
if [ -z "$BIN" ]; then
  BIN="$ROOT/target/release/greenplan"
  [ -x "$BIN" ] || BIN="$ROOT/target/debug/greenplan"
fi
[ -x "$BIN" ] || { echo "no greenplan binary: cargo build -p greenplan" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/gp-slow.XXXXXX")"
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
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
"$BIN" serve --addr "127.0.0.1:$PORT" $SERVE_ARGS >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$PORT" "$SERVER" "$CONNECTIONS" "$BURST" "$HOLD" "$AFTER" <<'PY'
import resource, socket, statistics, sys, threading, time

port, pid, count, burst, hold, after = (int(a) for a in sys.argv[1:7])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
if hard < max(count, burst) + 100:
    sys.exit(f"this shell's open-file limit ({hard}) is too low for {max(count, burst)} connections")

def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

peak = [rss_mb()]
stop = threading.Event()
def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.1)
threading.Thread(target=sample, daemon=True).start()

def healthz():
    start = time.perf_counter()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
        s.close()
        ok = answer.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    return (time.perf_counter() - start) * 1000, ok

def closed_by_server(s):
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True

start_rss = rss_mb()
before = [healthz()[0] for _ in range(20)]

# 1. CONNECTIONS half-sent requests, held while /healthz is measured.
held = []
opened = time.perf_counter()
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
    held.append(s)
open_s = time.perf_counter() - opened
during, failures = [], 0
deadline = time.perf_counter() + hold
while time.perf_counter() < deadline:
    ms, ok = healthz()
    during.append(ms)
    failures += not ok
    time.sleep(0.05)
open_rss = rss_mb()
# Wait past the header timeout: how many did the server close by itself?
time.sleep(15)
closed = sum(closed_by_server(s) for s in held)
for s in held:
    s.close()
held.clear()

after_half_rss = rss_mb()

# 2. A burst of idle connections, opened and closed at once; twice, to tell memory kept for
# reuse (the second burst adds nothing) from memory lost (it adds as much again).
ends = []
for _ in range(2):
    burst_held = [socket.create_connection(("127.0.0.1", port)) for _ in range(burst)]
    time.sleep(1)
    burst_rss = rss_mb()
    for s in burst_held:
        s.close()
    burst_held.clear()
    time.sleep(after)
    ends.append(rss_mb())
stop.set()
end_rss = ends[-1]

def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]

print(f"/healthz before:           median {statistics.median(before):.1f} ms, max {max(before):.1f} ms")
print(f"{count} half-sent requests opened in {open_s:.1f} s")
print(f"/healthz while they are open: {len(during)} requests, median {statistics.median(during):.1f} ms, "
      f"p95 {q(during, 0.95):.1f} ms, max {max(during):.1f} ms, failures {failures}")
print(f"closed by the server within 15 s of the hold: {closed} of {count}")
print(f"RSS: start {start_rss:.1f} MB, with {count} half-sent open {open_rss:.1f} MB, "
      f"after they closed {after_half_rss:.1f} MB, with {burst} idle open {burst_rss:.1f} MB, "
      f"peak {peak[0]:.1f} MB, {after} s after the first burst closed {ends[0]:.1f} MB, "
      f"after the second {ends[1]:.1f} MB")
ok = failures == 0 and closed == count and end_rss - start_rss <= 50
print("PASS" if ok else "FAIL", "(no /healthz failure, every half-sent request closed by the server, RSS within 50 MB of the start)")
sys.exit(0 if ok else 1)
PY

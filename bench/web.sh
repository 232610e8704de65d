#!/usr/bin/env bash
# The web benchmark: throughput and latency of greenplan's dashboard (/) and an action page
# (/actions/MED1) at 64 concurrent connections, against nginx serving saved static copies of
# the same two pages, all in one run. See bench/README.md ("Web benchmark").
#
#   bench/web.sh
#
# Environment (all optional):
#   ROWS=20000       generated activity rows imported before serving, so the dashboard has a
#                    footprint (0: no activity data, the dashboard shows the plan only)
#   SEED=42          generator seed
#   DURATION=15s     each measured wrk run       WARMUP=3s   the unmeasured run before it
#   CONNECTIONS=64   wrk -c                      THREADS=2   wrk -t
#   ACTION=MED1      the action page measured
#   STRICT=1         exit 1 when greenplan misses a target (default: report it, exit 0)
#   KEEP_TMP=1       keep the temporary directory (database, static copies, nginx.conf, logs)
#   CARGO_TARGET_DIR where cargo puts the release binary (default: <repo>/target)
#   GREENPLAN_BIN    use this greenplan binary instead of building one
#
# Only 127.0.0.1 is contacted. The summary is printed and written to bench-data/web-results.txt;
# the raw wrk outputs go to bench-data/web-run/.
set -euo pipefail

ROWS="${ROWS:-20000}"
SEED="${SEED:-42}"
DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-3s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
ACTION="${ACTION:-MED1}"
[[ "$ROWS" =~ ^[0-9]+$ ]] || { echo "ROWS must be a whole number" >&2; exit 2; }
[[ "$ACTION" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "ACTION must be an action id such as MED1" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/bench-data"
RUN="$DATA/web-run"
RESULTS="$DATA/web-results.txt"
mkdir -p "$DATA" "$RUN"
PY="${PYTHON:-python3}"

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Clean-up: every process this script starts is stopped on exit, whatever the exit.
# ---------------------------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/gp-web-bench.XXXXXX")"
GP_PID=""
NGINX_PID=""
cleanup() {
    local rc=$?
    for pid in $GP_PID $NGINX_PID; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "${KEEP_TMP:-}" ]; then echo "temporary files kept in $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
    log "installing $*"
    $SUDO apt-get install -y "$@" >/dev/null 2>&1 || {
        $SUDO apt-get update >/dev/null && $SUDO apt-get install -y "$@" >/dev/null
    }
}
command -v wrk >/dev/null || apt_install wrk
NGINX="$(command -v nginx || true)"
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
    apt_install nginx-light || apt_install nginx
    # The package starts its own nginx on port 80; it is not ours and not needed.
    $SUDO systemctl stop nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
    NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
command -v wrk >/dev/null || die "wrk is not installed"
[ -x "$NGINX" ] || die "nginx is not installed"
command -v curl >/dev/null || apt_install curl
command -v "$PY" >/dev/null || die "python3 is needed (free ports, data generator)"

if [ -n "${GREENPLAN_BIN:-}" ]; then
    GP="$GREENPLAN_BIN"
else
    log "building greenplan (release)"
    (cd "$ROOT" && cargo build --release -p greenplan)
    GP="${CARGO_TARGET_DIR:-$ROOT/target}/release/greenplan"
fi
[ -x "$GP" ] || die "no binary at $GP"

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------------------------------------
# greenplan: a fresh SQLite database, the built-in plan, optionally generated activity data
# ---------------------------------------------------------------------------------------------
DB="$TMP/greenplan.db"
DATA_NOTE="the built-in plan only (no activity data: the dashboard has no footprint section)"
if [ "$ROWS" -gt 0 ]; then
    GEN_HASH="$(sha1sum "$ROOT/bench/generate.py" | cut -c1-8)"
    ACT="$DATA/activity-$ROWS-s$SEED-$GEN_HASH.csv"
    FACT="$DATA/factors-s$SEED-$GEN_HASH.csv"
    if [ ! -s "$ACT" ] || [ ! -s "$FACT" ]; then
        log "generating $ROWS activity rows (seed $SEED)"
        "$PY" "$ROOT/bench/generate.py" --rows "$ROWS" --seed "$SEED" --activity "$ACT" --factors "$FACT"
    fi
    log "importing $(basename "$FACT") and $(basename "$ACT")"
    "$GP" --db "$DB" factors import "$FACT" >"$RUN/import.log" 2>&1 || { cat "$RUN/import.log" >&2; die "factor import failed"; }
    "$GP" --db "$DB" activity import "$ACT" >>"$RUN/import.log" 2>&1 || { cat "$RUN/import.log" >&2; die "activity import failed"; }
    DATA_NOTE="the built-in plan + $ROWS generated activity rows ($(basename "$ACT"), factors $(basename "$FACT"))"
fi

GP_PORT="$(free_port)"
GP_URL="http://127.0.0.1:$GP_PORT"
log "starting greenplan on $GP_URL"
"$GP" --db "$DB" serve --addr "127.0.0.1:$GP_PORT" >"$RUN/greenplan.log" 2>&1 &
GP_PID=$!
for _ in $(seq 300); do
    curl -fs -o /dev/null --max-time 1 "$GP_URL/healthz" && break
    kill -0 "$GP_PID" 2>/dev/null || { cat "$RUN/greenplan.log" >&2; die "greenplan exited"; }
    sleep 0.1
done
curl -fs -o /dev/null --max-time 1 "$GP_URL/healthz" || die "greenplan did not answer /healthz within 30 s"

# ---------------------------------------------------------------------------------------------
# nginx: static copies of the same pages, saved from greenplan just now
# ---------------------------------------------------------------------------------------------
WWW="$TMP/www"
mkdir -p "$WWW/actions" "$WWW/static" "$TMP/nginx/logs"
# The first dashboard computes the footprint of every stored row (seconds at 1,000,000 rows).
curl -fsS --max-time 300 "$GP_URL/" -o "$WWW/index.html"
curl -fsS --max-time 30 "$GP_URL/actions/$ACTION" -o "$WWW/actions/$ACTION.html"
curl -fsS --max-time 30 "$GP_URL/static/app.css" -o "$WWW/static/app.css"

NGINX_PORT="$(free_port)"
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
# The same security headers as greenplan sends, so both answers are about the same size;
# keep-alive without a request limit, as greenplan (hyper) has none.
# As root, nginx's workers would run as nobody, who cannot read the private temporary directory.
NGINX_USER=""; [ "$(id -u)" -eq 0 ] && NGINX_USER="user root;"
cat >"$TMP/nginx/nginx.conf" <<EOF
$NGINX_USER
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WWW;
        add_header Content-Security-Policy "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'" always;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy same-origin always;
        location / { try_files \$uri =404; }
    }
}
EOF
[ -f /etc/nginx/mime.types ] || sed -i 's|include /etc/nginx/mime.types;|types { text/html html; text/css css; }|' "$TMP/nginx/nginx.conf"
log "starting nginx on $NGINX_URL"
"$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" >"$RUN/nginx.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 100); do
    curl -fs -o /dev/null --max-time 1 "$NGINX_URL/index.html" && break
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$RUN/nginx.log" "$TMP/nginx/logs/error.log" >&2 2>/dev/null; die "nginx exited"; }
    sleep 0.1
done
curl -fs -o /dev/null --max-time 1 "$NGINX_URL/index.html" || die "nginx did not answer within 10 s"

# The four targets: name, URL. The static copies must be what greenplan serves, byte for byte
# (apart from nothing: the dashboard's date is the same within one run).
declare -a NAMES=(gp-dashboard nginx-dashboard gp-action nginx-action)
declare -A URL=(
    [gp-dashboard]="$GP_URL/"
    [nginx-dashboard]="$NGINX_URL/index.html"
    [gp-action]="$GP_URL/actions/$ACTION"
    [nginx-action]="$NGINX_URL/actions/$ACTION.html"
)
declare -A BYTES
for n in "${NAMES[@]}"; do
    code_size="$(curl -s -o "$TMP/check" -w '%{http_code} %{size_download}' --max-time 30 "${URL[$n]}")"
    [ "${code_size% *}" = 200 ] || die "${URL[$n]} answered ${code_size% *}"
    BYTES[$n]="${code_size#* }"
done
cmp -s <(curl -s "${URL[gp-dashboard]}") "$WWW/index.html" || echo "note: the dashboard changed since it was saved" >&2

# ---------------------------------------------------------------------------------------------
# Measurements: a warm-up, then the measured run, one target at a time (the other server idles)
# ---------------------------------------------------------------------------------------------
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${NAMES[@]}"; do
    log "wrk $n: ${URL[$n]} (warm-up $WARMUP, then $DURATION)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${URL[$n]}" >"$RUN/warmup-$n.txt" 2>&1
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${URL[$n]}" | tee "$RUN/wrk-$n.txt" >&2
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
# wrk prints latencies as 812.00us, 3.41ms or 1.02s: in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else { printf "nan" } }'
}
declare -A RPS P50 P99 ERR
for n in "${NAMES[@]}"; do
    f="$RUN/wrk-$n.txt"
    RPS[$n]="$(awk '/^Requests\/sec:/ {print $2}' "$f")"
    P50[$n]="$(to_ms "$(awk '$1 == "50%" {print $2}' "$f")")"
    P99[$n]="$(to_ms "$(awk '$1 == "99%" {print $2}' "$f")")"
    # wrk's "Non-2xx or 3xx responses" (status >= 400) plus socket errors of every kind.
    ERR[$n]="$(awk '
        /Non-2xx or 3xx responses:/ { e += $NF }
        /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
        END { print e + 0 }' "$f")"
    [ -n "${RPS[$n]}" ] || die "could not read wrk output $f"
done

row() { printf '%-10s %-9s %-34s %10s %9s %9s %7s %8s  %s\n' "$@"; }
verdict() {  # greenplan name, nginx name
    local g=$1 x=$2 ratio checks=()
    ratio="$(awk -v a="${RPS[$g]}" -v b="${RPS[$x]}" 'BEGIN {printf "%.3f", a / b}')"
    awk -v r="$ratio" 'BEGIN {exit !(r >= 0.5)}' && checks+=("rps ok") || checks+=("RPS FAIL")
    awk -v p="${P99[$g]}" 'BEGIN {exit !(p < 50)}' && checks+=("p99 ok") || checks+=("P99 FAIL")
    [ "${ERR[$g]}" -eq 0 ] && checks+=("errors ok") || checks+=("ERRORS FAIL")
    echo "$ratio" "${checks[*]}"
}
{
    echo "greenplan web benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    if [ -n "${GREENPLAN_BIN:-}" ]; then
        echo "binary $GREENPLAN_BIN (GREENPLAN_BIN), $(nproc) cores, $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nginx $("$NGINX" -v 2>&1 | sed 's|.*/||')"
    else
        echo "built from commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), $(nproc) cores, $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nginx $("$NGINX" -v 2>&1 | sed 's|.*/||')"
    fi
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up), on the same machine as both servers"
    echo "data: $DATA_NOTE; SQLite"
    echo "pages: dashboard ${BYTES[gp-dashboard]} bytes, /actions/$ACTION ${BYTES[gp-action]} bytes; nginx serves copies saved from greenplan in this run"
    echo "load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo "targets (greenplan): at least 0.5x nginx's requests/s, p99 < 50 ms, no errors"
    echo
    row page server url req/s "p50 ms" "p99 ms" errors "gp/nginx" "verdict"
    for page in dashboard action; do
        read -r ratio checks <<<"$(verdict "gp-$page" "nginx-$page")"
        row "$page" greenplan "${URL[gp-$page]#http://}" "${RPS[gp-$page]}" "${P50[gp-$page]}" "${P99[gp-$page]}" "${ERR[gp-$page]}" "$ratio" "$checks"
        row "$page" nginx "${URL[nginx-$page]#http://}" "${RPS[nginx-$page]}" "${P50[nginx-$page]}" "${P99[nginx-$page]}" "${ERR[nginx-$page]}" "" ""
    done
    echo
    all_ok=1
    for page in dashboard action; do
        case "$(verdict "gp-$page" "nginx-$page")" in *FAIL*) all_ok=0 ;; esac
    done
    if [ "$all_ok" = 1 ]; then echo "result: greenplan meets every target"; else echo "result: greenplan MISSES a target (see verdict)"; fi
    # wrk, greenplan and nginx share the machine; anything else running shows up as latency.
    awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n)}' &&
        echo "warning: the machine was busy before the run (load ${LOAD_BEFORE%% *} on $(nproc) cores): latencies include waiting for a CPU"
    for page in dashboard action; do
        awk -v p="${P99[nginx-$page]}" 'BEGIN {exit !(p >= 50)}' &&
            echo "warning: nginx's own p99 for the $page copy is ${P99[nginx-$page]} ms: the p99 verdict for this page says more about the machine than about greenplan"
    done
    echo "raw wrk outputs: bench-data/web-run/"
} | tee "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"

if grep -q MISSES "$RESULTS" && [ -n "${STRICT:-}" ]; then exit 1; fi
exit 0

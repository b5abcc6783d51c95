#!/usr/bin/env bash
# Measures an authenticated `GET /v1/api-keys` under wrk against a release build, with
# `GET /healthz` (no auth, no database) as the same-run baseline, and the server's
# resident memory at rest and after the load.
#
#   bench/api.sh [DURATION] [CONNECTIONS]      (defaults: 10s, 64)
#
# Needs wrk (Debian package `wrk`). Rate limits are turned off for the run: the default
# 1000/hour would answer 429 after the first thousand requests. The load generator and
# the server share this machine's cores, so figures are relative: compare the ratio to
# the baseline, not the absolute numbers, across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
CONNS=${2:-64}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

cargo build --release --locked -q
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
FRONTDESK_DATABASE_URL="sqlite://$work/fd.db" FRONTDESK_LISTEN="127.0.0.1:$port" \
FRONTDESK_RATE_LIMIT_PER_HOUR=0 FRONTDESK_RATE_LIMIT_PER_SECOND=0 FRONTDESK_LOG=warn \
    target/release/frontdesk serve > "$work/out.txt" 2> "$work/err.txt" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
key=$(grep -o 'fd_live_[A-Za-z0-9]*' "$work/out.txt" | head -n1)
[[ -n "$key" ]] || { echo "server did not start:" >&2; cat "$work/err.txt" >&2; exit 1; }
sleep 1
rss_rest=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

run() { # name path [header]
    local out
    if [[ $# -ge 3 ]]; then
        out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "$3" "http://127.0.0.1:$port$2")
    else
        out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$port$2")
    fi
    local rps p50 p99 errs
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errs=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-28s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errs:-0}"
    echo "$rps" > "$work/$1.rps"
}

echo "wrk -t2 -c$CONNS -d$DURATION on $(nproc) cores, $(date -u +%FT%TZ)"
# Warm up (page cache, connection pools), then measure.
wrk -t1 -c8 -d2s -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/api-keys" > /dev/null
run healthz /healthz
run api-keys /v1/api-keys "Authorization: Bearer $key"
rss_load=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
ratio=$(awk -v a="$(cat "$work/api-keys.rps")" -v b="$(cat "$work/healthz.rps")" 'BEGIN {printf "%.2f", a/b}')
echo "api-keys / healthz throughput ratio: $ratio"
echo "memory (RSS): at rest ${rss_rest} KiB, after load ${rss_load} KiB"

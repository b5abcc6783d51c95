#!/usr/bin/env bash
# What a stranger's traffic costs everyone else, against a release build (abuse-bench):
# `GET /healthz` and signed Twilio gather turns, quiet and under a flood of unsigned
# 40,000-parameter requests (and under a control flood of ordinary unsigned requests),
# and beside another tenant whose agent is at every limit, in one run; then the size of
# /metrics before and after requests with random methods and paths.
#
#   bench/abuse.sh [SECONDS] [FLOODERS] [METRICS_REQUESTS]     (defaults: 10, 4, 10000)
#
# FRONTDESK_BIN=path/to/frontdesk runs another build of the server (an older release,
# for a before-and-after) under the same load.
#
# The server runs on a fresh SQLite database with a global Twilio auth token and a
# public URL; the load generator shares this machine's cores, so read the figures as
# ratios between the quiet phase and the flood.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${1:-10}
FLOODERS=${2:-4}
METRICS=${3:-10000}

cargo build --release --locked -q -p frontdesk -p frontdesk-bench
bin=${FRONTDESK_BIN:-target/release/frontdesk}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
token=bench0123456789abcdef0123456789ab
FRONTDESK_DATABASE_URL="sqlite://$work/fd.db" FRONTDESK_LISTEN="127.0.0.1:$port" \
FRONTDESK_PUBLIC_URL=https://fd.example.com FRONTDESK_TWILIO_AUTH_TOKEN=$token \
FRONTDESK_RATE_LIMIT_PER_HOUR=0 FRONTDESK_RATE_LIMIT_PER_SECOND=0 FRONTDESK_LOG=error \
    "$bin" serve > "$work/out.txt" 2> "$work/err.txt" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
key=$(grep -o 'fd_live_[A-Za-z0-9]*' "$work/out.txt" | head -n1)
[[ -n "$key" ]] || { echo "server did not start:" >&2; cat "$work/err.txt" >&2; exit 1; }
# Another tenant, whose agent will be at every limit.
export FRONTDESK_DATABASE_URL="sqlite://$work/fd.db" FRONTDESK_LOG=error
"$bin" workspaces create heavy > /dev/null
heavy=$("$bin" keys create --workspace heavy --name bench)
echo "abuse-bench on $(nproc) cores, $(date -u +%FT%TZ)"
target/release/abuse-bench --url "http://127.0.0.1:$port" --key "$key" --public-url https://fd.example.com \
    --token "$token" --seconds "$SECONDS_" --flooders "$FLOODERS" --metrics-requests "$METRICS" \
    --heavy-key "$heavy" --heavy-clients "$FLOODERS"
echo "server RSS after: $(ps -o rss= -p $pid) KiB, open fds: $(ls /proc/$pid/fd | wc -l)"

#!/usr/bin/env bash
# Webhook delivery benchmark on SQLite: a release server on a fresh database, a
# receiver on loopback inside the bench process. Prints the raw-POST ceiling measured in
# the same run, burst throughput, and accepted -> first-attempt latency at a steady rate.
#
#   bench/webhooks.sh [--webhooks N] [--burst B] [--rate R] [--seconds S]
#
# Extra arguments go to the bench binary (see bench/src/webhook_bench.rs).
# FRONTDESK_BIN=path/to/frontdesk runs another build of the server (a before-and-after).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p frontdesk -p frontdesk-bench
bin=${FRONTDESK_BIN:-target/release/frontdesk}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
FRONTDESK_DATABASE_URL="sqlite://$work/fd.db" FRONTDESK_LISTEN="127.0.0.1:$port" \
FRONTDESK_RATE_LIMIT_PER_HOUR=0 FRONTDESK_RATE_LIMIT_PER_SECOND=0 FRONTDESK_LOG=warn \
FRONTDESK_ALLOW_PRIVATE_TARGETS=true ${BENCH_SERVER_ENV:-} \
    "$bin" serve > "$work/out.txt" 2> "$work/err.txt" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
key=$(grep -o 'fd_live_[A-Za-z0-9]*' "$work/out.txt" | head -n1)
[[ -n "$key" ]] || { cat "$work/err.txt" >&2; exit 1; }
echo "webhook delivery on SQLite, $(nproc) cores, $(date -u +%FT%TZ)"
target/release/webhook-bench --server "http://127.0.0.1:$port" --key "$key" "$@"
echo "server RSS after the run: $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"

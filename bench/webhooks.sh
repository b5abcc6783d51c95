#!/usr/bin/env bash
# Webhook delivery benchmark: a release server (or several nodes of one database) on a
# fresh database, a receiver on loopback inside the bench process. Prints the raw-POST
# ceiling measured in the same run, burst throughput, and accepted -> first-attempt
# latency at a steady rate.
#
#   bench/webhooks.sh [--webhooks N] [--burst B] [--rate R] [--seconds S]
#
# Extra arguments go to the bench binary (see bench/src/webhook_bench.rs).
# FRONTDESK_BIN=path/to/frontdesk runs another build of the server (a before-and-after).
# BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test runs on PostgreSQL (a fresh
# database made for the run and dropped after); NODES=2 starts two nodes on it, and the
# events are spread over both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p frontdesk -p frontdesk-bench
bin=${FRONTDESK_BIN:-target/release/frontdesk}
nodes=${NODES:-1}
work=$(mktemp -d)
pids=()
db=""
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n "$db" ]] && psql -q "$BENCH_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
if [[ -n "${BENCH_POSTGRES_URL:-}" ]]; then
    db="fd_bench_$$"
    psql -q "$BENCH_POSTGRES_URL" -c "CREATE DATABASE $db" >/dev/null
    url="${BENCH_POSTGRES_URL%/*}/$db"
    kind="PostgreSQL, $nodes node(s)"
else
    [[ "$nodes" == 1 ]] || { echo "several nodes need BENCH_POSTGRES_URL" >&2; exit 2; }
    url="sqlite://$work/fd.db"
    kind="SQLite"
fi
servers=""
key=""
for n in $(seq "$nodes"); do
    port=$((20000 + RANDOM % 20000))
    FRONTDESK_DATABASE_URL="$url" FRONTDESK_LISTEN="127.0.0.1:$port" \
    FRONTDESK_RATE_LIMIT_PER_HOUR=0 FRONTDESK_RATE_LIMIT_PER_SECOND=0 FRONTDESK_LOG=warn \
    FRONTDESK_ALLOW_PRIVATE_TARGETS=true ${BENCH_SERVER_ENV:-} \
        "$bin" serve > "$work/out$n.txt" 2> "$work/err$n.txt" &
    pids+=($!)
    for _ in $(seq 200); do grep -q "listening on" "$work/out$n.txt" 2>/dev/null && break; sleep 0.1; done
    grep -q "listening on" "$work/out$n.txt" || { cat "$work/err$n.txt" >&2; exit 1; }
    [[ -n "$key" ]] || key=$(grep -o 'fd_live_[A-Za-z0-9]*' "$work/out$n.txt" | head -n1)
    servers="${servers:+$servers,}http://127.0.0.1:$port"
done
[[ -n "$key" ]] || { cat "$work/err1.txt" >&2; exit 1; }
echo "webhook delivery on $kind, $(nproc) cores, $(date -u +%FT%TZ)"
target/release/webhook-bench --server "$servers" --key "$key" "$@"
for p in "${pids[@]}"; do
    echo "server RSS after the run: $(awk '/VmRSS/ {print $2}' /proc/"$p"/status) KiB"
done

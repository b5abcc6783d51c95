#!/usr/bin/env bash
# Measures Twilio call latency with the rules brain against a release build: the gather
# webhook (utterance in, TwiML out; server time from `Server-Timing` and the client's
# round trip) and ConversationRelay's first streamed token, with `GET /healthz` as the
# same-run baseline.
#
#   bench/twilio.sh [CALLS] [CONCURRENCY] [RELAY_CALLS]      (defaults: 300, 1, 100)
#
# The server runs on a fresh SQLite database (or, with BENCH_POSTGRES_URL, a fresh
# PostgreSQL database made for the run and dropped after) with a global Twilio auth
# token and a public URL (the signatures are computed over it); the load generator
# shares this machine's cores, so read figures as ratios to the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${1:-300}
CONC=${2:-1}
RELAY=${3:-100}

cargo build --release --locked -q -p frontdesk -p frontdesk-bench
bin=${FRONTDESK_BIN:-target/release/frontdesk}   # another build, for a before-and-after
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
token=bench0123456789abcdef0123456789ab
url="sqlite://$work/fd.db"
db=""
if [[ -n "${BENCH_POSTGRES_URL:-}" ]]; then
    db="fd_bench_$$"
    psql -q "$BENCH_POSTGRES_URL" -c "CREATE DATABASE $db" >/dev/null
    url="${BENCH_POSTGRES_URL%/*}/$db"
fi
FRONTDESK_DATABASE_URL="$url" FRONTDESK_LISTEN="127.0.0.1:$port" \
FRONTDESK_PUBLIC_URL=https://fd.example.com FRONTDESK_TWILIO_AUTH_TOKEN=$token \
FRONTDESK_RATE_LIMIT_PER_HOUR=0 FRONTDESK_RATE_LIMIT_PER_SECOND=0 FRONTDESK_LOG=warn \
    "$bin" serve > "$work/out.txt" 2> "$work/err.txt" &
pid=$!
cleanup() {
    kill $pid 2>/dev/null || true
    wait 2>/dev/null || true
    [[ -n "$db" ]] && psql -q "$BENCH_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
key=$(grep -o 'fd_live_[A-Za-z0-9]*' "$work/out.txt" | head -n1)
[[ -n "$key" ]] || { echo "server did not start:" >&2; cat "$work/err.txt" >&2; exit 1; }
echo "twilio-bench on $(nproc) cores, ${db:+PostgreSQL, }$(date -u +%FT%TZ)"
target/release/twilio-bench --url "http://127.0.0.1:$port" --key "$key" --public-url https://fd.example.com \
    --token "$token" --calls "$CALLS" --concurrency "$CONC" --relay-calls "$RELAY"

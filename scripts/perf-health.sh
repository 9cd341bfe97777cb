#!/usr/bin/env bash
# Measures GET /health/ready at a fixed 1,000 requests/s (docs/perf.md). Starts its own serve on a
# spare port against the local services and stops it (by PID) when done.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000} DURATION=${DURATION:-30s} ADDR=${ADDR:-127.0.0.1:18080}

P2P_HTTP_ADDR=$ADDR P2P_LOG_LEVEL=warn ./bin/p2p serve >/tmp/p2p-perf-health.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://$ADDR/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
./bin/loadgen http -url "http://$ADDR/health/ready" -rate "$RATE" -duration "$DURATION" "$@"

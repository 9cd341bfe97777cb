#!/usr/bin/env bash
# Messaging through the socket path (docs/perf.md): one serve node with persistence and delivery,
# pairs of users chatting at a fixed total rate. The node and its throwaway database come from
# perf-node.sh. LOADGEN_GOGC sets the load generator's collector.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/perf-node.sh
RATE=${RATE:-2000} DURATION=${DURATION:-30s} PAIRS=${PAIRS:-100}
perf_node chat 18083
GOGC=${LOADGEN_GOGC:-400} ./bin/loadgen ws chat -url "http://$ADDR" -pairs "$PAIRS" -rate "$RATE" -duration "$DURATION" -pid "$pid" "$@"

#!/usr/bin/env bash
# A forum reply's fan-out to the viewers of its topic (docs/perf.md, issue 12): one serve node,
# VIEWERS sockets (one user each unless USERS is fewer) in topic:<id>, replies posted over REST at
# RATE/s for DURATION, each timed from its POST until every viewer's post:new. The node and its
# throwaway database come from perf-node.sh. LOADGEN_GOGC sets the load generator's collector.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/perf-node.sh
RATE=${RATE:-2} DURATION=${DURATION:-30s} VIEWERS=${VIEWERS:-1000} USERS=${USERS:-0} POSTERS=${POSTERS:-8}
# Fewer users than viewers means several sockets each: let a user hold them.
if [ "$USERS" -gt 0 ]; then export P2P_HUB_MAX_SOCKETS_PER_USER=$(( (VIEWERS + USERS - 1) / USERS )); fi
perf_node forum 18086
GOGC=${LOADGEN_GOGC:-400} ./bin/loadgen ws forum -url "http://$ADDR" -viewers "$VIEWERS" -users "$USERS" \
  -posters "$POSTERS" -rate "$RATE" -duration "$DURATION" -pid "$pid" "$@"

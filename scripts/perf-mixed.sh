#!/usr/bin/env bash
# Issue 15's mixed load (docs/perf.md): one serve node on a throwaway database filled by
# `loadgen seed`, USERS signed in with a socket each (WRITERS of them reply and chat), doing
# RATE actions per second in all for DURATION: forum lists and topics, the use case library and
# details, search, dashboards, notifications, replies and chat messages. The node comes from
# perf-node.sh. LOADGEN_GOGC sets the load generator's collector. BULK=1 adds the issue's data
# sizes (scripts/bulk-seed.sql) before the load.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/perf-node.sh
USERS=${USERS:-1000} WRITERS=${WRITERS:-100} RATE=${RATE:-200} DURATION=${DURATION:-60s}
# The writers reply often: let each post as much as the load asks.
export P2P_FORUM_POSTS_PER_MINUTE=${P2P_FORUM_POSTS_PER_MINUTE:-1000}
# The seed publishes its use cases as the demo moderator.
export P2P_AUTH_MODERATORS=${P2P_AUTH_MODERATORS:-sara@demo.p2p.local}
perf_node mixed 18087
./bin/loadgen seed -url "http://$ADDR" >/dev/null
if [ -n "${BULK:-}" ]; then
  # The issue's data sizes: 100,000 topics and use cases, 1,000,000 activity entries.
  psql -h 127.0.0.1 -U postgres -d "$PERF_DB" -q -f scripts/bulk-seed.sql
  ./bin/p2p stats rebuild
fi
GOGC=${LOADGEN_GOGC:-400} ./bin/loadgen mixed -url "http://$ADDR" -users "$USERS" -writers "$WRITERS" \
  -rate "$RATE" -duration "$DURATION" -pid "$pid" "$@"

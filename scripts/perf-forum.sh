#!/usr/bin/env bash
# A forum reply's fan-out to the viewers of its topic (docs/perf.md, issue 12): one serve node,
# VIEWERS sockets (one user each unless USERS is fewer) in topic:<id>, replies posted over REST at
# RATE/s for DURATION, each timed from its POST until every viewer's post:new. Starts its own
# serve on a spare port against a throwaway database and removes both when done (the server is
# stopped by its PID). SERVER_GOGC and LOADGEN_GOGC set the collectors.
set -euo pipefail
cd "$(dirname "$0")/.."
ADDR=${ADDR:-127.0.0.1:18086} DB=p2p_perf_forum_$$ RATE=${RATE:-2} DURATION=${DURATION:-30s}
VIEWERS=${VIEWERS:-1000} USERS=${USERS:-0} POSTERS=${POSTERS:-8}
export P2P_HTTP_ADDR=$ADDR P2P_LOG_LEVEL=${P2P_LOG_LEVEL:-warn} P2P_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable${PG_EXTRA:-}"
export P2P_REDIS_PREFIX="perf:$$:" P2P_WORKER_QUEUE="perf-$$" P2P_MAIL_OUTBOX_DIR=$(mktemp -d) P2P_BLOB_DIR=$(mktemp -d)
export P2P_AUTH_BCRYPT_COST=4 P2P_HTTP_DEV_ENDPOINTS=true P2P_POSTGRES_MAX_CONNS=${MAX_CONNS:-40}
# Fewer users than viewers means several sockets each: let a user hold them.
if [ "$USERS" -gt 0 ]; then export P2P_HUB_MAX_SOCKETS_PER_USER=$(( (VIEWERS + USERS - 1) / USERS )); fi

env ${SERVER_GOGC:+GOGC=$SERVER_GOGC} ./bin/p2p serve >/tmp/p2p-perf-forum.log 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  rm -rf "$P2P_MAIL_OUTBOX_DIR" "$P2P_BLOB_DIR"
  redis-cli --scan --pattern "perf:$$:*" | xargs -r redis-cli del >/dev/null
  redis-cli --scan --pattern "asynq:{perf-$$}*" | xargs -r redis-cli del >/dev/null
  redis-cli srem asynq:queues "perf-$$" >/dev/null
}
trap cleanup EXIT
for _ in $(seq 1 200); do curl -fs "http://$ADDR/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
GOGC=${LOADGEN_GOGC:-400} ./bin/loadgen ws forum -url "http://$ADDR" -viewers "$VIEWERS" -users "$USERS" \
  -posters "$POSTERS" -rate "$RATE" -duration "$DURATION" -pid "$pid" "$@"

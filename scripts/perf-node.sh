# Sourced by the perf-*.sh scripts: starts one `p2p serve` node for a measurement on a spare port
# against a throwaway database, and removes both (database, Redis keys, temporary directories)
# when the calling script exits; the server is stopped by its PID. Call perf_node NAME PORT; it
# sets ADDR and pid. PG_EXTRA appends connection parameters (&options=-c%20name%3Dvalue) for
# diagnosis; SERVER_GOGC sets the server's collector; MAX_CONNS its pool.
perf_node() {
  local name=$1
  ADDR=${ADDR:-127.0.0.1:$2} PERF_DB=p2p_perf_${name}_$$
  export P2P_HTTP_ADDR=$ADDR P2P_LOG_LEVEL=${P2P_LOG_LEVEL:-warn} P2P_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/$PERF_DB?sslmode=disable${PG_EXTRA:-}"
  export P2P_REDIS_PREFIX="perf:$$:" P2P_WORKER_QUEUE="perf-$$" P2P_MAIL_OUTBOX_DIR=$(mktemp -d) P2P_BLOB_DIR=$(mktemp -d)
  export P2P_AUTH_BCRYPT_COST=4 P2P_HTTP_DEV_ENDPOINTS=true P2P_POSTGRES_MAX_CONNS=${MAX_CONNS:-40}
  env ${SERVER_GOGC:+GOGC=$SERVER_GOGC} ./bin/p2p serve >"/tmp/p2p-perf-$name.log" 2>&1 &
  pid=$!
  trap perf_node_cleanup EXIT
  for _ in $(seq 1 200); do curl -fs "http://$ADDR/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
}

perf_node_cleanup() {
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PERF_DB WITH (FORCE)" >/dev/null
  rm -rf "$P2P_MAIL_OUTBOX_DIR" "$P2P_BLOB_DIR"
  redis-cli --scan --pattern "perf:$$:*" | xargs -r redis-cli del >/dev/null
  redis-cli --scan --pattern "asynq:{perf-$$}*" | xargs -r redis-cli del >/dev/null
  redis-cli srem asynq:queues "perf-$$" >/dev/null
}

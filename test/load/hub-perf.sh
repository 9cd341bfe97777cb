#!/usr/bin/env bash
# The realtime hub's figures in docs/perf.md ("## Realtime hub"), each run against p2p serve and
# against the minimal Node socket.io server beside it (test/load/server.mjs), on the local
# PostgreSQL and Redis. Every process it starts is stopped by PID; its database and Redis keys are
# removed at the end.
#
#   test/load/hub-perf.sh [conns|bursts|broadcast|broadcast3|all]
#
# The hard limit on open files here is 20,000 per process, which a 20,000-socket server exceeds
# by its few other descriptors: CONNS defaults to 19,900.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHAT=${1:-all}
CONNS=${CONNS:-19900} USERS=${USERS:-20000} MEMBERS=${MEMBERS:-2000} ROUNDS=${ROUNDS:-200}
BURSTS=${BURSTS:-10} BURST=${BURST:-5000}
PG=${PG:-postgres://postgres@127.0.0.1:5432} REDIS=${REDIS:-redis://127.0.0.1:6379/0}
DB=${DB:-p2p_perf_$$} PREFIX=${PREFIX:-"perf$$:"} OUT=${OUT:-/tmp/hub-perf}
# KEEP=1 keeps the database (and so the signed-up users and their tokens in $OUT/tokens.txt) for
# another run with the same DB and PREFIX; the last run drops it.
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"

go build -o "$OUT/p2p" ./cmd/p2p
go build -o "$OUT/loadgen" ./cmd/loadgen
[ -d test/load/node_modules ] || (cd test/load && npm ci --no-audit --no-fund >/dev/null)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "${KEEP:-}" = 1 ] && return
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS" --scan --pattern "$PREFIX*" | xargs -r redis-cli -u "$REDIS" del >/dev/null || true
  redis-cli -u "$REDIS" --scan --pattern "asynq:{${PREFIX}queue}*" | xargs -r redis-cli -u "$REDIS" del >/dev/null || true
  redis-cli -u "$REDIS" srem asynq:queues "${PREFIX}queue" >/dev/null || true
}
trap cleanup EXIT

wait_up() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "$1 not up" >&2; exit 1; }

common=(P2P_ENV=test P2P_HUB_MAX_SOCKETS_PER_USER=1000000 P2P_LOG_LEVEL=warn P2P_RUN_WORKER=false P2P_AUTH_BCRYPT_COST=4
  P2P_POSTGRES_URL="$PG/$DB?sslmode=disable" P2P_REDIS_URL="$REDIS" P2P_REDIS_PREFIX="$PREFIX" P2P_WORKER_QUEUE="${PREFIX}queue"
  P2P_SUPERTOKENS_CONNECTION_URI=http://127.0.0.1:18110 P2P_SUPERTOKENS_API_KEY=perf-core-key-0123456789abcdef
  P2P_AUTH_CORE_ADDR=127.0.0.1:18110)
# HUB_GOGC sets GOGC for the hub nodes (the memory/CPU lever of docs/perf.md), HUB_GODEBUG their
# GODEBUG (gctrace=1 writes each collection to $OUT/hub-PORT.log).

env "${common[@]}" "$OUT/p2p" authcore >"$OUT/core.log" 2>&1 & pids+=($!)
wait_up http://127.0.0.1:18110/hello
hub_pids=()
start_hub() { # port; net/http/pprof on port+500
  env "${common[@]}" P2P_HTTP_ADDR="127.0.0.1:$1" P2P_HTTP_PPROF_ADDR="127.0.0.1:$(($1 + 500))" ${HUB_GOGC:+GOGC=$HUB_GOGC} ${HUB_GODEBUG:+GODEBUG=$HUB_GODEBUG} "$OUT/p2p" serve >"$OUT/hub-$1.log" 2>&1 & pids+=($!); hub_pids+=($!)
  wait_up "http://127.0.0.1:$1/health/ready"
}
node_pids=()
start_node() { # port [redis]
  env PORT="$1" ${2:+REDIS_URL=$REDIS REDIS_KEY=${PREFIX}node.socket.io} node test/load/server.mjs >"$OUT/node-$1.log" 2>&1 & pids+=($!); node_pids+=($!)
  wait_up "http://127.0.0.1:$1/socket.io/?EIO=4&transport=polling"
}
start_hub 18100
# caught_up waits until the node's domain-event consumers (activity, dashboard, notifications)
# have read every event: each sign-up leaves one, and a fresh node would otherwise work through
# 20,000 of them, for about half a minute, while its sockets connect.
caught_up() {
  local q="select coalesce(bool_and((c.txid, c.id) >= (m.txid, m.id)), false)
    from domain_event_cursors c, (select txid, id from domain_events order by txid desc, id desc limit 1) m"
  for _ in $(seq 1 300); do
    [ "$(psql "$PG/$DB" -Atc "$q")" = t ] && return 0
    sleep 1
  done
  echo "the event consumers did not catch up in 300 s" >&2; exit 1
}
# Access tokens live an hour: a series of runs on one database (KEEP=1) that lasts longer signs
# up a fresh set of users (their e-mail addresses are new each time) rather than fail half-way.
if [ ! -s "$OUT/tokens.txt" ] || [ -n "$(find "$OUT/tokens.txt" -mmin +45)" ]; then
  "$OUT/loadgen" ws signup -url http://127.0.0.1:18100 -n "$USERS" -out "$OUT/tokens.txt"
  caught_up
  # A fresh node for the figures: the sign-ups left freed memory in this one that the sockets
  # would reuse, and its RSS per socket would read low.
  kill "${hub_pids[0]}"; wait "${hub_pids[0]}" 2>/dev/null || true; hub_pids=()
  start_hub 18100
fi
start_node 18090

# drain waits until the sockets of the previous phase have left TIME_WAIT (60 s on Linux): with
# 20,000 of them the next phase's connect() searches a nearly full range of local ports, and
# that phase, hub or Node, would start on a worse footing than the other.
drain() {
  for _ in $(seq 1 75); do
    [ "$(ss -Htan state time-wait | wc -l)" -lt 1000 ] && return 0
    sleep 1
  done
}
# listen_overflows is the kernel's count of connections dropped because a listener's accept
# queue was full (the client retransmits its SYN after 1 s, then 3 s): printed per phase, it
# tells a server that stopped accepting from one that was slow after accepting.
listen_overflows() { nstat -az TcpExtListenOverflows 2>/dev/null | awk '/ListenOverflows/ {print $2}'; }
# redis_cpu is the Redis server's CPU time in seconds: the hub's presence and fan-out run there,
# on the same cores as the server and the load generator.
redis_cpu() { redis-cli -u "$REDIS" info cpu | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.2f", s}'; }
lg() {
  drain; echo "\$ loadgen $*"
  local before r0; before=$(listen_overflows); r0=$(redis_cpu)
  "$OUT/loadgen" "$@"
  [ -n "$before" ] && echo "listen queue overflows during the phase: $(($(listen_overflows) - before))"
  awk -v a="$(redis_cpu)" -v b="$r0" 'BEGIN {printf "Redis CPU during the phase: %.2f s\n", a - b}'
  echo
}
# PROFILE=1 saves pprof profiles of the first hub node in $OUT: the heap while the sockets are
# held, the CPU of the whole connect phase and 10 s of its allocations (conns), and 15 s of CPU
# and allocations during the broadcasts (broadcast); and the load generator's own CPU while it
# connects to the hub (loadgen-conns.pprof).
profile() { # delay name path
  [ "${PROFILE:-}" = 1 ] || return 0
  (sleep "$1"; curl -fs "http://127.0.0.1:18600/debug/pprof/$3" -o "$OUT/$2.pprof" && echo "saved $OUT/$2.pprof") &
}

if [[ $WHAT == conns || $WHAT == all ]]; then
  echo "== $CONNS idle authenticated websocket clients on one node"
  drain # before the profiles' clocks start
  profile 1 cpu-conns "profile?seconds=$((CONNS / 1000))"; profile 2 allocs-conns "allocs?seconds=10"; profile $((CONNS / 1000 + 5)) heap-conns "heap?gc=1"
  lg ws connect -url http://127.0.0.1:18100 -tokens "$OUT/tokens.txt" -conns "$CONNS" -rate 1000 -hold 10s -timeline ${PROFILE:+-cpuprofile "$OUT/loadgen-conns.pprof"} -pid "${hub_pids[0]}" -metrics http://127.0.0.1:18100/metrics
  lg ws connect -url http://127.0.0.1:18090 -tokens "$OUT/tokens.txt" -conns "$CONNS" -rate 1000 -hold 10s -timeline -pid "${node_pids[0]}"
fi
if [[ $WHAT == bursts || $WHAT == all ]]; then
  echo "== $BURSTS bursts of $BURST connections"
  lg ws bursts -url http://127.0.0.1:18100 -tokens "$OUT/tokens.txt" -bursts "$BURSTS" -size "$BURST"
  lg ws bursts -url http://127.0.0.1:18090 -tokens "$OUT/tokens.txt" -bursts "$BURSTS" -size "$BURST"
fi
if [[ $WHAT == broadcast || $WHAT == all ]]; then
  echo "== broadcast to a $MEMBERS-member room, one node"
  drain
  profile 20 cpu-broadcast "profile?seconds=15"; profile 20 allocs-broadcast "allocs?seconds=15"
  lg ws broadcast -url http://127.0.0.1:18100 -tokens "$OUT/tokens.txt" -members "$MEMBERS" -count "$ROUNDS" -pid "${hub_pids[0]}"
  lg ws broadcast -url http://127.0.0.1:18090 -tokens "$OUT/tokens.txt" -members "$MEMBERS" -count "$ROUNDS" -pid "${node_pids[0]}"
fi
if [[ $WHAT == broadcast3 || $WHAT == all ]]; then
  echo "== broadcast to a $MEMBERS-member room over three nodes through Redis"
  kill "${node_pids[0]}"; wait "${node_pids[0]}" 2>/dev/null || true; node_pids=()
  start_hub 18101; start_hub 18102
  start_node 18091 redis; start_node 18092 redis; start_node 18093 redis
  lg ws broadcast -url http://127.0.0.1:18100,http://127.0.0.1:18101,http://127.0.0.1:18102 -tokens "$OUT/tokens.txt" \
    -members "$MEMBERS" -count "$ROUNDS" -pid "$(IFS=,; echo "${hub_pids[*]}")"
  lg ws broadcast -url http://127.0.0.1:18091,http://127.0.0.1:18092,http://127.0.0.1:18093 -tokens "$OUT/tokens.txt" \
    -members "$MEMBERS" -count "$ROUNDS" -pid "$(IFS=,; echo "${node_pids[*]}")"
fi

#!/usr/bin/env bash
# Runs the official Engine.IO and Socket.IO protocol test suites (vendored as-is in test/conformance/)
# against the conformance server built from realtime/sio (test/conformance/server), RUNS times each.
#
#   RUNS=3       runs of each suite (default 3)
#   REF=1        run them against the Node.js reference server instead (test/conformance/reference)
#   SUITES="engine.io-protocol socket.io-protocol"   which suites
#   RUN_TIMEOUT=120   seconds one run may take; a run that hangs fails with a message
#
# The suites hard-code http://localhost:3000, so the server takes port 3000 and the script stops if
# something else already holds it. Fails when the engine.io suite fails any test in any run, or the
# socket.io suite fails any test other than the client races listed in
# test/conformance/socket.io-known-races.txt (see docs/realtime.md, "Conformance").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
conf=$root/test/conformance
RUNS=${RUNS:-3}
REF=${REF:-0}
SUITES=${SUITES:-"engine.io-protocol socket.io-protocol"}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
addr=127.0.0.1:3000

work=$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; then
  echo "conformance: port 3000 is already in use; the official suites only talk to localhost:3000" >&2
  exit 1
fi

ensure_deps() { # npm ci when node_modules is missing or older than the lockfile
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
}

for s in $SUITES; do ensure_deps "$conf/$s"; done
if [ "$REF" = 1 ]; then
  name="Node reference server (engine.io $(cd "$conf/reference" && node -p 'require("./package.json").dependencies["engine.io"]'), socket.io $(cd "$conf/reference" && node -p 'require("./package.json").dependencies["socket.io"]'))"
  ensure_deps "$conf/reference"
  (cd "$conf/reference" && exec node server.mjs) >"$work/server.log" 2>&1 &
  pid=$!
else
  name="Go conformance server (realtime/sio)"
  go build -o "$work/conformance-server" ./test/conformance/server
  "$work/conformance-server" >"$work/server.log" 2>&1 &
  pid=$!
fi

up=0
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  if curl -fs -o /dev/null "http://$addr/engine.io/?EIO=4&transport=polling" &&
    curl -fs -o /dev/null "http://$addr/socket.io/?EIO=4&transport=polling"; then
    up=1
    break
  fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "conformance: the $name did not come up on $addr; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "conformance: $name on $addr, $RUNS run(s) of each suite"

status=0
for s in $SUITES; do
  allow=
  [ "$s" = socket.io-protocol ] && allow=$conf/socket.io-known-races.txt
  for run in $(seq 1 "$RUNS"); do
    report=$work/$s-$run.json
    rc=0
    # The suite's own `npm test` (mocha test-suite.js), without --exit: a request the server leaves
    # hanging keeps mocha alive, and the timeout turns that into a failed run instead of a stuck CI.
    (cd "$conf/$s" && timeout "$RUN_TIMEOUT" npm test --silent -- --reporter json --reporter-option "output=$report") \
      >"$work/$s-$run.log" 2>&1 || rc=$?
    if [ "$rc" = 124 ]; then
      echo "$s run $run: HUNG: mocha had not exited after ${RUN_TIMEOUT}s (a request or connection the server never ended); output:"
      sed 's/^/    /' "$work/$s-$run.log"
      status=1
      continue
    fi
    if [ ! -s "$report" ]; then
      echo "$s run $run: mocha exited $rc without a report; output:"
      sed 's/^/    /' "$work/$s-$run.log"
      status=1
      continue
    fi
    node "$conf/summarize.mjs" "$report" "$s run $run" $allow || status=1
  done
  if [ -n "$allow" ] && ls "$work/$s"-*.json >/dev/null 2>&1; then
    echo "$s: runs in which each known-race test passed, i.e. was really checked:"
    node "$conf/summarize.mjs" --coverage "$allow" "$work/$s"-*.json
  fi
done

if [ "$status" != 0 ]; then
  echo "conformance: FAILED against the $name (server log: last lines below)"
  tail -n 20 "$work/server.log" | sed 's/^/    /'
else
  echo "conformance: passed against the $name"
fi
exit "$status"

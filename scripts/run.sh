#!/usr/bin/env bash
# make run: migrate, serve on local defaults with the development endpoints, and fill a new
# database with demo people, forum content and use cases (once; loadgen seed leaves a seeded one alone),
# and recount the dashboard's counters.
# Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
./bin/p2p migrate up
export P2P_HTTP_DEV_ENDPOINTS=true
# The demo's platform moderator (pin, lock, hide, categories, organizations): granted at sign-up.
export P2P_AUTH_MODERATORS=${P2P_AUTH_MODERATORS:-sara@demo.p2p.local}
ADDR=${P2P_HTTP_ADDR:-127.0.0.1:8080}
./bin/p2p serve &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' INT TERM
for _ in $(seq 1 300); do
  curl -fs "http://${ADDR/#:/127.0.0.1:}/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || exit 1
  sleep 0.2
done
./bin/loadgen seed -url "http://${ADDR/#:/127.0.0.1:}" || echo "run: seeding failed (the server keeps running)" >&2
# A database seeded before the dashboard existed has content its counters never saw; a rebuild
# counts it (safe while the server runs, and quick on a development database).
./bin/p2p stats rebuild || echo "run: the dashboard's rebuild failed (the server keeps running)" >&2
wait "$pid"

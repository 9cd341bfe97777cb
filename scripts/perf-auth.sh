#!/usr/bin/env bash
# Auth figures for docs/perf.md: an authenticated GET /api/v1/me at 500 requests/s and sign-in at
# 5 requests/s with the production bcrypt cost. Starts its own serve on a spare port against a
# throwaway database and removes both when done.
set -euo pipefail
cd "$(dirname "$0")/.."
ADDR=${ADDR:-127.0.0.1:18082} DB=p2p_perf_auth_$$ DURATION=${DURATION:-30s}
export P2P_HTTP_ADDR=$ADDR P2P_LOG_LEVEL=warn P2P_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
export P2P_REDIS_PREFIX="perf:$$:" P2P_WORKER_QUEUE="perf-$$" P2P_MAIL_OUTBOX_DIR=$(mktemp -d)
export P2P_AUTH_SIGNIN_MAX_ATTEMPTS=1000

./bin/p2p serve >/tmp/p2p-perf-auth.log 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  rm -rf "$P2P_MAIL_OUTBOX_DIR"
  redis-cli --scan --pattern "perf:$$:*" | xargs -r redis-cli del >/dev/null
  redis-cli --scan --pattern "asynq:{perf-$$}*" | xargs -r redis-cli del >/dev/null
  redis-cli srem asynq:queues "perf-$$" >/dev/null
}
trap cleanup EXIT
for _ in $(seq 1 200); do curl -fs "http://$ADDR/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done

EMAIL="perf.$$@example.com"
FORM='{"formFields":[{"id":"email","value":"'$EMAIL'"},{"id":"password","value":"Perf-pass1"},{"id":"firstName","value":"Perf"},{"id":"lastName","value":"User"},{"id":"organizationName","value":"Perf Co"},{"id":"industry","value":"Other"},{"id":"organizationSize","value":"small"},{"id":"city","value":"Riyadh"}]}'
TOKEN=$(curl -fs -D - -o /dev/null -H 'st-auth-mode: header' -H 'Content-Type: application/json' \
  -d "$FORM" "http://$ADDR/auth/signup" | tr -d '\r' | awk -F': ' 'tolower($1)=="st-access-token"{print $2}')
[ -n "$TOKEN" ] || { echo "sign-up failed"; cat /tmp/p2p-perf-auth.log; exit 1; }

echo "== GET /api/v1/me, authenticated, 500/s"
./bin/loadgen http -url "http://$ADDR/api/v1/me" -H "Authorization: Bearer $TOKEN" -rate 500 -duration "$DURATION"
echo
echo "== POST /auth/signin, bcrypt cost ${P2P_AUTH_BCRYPT_COST:-11}, 5/s"
./bin/loadgen http -method POST -url "http://$ADDR/auth/signin" -H 'st-auth-mode: header' \
  -body '{"formFields":[{"id":"email","value":"'$EMAIL'"},{"id":"password","value":"Perf-pass1"}]}' \
  -rate 5 -duration "$DURATION" -warmup 1s -conns 8

#!/usr/bin/env bash
# Makes sure the local PostgreSQL and Redis that `make run` and `make test` use are up.
# Started when installed but stopped; installed with apt-get when absent and running as root.
# Only the loopback services are touched: point P2P_POSTGRES_URL / P2P_REDIS_URL elsewhere and
# set P2P_SKIP_SERVICES=1 to manage them yourself.
set -euo pipefail

[ "${P2P_SKIP_SERVICES:-}" = "1" ] && exit 0

PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_PORT=6379

say() { echo "services: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

apt_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    say "$* is not installed; install it (apt-get install $*) or run as root to let this script do it"
    exit 1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "$name did not come up"
  exit 1
}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
pg_login() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; }

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_up; then
    pg_login || say "warning: PostgreSQL answers on $PG_HOST:$PG_PORT but user postgres cannot log in without a password; set P2P_POSTGRES_URL"
    return 0
  fi
  local installed_now=0
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql postgresql-client
    installed_now=1
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -z "$version" ]; then
    say "PostgreSQL is installed but has no cluster (/etc/postgresql is empty)"
    exit 1
  fi
  if [ "$installed_now" = 1 ]; then
    # A fresh Debian cluster asks for passwords over TCP; the local development setup uses trust on
    # loopback, exactly like the machines this project is developed on.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    sed -i -E 's/^(local\s+all\s+(postgres|all)\s+)\S+/\1trust/' "$hba"
  fi
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL pg_up
}

redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

ensure_redis() {
  if command -v redis-cli >/dev/null && redis_up; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting Redis"
  mkdir -p /tmp/p2p-redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/p2p-redis --logfile /tmp/p2p-redis/redis.log
  wait_for Redis redis_up
}

# PDF exports are printed by headless Chromium (Debian's chromium) with the Noto fonts, whose
# Arabic faces the detail page asks for; the export tests read PDFs back with poppler-utils.
ensure_chromium() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  # grep reads everything: with pipefail, -q would stop early and fc-list would die of SIGPIPE
  fc-list 2>/dev/null | grep NotoSansArabic >/dev/null || missing+=(fonts-noto-core)
  command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || missing+=(poppler-utils)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# Node runs the socket.io-client suite (test/socketio); only `make test` asks for it.
ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return 0; fi
  apt_install nodejs npm
}

# The media worker runs ffprobe/ffmpeg (video duration, poster, preview) and pdfinfo/pdftoppm
# (a PDF's page count and first-page thumbnail): Debian's ffmpeg and poppler-utils.
ensure_media_tools() {
  local missing=()
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
  command -v pdfinfo >/dev/null && command -v pdftoppm >/dev/null || missing+=(poppler-utils)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

ensure_postgres
ensure_redis
ensure_chromium
ensure_media_tools
[ "${1:-}" = "--with-node" ] && ensure_node
say "PostgreSQL on $PG_HOST:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT are up"
"$(dirname "$0")/ferretdb.sh" # bin/ferretdb, the MongoDB-wire server the document store's tests start

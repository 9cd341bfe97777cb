#!/usr/bin/env bash
# Starts or stops a local Redis Cluster of three primaries and three replicas from the installed
# redis-server, for trying the hub's sharded fan-out by hand (hub.fanout_redis_cluster). Tests
# start the same shape from Go: platform/redis/clustertest.
#
#   scripts/redis-cluster.sh start DIR BASEPORT   six nodes on BASEPORT..BASEPORT+5 (cluster bus:
#                                                 port+10000), data and logs in DIR/<port>/; prints
#                                                 the addresses, comma-separated, on the last line
#   scripts/redis-cluster.sh stop DIR             kills the nodes by the PIDs in DIR/<port>/redis.pid
#
# cluster-node-timeout is 1000 ms, so killing a primary (kill -9 "$(cat DIR/<port>/redis.pid)")
# fails it over to its replica within a few seconds.
set -euo pipefail

usage() { echo "usage: $0 start DIR BASEPORT | stop DIR" >&2; exit 2; }

start() {
	local dir=$1 base=$2 addrs=() port
	[[ $base =~ ^[0-9]+$ ]] && ((base > 0 && base + 5 + 10000 <= 65535)) || { echo "BASEPORT must leave room for port+10000" >&2; exit 2; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	for i in 0 1 2 3 4 5; do
		port=$((base + i))
		mkdir -p "$dir/$port"
		cat >"$dir/$port/redis.conf" <<CONF
bind 127.0.0.1
protected-mode no
port $port
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 1000
cluster-replica-validity-factor 0
appendonly no
save ""
dir $dir/$port
logfile $dir/$port/redis.log
pidfile $dir/$port/redis.pid
daemonize yes
CONF
		redis-server "$dir/$port/redis.conf"
		addrs+=("127.0.0.1:$port")
	done
	for a in "${addrs[@]}"; do
		for _ in $(seq 100); do
			redis-cli -p "${a##*:}" ping >/dev/null 2>&1 && break
			sleep 0.05
		done
	done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log"
	for a in "${addrs[@]}"; do
		for _ in $(seq 200); do
			redis-cli -p "${a##*:}" cluster info | grep -q 'cluster_state:ok' && break
			sleep 0.05
		done
	done
	(IFS=,; echo "${addrs[*]}")
}

stop() {
	local dir=$1 pid
	for f in "$dir"/*/redis.pid; do
		[[ -e $f ]] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

case ${1:-} in
start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
*) usage ;;
esac

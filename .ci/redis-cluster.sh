#!/usr/bin/env bash
# Starts a three-master Redis Cluster on loopback (ports 7001-7003, or REDIS_CLUSTER_PORTS) for
# the cluster tests, and waits until it serves every slot. Idempotent: a cluster already up whose
# nodes agree about the slots, with none open, is left as it is; anything else is created again
# from empty nodes (each node can say cluster_state:ok while two of them each think the other
# serves a slot, and clients bounce between them).
# Stop it with: for p in 7001 7002 7003; do redis-cli -p $p shutdown nosave; done
set -euo pipefail

read -r -a PORTS <<<"${REDIS_CLUSTER_PORTS:-7001 7002 7003}"
DIR="${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/fluxpool-redis-cluster}"

for tool in redis-server redis-cli; do
  if ! command -v "$tool" >/dev/null; then
    echo "redis-cluster: $tool is not on PATH (install Redis >= 7)" >&2
    exit 1
  fi
done

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
state_ok() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; }
# Every node reports cluster_state:ok even when two of them each think the other serves a slot
# (seen after many slot migrations by the tests): ask redis-cli to compare their views.
agree() {
  local report
  report=$(redis-cli --cluster check "127.0.0.1:${PORTS[0]}" 2>&1) || return 1
  grep -q 'All nodes agree about slots configuration' <<<"$report" &&
    grep -q 'All 16384 slots covered' <<<"$report"
}

# Already up and consistent: nothing to do. Anything else (a node down, views that disagree, a
# slot left open by a migration that a test did not finish) is started afresh: the cluster holds
# only test keys, and a node restarted from its nodes-P.conf can keep a stale or open slot for good
# (a CI run once waited 20 s for views that never agreed).
all_ok=true
for port in "${PORTS[@]}"; do state_ok "$port" || all_ok=false; done
if $all_ok && agree; then
  echo "redis-cluster: up on ${PORTS[*]}"
  exit 0
fi

mkdir -p "$DIR"
for port in "${PORTS[@]}"; do
  if cli "$port" ping >/dev/null 2>&1; then
    # Something answers: it must be a cluster node, not another Redis or another service.
    if ! cli "$port" info cluster 2>/dev/null | tr -d '\r' | grep -qx 'cluster_enabled:1'; then
      echo "redis-cluster: port $port is taken by something that is not a Redis Cluster node" >&2
      exit 1
    fi
    echo "redis-cluster: restarting the node on $port with an empty cluster configuration" >&2
    cli "$port" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 50); do cli "$port" ping >/dev/null 2>&1 || break; sleep 0.1; done
    if cli "$port" ping >/dev/null 2>&1; then
      echo "redis-cluster: the node on $port did not shut down" >&2
      exit 1
    fi
  fi
  rm -f "$DIR/nodes-$port.conf"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$DIR/nodes-$port.conf" --cluster-node-timeout 5000 \
    --save "" --appendonly no --daemonize yes --dir "$DIR" --logfile "$DIR/redis-$port.log"
done

# Wait until every node accepts commands.
for port in "${PORTS[@]}"; do
  for _ in $(seq 100); do
    cli "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  cli "$port" ping >/dev/null || {
    echo "redis-cluster: the node on $port did not start (see $DIR/redis-$port.log)" >&2
    exit 1
  }
done

addresses=()
for port in "${PORTS[@]}"; do addresses+=("127.0.0.1:$port"); done
redis-cli --cluster create "${addresses[@]}" --cluster-replicas 0 --cluster-yes >/dev/null

for _ in $(seq 200); do
  all_ok=true
  for port in "${PORTS[@]}"; do state_ok "$port" || all_ok=false; done
  if $all_ok && agree; then
    echo "redis-cluster: up on ${PORTS[*]}"
    exit 0
  fi
  sleep 0.1
done
echo "redis-cluster: the cluster on ${PORTS[*]} is not ok; 'redis-cli --cluster check 127.0.0.1:${PORTS[0]}':" >&2
redis-cli --cluster check "127.0.0.1:${PORTS[0]}" >&2 || true
exit 1

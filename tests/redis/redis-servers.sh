#!/usr/bin/env bash
# Starts and stops the Redis servers of the redis tests, on loopback ports
# chosen here (free ones, cluster bus port = port + 10000 free as well):
#   redis-servers.sh start DIR   one standalone server (password, database 2)
#                                and a 3-master Redis Cluster; writes their
#                                URLs to DIR/urls.env (X402_REDIS_URL=...,
#                                X402_REDIS_CLUSTER_URL=...)
#   redis-servers.sh stop DIR    stops every server started in DIR
# Needs redis-server and redis-cli (Debian: redis-server, redis-tools).
set -euo pipefail

command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
password=x402test

port_free() {
    # Nothing listens there (bash's /dev/tcp connect fails).
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 30000))
        if port_free "$port" && port_free $((port + 10000)) && ! grep -qx "$port" "$dir/ports" 2>/dev/null; then
            echo "$port" >>"$dir/ports"
            echo "$port"
            return 0
        fi
    done
    echo "redis-servers: no free port found" >&2
    return 1
}

wait_ping() {  # port [password]
    for _ in $(seq 1 200); do
        if redis-cli -h 127.0.0.1 -p "$1" ${2:+--no-auth-warning -a "$2"} ping 2>/dev/null | grep -q PONG; then return 0; fi
        sleep 0.05
    done
    echo "redis-servers: server on port $1 did not answer" >&2
    return 1
}

stop_all() {
    [ -d "$dir" ] || return 0
    local pids=()
    for pidfile in "$dir"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then pids+=("$pid"); fi
        rm -f "$pidfile"
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
    done
}

start_server() {  # name port extra-args...
    local name=$1 port=$2
    shift 2
    mkdir -p "$dir/$name"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --dir "$dir/$name" --pidfile "$dir/$name.pid" --logfile "$dir/$name.log" "$@"
}

case "$command" in
start)
    stop_all
    rm -rf "$dir"
    mkdir -p "$dir"
    trap 'stop_all' ERR
    standalone=$(pick_port)
    start_server standalone "$standalone" --requirepass "$password"
    nodes=()
    for i in 1 2 3; do
        port=$(pick_port)
        start_server "cluster-$i" "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
            --cluster-node-timeout 5000
        nodes+=("127.0.0.1:$port")
    done
    wait_ping "$standalone" "$password"
    for node in "${nodes[@]}"; do wait_ping "${node#*:}"; done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1
    for node in "${nodes[@]}"; do
        ok=""
        for _ in $(seq 1 200); do
            if redis-cli -h 127.0.0.1 -p "${node#*:}" cluster info | grep -q 'cluster_state:ok'; then ok=1; break; fi
            sleep 0.05
        done
        [ -n "$ok" ] || { echo "redis-servers: cluster not ok on $node" >&2; exit 1; }
    done
    cluster_url="redis+cluster://$(IFS=,; echo "${nodes[*]}")"
    {
        echo "X402_REDIS_URL=redis://default:$password@127.0.0.1:$standalone/2"
        echo "X402_REDIS_CLUSTER_URL=$cluster_url"
    } >"$dir/urls.env"
    cat "$dir/urls.env"
    ;;
stop)
    stop_all
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac

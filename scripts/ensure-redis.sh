#!/usr/bin/env bash
# Makes sure a Redis answers at REDIS_URL (default redis://127.0.0.1:6379).
# If none answers: start the local redis-server with its data under DATA_DIR (AOF on with
# appendfsync always, so an acknowledged write survives a power loss; noeviction);
# if one answers with AOF off, say so (testimony itself refuses to start its long-running roles on it
# unless ALLOW_VOLATILE_REDIS=1);
# if there is no redis-server and we are root with apt-get, install it first.
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=6379
data_dir="${DATA_DIR:-./data}/redis"

answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
  else
    # No client: speak RESP over bash's /dev/tcp.
    (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null
  fi
}

if answers; then
  echo "redis: reachable at $host:$port"
  if command -v redis-cli >/dev/null 2>&1; then
    aof="$(redis-cli -h "$host" -p "$port" config get appendonly 2>/dev/null | sed -n 2p || true)"
    fsync="$(redis-cli -h "$host" -p "$port" config get appendfsync 2>/dev/null | sed -n 2p || true)"
    if [ "$aof" = "no" ]; then
      echo "redis: warning: AOF is off (appendonly no): a Redis restart loses acknowledged approvals and withdrawals; testimony start refuses it unless ALLOW_VOLATILE_REDIS=1" >&2
    elif [ -n "$fsync" ] && [ "$fsync" != "always" ]; then
      echo "redis: warning: appendfsync $fsync: a power loss can lose the last second of acknowledged writes; appendfsync always keeps them" >&2
    fi
  fi
  exit 0
fi

case "$host" in
  127.0.0.1|localhost|::1) ;;
  *) echo "redis: nothing answers at $host:$port, and it is not local, so not starting one. Check REDIS_URL." >&2; exit 1 ;;
esac

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis: installing redis-server with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null
  else
    cat >&2 <<MSG
redis: nothing answers at $host:$port and there is no redis-server binary.
Ways out:
  - docker compose up -d redis        (uses docker-compose.yml)
  - sudo apt-get install redis-server  (then run this again)
  - point REDIS_URL at a Redis you have
MSG
    exit 1
  fi
fi

mkdir -p "$data_dir"
data_abs="$(cd "$data_dir" && pwd)"
echo "redis: starting redis-server on $host:$port (data in $data_abs)"
redis-server --daemonize yes --bind "$host" --port "$port" --dir "$data_abs" \
  --appendonly yes --appendfsync always --maxmemory-policy noeviction \
  --save "" --logfile "$data_abs/redis.log" --pidfile "$data_abs/redis.pid"
for _ in $(seq 1 50); do
  if answers; then echo "redis: up"; exit 0; fi
  sleep 0.1
done
echo "redis: started but not answering; see $data_abs/redis.log" >&2
exit 1

#!/usr/bin/env bash
# Makes sure an S3-compatible server answers at S3_ENDPOINT (default http://127.0.0.1:9400), for tests,
# CI and a local try of STORAGE_URL=s3://...
# If none answers: start OpenStack Swift from Debian (proxy with its s3api middleware and tempauth,
# account, container and object servers, one replica, plus a memcached that s3api needs), bound to
# 127.0.0.1, its data and configuration under S3_DATA_DIR (default DATA_DIR/s3). If the Swift servers
# are missing and we are root with apt-get, install them first. Idempotent: run it as often as you like.
# Prints the environment to use. The credentials are fixed development ones: never expose this server.
set -euo pipefail
endpoint="${S3_ENDPOINT:-http://127.0.0.1:9400}"
hostport="${endpoint#*://}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=80
root="${S3_DATA_DIR:-${DATA_DIR:-./data}/s3}"
# tempauth users are account:user; s3api takes "account:user" as the access key id and the password as secret.
access_key="testimony:ci"
secret_key="testimony-local-s3-secret"
memcached_port="${S3_MEMCACHED_PORT:-11311}"
# Backend ports: the proxy's port plus 1, 2 and 3 (object, container, account).
object_port=$((port + 1)); container_port=$((port + 2)); account_port=$((port + 3))

print_env() {
  cat <<ENV
s3: endpoint $endpoint (bucket names are created by whoever uses them); environment to use:
  S3_ENDPOINT=$endpoint
  S3_REGION=us-east-1
  S3_ACCESS_KEY_ID=$access_key
  S3_SECRET_ACCESS_KEY=$secret_key
ENV
}

answers() { curl -fsS -m 2 "http://$host:$port/healthcheck" 2>/dev/null | grep -q OK; }

if answers; then
  echo "s3: reachable at $host:$port"
  print_env
  exit 0
fi

case "$host" in
  127.0.0.1|localhost) ;;
  *) echo "s3: nothing answers at $endpoint, and it is not local, so not starting one. Check S3_ENDPOINT." >&2; exit 1 ;;
esac

need=()
command -v swift-proxy-server >/dev/null 2>&1 || need+=(swift-proxy)
command -v swift-object-server >/dev/null 2>&1 || need+=(swift-object)
command -v swift-container-server >/dev/null 2>&1 || need+=(swift-container)
command -v swift-account-server >/dev/null 2>&1 || need+=(swift-account)
command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || need+=(memcached)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "s3: installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # A dpkg run cut short (another install killed mid-way) blocks every apt-get install until it is
    # finished; keep existing config files (ours, e.g. /etc/swift/swift.conf) instead of prompting.
    dpkg --force-confold --force-confdef --configure -a >/dev/null
    apt-get update -qq >/dev/null &&
      apt-get install -y -qq -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "${need[@]}" >/dev/null
  else
    cat >&2 <<MSG
s3: nothing answers at $endpoint and ${need[*]} is missing.
Ways out:
  - sudo apt-get install swift-proxy swift-object swift-container swift-account memcached (then run this again)
  - point S3_ENDPOINT (and the S3_* credentials) at an S3-compatible server you have
MSG
    exit 1
  fi
fi

# Swift reads its hash path salt from /etc/swift/swift.conf only; the Debian package ships it as
# swift.conf.dpkg-new when it finds none. A fixed salt is fine for a local test store.
if ! grep -qs '^swift_hash_path_suffix' /etc/swift/swift.conf; then
  if [ -w /etc/swift ] || { [ "$(id -u)" = 0 ] && mkdir -p /etc/swift; }; then
    printf '[swift-hash]\nswift_hash_path_suffix = testimony-local\nswift_hash_path_prefix = testimony\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' >/etc/swift/swift.conf
  else
    echo "s3: /etc/swift/swift.conf has no swift_hash_path_suffix and this user cannot write it (run as root once)" >&2
    exit 1
  fi
fi

mkdir -p "$root/etc" "$root/srv/d1" "$root/run" "$root/log"
root="$(cd "$root" && pwd)"
etc="$root/etc"
user="$(id -un)"

common() { # $1 = port
  printf '[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = %s\nworkers = 0\nuser = %s\nswift_dir = %s\ndevices = %s/srv\nmount_check = false\nlog_name = %s\nlog_facility = LOG_LOCAL0\n' \
    "$1" "$user" "$etc" "$root" "$2"
}

if [ ! -f "$etc/object.ring.gz" ]; then
  # One replica on one device per ring; one python run (swift-ring-builder is 9 slow runs).
  /usr/bin/python3 - "$etc" "$object_port" "$container_port" "$account_port" <<'PY'
import sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], dict(zip(["object", "container", "account"], map(int, sys.argv[2:5])))
for kind, port in ports.items():
    b = RingBuilder(8, 1, 1)
    b.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": port, "device": "d1", "weight": 100})
    b.rebalance()
    b.get_ring().save(f"{etc}/{kind}.ring.gz")
PY
fi

{ common "$object_port" object-server
  printf '\n[pipeline:main]\npipeline = object-server\n\n[app:object-server]\nuse = egg:swift#object\n'
} >"$etc/object-server.conf"
{ common "$container_port" container-server
  printf '\n[pipeline:main]\npipeline = container-server\n\n[app:container-server]\nuse = egg:swift#container\n'
} >"$etc/container-server.conf"
{ common "$account_port" account-server
  printf '\n[pipeline:main]\npipeline = account-server\n\n[app:account-server]\nuse = egg:swift#account\n'
} >"$etc/account-server.conf"
{ common "$port" proxy-server
  cat <<CONF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_testimony_ci = $secret_key .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached_port

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
} >"$etc/proxy-server.conf"

alive() { [ -f "$root/run/$1.pid" ] && kill -0 "$(cat "$root/run/$1.pid")" 2>/dev/null; }

start() { # name, command...
  local name="$1"; shift
  if alive "$name"; then return 0; fi
  setsid nohup "$@" >>"$root/log/$name.log" 2>&1 </dev/null &
  echo $! >"$root/run/$name.pid"
}

echo "s3: starting Swift with s3api on $host:$port (data in $root)"
started=$(date +%s%N)
memcached_bin="$(command -v memcached || echo /usr/bin/memcached)"
start memcached "$memcached_bin" -l 127.0.0.1 -p "$memcached_port" -U 0 -m 64 -u "$user"
start object swift-object-server "$etc/object-server.conf"
start container swift-container-server "$etc/container-server.conf"
start account swift-account-server "$etc/account-server.conf"
start proxy swift-proxy-server "$etc/proxy-server.conf"

for _ in $(seq 1 600); do
  if answers; then
    echo "s3: up in $(( ($(date +%s%N) - started) / 1000000 )) ms"
    print_env
    exit 0
  fi
  for name in memcached object container account proxy; do
    if ! alive "$name"; then
      echo "s3: $name exited; its log ($root/log/$name.log) ends with:" >&2
      tail -n 20 "$root/log/$name.log" >&2 || true
      exit 1
    fi
  done
  sleep 0.1
done
echo "s3: started but not answering after 60 s; see $root/log/" >&2
exit 1

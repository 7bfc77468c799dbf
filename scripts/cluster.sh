#!/usr/bin/env bash
# Several Offboard instances on one PostgreSQL behind HAProxy, on this machine
# (SPEC B9). Everything listens on 127.0.0.1 only.
#
#   scripts/cluster.sh            # start: PostgreSQL if down, INSTANCES x `offboard serve`, HAProxy;
#                                 # prints the load balancer's URL as its last line
#   scripts/cluster.sh stop       # stops what `start` started (by the PIDs it recorded), nothing else
#   scripts/cluster.sh status     # each recorded process: alive or not
#   scripts/cluster.sh kill I     # kill -9 instance I (1..INSTANCES), as a crash would (chaos.sh)
#   scripts/cluster.sh instance I # (re)starts instance I with the cluster's settings
#
# Knobs (environment): DATABASE_URL (default: postgres://postgres@127.0.0.1:5432/offboard_cluster,
# created when missing), OFFBOARD_BIN (default: builds the release binary), INSTANCES (3),
# BASE_PORT (18101: instance I listens on BASE_PORT+I-1), LB_PORT (18100), CLUSTER_DIR (state:
# target/cluster). Every instance gets the same OFFBOARD_SECRET_KEY (from the environment, else
# generated once into CLUSTER_DIR) so a session made on one is valid on all, and
# OFFBOARD_TRUSTED_PROXIES=127.0.0.1 so sign-in throttling sees the client behind HAProxy.
# Other OFFBOARD_* settings in the environment reach every instance.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${CLUSTER_DIR:-$ROOT/target/cluster}
mkdir -p "$DIR"

# `start` writes the settings; the other commands read them back.
if [ "${1:-start}" != start ] && [ -f "$DIR/settings" ]; then
  # shellcheck disable=SC1091
  . "$DIR/settings"
fi
INSTANCES=${INSTANCES:-3}
BASE_PORT=${BASE_PORT:-18101}
LB_PORT=${LB_PORT:-18100}
PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres

# A recorded process that still runs (a killed one may linger as a zombie until reaped).
alive() {
  [ -f "$1" ] || return 1
  local stat
  stat=$(cat "/proc/$(cat "$1")/stat" 2>/dev/null) || return 1
  [ "$(awk '{print $3}' <<<"$stat")" != Z ]
}

ensure_postgres() {
  pg_isready -q -h 127.0.0.1 -p 5432 && return 0
  case "${DATABASE_URL:-}" in
    "" | postgres://*@127.0.0.1:5432/* | postgres://*@localhost:5432/*) ;;
    *) echo "PostgreSQL at DATABASE_URL does not answer" >&2; exit 1 ;;
  esac
  command -v pg_ctlcluster >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  # Recorded so that `stop` stops the server it started, and only that one.
  head -n 1 "/var/lib/postgresql/$version/main/postmaster.pid" >"$DIR/postgres.pid"
}

ensure_database() {
  if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/offboard_cluster?sslmode=disable"
    psql "$PG_ADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname = 'offboard_cluster'" | grep -q 1 ||
      psql "$PG_ADMIN" -qc "CREATE DATABASE offboard_cluster"
  fi
}

ensure_binary() {
  if [ -z "${OFFBOARD_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    OFFBOARD_BIN=$ROOT/target/release/offboard
  fi
  [ -x "$OFFBOARD_BIN" ] || { echo "no binary at $OFFBOARD_BIN" >&2; exit 1; }
}

ensure_key() {
  if [ -z "${OFFBOARD_SECRET_KEY:-}" ]; then
    [ -s "$DIR/secret.key" ] || { umask 077; od -An -tx1 -N64 /dev/urandom | tr -d ' \n' >"$DIR/secret.key"; }
    OFFBOARD_SECRET_KEY=$(cat "$DIR/secret.key")
  fi
}

# Instance I in the background, its PID recorded; the log in CLUSTER_DIR.
start_instance() {
  local i=$1 port=$((BASE_PORT + $1 - 1))
  alive "$DIR/instance-$i.pid" && { echo "instance $i is running" >&2; return 0; }
  DATABASE_URL=$DATABASE_URL OFFBOARD_SECRET_KEY=$OFFBOARD_SECRET_KEY OFFBOARD_TRUSTED_PROXIES=127.0.0.1 \
    OFFBOARD_PUBLIC_URL=${OFFBOARD_PUBLIC_URL:-http://127.0.0.1:$LB_PORT} \
    nohup "$OFFBOARD_BIN" serve --bind "127.0.0.1:$port" >>"$DIR/instance-$i.log" 2>&1 &
  echo $! >"$DIR/instance-$i.pid"
}

wait_ready() { # port, seconds
  for _ in $(seq 1 $(($2 * 5))); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/readyz" && return 0
    sleep 0.2
  done
  return 1
}

write_haproxy_config() {
  {
    cat <<EOF
# Written by scripts/cluster.sh.
global
    maxconn 4096
    stats socket $DIR/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 300s
    # CSV uploads are validated before the answer: up to minutes for 100,000 rows.
    timeout server 300s
    timeout http-request 30s
    # The client behind HAProxy, for OFFBOARD_TRUSTED_PROXIES.
    option forwardfor
    # A request whose instance refused the connection goes to another one; GETs
    # whose instance died mid-answer are retried there too (never a POST).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend offboard
    bind 127.0.0.1:$LB_PORT
    default_backend instances

backend instances
    balance roundrobin
    http-request disable-l7-retry unless METH_GET || METH_HEAD
    # Up: the process answers (/healthz) and its database and schema are right (/readyz).
    option httpchk
    http-check connect
    http-check send meth GET uri /healthz
    http-check expect status 200
    http-check connect
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server check inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
EOF
    for i in $(seq 1 "$INSTANCES"); do
      echo "    server instance$i 127.0.0.1:$((BASE_PORT + i - 1))"
    done
  } >"$DIR/haproxy.cfg"
}

start() {
  command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }
  ensure_postgres
  ensure_database
  ensure_binary
  ensure_key
  cat >"$DIR/settings" <<EOF
DATABASE_URL='$DATABASE_URL'
OFFBOARD_BIN='$OFFBOARD_BIN'
OFFBOARD_SECRET_KEY='$OFFBOARD_SECRET_KEY'
INSTANCES=$INSTANCES
BASE_PORT=$BASE_PORT
LB_PORT=$LB_PORT
EOF
  chmod 600 "$DIR/settings"
  # All at once: the migrations run once, under an advisory lock.
  for i in $(seq 1 "$INSTANCES"); do start_instance "$i"; done
  for i in $(seq 1 "$INSTANCES"); do
    wait_ready $((BASE_PORT + i - 1)) 120 || { echo "instance $i is not ready; see $DIR/instance-$i.log" >&2; exit 1; }
  done
  write_haproxy_config
  if ! alive "$DIR/haproxy.pid"; then
    haproxy -f "$DIR/haproxy.cfg" -db >>"$DIR/haproxy.log" 2>&1 &
    echo $! >"$DIR/haproxy.pid"
  fi
  for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$LB_PORT/healthz" && break; sleep 0.2; done
  alive "$DIR/haproxy.pid" || { echo "HAProxy did not start; see $DIR/haproxy.log" >&2; exit 1; }
  echo "$INSTANCES instances on ports $BASE_PORT..$((BASE_PORT + INSTANCES - 1)), database $DATABASE_URL, state in $DIR"
  echo "http://127.0.0.1:$LB_PORT"
}

stop_pid() { # pid file, name
  alive "$1" || { rm -f "$1"; return 0; }
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do alive "$1" || break; sleep 0.2; done
  alive "$1" && kill -KILL "$pid" 2>/dev/null || true
  echo "stopped $2 ($pid)"
  rm -f "$1"
}

stop() {
  stop_pid "$DIR/haproxy.pid" haproxy
  for f in "$DIR"/instance-*.pid; do
    [ -e "$f" ] && stop_pid "$f" "$(basename "$f" .pid)"
  done
  stop_pid "$DIR/postgres.pid" postgresql
  return 0
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status)
    for f in "$DIR"/*.pid; do
      [ -e "$f" ] || continue
      if alive "$f"; then echo "$(basename "$f" .pid) $(cat "$f") up"; else echo "$(basename "$f" .pid) down"; fi
    done ;;
  kill)
    kill -KILL "$(cat "$DIR/instance-$2.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$DIR/instance-$2.pid" || break; sleep 0.1; done ;;
  instance) start_instance "$2" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac

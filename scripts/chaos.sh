#!/usr/bin/env bash
# Resilience check of the cluster (SPEC B9), not a speed test. Per run, on a
# fresh copy of a seeded PostgreSQL database:
#   - scripts/cluster.sh starts INSTANCES instances behind HAProxy (loopback only);
#   - a session made through HAProxy is checked on every instance directly;
#   - a ROWS-row CSV deactivation job is uploaded and applied through HAProxy
#     (REST API, /v2/imports), with a webhook endpoint subscribed (events go to
#     scripts/webhook-receiver.py) and MAILS messages due in the mail outbox
#     over the job's first minute (sent to a local SMTP sink);
#   - wrk reads the Users page through HAProxy with a session cookie;
#   - every KILL_EVERY seconds one instance (in turn) is killed with -9 and
#     restarted, until the job is done;
#   - then: every row applied exactly once (audit rows = rows, distinct users
#     = rows), every webhook event and mail arrived (duplicates counted: only
#     an instance that died mid-send repeats one, with the same event id), and
#     the requests that failed through HAProxy (wrk's non-2xx and socket errors).
# A summary table at the end. Knobs: RUNS (1), USERS (200000), ROWS (100000),
# INSTANCES (3), KILL_EVERY (10), MAILS (300), OFFBOARD_BIN (default: the
# release binary, built), CHAOS_RESEED=1 (seed the template again).
#   RUNS=10 OFFBOARD_BIN=target/debug/offboard scripts/chaos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-1}
USERS=${USERS:-200000}
ROWS=${ROWS:-100000}
KILL_EVERY=${KILL_EVERY:-10}
MAILS=${MAILS:-300}
export INSTANCES=${INSTANCES:-3} BASE_PORT=${BASE_PORT:-18201} LB_PORT=${LB_PORT:-18200}
export CLUSTER_DIR=$ROOT/target/chaos/cluster
WPORT=$((LB_PORT + 50)) SPORT=$((LB_PORT + 51))
PG=postgres://postgres@127.0.0.1:5432
DB=offboard_chaos TEMPLATE=offboard_chaos_template
work=$ROOT/target/chaos
mkdir -p "$work"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
python3 -c "import aiosmtpd" 2>/dev/null || pip install -q aiosmtpd
if [ -z "${OFFBOARD_BIN:-}" ]; then cargo build --release --quiet; OFFBOARD_BIN=$ROOT/target/release/offboard; fi
# A copy: a rebuild during the runs does not change what the restarted instances run.
cp "$OFFBOARD_BIN" "$work/offboard.bin"
OFFBOARD_BIN=$work/offboard.bin
export OFFBOARD_BIN RUST_LOG=${RUST_LOG:-warn}
export OFFBOARD_DEMO_PASSWORD=chaos-password-1 OFFBOARD_WEBHOOK_ALLOW_PRIVATE=true OFFBOARD_API_RATE=1000000
export OFFBOARD_SWEEP_SECONDS=2 SMTP_URL=smtp://127.0.0.1:$SPORT
export DATABASE_URL=$PG/$DB

helpers=()
cleanup() {
  scripts/cluster.sh stop >/dev/null 2>&1 || true
  for p in "${helpers[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
sql() { psql "$PG/$DB" -tAc "$1"; }

# One seeded database as the template; each run starts from a copy of it.
if [ "${CHAOS_RESEED:-0}" = 1 ] || ! psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$TEMPLATE'" | grep -q 1; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $TEMPLATE WITH (FORCE)" -c "CREATE DATABASE $TEMPLATE"
  echo "seeding $USERS users into $TEMPLATE"
  DATABASE_URL=$PG/$TEMPLATE "$OFFBOARD_BIN" seed --users "$USERS" | head -n 1
fi
{ echo "Email"; for i in $(seq 1 "$ROWS"); do printf 'u%07d@bench.example\n' "$i"; done; } >"$work/leavers.csv"

# Retries on the way (a kill lands on any request), counted from HAProxy's stats.
haproxy_stat() { # field name -> the backend's value
  python3 - "$CLUSTER_DIR/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536): data += chunk
lines = data.decode().splitlines(); head = lines[0].lstrip("# ").split(",")
for line in lines[1:]:
    cells = line.split(",")
    if len(cells) > 1 and cells[1] == "BACKEND": print(cells[head.index(sys.argv[2])] or 0)
PY
}

sign_in() { # -> cookie header value, made through HAProxy
  local jar=$work/jar csrf
  rm -f "$jar"
  csrf=$(curl -s -c "$jar" -b "$jar" "$LB/login" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "email=owner@bench.example" \
    --data-urlencode "password=$OFFBOARD_DEMO_PASSWORD" "$LB/login"
  awk '$6=="offboard_session"{print "offboard_session=" $7}' "$jar"
}

one_run() { # run number -> appends a line to $work/summary
  local run=$1 cookie token job kills=0 t0 holders
  scripts/cluster.sh stop >/dev/null 2>&1 || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE $TEMPLATE"
  rm -f "$work"/hook-* "$work/mail.txt" "$CLUSTER_DIR"/instance-*.log
  python3 scripts/webhook-receiver.py "$WPORT" "$work/hook-secret" "$work/hook-count" "$work/hook-ids" 2>/dev/null &
  helpers+=($!)
  python3 -m aiosmtpd -n -c aiosmtpd.handlers.Debugging -l "127.0.0.1:$SPORT" >"$work/mail.txt" 2>/dev/null &
  helpers+=($!)
  LB=$(scripts/cluster.sh | tail -n 1)
  # The secret is the first line's last word; the rest (the challenge's outcome) is read to the end.
  "$OFFBOARD_BIN" webhook add --owner owner@bench.example --url "http://127.0.0.1:$WPORT/hook" \
    --events user.deactivated 2>&1 | { read -r first; echo "${first##* }" >"$work/hook-secret"; cat; } >"$work/hook-add.txt"
  token=$("$OFFBOARD_BIN" api-token create --owner owner@bench.example --name "chaos" --scopes import | awk 'END { print $NF }')
  # Mail due over the job's first minute, so kills land while it is sent.
  sql "INSERT INTO mail_outbox (account_id, dedupe_key, to_email, subject, body, created_at, next_attempt_at)
       SELECT 1, 'chaos-' || n, 'admin' || n || '@bench.example', 'chaos ' || n, 'chaos-mail-' || n || '.',
              now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' + (n % 60) * interval '1 second'
       FROM generate_series(1, $MAILS) AS n" >/dev/null
  cookie=$(sign_in)
  local shared=0
  for i in $(seq 1 "$INSTANCES"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$((BASE_PORT + i - 1))/users")" = 200 ] && shared=$((shared + 1))
  done
  job=$(curl -s -H "Authorization: Bearer $token" -F action=deactivate -F "file=@$work/leavers.csv;type=text/csv" "$LB/v2/imports" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $token" "$LB/v2/imports/$job/apply"
  wrk -t1 -c8 -d3600s --timeout 10s -H "Cookie: $cookie" "$LB/users" >"$work/wrk.txt" 2>&1 &
  local wrkpid=$!
  helpers+=("$wrkpid")
  t0=$(date +%s)
  holders=""
  while [ "$(sql "SELECT state FROM import_jobs WHERE id = $job")" != done ]; do
    sleep "$KILL_EVERY"
    holders="$holders $(sql "SELECT claimed_by FROM import_jobs WHERE id = $job")"
    [ "$(sql "SELECT state FROM import_jobs WHERE id = $job")" = done ] && break
    local victim=$((kills % INSTANCES + 1))
    scripts/cluster.sh kill "$victim"
    kills=$((kills + 1))
    sleep 1
    scripts/cluster.sh instance "$victim"
    [ $(( $(date +%s) - t0 )) -gt 1800 ] && { echo "run $run: the job did not finish in 30 minutes" >&2; break; }
  done
  local job_s=$(( $(date +%s) - t0 ))
  kill -INT "$wrkpid"; wait "$wrkpid" 2>/dev/null || true
  # Claims of a killed sender come back after their lease (webhooks 60 s, mail 2 min).
  for _ in $(seq 1 300); do
    [ "$(sql "SELECT (SELECT count(*) FROM webhook_events WHERE NOT fanned_out)
              + (SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL AND NOT given_up)
              + (SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL)")" = 0 ] && break
    sleep 1
  done
  sleep 1
  local valid rows audit distinct events got dups mails mail_got mail_dups non2xx sockerr retries redisp
  valid=$(sql "SELECT valid FROM import_jobs WHERE id = $job")
  # A row the cursor passed that is still pending was applied (import::as_applied).
  rows=$(sql "SELECT count(*) FROM import_rows r JOIN import_jobs j ON j.id = r.job_id WHERE r.job_id = $job \
    AND (r.state = 'done' OR (r.state = 'pending' AND r.line <= j.applied_through))")
  audit=$(sql "SELECT count(*) FROM audit_log WHERE job_id = $job")
  distinct=$(sql "SELECT count(DISTINCT target_id) FROM audit_log WHERE job_id = $job")
  events=$(sql "SELECT count(*) FROM webhook_events")
  got=$(sort -u "$work/hook-ids" | grep -c . || true)
  dups=$(( $(grep -c . "$work/hook-ids" || true) - got ))
  mails=$(sql "SELECT count(*) FROM mail_outbox WHERE dedupe_key LIKE 'chaos-%' AND sent_at IS NOT NULL")
  mail_got=$(grep -o 'chaos-mail-[0-9]*\.' "$work/mail.txt" | sort -u | grep -c . || true)
  mail_dups=$(( $(grep -o 'chaos-mail-[0-9]*\.' "$work/mail.txt" | grep -c . || true) - mail_got ))
  non2xx=$(awk '/Non-2xx/{print $5}' "$work/wrk.txt"); non2xx=${non2xx:-0}
  sockerr=$(awk '/Socket errors/{gsub(",",""); print $4+$6+$8+$10}' "$work/wrk.txt"); sockerr=${sockerr:-0}
  retries=$(haproxy_stat wretr) redisp=$(haproxy_stat wredis)
  printf '%3s %7s %7s %8s %6s %8s %8s %5s %6s %6s %5s %9s %7s %7s %6s %5s %6s %s\n' "$run" "$valid" "$rows" "$audit" \
    "$distinct" "$events" "$got" "$dups" "$MAILS" "$mail_got" "$mail_dups" \
    "$(awk '/requests in/{print $1}' "$work/wrk.txt")" "$((non2xx + sockerr))" "$retries/$redisp" "$kills" "$shared" "$job_s" \
    "$(tr ' ' '\n' <<<"$holders" | grep . | uniq | sed 's/.*127.0.0.1://' | paste -sd'>' -)" | tee -a "$work/summary"
  scripts/cluster.sh stop >/dev/null
  for p in "${helpers[@]}"; do kill "$p" 2>/dev/null || true; done
  helpers=()
  [ "$rows" = "$valid" ] && [ "$audit" = "$valid" ] && [ "$distinct" = "$valid" ] && [ "$got" = "$events" ] && [ "$mail_got" = "$MAILS" ]
}

header=$(printf '%3s %7s %7s %8s %6s %8s %8s %5s %6s %6s %5s %9s %7s %7s %6s %5s %6s %s' run valid applied audit users \
  events received dups mails recvd dups requests failed retr/red kills sess job_s "job holders")
: >"$work/summary"
echo "$header"
failed=0
for run in $(seq 1 "$RUNS"); do
  one_run "$run" || failed=$((failed + 1))
done
echo
echo "summary ($RUNS runs, $INSTANCES instances, $USERS users, a kill -9 every ${KILL_EVERY}s; $(nproc) cores shared by"
echo "PostgreSQL, the instances, HAProxy, wrk and the receivers: not a speed test)"
echo "$header"
cat "$work/summary"
echo "columns: valid = the file's rows the rules allow (the rest are admins, pending or already deactivated users),"
echo "applied = rows done, audit = the job's audit rows, users = distinct users audited; events = webhook events"
echo "written, received = distinct event ids at the receiver, dups = repeated ids; mails sent/received/repeated;"
echo "requests/failed = wrk through HAProxy (non-2xx + socket errors); retr/red = HAProxy retries/redispatches;"
echo "sess = instances accepting a session made through HAProxy; job holders = the instance (port) holding the job's lease"
[ "$failed" = 0 ] || { echo "$failed run(s) lost or repeated something"; exit 1; }

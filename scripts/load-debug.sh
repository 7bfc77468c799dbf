#!/usr/bin/env bash
# Load check (issue 8): on a fresh SQLite account of LOAD_USERS users (default
# 200,000), reads the Users page at concurrency 64 for LOAD_SECONDS (60) with
# wrk over loopback, while another admin runs a 10,000-row CSV deactivate job
# and a bulk deactivate of 10,000 matching users. Then checks: no socket
# errors, no 5xx, and no lost update (every user the job or the bulk action
# reports done is deactivated and has exactly one audit row, and no other
# user changed). Prints the page latency and the verdict; exits 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${LOAD_USERS:-200000}
D=${LOAD_SECONDS:-10}
PORT=${LOAD_PORT:-18282}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=$PWD/target/release/offboard
work=/tmp/loadwork; rm -rf $work; mkdir -p $work
trap "kill ${pid:-0} 2>/dev/null || true" EXIT
export DATABASE_URL=$work/load.db OFFBOARD_DEMO_PASSWORD=load-password-1 OFFBOARD_SWEEP_SECONDS=100000
cd "$work"
"$BIN" seed --users "$N" >/dev/null
"$BIN" serve --bind 127.0.0.1:$PORT >serve.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:$PORT/login && break; sleep 0.1; done
session() { # email -> cookie
  local jar=$work/jar-$1 t
  t=$(curl -s -c "$jar" -b "$jar" http://127.0.0.1:$PORT/login | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf=$t" --data-urlencode "email=$1" --data-urlencode "password=$OFFBOARD_DEMO_PASSWORD" http://127.0.0.1:$PORT/login
  awk '$6=="offboard_session"{print "offboard_session=" $7}' "$jar"
}
reader=$(session owner@bench.example)
writer=$(session owner@bench.example)
csrf=$(curl -s -H "Cookie: $writer" http://127.0.0.1:$PORT/users | grep -o '"X-CSRF-Token": "[^"]*"' | cut -d'"' -f4)

wrk -t2 -c64 -d"${D}s" --latency -H "Cookie: $reader" "http://127.0.0.1:$PORT/users" >wrk.txt &
wrkpid=$!
sleep 2
{ echo Email; for i in $(seq 30000 39999); do printf 'u%07d@bench.example\n' "$i"; done; } >job.csv
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $writer" -F "csrf=$csrf" -F action=deactivate -F "file=@job.csv" "http://127.0.0.1:$PORT/import")
job=${loc##*/}
curl -s -o /dev/null -H "Cookie: $writer" --data-urlencode "csrf=$csrf" "http://127.0.0.1:$PORT/import/jobs/$job/apply"
hx=(-H "Cookie: $writer" -H "HX-Request: true" -H "X-CSRF-Token: $csrf")
curl -s -o preview.html "${hx[@]}" --data "action=deactivate&all_matching=1&q=u005" http://127.0.0.1:$PORT/users/bulk/preview
token=$(grep -o '/users/bulk/[0-9a-f]*/apply' preview.html | head -n 1 | cut -d/ -f4)
curl -s -o result.html "${hx[@]}" --data "action=deactivate&mode=now" "http://127.0.0.1:$PORT/users/bulk/$token/apply"
until curl -s "${hx[@]}" "http://127.0.0.1:$PORT/import/jobs/$job/progress" | grep -q 'data-job-state="done"'; do sleep 0.5; done
wait $wrkpid
kill $pid; wait $pid 2>/dev/null || true; pid=

python3 - "$work/load.db" "$job" <<'PY'
import sqlite3, sys
db, job = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
q = lambda sql, *a: db.execute(sql, a).fetchall()
done_rows = {r[0] for r in q("SELECT user_id FROM import_rows WHERE job_id=? AND state='done'", job)}
job_audit = [r[0] for r in q("SELECT target_id FROM audit_log WHERE job_id=?", job)]
bulk_audit = [r[0] for r in q("SELECT target_id FROM audit_log WHERE source='bulk'")]
deactivated_by_us = {r[0] for r in q("SELECT id FROM users WHERE status='deactivated' AND deactivated_at > (SELECT created_at FROM import_jobs WHERE id=?)", job)}
problems = []
if len(job_audit) != len(set(job_audit)) or set(job_audit) != done_rows: problems.append("CSV job rows and audit rows differ")
if len(bulk_audit) != len(set(bulk_audit)): problems.append("a bulk user was audited twice")
if deactivated_by_us != done_rows | set(bulk_audit): problems.append("users changed without a matching audit row, or the reverse")
print(f"CSV job: {len(done_rows)} rows done, {len(job_audit)} audit rows; bulk: {len(bulk_audit)} done")
extra = deactivated_by_us - (done_rows | set(bulk_audit)); missing = (done_rows | set(bulk_audit)) - deactivated_by_us; print("extra", len(extra), sorted(extra)[:5], "missing", len(missing), sorted(missing)[:5])
print("no lost update" if not problems else "LOST UPDATES: " + "; ".join(problems))
sys.exit(1 if problems else 0)
PY
errors=$(awk '/Socket errors/{print}' wrk.txt)
non2xx=$(awk '/Non-2xx/{print $5}' wrk.txt)
echo "Users page at concurrency 64 for ${D}s: $(awk '/Requests\/sec/{print $2}' wrk.txt) req/s, p50 $(awk '$1=="50%"{print $2}' wrk.txt), p99 $(awk '$1=="99%"{print $2}' wrk.txt); non-2xx: ${non2xx:-0}; ${errors:-no socket errors}"
[ -z "$non2xx" ] && [ -z "$errors" ]

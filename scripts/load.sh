#!/usr/bin/env bash
# Load check (issues 8 and 20): on a fresh account of LOAD_USERS users
# (default 200,000), sends a mix of reads at concurrency 64 for LOAD_SECONDS
# (60) with wrk over loopback (the Users page first, searched by name and by
# email prefix, by status and deep; the transfer type-ahead; the Audit log
# page, newest and filtered), while another admin runs a 10,000-row CSV
# deactivate job and a bulk deactivate of 10,000 matching users. Then checks:
# no socket errors, no 5xx, and no lost update (every user the job or the
# bulk action reports done is deactivated and has exactly one audit row, and
# no other user changed). Prints the latency and the verdict; exits 1 on
# failure.
#   LOAD_USERS=1000000 scripts/load.sh
#   LOAD_BACKEND=postgres LOAD_USERS=1000000 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${LOAD_USERS:-200000}
D=${LOAD_SECONDS:-60}
PORT=${LOAD_PORT:-18282}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
cargo build --release --quiet
BIN=$PWD/target/release/offboard
work=$(mktemp -d)
BACKEND=${LOAD_BACKEND:-sqlite}
PG=postgres://postgres@127.0.0.1:5432
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  [ "$BACKEND" = postgres ] && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS offboard_load WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$BACKEND" = postgres ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS offboard_load WITH (FORCE)" -c "CREATE DATABASE offboard_load" >/dev/null
  # Loopback: TLS would only cost CPU on both ends (issue 20: 16% of a page).
  export DATABASE_URL="$PG/offboard_load?sslmode=disable"
else
  export DATABASE_URL=$work/load.db
fi
export OFFBOARD_DEMO_PASSWORD=load-password-1 OFFBOARD_SWEEP_SECONDS=100000
cd "$work"
"$BIN" seed --users "$N" >/dev/null
# Another server on the port would be measured instead of this one.
! curl -s -o /dev/null "http://127.0.0.1:$PORT/" || { echo "port $PORT is in use: stop that server first"; exit 1; }
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

deep=$(printf 'u%07d%%40bench.example' $((N * 9 / 10)))
cat >mix.lua <<LUA
-- Each wrk thread walks the mix from another place.
local paths = {"/users", "/users?q=maria", "/users?q=u00042", "/users?status=deactivated", "/users?after=$deep",
  "/users/suggest?transfer_to=ma", "/audit", "/audit?target=u0030000%40bench.example", "/users", "/users?q=jansen"}
local i = 0
init = function() i = math.random(1, #paths) end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
wrk -t2 -c64 -d"${D}s" --latency -s mix.lua -H "Cookie: $reader" "http://127.0.0.1:$PORT" >wrk.txt &
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

python3 - "$BACKEND" "$DATABASE_URL" "$job" <<'PY'
import subprocess, sys
backend, url, job = sys.argv[1], sys.argv[2], int(sys.argv[3])
def q(sql, *args):
    sql = sql.replace("?", "{}").format(*args)
    cmd = ["psql", "-Atq", "-F", "|", url, "-c", sql] if backend == "postgres" else ["sqlite3", url, sql]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [tuple(int(c) if c.isdigit() else c for c in line.split("|")) for line in out.splitlines() if line]
# A row the job's cursor passed that is still pending was applied (import::as_applied).
done_rows = {r[0] for r in q("SELECT r.user_id FROM import_rows r JOIN import_jobs j ON j.id = r.job_id "
                             "WHERE r.job_id=? AND (r.state='done' OR (r.state='pending' AND r.line <= j.applied_through))", job)}
job_audit = [r[0] for r in q("SELECT target_id FROM audit_log WHERE job_id=?", job)]
bulk_audit = [r[0] for r in q("SELECT target_id FROM audit_log WHERE source='bulk'")]
# ">=": timestamps are to the second, and the job now starts within the second it was created.
deactivated_by_us = {r[0] for r in q("SELECT id FROM users WHERE status='deactivated' AND deactivated_at >= (SELECT created_at FROM import_jobs WHERE id=?)", job)}
problems = []
if len(job_audit) != len(set(job_audit)) or set(job_audit) != done_rows: problems.append("CSV job rows and audit rows differ")
if len(bulk_audit) != len(set(bulk_audit)): problems.append("a bulk user was audited twice")
if deactivated_by_us != done_rows | set(bulk_audit): problems.append("users changed without a matching audit row, or the reverse")
print(f"CSV job: {len(done_rows)} rows done, {len(job_audit)} audit rows; bulk: {len(bulk_audit)} done")
print("no lost update" if not problems else "LOST UPDATES: " + "; ".join(problems))
sys.exit(1 if problems else 0)
PY
errors=$(awk '/Socket errors/{print}' wrk.txt)
non2xx=$(awk '/Non-2xx/{print $5}' wrk.txt)
echo "Mixed reads ($BACKEND, $N users) at concurrency 64 for ${D}s: $(awk '/Requests\/sec/{print $2}' wrk.txt) req/s, p50 $(awk '$1=="50%"{print $2}' wrk.txt), p99 $(awk '$1=="99%"{print $2}' wrk.txt); non-2xx: ${non2xx:-0}; ${errors:-no socket errors}"
[ -z "$non2xx" ] && [ -z "$errors" ]

#!/usr/bin/env bash
# The REST API against its OpenAPI document: starts one `offboard serve` on a
# loopback port with a fresh SQLite database and the demo seed, creates a
# token with the CLI, validates /v2/openapi.json (openapi-spec-validator) and
# runs `schemathesis run --checks all` (no 5xx, no answer the document does
# not describe), then scim2-tester against /scim/v2 of the same server
# (scripts/scim-check.sh, with a `scim` token of a second account that has
# only its owner: scim2-tester looks for its users on a list's first page).
# OFFBOARD_API_CHECK_ONLY=scim runs only the SCIM check.
# Python tools live in a virtualenv under target/.
# Skip with OFFBOARD_SKIP_API_CHECK=1 (local runs); CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${OFFBOARD_SKIP_API_CHECK:-0}" = "1" ]; then
  echo "api-check skipped (OFFBOARD_SKIP_API_CHECK=1)"
  exit 0
fi

venv=target/api-check-venv
if [ ! -x "$venv/bin/schemathesis" ] || [ ! -x "$venv/bin/openapi-spec-validator" ] \
  || ! "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
  # Debian's python3 needs python3-venv for `-m venv`.
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q schemathesis openapi-spec-validator "scim2-tester[httpx2]"
fi
only="${OFFBOARD_API_CHECK_ONLY:-}"

cargo build --quiet --bin offboard
bin=target/debug/offboard
work=$(mktemp -d "${TMPDIR:-/tmp}/offboard-api-check.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
export DATABASE_URL="$work/offboard.db"
export OFFBOARD_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(64))')
export OFFBOARD_DEMO_PASSWORD="api-check-password"
export RUST_LOG=warn
# Above the default 100/s so the run reaches the logic behind the rate; 429 stays documented and expected.
export OFFBOARD_API_RATE="${OFFBOARD_API_RATE:-1000}"
"$bin" seed --demo >/dev/null
token=$("$bin" api-token create --owner owner@acme.example --name api-check \
  --scopes user:read,user:write,user:delete,import | awk 'END { print $NF }')
# SCIM: a second account with only its owner, and a scim token of that owner.
echo "scim-check-password" | "$bin" create-owner --email owner@scim-check.example >/dev/null
scim_token=$("$bin" api-token create --owner owner@scim-check.example --name scim-check \
  --scopes scim | awk 'END { print $NF }')

"$bin" serve --bind "127.0.0.1:$port" --workers 2 >"$work/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 50); do
  curl -fsS -o "$work/openapi.json" "$base/v2/openapi.json" 2>/dev/null && break
  sleep 0.2
done
[ -s "$work/openapi.json" ] || { echo "offboard serve did not answer"; cat "$work/serve.log"; exit 1; }

if [ "$only" != scim ]; then
echo "== openapi-spec-validator"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

echo "== schemathesis run --checks all"
root=$(pwd)
# From the scratch folder: schemathesis keeps .hypothesis/ and .schemathesis/ in the working directory.
(cd "$work" && "$root/$venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" run "$base/v2/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks all \
  --max-examples "${OFFBOARD_API_CHECK_EXAMPLES:-20}" \
  --request-timeout 10 \
  --no-color)
fi

OFFBOARD_SCIM_URL="$base/scim/v2" OFFBOARD_SCIM_TOKEN="$scim_token" bash scripts/scim-check.sh
if grep -q "panicked" "$work/serve.log"; then
  echo "the server panicked:"; grep -A5 panicked "$work/serve.log"; exit 1
fi

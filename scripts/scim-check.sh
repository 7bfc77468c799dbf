#!/usr/bin/env bash
# SCIM (issue 16) against scim2-tester's `check_server`, run by
# scripts/scim-check.py in the venv of api-check.sh (target/api-check-venv).
#   OFFBOARD_SCIM_URL=http://127.0.0.1:PORT/scim/v2 OFFBOARD_SCIM_TOKEN=obt_... scripts/scim-check.sh
# checks a server that is already running (api-check.sh calls it so, after
# schemathesis, against the one server it started: CI shares one process).
# Without them it runs api-check.sh with only this check, which starts the
# server once and comes back here.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${OFFBOARD_SCIM_URL:-}" ] || [ -z "${OFFBOARD_SCIM_TOKEN:-}" ]; then
  OFFBOARD_API_CHECK_ONLY=scim exec bash scripts/api-check.sh
fi

venv=target/api-check-venv
echo "== scim2-tester check_server against $OFFBOARD_SCIM_URL"
"$venv/bin/python" scripts/scim-check.py "$OFFBOARD_SCIM_URL" "$OFFBOARD_SCIM_TOKEN"

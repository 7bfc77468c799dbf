#!/usr/bin/env bash
# Runs every test: unit tests, then the integration suite on SQLite and on
# PostgreSQL. Installs and starts what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
# Browser tests: Debian's Chromium and its WebDriver.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
[ -e /usr/include/postgresql/libpq-fe.h ] || need_apt+=(libpq-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The SMTP sink the mail tests start on loopback (aiosmtpd, from PyPI).
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd 2>/dev/null || python3 -m pip install -q --break-system-packages aiosmtpd

# PostgreSQL: start the local cluster if nothing answers on 127.0.0.1:5432.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
export OFFBOARD_TEST_PG="${OFFBOARD_TEST_PG:-postgres://postgres@127.0.0.1:5432}"
if ! psql "$OFFBOARD_TEST_PG/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
  echo "PostgreSQL answers but $OFFBOARD_TEST_PG refuses the sign-in: allow trust for local test users or set OFFBOARD_TEST_PG" >&2
  exit 1
fi

# Snapshots (tests/it/snapshots/) are compared, never written: a change is
# accepted by hand with INSTA_UPDATE=always (see tests/it/snapshots.rs).
export INSTA_UPDATE=no

# The style gate: formatting and every clippy lint (levels in Cargo.toml).
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo build --tests --quiet
echo "== unit tests, integration tests and browser tests on SQLite"
OFFBOARD_TEST_DB=sqlite OFFBOARD_BROWSER=require cargo test --quiet
echo "== integration tests on PostgreSQL"
OFFBOARD_TEST_DB=postgres cargo test --quiet --test it
echo "== REST API against its OpenAPI document (schemathesis; OFFBOARD_SKIP_API_CHECK=1 skips)"
bash scripts/api-check.sh

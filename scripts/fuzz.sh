#!/usr/bin/env bash
# Fuzzes the CSV reader and the form parsers for FUZZ_SECONDS each (default
# 60) with cargo-fuzz (libFuzzer). Not part of CI. A crash leaves its input
# under fuzz/artifacts/<target>/: turn it into a unit test next to the code
# it broke (src/csv_import/tests.rs for the reader, src/web/bulk.rs for the
# bulk form, src/email.rs for addresses).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo-fuzz needs nightly features; the machine's stable toolchain allows them this way.
export RUSTC_BOOTSTRAP=1
for target in csv_reader forms; do
  cargo fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536
done
